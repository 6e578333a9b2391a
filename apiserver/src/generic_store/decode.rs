//! Decoding a body (ObjectMeta strictly, a custom resource pruned and defaulted), and
//! the kind's validation once mutating admission is done: ObjectMeta and the kind's own
//! rules, and for custom resources pruning, defaulting, schema and CEL rules.

use super::prepare::{invalid_unless_empty, validate};
use crate::contain::contain;
use crate::error::ApiError;
use crate::registry::Served;
use crate::request::{RequestContext, Target};
use serde_json::Value;

/// Decoding, as the real server decodes a body before the field manager and admission see
/// it: ObjectMeta strictly (unknown fields dropped), a custom resource pruned and defaulted
/// by its schema; what was dropped is a warning, nothing (`fieldValidation=Ignore`), or the
/// decoder's 400 (`Strict`). Returns the warnings to send.
pub(super) fn decode(
    served: &Served,
    ctx: &RequestContext,
    obj: &mut Value,
) -> Result<Vec<String>, ApiError> {
    let mut pruned = crate::object_meta::drop_unknown_fields(obj);
    if let Some(schema) = &served.schema {
        pruned.extend(contain("admission prune_and_default", || {
            schema.prune_and_default(obj)
        })?);
    }
    if pruned.is_empty() {
        return Ok(Vec::new());
    }
    let unknown: Vec<String> = pruned
        .iter()
        .map(|p| format!("unknown field \"{p}\""))
        .collect();
    let info = &served.info;
    match ctx.param("fieldValidation") {
        Some("Strict") => Err(ApiError::bad_request(format!(
            "{kind} in version \"{version}\" cannot be handled as a {kind}: strict decoding error: {}",
            unknown.join(", "),
            kind = info.kind,
            version = info.version,
        ))),
        Some("Ignore") => Ok(Vec::new()),
        _ => Ok(unknown),
    }
}

/// The kind's validation after the mutating policies (kube's `Validate` and
/// `ValidateUpdate`, between mutating and validating admission): what the mutations added
/// is pruned and defaulted too (silently: the request's own fields were decoded already);
/// a main-resource write gets the kind's defaults and its ObjectMeta and own rules checked;
/// a custom resource its schema and CEL rules.
pub(super) fn validate_admitted(
    target: &Target,
    obj: &mut Value,
    old: Option<&Value>,
) -> Result<(), ApiError> {
    let served = &target.served;
    let info = &served.info;
    let main_resource = target.subresource.is_none();
    if !main_resource && !info.custom {
        return Ok(());
    }
    crate::object_meta::drop_unknown_fields(obj);
    if let Some(schema) = &served.schema {
        contain("admission prune_and_default", || {
            schema.prune_and_default(obj)
        })?;
    }
    if main_resource {
        info.strategy.default_admitted(obj);
        validate(info, obj, old)?;
    }
    let Some(schema) = &served.schema else {
        return Ok(());
    };
    let causes = contain("admission validate", || schema.validate(obj, old))?;
    invalid_unless_empty(info, obj, causes)
}
