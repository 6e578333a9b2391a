//! The preconditions of a write, as the generic store checks them: the object exists,
//! its uid and resourceVersion are the ones the client named, and a create names none.

use crate::error::{ApiError, Cause};
use crate::request::Target;
use serde_json::Value;

pub fn not_found_for(target: &Target, name: &str) -> ApiError {
    let info = &target.served.info;
    ApiError::new(
        404,
        "NotFound",
        format!("{} \"{name}\" not found", info.qualified_name()),
    )
    .with_details(&info.group, &info.plural, name)
}

/// The optimistic-concurrency precondition of update and patch: a `resourceVersion` in the
/// written object must be the stored one (an empty or absent one means "any").
pub fn check_resource_version(
    target: &Target,
    name: &str,
    written: &Value,
    stored: &Value,
) -> Result<(), ApiError> {
    match named_otherwise(written, stored, "resourceVersion") {
        Some(_) => Err(conflict(target, name)),
        None => Ok(()),
    }
}

/// The metadata field the written object sets (non-empty) to other than the stored value.
fn named_otherwise<'a>(written: &'a Value, stored: &Value, field: &str) -> Option<&'a str> {
    let meta_str = crate::store::meta_str;
    meta_str(written, field).filter(|v| !v.is_empty() && Some(*v) != meta_str(stored, field))
}

/// The 422 of a PUT without `metadata.resourceVersion` on a kind that requires one.
pub fn require_resource_version(
    target: &Target,
    name: &str,
    written: &Value,
) -> Result<(), ApiError> {
    if crate::store::meta_str(written, "resourceVersion").is_some_and(|rv| !rv.is_empty()) {
        return Ok(());
    }
    let info = &target.served.info;
    Err(ApiError::invalid(
        &info.kind,
        &info.group,
        &info.plural,
        name,
        vec![Cause {
            reason: "FieldValueInvalid".into(),
            message: "Invalid value: 0x0: must be specified for an update".into(),
            field: "metadata.resourceVersion".into(),
        }],
    ))
}

/// A `metadata.uid` in the written object is a precondition: it must be the stored one.
pub fn check_uid(
    target: &Target,
    name: &str,
    written: &Value,
    stored: &Value,
) -> Result<(), ApiError> {
    let Some(uid) = named_otherwise(written, stored, "uid") else {
        return Ok(());
    };
    let info = &target.served.info;
    Err(ApiError::new(
        409,
        "Conflict",
        format!(
            "Operation cannot be fulfilled on {} \"{name}\": Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
            info.qualified_name(),
            crate::store::meta_str(stored, "uid").unwrap_or_default()
        ),
    )
    .with_details(&info.group, &info.plural, name))
}

pub fn conflict(target: &Target, name: &str) -> ApiError {
    let info = &target.served.info;
    ApiError::new(
        409,
        "Conflict",
        format!(
            "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
            info.qualified_name()
        ),
    )
    .with_details(&info.group, &info.plural, name)
}

/// etcd's `ErrResourceVersionSetOnCreate`: a plain storage error, which kube-apiserver
/// answers as a 500 without a reason (kubectl clears the field before creating).
pub fn refuse_resource_version_on_create(obj: &Value) -> Result<(), ApiError> {
    match crate::store::meta_str(obj, "resourceVersion") {
        Some(rv) if !rv.is_empty() => Err(ApiError::new(
            500,
            "",
            "resourceVersion should not be set on objects to be created",
        )),
        _ => Ok(()),
    }
}

/// `rest.BeforeDelete`'s DeleteOptions preconditions: a uid or resourceVersion that is not
/// the stored one is a 409 naming the kind (the registry's typer gives it as the resource).
pub fn check_delete_preconditions(
    target: &Target,
    name: &str,
    options: &Value,
    stored: &Value,
) -> Result<(), ApiError> {
    let meta_str = crate::store::meta_str;
    let conflict = |message: String| {
        let info = &target.served.info;
        let kind = if info.group.is_empty() {
            info.kind.clone()
        } else {
            format!("{}.{}", info.kind, info.group)
        };
        ApiError::new(
            409,
            "Conflict",
            format!("Operation cannot be fulfilled on {kind} \"{name}\": {message}"),
        )
        .with_details(&info.group, &info.kind, name)
    };
    let stored_uid = meta_str(stored, "uid").unwrap_or_default();
    if let Some(uid) = options
        .pointer("/preconditions/uid")
        .and_then(Value::as_str)
        && uid != stored_uid
    {
        return Err(conflict(format!(
            "the UID in the precondition ({uid}) does not match the UID in record ({stored_uid}). The object might have been deleted and then recreated"
        )));
    }
    let stored_rv = meta_str(stored, "resourceVersion").unwrap_or_default();
    if let Some(rv) = options
        .pointer("/preconditions/resourceVersion")
        .and_then(Value::as_str)
        && rv != stored_rv
    {
        return Err(conflict(format!(
            "the ResourceVersion in the precondition ({rv}) does not match the ResourceVersion in record ({stored_rv}). The object might have been modified"
        )));
    }
    Ok(())
}
