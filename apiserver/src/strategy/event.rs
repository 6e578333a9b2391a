//! Events: stored as events.k8s.io/v1 and served as either that or core v1, converted
//! both ways.

use super::Strategy;
use crate::contain::contain;
use crate::error::ApiError;
use crate::events;
use crate::request::Target;
use serde_json::Value;

pub struct Event;

impl Strategy for Event {
    fn stored_api_version(&self, target: &Target) -> String {
        if target.is_core_event() {
            "events.k8s.io/v1".into()
        } else {
            target.served.info.api_version()
        }
    }

    fn decode_served(&self, target: &Target, obj: Value) -> Result<Value, ApiError> {
        if target.is_core_event() {
            contain("events::from_core_v1", || events::from_core_v1(&obj))
        } else {
            Ok(obj)
        }
    }

    fn to_served<'a>(&self, target: &Target, stored: &'a Value) -> std::borrow::Cow<'a, Value> {
        if target.is_core_event() {
            return std::borrow::Cow::Owned(
                contain("events::to_core_v1", || events::to_core_v1(stored))
                    .unwrap_or_else(|_| stored.clone()),
            );
        }
        super::served_shape::as_requested_version(target, stored)
    }
}
