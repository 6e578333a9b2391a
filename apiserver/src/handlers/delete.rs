//! DELETE: the DeleteOptions body, then the generic store's delete.

use crate::error::ApiError;
use crate::request::{RequestContext, Target};
use crate::shared::{Reply, Shared};
use serde_json::{Value, json};

pub fn handle(
    shared: &Shared,
    ctx: &RequestContext,
    target: &Target,
    name: &str,
    body: &[u8],
) -> Result<Reply, ApiError> {
    let opts: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(body).unwrap_or(json!({}))
    };
    crate::generic_store::delete(shared, ctx, target, name, &opts)
}
