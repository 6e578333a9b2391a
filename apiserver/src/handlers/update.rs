//! PUT of an object or its status: optimistic concurrency on metadata.resourceVersion,
//! required where the kind forbids unconditional updates, and a uid precondition.

use super::{decode_body, is_crd};
use crate::admission_chain::Admission;
use crate::error::ApiError;
use crate::policy::Operation;
use crate::request::{RequestContext, Target};
use crate::shared::{Reply, Shared};
use crate::strategy;
use serde_json::Value;

pub fn handle(
    shared: &Shared,
    ctx: &RequestContext,
    target: &Target,
    name: &str,
    body: &[u8],
) -> Result<Reply, ApiError> {
    let obj = decode_body(ctx, body)?;
    if !obj.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request must be an object",
        ));
    }
    let obj = strategy::from_served(target, obj)?;
    let require_rv = !strategy::allows_unconditional_update(target);
    update(shared, ctx, target, name, obj, require_rv)
}

/// Turn a client's full object into the stored one (shared by PUT and patches).
pub fn write_over(
    ctx: &RequestContext,
    target: &Target,
    admission: &Admission<'_>,
    current: &Value,
    new: Value,
    record: bool,
) -> Result<(Value, Vec<String>), ApiError> {
    let mut next = strategy::prepare_update(target, current, new)?;
    let warnings = admission.admit(Operation::Update, &mut next, Some(current))?;
    if is_crd(target) && target.subresource.is_none() {
        strategy::prepare_crd(&mut next, Some(current))?;
    }
    if record {
        strategy::record_update(
            Some(current),
            &mut next,
            &ctx.manager(),
            target.subresource.as_deref(),
        );
    }
    Ok((next, warnings))
}

pub fn update(
    shared: &Shared,
    ctx: &RequestContext,
    target: &Target,
    name: &str,
    obj: Value,
    require_rv: bool,
) -> Result<Reply, ApiError> {
    let mut warnings = Vec::new();
    let admission = Admission::prepare(shared, ctx, target);
    let committed = shared.store.mutate(
        &target.bucket(),
        target.ns(),
        name,
        ctx.dry_run(),
        |cur, _| {
            let cur = cur.ok_or_else(|| strategy::not_found_for(target, name))?;
            // kube-apiserver's order: the uid precondition, then the resourceVersion.
            strategy::check_uid(target, name, &obj, cur)?;
            if require_rv {
                strategy::require_resource_version(target, name, &obj)?;
            }
            strategy::check_resource_version(target, name, &obj, cur)?;
            let (next, w) = write_over(ctx, target, &admission, cur, obj, true)?;
            warnings = w;
            Ok(strategy::finish_update(cur, next))
        },
    )?;
    if !ctx.dry_run() {
        super::committed(shared, target, &committed.object, committed.deleted);
    }
    let mut r = Reply::json(200, strategy::to_served(target, &committed.object));
    r.warnings = warnings;
    Ok(r)
}
