//! OpenAPI v3: the index kubectl fetches on every apply and the per-group-version
//! documents that `kubectl apply` (field validation) and `kubectl explain` read.

mod names;
mod paths;
mod schemas;
#[cfg(test)]
mod tests;

pub use names::schema_name;
pub(crate) use schemas::string_map;

use crate::resource::ResourceInfo;
use serde_json::{Map, Value, json};

/// The URL path (without the leading `/openapi/v3/`) of a group version's document.
fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// A stable 64-bit FNV-1a hash, printed as 32 upper-case hex digits as the real server
/// prints its SHA-512 prefix (only stability matters to clients).
fn stable_hash(text: &str) -> String {
    let mut a: u64 = 0xcbf2_9ce4_8422_2325;
    let mut b: u64 = 0x8422_2325_cbf2_9ce4;
    for byte in text.bytes() {
        a ^= u64::from(byte);
        a = a.wrapping_mul(0x0000_0100_0000_01b3);
        b = b.rotate_left(5) ^ u64::from(byte);
        b = b.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{a:016X}{b:016X}")
}

/// `GET /openapi/v3`: `{"paths": {"apis/<g>/<v>": {"serverRelativeURL": ...}, "api/v1": ...}}`.
pub fn index(resources: &[ResourceInfo]) -> Value {
    let mut paths = Map::new();
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for r in resources {
        if seen.contains(&(r.group.as_str(), r.version.as_str())) {
            continue;
        }
        seen.push((r.group.as_str(), r.version.as_str()));
        let p = gv_path(&r.group, &r.version);
        let hash = group_version(resources, &r.group, &r.version)
            .map(|doc| stable_hash(&doc.to_string()))
            .unwrap_or_default();
        paths.insert(
            p.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash={hash}")}),
        );
    }
    json!({"paths": paths})
}

/// `GET /openapi/v3/api/v1` (group "") or `/openapi/v3/apis/<group>/<version>`; `None` if unknown.
pub fn group_version(resources: &[ResourceInfo], group: &str, version: &str) -> Option<Value> {
    let served = crate::resource::served_at(resources, group, version)?;
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for (name, s) in schemas::meta_schemas() {
        schemas.insert(name, s);
    }
    for r in &served {
        paths::add_paths(r, &mut paths);
        schemas.insert(
            schema_name(&r.group, &r.version, &r.kind),
            schemas::kind_schema(r),
        );
        schemas.insert(
            schema_name(&r.group, &r.version, &r.list_kind),
            schemas::list_schema(r),
        );
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    }))
}
