//! Events are stored once, as `events.k8s.io/v1`, and also served as core `v1` Events
//! (what `kubectl describe` reads): these functions convert between the two shapes.

use serde_json::Value;

/// An events.k8s.io/v1 Event as a core v1 Event (regarding → involvedObject, note → message,
/// series → count / lastTimestamp, reportingController → source.component).
pub fn to_core_v1(event: &Value) -> Value {
    let _ = event;
    todo!("kubectl helper")
}

/// A core v1 Event (as `kubectl create` or an old client would post it) as events.k8s.io/v1.
pub fn from_core_v1(event: &Value) -> Value {
    let _ = event;
    todo!("kubectl helper")
}
