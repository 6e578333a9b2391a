//! What the server writes as itself (`system:masters`) when asked by the crate's users:
//! namespaces, CRDs, and manifests of any served kind, created or replaced through the
//! generic store.

use crate::error::ApiError;
use crate::request::{RequestContext, Target};
use crate::shared::Shared;
use serde_json::{Value, json};

/// Why something could not be installed.
pub(crate) enum InstallError {
    /// The manifest names a kind that is not served.
    NotServed(String),
    Api(ApiError),
}

impl From<ApiError> for InstallError {
    fn from(e: ApiError) -> Self {
        InstallError::Api(e)
    }
}

fn target(
    shared: &Shared,
    (group, version): (&str, &str),
    plural: &str,
    namespace: Option<String>,
) -> Result<Target, InstallError> {
    let served = shared
        .registry
        .find(group, version, plural)
        .ok_or_else(|| InstallError::NotServed(format!("{plural} not served")))?;
    Ok(Target {
        served,
        namespace,
        name: None,
        subresource: None,
    })
}

/// Create a namespace (no error if it exists).
pub(crate) fn namespace(shared: &Shared, name: &str) -> Result<(), InstallError> {
    let target = target(shared, ("", "v1"), "namespaces", None)?;
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
    match crate::generic_store::create(shared, &RequestContext::internal(), &target, ns) {
        Err(e) if e.code != 409 => Err(e.into()),
        _ => Ok(()),
    }
}

/// Create or replace CRDs.
pub(crate) fn crds(shared: &Shared, crds: Vec<Value>) -> Result<(), InstallError> {
    let target = target(
        shared,
        ("apiextensions.k8s.io", "v1"),
        "customresourcedefinitions",
        None,
    )?;
    for crd in crds {
        create_or_replace(shared, &target, crd)?;
    }
    Ok(())
}

/// Create or replace objects of any served kind. A namespaced object without
/// `metadata.namespace` goes to `default`.
pub(crate) fn objects(shared: &Shared, docs: Vec<Value>) -> Result<(), InstallError> {
    for obj in docs {
        let field = |k: &str| obj.get(k).and_then(Value::as_str).unwrap_or_default();
        let (group, version) = match field("apiVersion").split_once('/') {
            Some((g, v)) => (g.to_string(), v.to_string()),
            None => (String::new(), field("apiVersion").to_string()),
        };
        let kind = field("kind");
        let info = shared
            .registry
            .find_kind(&group, &version, kind)
            .ok_or_else(|| {
                InstallError::NotServed(format!("{kind} in {group}/{version} is not served"))
            })?;
        let ns = info.namespaced.then(|| {
            crate::store::meta_str(&obj, "namespace")
                .filter(|n| !n.is_empty())
                .unwrap_or("default")
                .to_string()
        });
        let target = target(shared, (&group, &version), &info.plural, ns)?;
        create_or_replace(shared, &target, obj)?;
    }
    Ok(())
}

/// Installing is create-or-replace of the manifest as written, whatever its version.
fn create_or_replace(shared: &Shared, target: &Target, mut obj: Value) -> Result<(), ApiError> {
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("resourceVersion");
    }
    let ctx = RequestContext::internal();
    match crate::generic_store::create(shared, &ctx, target, obj.clone()) {
        Err(e) if e.code == 409 => {
            let name = crate::store::meta_str(&obj, "name")
                .unwrap_or_default()
                .to_string();
            crate::handlers::update::update(shared, &ctx, target, &name, obj, false)?;
            Ok(())
        }
        Err(e) => Err(e),
        Ok(_) => Ok(()),
    }
}
