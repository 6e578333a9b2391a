//! `meta.k8s.io/v1` Table responses built from printer columns, as `kubectl get` asks for.

use crate::resource::ResourceInfo;
use chrono::{DateTime, Utc};
use serde_json::Value;

/// True when the Accept header asks for `as=Table;v=v1;g=meta.k8s.io`.
pub fn wants_table(accept: &str) -> bool {
    let _ = accept;
    todo!("kubectl helper")
}

/// A Table of `objects` (full JSON objects), with the given list metadata
/// (`resourceVersion`, `continue`). Dates are printed as ages relative to `now`.
pub fn to_table(info: &ResourceInfo, objects: &[Value], list_metadata: Value, now: DateTime<Utc>) -> Value {
    let _ = (info, objects, list_metadata, now);
    todo!("kubectl helper")
}
