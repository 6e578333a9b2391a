//! One handler per verb, as kube-apiserver's `pkg/endpoints/handlers`.

mod continue_token;
pub mod create;
pub mod delete;
pub mod delete_collection;
pub mod get;
pub mod list;
mod list_options;
pub mod patch;
pub mod update;
pub mod watch;

use crate::contain::contain;
use crate::error::ApiError;
use crate::request::{RequestContext, Target};
use crate::shared::Shared;
use serde_json::Value;

/// One resource request as the handler of its verb gets it.
#[derive(Clone, Copy)]
pub struct Call<'a> {
    pub shared: &'a Shared,
    pub ctx: &'a RequestContext,
    pub target: &'a Target,
    pub body: &'a [u8],
}

/// A JSON, YAML (apply) or protobuf request body as a JSON value.
pub fn decode_body(ctx: &RequestContext, body: &[u8]) -> Result<Value, ApiError> {
    let ct = ctx
        .content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim();
    if crate::protobuf::is_protobuf(ct) {
        return contain("protobuf::decode", || crate::protobuf::decode(body))?;
    }
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        return Ok(v);
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad_request("the request body is not valid UTF-8"))?;
    if ct.contains("yaml") {
        return serde_saphyr::from_str::<Value>(text)
            .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")));
    }
    Err(ApiError::bad_request(format!(
        "couldn't get version/kind; json parse error: {}",
        serde_json::from_slice::<Value>(body)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    )))
}

/// `ValidateCreateOptions` and its siblings, before anything else of a write: `dryRun` is
/// `All` or absent (422 on `<Kind>Options.meta.k8s.io ""`).
pub fn validate_dry_run(ctx: &RequestContext, verb: &str) -> Result<(), ApiError> {
    let options = match verb {
        "create" => "CreateOptions",
        "update" => "UpdateOptions",
        "patch" => "PatchOptions",
        "delete" | "deletecollection" => "DeleteOptions",
        _ => return Ok(()),
    };
    match ctx.param("dryRun") {
        None | Some("All") => Ok(()),
        Some(other) => Err(ApiError::invalid(
            options,
            "meta.k8s.io",
            options,
            "",
            vec![crate::error::Cause {
                reason: "FieldValueNotSupported".into(),
                message: format!("Unsupported value: [{other:?}]: supported values: \"All\""),
                field: "dryRun".into(),
            }],
        )),
    }
}
