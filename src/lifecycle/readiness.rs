//! Readiness: whether the desired phase is reached with its content live, or which refusal holds
//! it; with the Approved and DependenciesReady conditions that explain it.

use super::gates::{self, Facts};
use super::reason;
use super::refusal::Refusal;
use super::transitions;
use crate::api::Phase;

/// The Ready condition.
pub(crate) fn ready(
    phase: Phase,
    facts: &Facts,
    published: Option<&str>,
) -> Result<(&'static str, String), Refusal> {
    if phase != Phase::from(facts.desired) {
        Err(transitions::holding_refusal(phase, facts))
    } else if phase == Phase::Active {
        gates::pending_revision(facts, published).map(|()| {
            (
                reason::ACTIVE,
                format!("Active, serving revision {}", facts.revision),
            )
        })
    } else {
        Ok((phase.as_str(), format!("{phase}, as desired")))
    }
}

/// The Approved condition: about the current revision only.
pub(crate) fn approved(
    phase: Phase,
    facts: &Facts,
    published: Option<&str>,
) -> Result<(&'static str, String), Refusal> {
    gates::approval_state(facts, phase, published).map(|()| {
        // Approvals are sticky: say so, or a count of 1/1 with no approval object left (GitOps
        // pruned it, an admin deleted it) reads as a bug.
        (
            reason::QUORUM_REACHED,
            format!(
                "revision {} is approved by {}; the approval stands even if approval objects are deleted, until an approver records a Rejected decision for it",
                facts.revision,
                facts.approved_by_snapshot.join(", ")
            ),
        )
    })
}

/// The DependenciesReady condition.
pub(crate) fn dependencies(facts: &Facts) -> Result<(&'static str, String), Refusal> {
    gates::dependencies_active(facts).map(|()| {
        (
            reason::DEPENDENCIES_ACTIVE,
            "every dependency is Active".to_owned(),
        )
    })
}
