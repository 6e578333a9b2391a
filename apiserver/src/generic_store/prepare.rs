//! The generic half of PrepareForCreate / PrepareForUpdate and Validate, as
//! `rest.BeforeCreate` / `rest.BeforeUpdate`: identity, namespace, timestamps, generation,
//! what an update keeps, ObjectMeta validation; the kind's strategy adds its own rules.

use crate::error::{ApiError, Cause};
use crate::object_meta::{finalizers, meta_mut, now_rfc3339};
use crate::request::Target;
use crate::resource::ResourceInfo;
use serde_json::{Value, json};

/// `ValidateObjectMeta` and the kind's own validation (ConfigMap keys and size, Lease
/// durations, RBAC rules, policies that compile; `old` for an update): 422 Invalid naming
/// every bad field.
pub(super) fn validate(
    info: &ResourceInfo,
    obj: &Value,
    old: Option<&Value>,
) -> Result<(), ApiError> {
    let kind = info.strategy;
    let mut causes = crate::object_meta::validate(kind.name_rule(), obj);
    causes.extend(match old {
        Some(old) => kind.validate_update(info, obj, old),
        None => kind.validate(info, obj),
    });
    invalid_unless_empty(info, obj, causes)
}

/// The typed decoder's 400 for a body whose fields have the wrong JSON types:
/// `ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal ...`.
fn check_types(info: &ResourceInfo, obj: &Value) -> Result<(), ApiError> {
    match info.strategy.type_error(obj) {
        None => Ok(()),
        Some(detail) => Err(ApiError::bad_request(format!(
            "{kind} in version \"{}\" cannot be handled as a {kind}: {detail}",
            info.version,
            kind = info.kind,
        ))),
    }
}

/// 422 Invalid for `obj` naming every cause, or Ok when there are none.
pub(crate) fn invalid_unless_empty(
    info: &ResourceInfo,
    obj: &Value,
    causes: Vec<Cause>,
) -> Result<(), ApiError> {
    if causes.is_empty() {
        return Ok(());
    }
    let name = crate::store::meta_str(obj, "name").unwrap_or_default();
    Err(ApiError::invalid(
        &info.kind,
        &info.group,
        &info.plural,
        name,
        causes,
    ))
}

/// Stamp a new object: identity, namespace, timestamps, generation; status reset for
/// kinds with a status subresource (custom resources) and set for the kinds the server owns.
pub(super) fn prepare_create(target: &Target, obj: &mut Value, name: &str) -> Result<(), ApiError> {
    let info = &target.served.info;
    let kind = info.strategy;
    let stored_api_version = kind.stored_api_version(info);
    let ns = target.namespace.clone();
    let m = meta_mut(obj);
    if let (Some(url_ns), Some(body_ns)) = (&ns, m.get("namespace").and_then(Value::as_str))
        && url_ns != body_ns
    {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    m.insert("name".into(), json!(name));
    check_types(info, obj)?;
    let m = meta_mut(obj);
    match &ns {
        Some(n) => m.insert("namespace".into(), json!(n)),
        None => m.remove("namespace"),
    };
    m.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
    m.insert("creationTimestamp".into(), json!(now_rfc3339()));
    if kind.tracks_generation() {
        m.insert("generation".into(), json!(1));
    } else {
        m.remove("generation");
    }
    m.remove("resourceVersion");
    m.remove("deletionTimestamp");
    if let Some(o) = obj.as_object_mut() {
        o.insert("apiVersion".into(), json!(stored_api_version));
        o.insert("kind".into(), json!(info.kind));
    }
    kind.prepare_for_create(info, obj);
    Ok(())
}

/// The object an update produces from the stored one: immutable metadata kept; a status
/// write keeps only status; a main-resource write keeps the stored status.
pub(super) fn prepare_update(
    target: &Target,
    old: &Value,
    mut new: Value,
) -> Result<Value, ApiError> {
    let info = &target.served.info;
    if !new.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request must be an object",
        ));
    }
    // rest.BeforeUpdate: a namespace in the body must be the request's.
    if let Some(body_ns) = crate::store::meta_str(&new, "namespace").filter(|n| !n.is_empty())
        && target
            .namespace
            .as_deref()
            .is_some_and(|url_ns| url_ns != body_ns)
    {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    if let Some(sub) = target.subresource.as_deref().filter(|s| *s != "status")
        && let Some(out) = info.strategy.update_subresource(sub, old, &new)
    {
        return Ok(out);
    }
    if target.subresource.as_deref() == Some("status") {
        let mut out = old.clone();
        out["status"] = new.get("status").cloned().unwrap_or(Value::Null);
        if out["status"].is_null()
            && let Some(o) = out.as_object_mut()
        {
            o.remove("status");
        }
        if let Some(mf) = new.pointer("/metadata/managedFields").cloned() {
            meta_mut(&mut out).insert("managedFields".into(), mf);
        }
        return Ok(out);
    }
    let name = crate::store::meta_str(old, "name")
        .unwrap_or_default()
        .to_string();
    if let Some(n) = crate::store::meta_str(&new, "name")
        && n != name
    {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({n}) does not match the name on the URL ({name})"
        )));
    }
    check_types(info, &new)?;
    let old_meta = old.get("metadata").cloned().unwrap_or(json!({}));
    {
        let m = meta_mut(&mut new);
        for k in [
            "name",
            "namespace",
            "uid",
            "creationTimestamp",
            "generation",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "resourceVersion",
        ] {
            match old_meta.get(k) {
                Some(v) => m.insert(k.into(), v.clone()),
                None => m.remove(k),
            };
        }
    }
    if let Some(o) = new.as_object_mut() {
        o.insert(
            "apiVersion".into(),
            old.get("apiVersion").cloned().unwrap_or(Value::Null),
        );
        o.insert("kind".into(), json!(info.kind));
        if info.status_subresource {
            match old.get("status") {
                Some(s) => o.insert("status".into(), s.clone()),
                None => o.remove("status"),
            };
        }
    }
    info.strategy.prepare_for_update(info, old, &mut new);
    // Finalizers may only be removed from an object being deleted.
    if old.pointer("/metadata/deletionTimestamp").is_some() {
        let old_f = finalizers(old);
        if let Some(added) = finalizers(&new).into_iter().find(|f| !old_f.contains(f)) {
            return Err(ApiError::invalid(
                &info.kind,
                &info.group,
                &info.plural,
                &name,
                vec![Cause {
                    reason: "FieldValueForbidden".into(),
                    message: format!(
                        "Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{{\"{added}\"}}"
                    ),
                    field: "metadata.finalizers".into(),
                }],
            ));
        }
    }
    Ok(new)
}
