//! The four kinds' own validation at create and update, as their registry strategies do
//! in the real server: a policy whose expressions do not compile is refused with 422,
//! naming the field (`spec.validations[0].expression`).

use super::definition::{Binding, Causes};
use super::{MAP, MAPB, VAP, VAPB, mutating, validating};
use crate::error::Cause;
use serde_json::Value;

/// Which of the four kinds.
#[derive(Clone, Copy, Debug)]
pub enum PolicyKind {
    ValidatingPolicy,
    ValidatingBinding,
    MutatingPolicy,
    MutatingBinding,
}

impl PolicyKind {
    /// Kind and plural.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            PolicyKind::ValidatingPolicy => VAP,
            PolicyKind::ValidatingBinding => VAPB,
            PolicyKind::MutatingPolicy => MAP,
            PolicyKind::MutatingBinding => MAPB,
        }
    }
}

/// What is wrong with a policy or binding: what does not compile.
pub fn causes(kind: PolicyKind, obj: &Value) -> Vec<Cause> {
    let mut c = Causes::default();
    match kind {
        PolicyKind::ValidatingPolicy => drop(validating::compile(obj, &mut c)),
        PolicyKind::MutatingPolicy => drop(mutating::compile(obj, &mut c)),
        PolicyKind::ValidatingBinding => drop(Binding::compile(obj, true, &mut c)),
        PolicyKind::MutatingBinding => drop(Binding::compile(obj, false, &mut c)),
    }
    c.0
}
