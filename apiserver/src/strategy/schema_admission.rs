//! The kind's own admission step: ObjectMeta decoded strictly (unknown fields dropped,
//! warned or refused), and for custom resources pruning, defaulting, schema and CEL rules.

use super::prepare::invalid_unless_empty;
use crate::contain::contain;
use crate::error::ApiError;
use crate::registry::Served;
use crate::request::RequestContext;
use serde_json::Value;

/// Decoding, as the real server decodes a body before the field manager and admission see
/// it: ObjectMeta strictly (unknown fields dropped), a custom resource pruned and defaulted
/// by its schema; what was dropped is a warning, nothing (`fieldValidation=Ignore`), or the
/// decoder's 400 (`Strict`). Returns the warnings to send.
pub fn decode(
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

/// Custom resource admission after the mutating policies: what they added is pruned and
/// defaulted too (silently: the request's own fields were decoded already), then the schema
/// and CEL validation.
pub fn admit(
    served: &Served,
    _ctx: &RequestContext,
    obj: &mut Value,
    old: Option<&Value>,
) -> Result<Vec<String>, ApiError> {
    crate::authz::admit(served, obj, old)?;
    crate::object_meta::drop_unknown_fields(obj);
    let Some(schema) = &served.schema else {
        return Ok(Vec::new());
    };
    contain("admission prune_and_default", || {
        schema.prune_and_default(obj)
    })?;
    let causes = contain("admission validate", || schema.validate(obj, old))?;
    invalid_unless_empty(&served.info, obj, causes)?;
    Ok(Vec::new())
}
