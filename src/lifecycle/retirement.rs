//! Retirement is the owner's call and proceeds; the Active Services depending on it are named so
//! that their owners can be told (their DependenciesReady turns False on their own).

use super::events::Events;
use super::reason;
use crate::api::{Phase, ServiceRef};

/// One Warning Event when the Service has just retired under Active dependants.
pub(crate) fn warn_dependants(
    before: Option<Phase>,
    phase: Phase,
    active_dependants: &[ServiceRef],
    events: &mut Events,
) {
    if phase != Phase::Retired || before == Some(Phase::Retired) || active_dependants.is_empty() {
        return;
    }
    let names: Vec<String> = active_dependants
        .iter()
        .map(|r| format!("{}/{}", r.namespace.as_deref().unwrap_or_default(), r.name))
        .collect();
    events.push(
        true,
        reason::RETIRED_WITH_ACTIVE_DEPENDANTS,
        format!(
            "retired while Active services depend on it: {}",
            names.join(", ")
        ),
    );
}
