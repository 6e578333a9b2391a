//! Publication: the catalog serves the approved snapshot only while Active, and says so when
//! that changes.

use super::events::Events;
use super::reason;
use super::refusal::Refusal;
use crate::api::Phase;

/// The revision the catalog serves: the approved one, only while Active.
pub(crate) fn published_revision(approved: Option<&str>, phase: Phase) -> Option<String> {
    match (approved, phase) {
        (Some(r), Phase::Active) => Some(r.to_owned()),
        _ => None,
    }
}

/// One Event when the catalog starts serving another revision or withdraws the service.
pub(crate) fn announce(before: Option<&str>, now: Option<&str>, events: &mut Events) {
    if before == now {
        return;
    }
    match now {
        Some(r) => events.push(
            false,
            reason::PUBLISHED,
            format!("the catalog serves revision {r}"),
        ),
        None => events.push(
            false,
            reason::WITHDRAWN,
            "the service was withdrawn from the catalog".to_owned(),
        ),
    }
}

/// The Published condition.
pub(crate) fn condition(
    published: Option<&str>,
    phase: Phase,
) -> Result<(&'static str, String), Refusal> {
    match published {
        Some(r) => Ok((
            reason::PUBLISHED,
            format!("the catalog serves revision {r}"),
        )),
        None => Err(Refusal::not_published(phase)),
    }
}
