//! The stored shape of what a client sent, and the served shape of what is stored: the
//! requested apiVersion and kind, and core v1 Events converted to and from events.k8s.io.

use super::for_target;
use crate::error::ApiError;
use crate::request::Target;
use serde_json::{Value, json};
use std::borrow::Cow;

/// The stored shape of a body the client sent in the served shape.
pub fn from_served(target: &Target, obj: Value) -> Result<Value, ApiError> {
    for_target(target).decode_served(target, obj)
}

/// The served shape of a stored object.
pub fn to_served<'a>(target: &Target, stored: &'a Value) -> Cow<'a, Value> {
    for_target(target).to_served(target, stored)
}

/// The served shape most kinds share: the stored object under the requested apiVersion.
/// Borrowed when it is stored under that apiVersion already (the common case: watch events
/// and responses then serialize the stored object without copying it).
pub fn as_requested_version<'a>(target: &Target, stored: &'a Value) -> Cow<'a, Value> {
    let api_version = target.served.info.api_version();
    let kind = &target.served.info.kind;
    if stored.get("apiVersion").and_then(Value::as_str) == Some(api_version.as_str())
        && stored.get("kind").and_then(Value::as_str) == Some(kind.as_str())
    {
        return Cow::Borrowed(stored);
    }
    let mut o = stored.clone();
    if let Some(m) = o.as_object_mut() {
        m.insert("apiVersion".into(), json!(api_version));
        m.insert("kind".into(), json!(kind));
    }
    Cow::Owned(o)
}
