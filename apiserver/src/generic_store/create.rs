//! Create: name or generateName, `rest.BeforeCreate` and the kind's PrepareForCreate and
//! Validate, admission, Canonicalize, managedFields, then the store (409 if it exists).

use super::admission::Admission;
use super::namespace_lifecycle::{refuse_in_terminating_namespace, require_namespace};
use crate::error::{ApiError, Cause};
use crate::policy::Operation;
use crate::request::{RequestContext, Target};
use crate::shared::{Reply, Shared};
use crate::store::Outcome;
use serde_json::Value;

fn random_suffix() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    id.chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        .take(5)
        .collect()
}

/// Create `obj` (in the served shape) at `target`.
pub fn create(
    shared: &Shared,
    ctx: &RequestContext,
    target: &Target,
    obj: Value,
) -> Result<Reply, ApiError> {
    require_namespace(shared, target)?;
    if !obj.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request must be an object",
        ));
    }
    let kind = target.served.info.strategy;
    refuse_in_terminating_namespace(
        shared,
        target,
        crate::store::meta_str(&obj, "name").unwrap_or_default(),
    )?;
    let mut obj = kind.decode_served(&target.served.info, obj)?;
    let decode_warnings = super::decode::decode(&target.served, ctx, &mut obj)?;
    super::preconditions::refuse_resource_version_on_create(&obj)?;
    let info = &target.served.info;
    let name = match (
        crate::store::meta_str(&obj, "name"),
        crate::store::meta_str(&obj, "generateName"),
    ) {
        (Some(n), _) if !n.is_empty() => n.to_string(),
        (_, Some(g)) if !g.is_empty() => format!("{g}{}", random_suffix()),
        _ => {
            return Err(ApiError::invalid(
                &info.kind,
                &info.group,
                &info.plural,
                "",
                vec![Cause {
                    reason: "FieldValueRequired".into(),
                    message: "Required value: name or generateName is required".into(),
                    field: "metadata.name".into(),
                }],
            ));
        }
    };
    // The field manager sees the decoded object, before PrepareForCreate and the mutating
    // policies: what they add is not owned by the request's manager (as in kube-apiserver).
    super::managed_fields::record_update(
        Some(&target.served.info),
        None,
        &mut obj,
        &ctx.manager(),
        None,
    );
    super::prepare::prepare_create(target, &mut obj, &name)?;
    let admission = Admission::prepare(shared, ctx, target);
    let mut warnings = decode_warnings;
    warnings.append(&mut admission.admit(Operation::Create, &mut obj, None)?);
    kind.canonicalize(target.subresource.as_deref(), &mut obj, None)?;
    let committed_obj =
        shared
            .store
            .mutate(&target.bucket(), target.ns(), &name, ctx.dry_run(), |cur| {
                if cur.is_some() {
                    return Err(ApiError::new(
                        409,
                        "AlreadyExists",
                        format!("{} \"{name}\" already exists", info.qualified_name()),
                    )
                    .with_details(&info.group, &info.plural, &name));
                }
                Ok(Outcome::Write(obj))
            })?;
    if !ctx.dry_run() && committed_obj.changed {
        shared.committed(&target.served.info, &committed_obj.object, false);
    }
    let mut reply = Reply::json(201, super::into_served(target, committed_obj.object));
    reply.warnings.append(&mut warnings);
    Ok(reply)
}
