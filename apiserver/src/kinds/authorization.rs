//! The authorization.k8s.io family: the access reviews (`crate::authz::review` answers
//! them); created only, nothing is stored.

use crate::resource::{Plain, ResourceInfo};

pub(super) fn kinds() -> Vec<ResourceInfo> {
    [
        (
            "LocalSubjectAccessReview",
            "localsubjectaccessreviews",
            true,
        ),
        ("SelfSubjectAccessReview", "selfsubjectaccessreviews", false),
        ("SelfSubjectRulesReview", "selfsubjectrulesreviews", false),
        ("SubjectAccessReview", "subjectaccessreviews", false),
    ]
    .into_iter()
    .map(|(kind, plural, namespaced)| {
        ResourceInfo::builtin(
            ("authorization.k8s.io", "v1"),
            kind,
            plural,
            namespaced,
            &Plain,
        )
        .verbs(&["create"])
    })
    .collect()
}
