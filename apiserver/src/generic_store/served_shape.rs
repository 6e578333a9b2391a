//! The stored shape of what a client sent, and the served shape of what is stored, as the
//! kind's strategy converts them (core v1 Events to and from events.k8s.io).

use crate::error::ApiError;
use crate::request::Target;
use serde_json::Value;
use std::borrow::Cow;

/// The stored shape of a body the client sent in the served shape.
pub fn from_served(target: &Target, obj: Value) -> Result<Value, ApiError> {
    let info = &target.served.info;
    info.strategy.decode_served(info, obj)
}

/// The served shape of a stored object.
pub fn to_served<'a>(target: &Target, stored: &'a Value) -> Cow<'a, Value> {
    let info = &target.served.info;
    info.strategy.to_served(info, stored)
}
