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

/// NamespaceLifecycle admission: nothing new in a namespace being terminated (403).
pub fn refuse_in_terminating_namespace(
    shared: &Shared,
    target: &Target,
    name: &str,
) -> Result<(), ApiError> {
    let Some(ns) = &target.namespace else {
        return Ok(());
    };
    let bucket: Bucket = (String::new(), "namespaces".into());
    match shared.store.get(&bucket, "", ns) {
        Some(o) if crate::strategy::namespace::is_terminating(&o) => {}
        _ => return Ok(()),
    }
    let info = &target.served.info;
    let why =
        format!("unable to create new content in namespace {ns} because it is being terminated");
    let message = if name.is_empty() {
        format!("{} is forbidden: {why}", info.qualified_name())
    } else {
        format!("{} \"{name}\" is forbidden: {why}", info.qualified_name())
    };
    let mut e =
        ApiError::new(403, "Forbidden", message).with_details(&info.group, &info.plural, name);
    e.causes.push(crate::error::Cause {
        reason: "NamespaceTerminating".into(),
        message: format!("namespace {ns} is being terminated"),
        field: "metadata.namespace".into(),
    });
    Err(e)
}

/// After a committed (not dry-run) write or delete: the kind's after-commit hook, and a
/// nudge to the namespace controller when a namespace or something in one went away or
/// was marked for deletion.
fn committed(shared: &Shared, target: &Target, obj: &Value, deleted: bool) {
    crate::strategy::for_target(target).after_commit(shared, target, obj, deleted);
    let info = &target.served.info;
    let is_namespace = info.group.is_empty() && info.plural == "namespaces";
    if is_namespace || (info.namespaced && deleted) {
        shared.namespace_changes.notify_one();
    }
}
