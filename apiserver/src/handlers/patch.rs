//! PATCH: merge, JSON, strategic merge, and server-side apply (which may create).

use super::Call;
use super::decode_body;
use crate::contain::contain;
use crate::error::{ApiError, Cause};
use crate::fieldmanager::ApplyRequest;
use crate::generic_store::{self, Updated, require_namespace};
use crate::patch::PatchType;
use crate::request::{RequestContext, Target};
use crate::shared::{Reply, Shared};

/// `PatchOptions.meta.k8s.io "" is invalid: <field>: <message>` (422).
fn invalid_patch_options(reason: &str, message: &str, field: &str) -> ApiError {
    ApiError::invalid(
        "PatchOptions",
        "meta.k8s.io",
        "PatchOptions",
        "",
        vec![Cause {
            reason: reason.into(),
            message: message.into(),
            field: field.into(),
        }],
    )
}

/// The field manager's version check: an applied object names the request's group,
/// version and kind, else 400 `invalid object type: <group>/<version>, Kind=<kind>`.
fn check_applied_type(target: &Target, applied: &serde_json::Value) -> Result<(), ApiError> {
    let info = &target.served.info;
    let field = |k: &str| {
        applied
            .get(k)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
    };
    let (group, version) = field("apiVersion")
        .rsplit_once('/')
        .unwrap_or(("", field("apiVersion")));
    let kind = field("kind");
    if (group, version, kind)
        == (
            info.group.as_str(),
            info.version.as_str(),
            info.kind.as_str(),
        )
    {
        return Ok(());
    }
    Err(ApiError::bad_request(format!(
        "invalid object type: {group}/{version}, Kind={kind}"
    )))
}

pub fn handle(call: Call<'_>, name: &str) -> Result<Reply, ApiError> {
    let (shared, ctx, target, body) = (call.shared, call.ctx, call.target, call.body);
    let pt = contain("patch::PatchType::from_content_type", || {
        PatchType::from_content_type(&ctx.content_type)
    })?
    .ok_or_else(ApiError::unknown_patch_type)?;
    let manager = ctx
        .param("fieldManager")
        .filter(|m| !m.is_empty())
        .map(String::from);
    let info = &target.served.info;
    // ValidatePatchOptions, before anything is read.
    if pt != PatchType::Apply && ctx.param("force").is_some() {
        return Err(invalid_patch_options(
            "FieldValueForbidden",
            "Forbidden: may not be specified for non-apply patch",
            "force",
        ));
    }
    let applied = if pt == PatchType::Apply {
        if manager.is_none() {
            return Err(invalid_patch_options(
                "FieldValueRequired",
                "Required value: is required for apply patch",
                "fieldManager",
            ));
        }
        let v = decode_body(ctx, body)?;
        check_applied_type(target, &v)?;
        Some(generic_store::from_served(target, v)?)
    } else {
        None
    };
    let force = ctx.param("force") == Some("true");
    let manager = manager.unwrap_or_else(|| ctx.manager());
    let sub = target.subresource.as_deref();
    if applied.is_some() && sub.is_none() {
        require_namespace(shared, target)?;
    }
    let allow_create = applied.is_some() && sub.is_none();
    generic_store::update(shared, ctx, target, name, allow_create, |cur| {
        let now = crate::object_meta::now_rfc3339();
        let Some(cur) = cur else {
            // Only an apply to the main resource gets here.
            let Some(applied) = &applied else {
                return Err(generic_store::not_found_for(target, name));
            };
            may_create(shared, ctx, target, name)?;
            let req = ApplyRequest {
                info,
                current: None,
                applied,
                manager: &manager,
                force,
                subresource: None,
                now: &now,
            };
            let object = contain("fieldmanager::server_side_apply", || {
                crate::fieldmanager::server_side_apply(req)
            })??;
            return Ok(Updated {
                object,
                record: false,
            });
        };
        let (patched, record) = match &applied {
            Some(applied) => {
                let current = generic_store::to_served(target, cur);
                let req = ApplyRequest {
                    info,
                    current: Some(&current),
                    applied,
                    manager: &manager,
                    force,
                    subresource: sub,
                    now: &now,
                };
                let merged = contain("fieldmanager::server_side_apply", || {
                    crate::fieldmanager::server_side_apply(req)
                })??;
                // The applied object's resourceVersion is a precondition, checked by
                // storage after the field manager's conflicts.
                generic_store::check_resource_version(target, name, applied, cur)?;
                (merged, false)
            }
            None => {
                let current = generic_store::to_served(target, cur);
                let p = contain("patch::apply_patch", || {
                    crate::patch::apply_patch(info, &current, pt, body)
                })??;
                (p, true)
            }
        };
        Ok(Updated {
            object: generic_store::from_served(target, patched)?,
            record,
        })
    })
}

/// An apply that creates the object needs `create` as well as `patch`, as kube-apiserver's
/// patch handler authorizes the create (`withAuthorization` on its create validation).
fn may_create(
    shared: &Shared,
    ctx: &RequestContext,
    target: &Target,
    name: &str,
) -> Result<(), ApiError> {
    let info = &target.served.info;
    let attrs = crate::authz::Attributes {
        user: ctx.user.clone(),
        verb: "create".into(),
        path: String::new(),
        resource: Some(crate::authz::ResourceAttributes {
            group: info.group.clone(),
            resource: info.plural.clone(),
            subresource: String::new(),
            name: name.to_string(),
            namespace: target.ns().to_string(),
        }),
    };
    let decision = shared.authz.authorize(&attrs);
    if decision.allowed {
        Ok(())
    } else {
        Err(crate::authz::request_info::forbidden(
            &attrs,
            &decision.reason,
        ))
    }
}
