//! Delete: the DeleteOptions preconditions, admission, then removal, or with finalizers
//! a deletionTimestamp first (`rest.BeforeDelete`), or the kind's own delete (namespaces).

use super::admission::Admission;
use crate::error::ApiError;
use crate::request::{RequestContext, Target};
use crate::shared::{Reply, Shared};
use crate::store::Outcome;
use serde_json::{Value, json};

/// Delete `name` at `target` with the given DeleteOptions. The reply carries the object (as
/// deleted, or as marked for deletion); the flag says whether it is gone.
pub fn delete(
    shared: &Shared,
    ctx: &RequestContext,
    target: &Target,
    name: &str,
    opts: &Value,
) -> Result<(Reply, bool), ApiError> {
    let kind = target.served.info.strategy;
    let dry_run = ctx.dry_run()
        || opts
            .get("dryRun")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|v| v == "All"));
    let admission = Admission::prepare(shared, ctx, target).dry_run(dry_run);
    let mut warnings = Vec::new();
    let committed_obj =
        shared
            .store
            .guaranteed_update(&target.bucket(), target.ns(), name, dry_run, |cur| {
                let cur = cur.ok_or_else(|| super::preconditions::not_found_for(target, name))?;
                super::preconditions::check_delete_preconditions(target, name, opts, cur)?;
                warnings = admission.admit_delete(cur)?;
                if let Some(outcome) = kind.before_delete(cur) {
                    return Ok(outcome);
                }
                if crate::object_meta::finalizers(cur).is_empty() {
                    return Ok(Outcome::Delete(cur.clone()));
                }
                if cur.pointer("/metadata/deletionTimestamp").is_some() {
                    return Ok(Outcome::Unchanged(cur.clone()));
                }
                let mut next = cur.clone();
                // rest.BeforeDelete bumps the generation of kinds that carry one.
                let g = crate::object_meta::generation(cur);
                if let Some(m) = next.get_mut("metadata").and_then(Value::as_object_mut) {
                    m.insert(
                        "deletionTimestamp".into(),
                        json!(crate::object_meta::now_rfc3339()),
                    );
                    m.insert("deletionGracePeriodSeconds".into(), json!(0));
                    if g > 0 {
                        m.insert("generation".into(), json!(g + 1));
                    }
                }
                Ok(Outcome::Write(next))
            })?;
    if !dry_run && committed_obj.changed {
        shared.committed(
            &target.served.info,
            &committed_obj.object,
            committed_obj.deleted,
        );
    }
    let mut reply = Reply::json(200, super::into_served(target, committed_obj.object));
    reply.warnings = warnings;
    Ok((reply, committed_obj.deleted))
}
