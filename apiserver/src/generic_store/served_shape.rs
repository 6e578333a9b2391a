//! The stored shape of what a client sent, and the served shape of what is stored, as the
//! kind's strategy converts them (core v1 Events to and from events.k8s.io).

use crate::error::ApiError;
use crate::request::Target;
use crate::store::Frozen;
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

/// The served shape of a stored object, taking it (no copy when it is served as stored).
pub fn into_served(target: &Target, stored: Value) -> Value {
    let converted = match to_served(target, &stored) {
        Cow::Owned(v) => Some(v),
        Cow::Borrowed(_) => None,
    };
    converted.unwrap_or(stored)
}

/// The served shape of a stored object, parsed from its JSON.
pub fn frozen_to_served(target: &Target, stored: &Frozen) -> Value {
    into_served(target, stored.value())
}

/// The stored JSON when it is the served shape as it is (the object is stored under the
/// requested apiVersion and kind, which `Strategy::to_served` leaves alone): what a watch or
/// a list sends without parsing it.
pub fn served_json<'a>(target: &Target, stored: &'a Frozen) -> Option<&'a str> {
    let info = &target.served.info;
    (stored.api_version() == info.api_version() && stored.kind() == info.kind)
        .then(|| stored.json())
}
