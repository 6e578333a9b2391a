//! GET of one object (or its status), as JSON or as a one-row Table.

use crate::error::ApiError;
use crate::generic_store;
use crate::request::{RequestContext, Target};
use crate::shared::{Reply, Shared};
use serde_json::json;

pub fn handle(
    shared: &Shared,
    ctx: &RequestContext,
    target: &Target,
    name: &str,
) -> Result<Reply, ApiError> {
    let stored = shared
        .store
        .get(&target.bucket(), target.ns(), name)
        .ok_or_else(|| generic_store::not_found_for(target, name))?;
    let obj = generic_store::into_served(target, stored);
    if super::list::wants_table(ctx) {
        let rv = obj
            .pointer("/metadata/resourceVersion")
            .cloned()
            .unwrap_or(json!(""));
        return super::list::table_reply(ctx, target, &[obj], json!({"resourceVersion": rv}));
    }
    Ok(Reply::json(200, obj))
}
