//! Discovery documents: the aggregated form kubectl asks for first (apidiscovery.k8s.io
//! v2 / v2beta1) and the legacy APIVersions / APIGroupList / APIResourceList.

use crate::resource::ResourceInfo;
use serde_json::Value;

/// `/api` (core = true) or `/apis` (core = false) as an APIGroupDiscoveryList.
/// `api_version` is `apidiscovery.k8s.io/v2` or `apidiscovery.k8s.io/v2beta1`, as asked.
pub fn aggregated(resources: &[ResourceInfo], core: bool, api_version: &str) -> Value {
    let _ = (resources, core, api_version);
    todo!("kubectl helper")
}

/// Legacy `/api`: APIVersions.
pub fn api_versions() -> Value {
    todo!("kubectl helper")
}

/// Legacy `/apis`: APIGroupList.
pub fn api_group_list(resources: &[ResourceInfo]) -> Value {
    let _ = resources;
    todo!("kubectl helper")
}

/// Legacy `/api/v1` or `/apis/<group>/<version>`: APIResourceList (with `<plural>/status`
/// entries); `None` when nothing is served there.
pub fn api_resource_list(resources: &[ResourceInfo], group: &str, version: &str) -> Option<Value> {
    let _ = (resources, group, version);
    todo!("kubectl helper")
}
