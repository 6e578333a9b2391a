//! Kubernetes-style conditions: `lastTransitionTime` moves only when a condition's status
//! changes, so a steady state writes nothing.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;

use super::refusal::Refusal;

pub const READY: &str = "Ready";
pub const APPROVED: &str = "Approved";
pub const PUBLISHED: &str = "Published";
pub const DEPENDENCIES_READY: &str = "DependenciesReady";
pub const REVIEW_DUE: &str = "ReviewDue";

/// Builds the new condition list, in a fixed order, keeping transition times from `previous`.
pub(crate) struct Conditions<'a> {
    previous: &'a [Condition],
    generation: Option<i64>,
    now: Timestamp,
    out: Vec<Condition>,
}

impl<'a> Conditions<'a> {
    pub fn new(previous: &'a [Condition], generation: Option<i64>, now: Timestamp) -> Self {
        Conditions {
            previous,
            generation,
            now,
            out: Vec::new(),
        }
    }

    /// A condition that is True when `result` is `Ok` (with the given reason and message), else
    /// False with the refusal's reason and message.
    pub fn set(&mut self, type_: &str, result: Result<(&str, String), Refusal>) {
        let (status, reason, message) = match result {
            Ok((reason, message)) => ("True", reason.to_owned(), message),
            Err(refusal) => ("False", refusal.reason, refusal.message),
        };
        let last_transition_time = match previous(self.previous, type_) {
            Some(c) if c.status == status => c.last_transition_time.clone(),
            _ => Time(self.now),
        };
        self.out.push(Condition {
            type_: type_.to_owned(),
            status: status.to_owned(),
            reason,
            message,
            observed_generation: self.generation,
            last_transition_time,
        });
    }

    pub fn build(self) -> Vec<Condition> {
        self.out
    }
}

pub(crate) fn previous<'c>(conditions: &'c [Condition], type_: &str) -> Option<&'c Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

pub(crate) fn is_true(conditions: &[Condition], type_: &str) -> bool {
    previous(conditions, type_).is_some_and(|c| c.status == "True")
}

pub(crate) fn previous_reason_is(conditions: &[Condition], type_: &str, reason: &str) -> bool {
    previous(conditions, type_).is_some_and(|c| c.reason == reason)
}
