//! Update (PUT and every patch): the caller's `UpdatedObjectInfo` computes the new object
//! from the stored one, then the resourceVersion precondition, `rest.BeforeUpdate` and the
//! kind's PrepareForUpdate and ValidateUpdate, admission, Canonicalize, managedFields, the
//! no-op rule and generation, the store. A missing object is created where allowed (apply).

use super::committed;
use crate::admission_chain::Admission;
use crate::error::ApiError;
use crate::policy::Operation;
use crate::request::{RequestContext, Target};
use crate::shared::{Reply, Shared};
use crate::store::Outcome;
use crate::strategy::{self, Strategy};
use serde_json::Value;

/// The object an update writes, in the stored shape.
pub struct Updated {
    pub object: Value,
    /// Record managedFields for it (apply has recorded its own).
    pub record: bool,
}

/// Update `name` at `target` with what `updated_object` makes of the stored object (`None`
/// when there is none: only called then when `allow_create`).
pub fn update(
    shared: &Shared,
    ctx: &RequestContext,
    target: &Target,
    name: &str,
    allow_create: bool,
    mut updated_object: impl FnMut(Option<&Value>) -> Result<Updated, ApiError>,
) -> Result<Reply, ApiError> {
    let kind = strategy::for_target(target);
    let mut warnings = Vec::new();
    let mut created = false;
    // NamespaceLifecycle sees a create-on-update before the store is locked.
    if allow_create
        && shared
            .store
            .get(&target.bucket(), target.ns(), name)
            .is_none()
    {
        super::refuse_in_terminating_namespace(shared, target, name)?;
    }
    let admission = Admission::prepare(shared, ctx, target);
    let committed_obj = shared.store.mutate(
        &target.bucket(),
        target.ns(),
        name,
        ctx.dry_run(),
        |cur, _| {
            let Some(cur) = cur else {
                if !allow_create {
                    return Err(strategy::not_found_for(target, name));
                }
                let Updated { mut object, record } = updated_object(None)?;
                warnings = strategy::decode_body(&target.served, ctx, &mut object)?;
                if record {
                    strategy::record_update(
                        Some(&target.served.info),
                        None,
                        &mut object,
                        &ctx.manager(),
                        None,
                    );
                }
                strategy::prepare_create(target, &mut object, name)?;
                warnings.append(&mut admission.admit(Operation::Create, &mut object, None)?);
                kind.canonicalize(target, &mut object, None)?;
                created = true;
                return Ok(Outcome::Write(object));
            };
            let Updated { object, record } = updated_object(Some(cur))?;
            strategy::check_resource_version(target, name, &object, cur)?;
            let (next, w) = write_over(kind, ctx, target, &admission, cur, object, record)?;
            warnings = w;
            let status_counts = kind.status_counts_for_generation(target);
            Ok(strategy::finish_update_counting(cur, next, status_counts))
        },
    )?;
    if !ctx.dry_run() {
        committed(shared, target, &committed_obj.object, committed_obj.deleted);
    }
    let code = if created { 201 } else { 200 };
    let mut r = Reply::json(
        code,
        kind.to_served(target, &committed_obj.object).into_owned(),
    );
    r.warnings = warnings;
    Ok(r)
}

/// Turn a client's full object into the stored one.
fn write_over(
    kind: &dyn Strategy,
    ctx: &RequestContext,
    target: &Target,
    admission: &Admission<'_>,
    current: &Value,
    new: Value,
    record: bool,
) -> Result<(Value, Vec<String>), ApiError> {
    let mut new = new;
    let mut warnings = strategy::decode_body(&target.served, ctx, &mut new)?;
    // The field manager sees the decoded object, before PrepareForUpdate and the mutating
    // policies (as in kube-apiserver, where it runs in the updated-object transformers).
    if record {
        strategy::record_update(
            Some(&target.served.info),
            Some(current),
            &mut new,
            &ctx.manager(),
            target.subresource.as_deref(),
        );
    }
    let mut next = strategy::prepare_update(target, current, new)?;
    warnings.append(&mut admission.admit(Operation::Update, &mut next, Some(current))?);
    kind.canonicalize(target, &mut next, Some(current))?;
    Ok((next, warnings))
}
