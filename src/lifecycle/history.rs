//! The bounded transition history: one entry per phase change, oldest first.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

use crate::api::{Phase, Transition};

/// Appends a transition and drops the oldest entries beyond `limit`.
pub(crate) fn record(
    history: &mut Vec<Transition>,
    limit: usize,
    phase: Phase,
    now: Timestamp,
    reason: &str,
    message: &str,
    by: Vec<String>,
) {
    history.push(Transition {
        phase,
        time: Time(now),
        reason: reason.to_owned(),
        message: message.to_owned(),
        by,
    });
    trim(history, limit);
}

pub(crate) fn trim(history: &mut Vec<Transition>, limit: usize) {
    if history.len() > limit {
        history.drain(..history.len() - limit);
    }
}
