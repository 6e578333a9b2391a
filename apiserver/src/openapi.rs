//! OpenAPI v3: the index kubectl fetches on every apply and the per-group-version
//! documents that `kubectl apply` (field validation) and `kubectl explain` read.

use crate::resource::ResourceInfo;
use serde_json::Value;

/// `GET /openapi/v3`: `{"paths": {"apis/<g>/<v>": {"serverRelativeURL": ...}, "api/v1": ...}}`.
pub fn index(resources: &[ResourceInfo]) -> Value {
    let _ = resources;
    todo!("kubectl helper")
}

/// `GET /openapi/v3/api/v1` (group "") or `/openapi/v3/apis/<group>/<version>`; `None` if unknown.
pub fn group_version(resources: &[ResourceInfo], group: &str, version: &str) -> Option<Value> {
    let _ = (resources, group, version);
    todo!("kubectl helper")
}
