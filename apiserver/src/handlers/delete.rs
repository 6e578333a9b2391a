//! DELETE: the DeleteOptions body, then the generic store's delete.

use super::Call;
use crate::error::ApiError;
use crate::request::Target;
use crate::shared::Reply;
use serde_json::{Value, json};

pub fn handle(call: Call<'_>, name: &str) -> Result<Reply, ApiError> {
    let (shared, ctx, target, body) = (call.shared, call.ctx, call.target, call.body);
    let opts = options(body);
    let (mut reply, deleted) = crate::generic_store::delete(shared, ctx, target, name, &opts)?;
    if deleted {
        reply.body = deleted_status(target, &reply.body);
    }
    Ok(reply)
}

/// The registry store's answer to a delete that removed the object (none of the kinds
/// served here sets `ReturnDeletedObject`): a Success Status naming it.
fn deleted_status(target: &Target, obj: &Value) -> Value {
    let info = &target.served.info;
    let mut details = json!({
        "name": crate::store::meta_str(obj, "name").unwrap_or_default(),
        "kind": info.plural,
        "uid": crate::store::meta_str(obj, "uid").unwrap_or_default(),
    });
    if !info.group.is_empty() {
        details["group"] = json!(info.group);
    }
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    })
}

/// The DeleteOptions of a request body (none: the defaults).
pub fn options(body: &[u8]) -> Value {
    if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(body).unwrap_or(json!({}))
    }
}
