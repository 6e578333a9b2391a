//! Update (PUT and every patch): the caller's `UpdatedObjectInfo` computes the new object
//! from the stored one, then the resourceVersion precondition, `rest.BeforeUpdate` and the
//! kind's PrepareForUpdate and ValidateUpdate, admission, Canonicalize, managedFields, the
//! no-op rule and generation, the store. A missing object is created where allowed (apply).

use super::admission::Admission;
use super::namespace_lifecycle::refuse_in_terminating_namespace;
use crate::error::ApiError;
use crate::policy::Operation;
use crate::request::{RequestContext, Target};
use crate::resource::Strategy;
use crate::shared::{Reply, Shared};
use crate::store::Outcome;
use serde_json::Value;

/// The object an update writes, in the stored shape.
pub struct Updated {
    pub object: Value,
    /// Record managedFields for it (apply has recorded its own).
    pub record: bool,
}

/// Update `name` at `target` with what `updated_object` makes of the stored object (`None`
/// when there is none: only called then when `allow_create`). `updated_object` runs again,
/// on the newer object, when another write lands while this one is computed
/// (`Store::guaranteed_update`): it must not consume what it is given.
pub fn update(
    shared: &Shared,
    ctx: &RequestContext,
    target: &Target,
    name: &str,
    allow_create: bool,
    mut updated_object: impl FnMut(Option<&Value>) -> Result<Updated, ApiError>,
) -> Result<Reply, ApiError> {
    let kind = target.served.info.strategy;
    let mut warnings = Vec::new();
    let mut created = false;
    // NamespaceLifecycle sees a create-on-update before the store is locked.
    if allow_create && !shared.store.contains(&target.bucket(), target.ns(), name) {
        refuse_in_terminating_namespace(shared, target, name)?;
    }
    let admission = Admission::prepare(shared, ctx, target);
    let committed_obj = shared.store.guaranteed_update(
        &target.bucket(),
        target.ns(),
        name,
        ctx.dry_run(),
        |cur| {
            // Set on every attempt: a retry may find the object another writer created.
            created = cur.is_none();
            let Some(cur) = cur else {
                if !allow_create {
                    return Err(super::preconditions::not_found_for(target, name));
                }
                let Updated { mut object, record } = updated_object(None)?;
                warnings = super::decode::decode(&target.served, ctx, &mut object)?;
                if record {
                    super::managed_fields::record_update(
                        Some(&target.served.info),
                        None,
                        &mut object,
                        &ctx.manager(),
                        None,
                    );
                }
                super::prepare::prepare_create(target, &mut object, name)?;
                warnings.append(&mut admission.admit(Operation::Create, &mut object, None)?);
                kind.canonicalize(target.subresource.as_deref(), &mut object, None)?;
                return Ok(Outcome::Write(object));
            };
            let Updated { object, record } = updated_object(Some(cur))?;
            super::preconditions::check_resource_version(target, name, &object, cur)?;
            let (next, w) = write_over(kind, ctx, target, &admission, cur, object, record)?;
            warnings = w;
            Ok(super::update_outcome::finish_update(
                &target.served.info,
                cur,
                next,
            ))
        },
    )?;
    if !ctx.dry_run() && committed_obj.changed {
        shared.committed(
            &target.served.info,
            &committed_obj.object,
            committed_obj.deleted,
        );
    }
    let code = if created { 201 } else { 200 };
    let mut r = Reply::json(code, super::into_served(target, committed_obj.object));
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
    let mut warnings = super::decode::decode(&target.served, ctx, &mut new)?;
    // The field manager sees the decoded object, before PrepareForUpdate and the mutating
    // policies (as in kube-apiserver, where it runs in the updated-object transformers).
    if record {
        super::managed_fields::record_update(
            Some(&target.served.info),
            Some(current),
            &mut new,
            &ctx.manager(),
            target.subresource.as_deref(),
        );
    }
    let mut next = super::prepare::prepare_update(target, current, new)?;
    warnings.append(&mut admission.admit(Operation::Update, &mut next, Some(current))?);
    kind.canonicalize(target.subresource.as_deref(), &mut next, Some(current))?;
    Ok((next, warnings))
}
