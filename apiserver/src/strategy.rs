//! Per-kind write rules, as the real server's registry strategies: what create and
//! update stamp, keep and reset (status subresource, generation, finalizers), the
//! no-op rule, admission of custom resources, and the CRD's own status.

use crate::builtin_kinds;
use crate::contain::contain;
use crate::error::{ApiError, Cause};
use crate::events;
use crate::fieldmanager;
use crate::registry::{self, Served};
use crate::request::{RequestContext, Target};
use crate::store::Outcome;
use serde_json::{Value, json};

pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn meta_mut(obj: &mut Value) -> &mut serde_json::Map<String, Value> {
    if !obj.is_object() {
        *obj = json!({});
    }
    let root = obj.as_object_mut().expect("object ensured above");
    let m = root.entry("metadata").or_insert_with(|| json!({}));
    if !m.is_object() {
        *m = json!({});
    }
    m.as_object_mut().expect("object ensured above")
}

/// The stored shape of a body the client sent in the served shape (core v1 Events).
pub fn from_served(target: &Target, obj: Value) -> Result<Value, ApiError> {
    if target.is_core_event() {
        contain("events::from_core_v1", || events::from_core_v1(&obj))
    } else {
        Ok(obj)
    }
}

/// The served shape of a stored object: the requested apiVersion, core Events converted.
pub fn to_served(target: &Target, stored: &Value) -> Value {
    if target.is_core_event() {
        return contain("events::to_core_v1", || events::to_core_v1(stored))
            .unwrap_or_else(|_| stored.clone());
    }
    let mut o = stored.clone();
    if let Some(m) = o.as_object_mut() {
        m.insert("apiVersion".into(), json!(target.served.info.api_version()));
        m.insert("kind".into(), json!(target.served.info.kind));
    }
    o
}

fn not_found(target: &Target, name: &str) -> ApiError {
    let info = &target.served.info;
    ApiError::new(
        404,
        "NotFound",
        format!("{} \"{name}\" not found", info.qualified_name()),
    )
    .with_details(&info.group, &info.plural, name)
}

pub fn not_found_for(target: &Target, name: &str) -> ApiError {
    not_found(target, name)
}

/// The optimistic-concurrency precondition of update and patch: a `resourceVersion` in the
/// written object must be the stored one (an empty or absent one means "any").
pub fn check_resource_version(
    target: &Target,
    name: &str,
    written: &serde_json::Value,
    stored: &serde_json::Value,
) -> Result<(), ApiError> {
    let meta_str = crate::store::meta_str;
    match meta_str(written, "resourceVersion").filter(|rv| !rv.is_empty()) {
        Some(rv) if Some(rv) != meta_str(stored, "resourceVersion") => Err(conflict(target, name)),
        _ => Ok(()),
    }
}

/// Whether a PUT may omit `metadata.resourceVersion` (`AllowUnconditionalUpdate`): the
/// built-in kinds served here allow it; custom resources and CRDs do not.
pub fn allows_unconditional_update(target: &Target) -> bool {
    let info = &target.served.info;
    !(info.custom
        || (info.group == "apiextensions.k8s.io" && info.plural == "customresourcedefinitions"))
}

/// The 422 of a PUT without `metadata.resourceVersion` on a kind that requires one.
pub fn require_resource_version(
    target: &Target,
    name: &str,
    written: &serde_json::Value,
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
    written: &serde_json::Value,
    stored: &serde_json::Value,
) -> Result<(), ApiError> {
    let meta_str = crate::store::meta_str;
    match meta_str(written, "uid").filter(|u| !u.is_empty()) {
        Some(uid) if Some(uid) != meta_str(stored, "uid") => {
            let info = &target.served.info;
            Err(ApiError::new(
                409,
                "Conflict",
                format!(
                    "Operation cannot be fulfilled on {} \"{name}\": Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                    info.qualified_name(),
                    meta_str(stored, "uid").unwrap_or_default()
                ),
            )
            .with_details(&info.group, &info.plural, name))
        }
        _ => Ok(()),
    }
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

pub use builtin_kinds::field_label_supported;

/// `ValidateObjectMeta` and the kind's own validation (ConfigMap keys and size, Lease
/// durations; `old` for an update): 422 Invalid naming every bad field.
pub fn validate(target: &Target, obj: &Value, old: Option<&Value>) -> Result<(), ApiError> {
    let info = &target.served.info;
    let rule = crate::object_meta::name_rule(&info.group, &info.plural);
    let mut causes = crate::object_meta::validate(rule, obj);
    causes.extend(builtin_kinds::validate(info, obj, old));
    invalid_unless_empty(info, obj, causes)
}

/// 422 Invalid for `obj` naming every cause, or Ok when there are none.
pub fn invalid_unless_empty(
    info: &crate::resource::ResourceInfo,
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
pub fn prepare_create(target: &Target, obj: &mut Value, name: &str) -> Result<(), ApiError> {
    let info = &target.served.info;
    let stored_api_version = if target.is_core_event() {
        "events.k8s.io/v1".to_string()
    } else {
        info.api_version()
    };
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
    builtin_kinds::decode(info, obj)?;
    validate(target, obj, None)?;
    let m = meta_mut(obj);
    match &ns {
        Some(n) => m.insert("namespace".into(), json!(n)),
        None => m.remove("namespace"),
    };
    m.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
    m.insert("creationTimestamp".into(), json!(now_rfc3339()));
    if builtin_kinds::tracks_generation(info) {
        m.insert("generation".into(), json!(1));
    } else {
        m.remove("generation");
    }
    m.remove("resourceVersion");
    m.remove("deletionTimestamp");
    if let Some(o) = obj.as_object_mut() {
        o.insert("apiVersion".into(), json!(stored_api_version));
        o.insert("kind".into(), json!(info.kind));
        if info.custom && info.status_subresource {
            o.remove("status");
        }
    }
    if info.group.is_empty() && info.plural == "namespaces" {
        obj["status"] = json!({"phase": "Active"});
    }
    Ok(())
}

/// The object an update produces from the stored one: immutable metadata kept; a status
/// write keeps only status; a main-resource write keeps the stored status.
pub fn prepare_update(target: &Target, old: &Value, mut new: Value) -> Result<Value, ApiError> {
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
    builtin_kinds::decode(info, &new)?;
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
    validate(target, &new, Some(old))?;
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

/// `metadata.generation`, 0 when the kind carries none.
pub fn generation(obj: &Value) -> i64 {
    obj.pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

pub fn finalizers(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Comparable form: without resourceVersion and managedFields timestamps.
fn normalized(obj: &Value) -> Value {
    let mut o = obj.clone();
    if let Some(m) = o.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("resourceVersion");
        if let Some(Value::Array(mf)) = m.get_mut("managedFields") {
            for e in mf.iter_mut() {
                if let Some(e) = e.as_object_mut() {
                    e.remove("time");
                }
            }
        }
    }
    o
}

fn without_meta_status(obj: &Value) -> Value {
    let mut o = obj.clone();
    if let Some(m) = o.as_object_mut() {
        m.remove("metadata");
        m.remove("status");
        m.remove("resourceVersion");
    }
    o
}

/// Decide what an update stores: nothing for a no-op; generation +1 on a spec change
/// (for kinds that carry a generation: those whose create stamped one); removal when a
/// deleting object's last finalizer is gone.
pub fn finish_update(old: &Value, mut new: Value) -> Outcome {
    if normalized(old) == normalized(&new) {
        return Outcome::Unchanged(old.clone());
    }
    if generation(old) > 0 && without_meta_status(old) != without_meta_status(&new) {
        let g = old
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            + 1;
        meta_mut(&mut new).insert("generation".into(), json!(g));
    }
    if new.pointer("/metadata/deletionTimestamp").is_some() && finalizers(&new).is_empty() {
        return Outcome::Delete(new);
    }
    Outcome::Write(new)
}

/// Custom resource admission: prune and default, strict field validation, schema and
/// CEL validation. Returns the warnings to send.
pub fn admit(
    served: &Served,
    ctx: &RequestContext,
    obj: &mut Value,
    old: Option<&Value>,
) -> Result<Vec<String>, ApiError> {
    crate::authz::admit(served, obj, old)?;
    // ObjectMeta is decoded strictly for every kind: unknown fields are dropped.
    let mut pruned = crate::object_meta::drop_unknown_fields(obj);
    if let Some(schema) = &served.schema {
        pruned.extend(contain("admission prune_and_default", || {
            schema.prune_and_default(obj)
        })?);
    }
    let info = &served.info;
    let mut warnings = Vec::new();
    if !pruned.is_empty() {
        if ctx.strict() {
            let list: Vec<String> = pruned
                .iter()
                .map(|p| format!("unknown field \"{p}\""))
                .collect();
            return Err(ApiError::bad_request(format!(
                "strict decoding error: {}",
                list.join(", ")
            )));
        }
        warnings.extend(pruned.iter().map(|p| format!("unknown field \"{p}\"")));
    }
    let Some(schema) = &served.schema else {
        return Ok(warnings);
    };
    let causes = contain("admission validate", || schema.validate(obj, old))?;
    invalid_unless_empty(info, obj, causes)?;
    Ok(warnings)
}

/// Record managedFields for a create, update or non-apply patch. A failure in the
/// recorder leaves managedFields as they were rather than failing the write.
pub fn record_update(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    subresource: Option<&str>,
) {
    let now = now_rfc3339();
    let mut attempt = new.clone();
    if contain("fieldmanager::record_update", || {
        fieldmanager::record_update(old, &mut attempt, manager, subresource, &now)
    })
    .is_ok()
    {
        *new = attempt;
    }
}

/// A CRD's served versions, and its status (Established, NamesAccepted) set on `crd`.
pub fn prepare_crd(crd: &mut Value, old: Option<&Value>) -> Result<Vec<Served>, ApiError> {
    let causes = crate::crd_validation::validate(crd);
    if !causes.is_empty() {
        let name = crate::store::meta_str(crd, "name").unwrap_or_default();
        return Err(ApiError::invalid(
            "CustomResourceDefinition",
            "apiextensions.k8s.io",
            "customresourcedefinitions",
            name,
            causes,
        ));
    }
    let served = registry::crd_to_served(crd)?;
    let now = now_rfc3339();
    let prior = |t: &str| {
        old.and_then(|o| o.pointer("/status/conditions"))
            .and_then(Value::as_array)
            .and_then(|cs| {
                cs.iter()
                    .find(|c| c.get("type").and_then(Value::as_str) == Some(t))
            })
            .and_then(|c| c.get("lastTransitionTime"))
            .cloned()
            .unwrap_or_else(|| json!(now))
    };
    let stored: Vec<Value> = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .map(|vs| {
            vs.iter()
                .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
                .filter_map(|v| v.get("name").cloned())
                .collect()
        })
        .unwrap_or_default();
    crd["status"] = json!({
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": prior("NamesAccepted")},
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": prior("Established")},
        ],
        "acceptedNames": crd.pointer("/spec/names").cloned().unwrap_or(json!({})),
        "storedVersions": stored,
    });
    Ok(served)
}
