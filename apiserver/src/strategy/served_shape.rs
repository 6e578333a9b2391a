//! The stored shape of what a client sent, and the served shape of what is stored: the
//! requested apiVersion and kind, and core v1 Events converted to and from events.k8s.io.

use super::for_target;
use crate::error::ApiError;
use crate::request::Target;
use serde_json::{Value, json};

/// The stored shape of a body the client sent in the served shape.
pub fn from_served(target: &Target, obj: Value) -> Result<Value, ApiError> {
    for_target(target).decode_served(target, obj)
}

/// The served shape of a stored object.
pub fn to_served(target: &Target, stored: &Value) -> Value {
    for_target(target).to_served(target, stored)
}

/// The served shape most kinds share: the stored object under the requested apiVersion.
pub fn as_requested_version(target: &Target, stored: &Value) -> Value {
    let mut o = stored.clone();
    if let Some(m) = o.as_object_mut() {
        m.insert("apiVersion".into(), json!(target.served.info.api_version()));
        m.insert("kind".into(), json!(target.served.info.kind));
    }
    o
}
