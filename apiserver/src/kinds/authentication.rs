//! The authentication.k8s.io family: the reviews a client creates to learn who it is
//! (SelfSubjectReview) or who a token belongs to (TokenReview); nothing is stored.

use crate::resource::{Plain, ResourceInfo};

pub(super) fn kinds() -> Vec<ResourceInfo> {
    let gv = (crate::token_review::GROUP, "v1");
    vec![
        ResourceInfo::builtin(gv, "SelfSubjectReview", "selfsubjectreviews", false, &Plain)
            .verbs(&["create"]),
        ResourceInfo::builtin(gv, "TokenReview", "tokenreviews", false, &Plain).verbs(&["create"]),
    ]
}
