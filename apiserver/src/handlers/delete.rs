//! DELETE: immediate without finalizers; with them, deletionTimestamp first.

use crate::admission_chain::Admission;
use crate::error::ApiError;
use crate::request::{RequestContext, Target};
use crate::shared::{Reply, Shared};
use crate::store::{Outcome, meta_str};
use crate::strategy;
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
    let dry_run = ctx.dry_run()
        || opts
            .get("dryRun")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|v| v == "All"));
    let admission = Admission::prepare(shared, ctx, target).dry_run(dry_run);
    let mut warnings = Vec::new();
    let committed = shared.store.mutate(
        &target.bucket(),
        target.ns(),
        name,
        dry_run,
        |cur, _| {
            let cur = cur.ok_or_else(|| strategy::not_found_for(target, name))?;
            if let Some(uid) = opts.pointer("/preconditions/uid").and_then(Value::as_str)
                && Some(uid) != meta_str(cur, "uid")
            {
                return Err(ApiError::new(
                    409,
                    "Conflict",
                    format!(
                        "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                        meta_str(cur, "uid").unwrap_or_default()
                    ),
                ));
            }
            if let Some(rv) = opts
                .pointer("/preconditions/resourceVersion")
                .and_then(Value::as_str)
                && Some(rv) != meta_str(cur, "resourceVersion")
            {
                return Err(strategy::conflict(target, name));
            }
            warnings = admission.admit_delete(cur)?;
            if strategy::finalizers(cur).is_empty() {
                return Ok(Outcome::Delete(cur.clone()));
            }
            if cur.pointer("/metadata/deletionTimestamp").is_some() {
                return Ok(Outcome::Unchanged(cur.clone()));
            }
            let mut next = cur.clone();
            // rest.BeforeDelete bumps the generation of kinds that carry one.
            let g = strategy::generation(cur);
            if let Some(m) = next.get_mut("metadata").and_then(Value::as_object_mut) {
                m.insert("deletionTimestamp".into(), json!(strategy::now_rfc3339()));
                m.insert("deletionGracePeriodSeconds".into(), json!(0));
                if g > 0 {
                    m.insert("generation".into(), json!(g + 1));
                }
            }
            Ok(Outcome::Write(next))
        },
    )?;
    if !dry_run && committed.deleted {
        super::committed(shared, target, &committed.object, true);
        let info = &target.served.info;
        if info.group.is_empty() && info.plural == "namespaces" {
            super::namespace_deleted(shared, name);
        }
    }
    let mut reply = Reply::json(200, strategy::to_served(target, &committed.object));
    reply.warnings = warnings;
    Ok(reply)
}
