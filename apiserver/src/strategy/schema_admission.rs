//! The kind's own admission step: ObjectMeta decoded strictly (unknown fields dropped,
//! warned or refused), and for custom resources pruning, defaulting, schema and CEL rules.

use super::prepare::invalid_unless_empty;
use crate::contain::contain;
use crate::error::ApiError;
use crate::registry::Served;
use crate::request::RequestContext;
use serde_json::Value;

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
