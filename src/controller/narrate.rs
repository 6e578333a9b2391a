//! The Events of one reconcile. The lifecycle notes every step it walks; a person reading
//! `kubectl describe` wants the move, told once: one Event per reconcile that moves the phase,
//! with the reason of its final step and a note naming every step walked, plus every warning
//! that is not a step. A reconcile that moves nothing emits the lifecycle's notes as they are.

use crate::{
    api::{ServiceStatus, Transition},
    lifecycle::{Note, Outcome},
};

/// What to publish for `outcome`, given the status it was computed from.
pub(crate) fn events_of(previous: Option<&ServiceStatus>, outcome: &Outcome) -> Vec<Note> {
    let before: &[Transition] = previous.map_or(&[], |s| &s.history);
    let steps = walked(before, &outcome.status.history);
    let Some(last) = steps.last() else {
        return outcome.events.clone();
    };
    let is_step = |n: &Note| steps.iter().any(|s| s.reason == n.reason);
    let (told, apart): (Vec<&Note>, Vec<&Note>) = outcome
        .events
        .iter()
        .partition(|n| is_step(n) || !n.warning);

    let mut path: Vec<String> = previous
        .and_then(|s| s.phase)
        .map(|p| p.to_string())
        .into_iter()
        .collect();
    for step in steps {
        if path.last() != Some(&step.phase.to_string()) {
            path.push(step.phase.to_string());
        }
    }
    // Each step in order, with the lifecycle's own words; then what followed from the move.
    let mut lines: Vec<String> = steps
        .iter()
        .map(|s| format!("{}: {}", s.reason, s.message))
        .collect();
    lines.extend(
        told.iter()
            .filter(|n| !is_step(n))
            .map(|n| format!("{}: {}", n.reason, n.message)),
    );
    let mut events = vec![Note {
        warning: told.iter().any(|n| n.warning),
        reason: last.reason.clone(),
        message: format!("{}. {}", path.join(" → "), lines.join(". ")),
    }];
    events.extend(apart.into_iter().cloned());
    events
}

/// The transitions this evaluation appended: `after` is `before` plus them, oldest entries
/// possibly trimmed off the front by the history bound.
fn walked<'a>(before: &[Transition], after: &'a [Transition]) -> &'a [Transition] {
    (0..=after.len())
        .find(|&appended| {
            let kept = &after[..after.len() - appended];
            kept.len() <= before.len() && before.ends_with(kept)
        })
        .map_or(&[], |appended| &after[after.len() - appended..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Phase;
    use k8s_openapi::{apimachinery::pkg::apis::meta::v1::Time, jiff::Timestamp};

    fn step(phase: Phase, reason: &str, second: i64) -> Transition {
        Transition {
            phase,
            time: Time(Timestamp::from_second(second).unwrap()),
            reason: reason.into(),
            message: format!("{reason} happened"),
            by: Vec::new(),
        }
    }

    fn note(warning: bool, reason: &str) -> Note {
        Note {
            warning,
            reason: reason.into(),
            message: format!("{reason} happened"),
        }
    }

    fn outcome(history: Vec<Transition>, events: Vec<Note>) -> Outcome {
        Outcome {
            status: ServiceStatus {
                history,
                ..Default::default()
            },
            approvals: vec![],
            events,
            requeue_at: None,
        }
    }

    #[test]
    fn a_walk_to_active_is_one_event_naming_every_step() {
        let history = vec![
            step(Phase::Planning, "Created", 1),
            step(Phase::Approval, "AwaitingApproval", 1),
            step(Phase::Development, "QuorumReached", 1),
            step(Phase::Active, "Activated", 1),
        ];
        let notes = [
            "Created",
            "AwaitingApproval",
            "QuorumReached",
            "Activated",
            "Published",
        ]
        .map(|r| note(false, r))
        .to_vec();
        let events = events_of(None, &outcome(history, notes));
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].reason, "Activated");
        assert!(!events[0].warning);
        assert_eq!(
            events[0].message,
            "Planning → Approval → Development → Active. Created: Created happened. \
             AwaitingApproval: AwaitingApproval happened. QuorumReached: QuorumReached happened. \
             Activated: Activated happened. Published: Published happened"
        );
    }

    #[test]
    fn warnings_that_are_not_steps_stay_events_of_their_own() {
        let previous = ServiceStatus {
            phase: Some(Phase::Planning),
            history: vec![step(Phase::Planning, "Created", 1)],
            ..Default::default()
        };
        let history = vec![
            step(Phase::Planning, "Created", 1),
            step(Phase::Approval, "AwaitingApproval", 2),
            step(Phase::Development, "QuorumReached", 2),
        ];
        let notes = vec![
            note(false, "AwaitingApproval"),
            note(false, "QuorumReached"),
            note(true, "NoCategories"),
        ];
        let events = events_of(Some(&previous), &outcome(history, notes));
        let reasons: Vec<&str> = events.iter().map(|n| n.reason.as_str()).collect();
        assert_eq!(reasons, vec!["QuorumReached", "NoCategories"]);
        assert!(
            events[0]
                .message
                .starts_with("Planning → Approval → Development. ")
        );
        assert!(events[1].warning);
    }

    #[test]
    fn a_revocation_is_a_warning_and_a_reconcile_that_moves_nothing_is_told_as_is() {
        let active = vec![
            step(Phase::Planning, "Created", 1),
            step(Phase::Active, "Activated", 2),
        ];
        let previous = ServiceStatus {
            phase: Some(Phase::Active),
            history: active.clone(),
            ..Default::default()
        };
        let mut revoked = active.clone();
        revoked.push(step(Phase::Planning, "Revoked", 3));
        let events = events_of(
            Some(&previous),
            &outcome(
                revoked,
                vec![note(true, "Revoked"), note(false, "Withdrawn")],
            ),
        );
        assert_eq!(events.len(), 1);
        assert!(events[0].warning);
        assert_eq!(events[0].reason, "Revoked");

        let still = events_of(
            Some(&previous),
            &outcome(active, vec![note(false, "ReviewDue")]),
        );
        assert_eq!(still, vec![note(false, "ReviewDue")]);
    }

    #[test]
    fn steps_are_found_when_the_bound_trims_the_oldest() {
        let before: Vec<Transition> = (0..20).map(|i| step(Phase::Planning, "X", i)).collect();
        let mut after = before[2..].to_vec();
        after.push(step(Phase::Approval, "AwaitingApproval", 30));
        after.push(step(Phase::Development, "QuorumReached", 30));
        let steps = walked(&before, &after);
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[0].reason, "AwaitingApproval");
        assert!(walked(&before, &before).is_empty());
    }
}
