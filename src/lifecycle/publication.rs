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

/// One Event when the catalog starts serving another revision or withdraws the service, naming
/// the revision and who approved it: every such note is about one revision only.
pub(crate) fn announce(
    before: Option<&str>,
    now: Option<&str>,
    approved_by: &[String],
    events: &mut Events,
) {
    if before == now {
        return;
    }
    match (now, before) {
        (Some(r), _) if approved_by.is_empty() => events.push(
            false,
            reason::PUBLISHED,
            format!("the catalog serves revision {r}"),
        ),
        (Some(r), _) => events.push(
            false,
            reason::PUBLISHED,
            format!(
                "the catalog serves revision {r}, approved by {}",
                approved_by.join(", ")
            ),
        ),
        (None, Some(r)) => events.push(
            false,
            reason::WITHDRAWN,
            format!("revision {r} was withdrawn from the catalog"),
        ),
        (None, None) => {}
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
