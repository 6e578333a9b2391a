//! One handler per verb, as kube-apiserver's `pkg/endpoints/handlers`.

mod continue_token;
pub mod create;
pub mod delete;
pub mod get;
pub mod list;
pub mod patch;
pub mod update;
pub mod watch;

use crate::contain::contain;
use crate::error::ApiError;
use crate::request::{RequestContext, Target};
use crate::shared::Shared;
use crate::store::Bucket;
use serde_json::Value;

/// A JSON, YAML (apply) or protobuf request body as a JSON value.
pub fn decode_body(ctx: &RequestContext, body: &[u8]) -> Result<Value, ApiError> {
    let ct = ctx
        .content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim();
    if ct == "application/vnd.kubernetes.protobuf" {
        return contain("protobuf::decode", || crate::protobuf::decode(body))?;
    }
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        return Ok(v);
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad_request("the request body is not valid UTF-8"))?;
    if ct.contains("yaml") {
        return serde_saphyr::from_str::<Value>(text)
            .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")));
    }
    Err(ApiError::bad_request(format!(
        "couldn't get version/kind; json parse error: {}",
        serde_json::from_slice::<Value>(body)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    )))
}

/// 404 unless the request's namespace exists.
pub fn require_namespace(shared: &Shared, target: &Target) -> Result<(), ApiError> {
    let Some(ns) = &target.namespace else {
        return Ok(());
    };
    let bucket: Bucket = (String::new(), "namespaces".into());
    if shared.store.get(&bucket, "", ns).is_some() {
        return Ok(());
    }
    Err(
        ApiError::new(404, "NotFound", format!("namespaces \"{ns}\" not found")).with_details(
            "",
            "namespaces",
            ns,
        ),
    )
}

/// After any committed write or delete (not dry-run): the hooks of the kinds whose
/// writes change how the server serves (CRDs), authorizes (RBAC) or admits (policies).
pub fn committed(shared: &Shared, target: &Target, obj: &Value, deleted: bool) {
    crd_committed(shared, target, obj, deleted);
    crate::authz::committed(shared, target);
    crate::policy::committed(shared, &target.served.info);
}

/// After a CRD write or delete: (un)register its versions.
fn crd_committed(shared: &Shared, target: &Target, obj: &Value, deleted: bool) {
    let info = &target.served.info;
    if info.group != "apiextensions.k8s.io" || info.plural != "customresourcedefinitions" {
        return;
    }
    let name = crate::store::meta_str(obj, "name").unwrap_or_default();
    if deleted {
        if let Some(versions) = shared.registry.unregister(name)
            && let Some(v) = versions.first()
        {
            shared
                .store
                .drop_bucket(&(v.info.group.clone(), v.info.plural.clone()));
        }
    } else if let Ok(served) = crate::registry::crd_to_served(obj) {
        shared.registry.register(name, served);
    }
}

pub fn is_crd(target: &Target) -> bool {
    target.served.info.group == "apiextensions.k8s.io"
        && target.served.info.plural == "customresourcedefinitions"
}

/// When a namespace is deleted, everything in it goes too.
pub fn namespace_deleted(shared: &Shared, ns: &str) {
    for info in shared.registry.all() {
        if !info.namespaced || (info.group.is_empty() && info.plural == "events") {
            continue;
        }
        let bucket = (info.group.clone(), info.plural.clone());
        let (items, _) = shared.store.list(&bucket, Some(ns));
        for o in items {
            let name = crate::store::meta_str(&o, "name")
                .unwrap_or_default()
                .to_string();
            let _ = shared.store.mutate(&bucket, ns, &name, false, |cur, _| {
                Ok(crate::store::Outcome::Delete(
                    cur.cloned().unwrap_or_default(),
                ))
            });
        }
    }
    // Its Roles and RoleBindings went with it.
    crate::authz::refresh(shared);
}
