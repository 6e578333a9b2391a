//! PUT of an object or its status: optimistic concurrency on metadata.resourceVersion,
//! required where the kind forbids unconditional updates, and a uid precondition.

use super::Call;
use super::decode_body;
use crate::error::ApiError;
use crate::generic_store::{self, Updated};
use crate::request::{RequestContext, Target};
use crate::shared::{Reply, Shared};
use serde_json::Value;

pub fn handle(call: Call<'_>, name: &str) -> Result<Reply, ApiError> {
    let (shared, ctx, target, body) = (call.shared, call.ctx, call.target, call.body);
    let obj = decode_body(ctx, body)?;
    if !obj.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request must be an object",
        ));
    }
    let obj = generic_store::from_served(target, obj)?;
    let require_rv = !target.served.info.strategy.allow_unconditional_update();
    update(shared, ctx, target, name, obj, require_rv)
}

/// Replace `name` with `obj` (stored shape); `require_rv`: refuse it without a
/// resourceVersion.
pub fn update(
    shared: &Shared,
    ctx: &RequestContext,
    target: &Target,
    name: &str,
    obj: Value,
    require_rv: bool,
) -> Result<Reply, ApiError> {
    let allow_create = target.served.info.strategy.allow_create_on_update();
    generic_store::update(shared, ctx, target, name, allow_create, |cur| {
        // kube-apiserver's order: the uid precondition, then the resourceVersion.
        if let Some(cur) = cur {
            generic_store::check_uid(target, name, &obj, cur)?;
        }
        if require_rv {
            generic_store::require_resource_version(target, name, &obj)?;
        }
        // A copy: the store runs this again if another write lands meanwhile.
        Ok(Updated {
            object: obj.clone(),
            record: true,
        })
    })
}
