//! Applying manifests with server-side apply, as `kubectl apply --server-side` would:
//! what `charter sandbox --apply DIR` does with each file.

use kube::api::{DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::discovery::Scope;
use kube::{Api, Client};
use serde_json::Value;

/// The field manager of objects applied by the sandbox.
pub const MANAGER: &str = "charter-sandbox";

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("{what}: {message}")]
    Invalid { what: String, message: String },
    #[error("{what}: {source}")]
    Kube { what: String, source: kube::Error },
}

/// Apply every object in order; returns one `kind/name` line per object, as kubectl prints.
pub async fn apply_all(client: &Client, objects: &[Value]) -> Result<Vec<String>, ApplyError> {
    let mut applied = Vec::new();
    for object in objects {
        applied.push(apply_one(client, object).await?);
    }
    Ok(applied)
}

async fn apply_one(client: &Client, object: &Value) -> Result<String, ApplyError> {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let kind = object["kind"].as_str().unwrap_or_default();
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    let what = format!("{kind} {name:?}");
    if name.is_empty() {
        return Err(ApplyError::Invalid {
            what,
            message: "metadata.name is required".into(),
        });
    }
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    };
    let gvk = GroupVersionKind::gvk(group, version, kind);
    let (resource, caps) = kube::discovery::pinned_kind(client, &gvk)
        .await
        .map_err(|source| ApplyError::Kube {
            what: what.clone(),
            source,
        })?;
    let api: Api<DynamicObject> = match caps.scope {
        Scope::Namespaced => {
            let ns = object["metadata"]["namespace"]
                .as_str()
                .unwrap_or("default");
            Api::namespaced_with(client.clone(), ns, &resource)
        }
        Scope::Cluster => Api::all_with(client.clone(), &resource),
    };
    api.patch(
        name,
        &PatchParams::apply(MANAGER).force(),
        &Patch::Apply(object),
    )
    .await
    .map_err(|source| ApplyError::Kube {
        what: what.clone(),
        source,
    })?;
    let group_suffix = if group.is_empty() {
        String::new()
    } else {
        format!(".{group}")
    };
    Ok(format!("{}{group_suffix}/{name} applied", resource.plural))
}
