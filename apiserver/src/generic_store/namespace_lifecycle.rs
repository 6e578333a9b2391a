//! What the namespace of a request allows: it must exist, and nothing new goes into one
//! being terminated (the NamespaceLifecycle admission plugin).

use crate::error::ApiError;
use crate::kinds::namespace;
use crate::request::Target;
use crate::shared::Shared;

/// 404 unless the request's namespace exists.
pub(crate) fn require_namespace(shared: &Shared, target: &Target) -> Result<(), ApiError> {
    let Some(ns) = &target.namespace else {
        return Ok(());
    };
    if namespace::get(&shared.store, ns).is_some() {
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
pub(super) fn refuse_in_terminating_namespace(
    shared: &Shared,
    target: &Target,
    name: &str,
) -> Result<(), ApiError> {
    let Some(ns) = &target.namespace else {
        return Ok(());
    };
    match namespace::get(&shared.store, ns) {
        Some(o) if namespace::is_terminating(&o) => {}
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
