//! Walking the table: from the current phase, take open gates until none opens, recording each
//! move in the history and as an Event; or say which closed gate holds the Service.

use k8s_openapi::jiff::Timestamp;

use super::events::Events;
use super::gates::{Facts, edges_from};
use super::history;
use super::reason;
use super::refusal::Refusal;
use crate::api::{Phase, ServiceStatus, Transition};

pub(crate) struct Walk {
    pub phase: Phase,
    pub history: Vec<Transition>,
    pub activated_at: Option<Timestamp>,
    pub events: Events,
}

// The table has no cycles (see gates.rs); the bound only guards against a future mistake.
const MAX_MOVES: usize = 8;

pub(crate) fn walk(
    previous: &ServiceStatus,
    facts: &Facts,
    now: Timestamp,
    history_limit: usize,
) -> Walk {
    let mut w = Walk {
        phase: previous.phase.unwrap_or_default(),
        history: previous.history.clone(),
        activated_at: previous.activated_at.as_ref().map(|t| t.0),
        events: Events::default(),
    };
    if previous.phase.is_none() {
        let message = match facts.created_by {
            Some(who) => format!("the service entered Planning, created by {who}"),
            None => "the service entered Planning".to_owned(),
        };
        let by = who_acted(reason::CREATED, facts);
        w.record(
            Phase::Planning,
            reason::CREATED,
            message,
            by,
            now,
            history_limit,
        );
    }
    for _ in 0..MAX_MOVES {
        let Some(edge) = edges_from(w.phase).find(|e| (e.gate)(facts).is_ok()) else {
            break;
        };
        let message = message(edge.reason, w.phase, edge.to, facts);
        let by = who_acted(edge.reason, facts);
        w.record(edge.to, edge.reason, message, by, now, history_limit);
        if edge.to == Phase::Active {
            w.activated_at = Some(now);
        }
    }
    history::trim(&mut w.history, history_limit);
    w
}

impl Walk {
    fn record(
        &mut self,
        to: Phase,
        reason: &str,
        message: String,
        by: Vec<String>,
        now: Timestamp,
        limit: usize,
    ) {
        history::record(&mut self.history, limit, to, now, reason, &message, by);
        self.events.push(
            matches!(reason, reason::REJECTED | reason::REVOKED),
            reason,
            message,
        );
        self.phase = to;
    }
}

/// Why a Service whose phase differs from the desired one is held: the first gate on its way
/// that is closed for a reason a user can act on.
pub(crate) fn holding_refusal(phase: Phase, facts: &Facts) -> Refusal {
    edges_from(phase)
        .filter_map(|e| (e.gate)(facts).err())
        .find(Refusal::applies)
        .unwrap_or_else(|| {
            Refusal::progressing(format!("{phase}, moving toward {:?}", facts.desired))
        })
}

/// Who made a move happen, as recorded: the approvers or rejecters whose decisions moved it,
/// the author of a resubmitted revision, or whoever asked for the phase.
fn who_acted(reason: &str, f: &Facts) -> Vec<String> {
    let one = |who: Option<&str>| who.map(|w| vec![w.to_owned()]).unwrap_or_default();
    match reason {
        reason::CREATED => one(f.created_by),
        reason::QUORUM_REACHED => f.approved_by.to_vec(),
        reason::REJECTED => f.rejected_by.to_vec(),
        reason::REVOKED => f.revoked.map(|(_, by)| by.to_vec()).unwrap_or_default(),
        reason::RESUBMITTED => one(f.revised_by),
        _ => one(f.phase_requested_by),
    }
}

fn message(reason: &str, from: Phase, to: Phase, f: &Facts) -> String {
    let asked = |text: String| match f.phase_requested_by {
        Some(who) => format!("{text}, as {who} asked"),
        None => text,
    };
    match reason {
        reason::REVOKED => match f.revoked {
            Some((revision, by)) => {
                format!(
                    "approval of revision {revision} was revoked by {}; back to Planning",
                    by.join(", ")
                )
            }
            None => format!("no approved revision; {from} goes back to Planning"),
        },
        reason::REJECTED => format!(
            "revision {} was rejected by {}; back to Planning for rework",
            f.revision,
            f.rejected_by.join(", ")
        ),
        reason::QUORUM_REACHED => format!(
            "revision {} approved by {}",
            f.revision,
            f.approved_by.join(", ")
        ),
        reason::RESUBMITTED => match f.revised_by {
            Some(who) => format!(
                "{who} changed the content: revision {} needs approval",
                f.revision
            ),
            None => format!(
                "the content changed: revision {} needs approval",
                f.revision
            ),
        },
        reason::AWAITING_APPROVAL => {
            asked(format!("revision {} submitted for approval", f.revision))
        }
        _ if to == Phase::Active => {
            asked(format!("revision {} is Active and published", f.revision))
        }
        _ => asked(format!("{from} → {to} ({:?} desired)", f.desired)),
    }
}
