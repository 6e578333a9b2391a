//! The one store path every write takes, as kube-apiserver's generic registry store
//! (`pkg/registry/generic/registry`): prepare → admission → validate → store →
//! after-commit, with the kind's rules supplied by its `crate::strategy::Strategy`.

mod create;
mod delete;
mod update;

pub use create::create;
pub use delete::delete;
pub use update::{Updated, update};

use crate::error::ApiError;
use crate::request::Target;
use crate::shared::Shared;
use crate::store::Bucket;
use serde_json::Value;

/// 404 unless the request's namespace exists.
pub fn require_namespace(shared: &Shared, target: &Target) -> Result<(), ApiError> {
    let Some(ns) = &target.namespace else {
        return Ok(());
    };
    let bucket: Bucket = (String::new(), "namespaces".into());
    if shared.store.get(&bucket, "", ns).is_some() {
        return Ok(());
    }
    Err(
        ApiError::new(404, "NotFound", format!("namespaces \"{ns}\" not found")).with_details(
            "",
            "namespaces",
            ns,
        ),
    )
}

/// After a committed (not dry-run) write or delete: the kind's after-commit hook.
fn committed(shared: &Shared, target: &Target, obj: &Value, deleted: bool) {
    crate::strategy::for_target(target).after_commit(shared, target, obj, deleted);
}
