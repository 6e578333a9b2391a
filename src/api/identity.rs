//! Who did what, as the API server recorded it: annotations stamped at admission from the
//! authenticated request (deploy/policies/service-identity.yaml and approval-approver.yaml) and
//! kept immutable there, so no client can write someone else's name into them.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// Who created the Service.
pub const CREATED_BY: &str = "catalog.charter.dev/created-by";
/// Who last changed the Service's approvable content: the author of its current revision.
pub const REVISED_BY: &str = "catalog.charter.dev/revised-by";
/// Who last changed `spec.lifecycle.desiredPhase`.
pub const PHASE_REQUESTED_BY: &str = "catalog.charter.dev/phase-requested-by";
/// Who created a ServiceApproval: its approver, or an approval delegate in the approver's name.
pub const RECORDED_BY: &str = "catalog.charter.dev/recorded-by";
/// The groups the API server authenticated for whoever created a ServiceApproval, joined by
/// commas: the approver's groups, or a delegate's (which say nothing of the approver).
pub const RECORDED_GROUPS: &str = "catalog.charter.dev/recorded-groups";

/// The identity recorded under `key`, if the server recorded one.
pub fn recorded<'a>(meta: &'a ObjectMeta, key: &str) -> Option<&'a str> {
    meta.annotations
        .as_ref()?
        .get(key)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
}

/// The groups recorded under `key` (comma-separated), empty when none were recorded.
pub fn recorded_groups(meta: &ObjectMeta, key: &str) -> Vec<String> {
    recorded(meta, key)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}
