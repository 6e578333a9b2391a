//! The four kinds' own validation at create and update, as their registry strategies do
//! in the real server: a policy whose expressions do not compile is refused with 422,
//! naming the field (`spec.validations[0].expression`).

use super::definition::{Binding, Causes};
use super::{GROUP, MAP, MAPB, VAP, VAPB, mutating, validating};
use crate::error::ApiError;
use crate::resource::ResourceInfo;
use serde_json::Value;

pub fn validate_object(info: &ResourceInfo, obj: &Value) -> Result<(), ApiError> {
    if info.group != GROUP {
        return Ok(());
    }
    let mut c = Causes::default();
    match info.plural.as_str() {
        p if p == VAP.1 => drop(validating::compile(obj, &mut c)),
        p if p == MAP.1 => drop(mutating::compile(obj, &mut c)),
        p if p == VAPB.1 => drop(Binding::compile(obj, true, &mut c)),
        p if p == MAPB.1 => drop(Binding::compile(obj, false, &mut c)),
        _ => {}
    }
    crate::strategy::invalid_unless_empty(info, obj, c.0)
}
