//! The CloudEvents a Service's recorded history gives: a pure function of `status.history`, so
//! the same transition always gives the same event (id and payload), after any restart, and no
//! event exists for a transition that was not recorded.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::api::{Cursor, EventType, Phase, Service, Transition};
use crate::lifecycle::reason;

/// A CloudEvent 1.0 in structured JSON mode (the spec's `application/cloudevents+json`).
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct CloudEvent {
    pub specversion: &'static str,
    pub id: String,
    pub source: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub subject: String,
    pub time: String,
    pub datacontenttype: &'static str,
    pub data: TransitionData,
    /// Not an attribute: which event type this is, for subscriptions' filters.
    #[serde(skip)]
    pub event_type: EventType,
}

/// The data of an event: the recorded facts of the transition, nothing more (no spec content),
/// so that a payload never changes for an id and never tells more than the Service's status.
#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TransitionData {
    pub namespace: String,
    pub name: String,
    pub phase: Phase,
    pub reason: String,
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub by: Vec<String>,
}

/// The event type of a recorded transition, given the phase before it (`None` when that entry
/// has been trimmed from the history); `None` when the transition tells no one anything.
pub fn event_type(previous: Option<Phase>, t: &Transition) -> Option<EventType> {
    let left_active = previous == Some(Phase::Active);
    match (t.phase, t.reason.as_str()) {
        (Phase::Active, _) => Some(EventType::Published),
        (Phase::Retired, _) => Some(EventType::Retired),
        (Phase::Approval, _) => Some(EventType::AwaitingApproval),
        (Phase::Development, reason::QUORUM_REACHED) => Some(EventType::Approved),
        (Phase::Planning, reason::REJECTED) => Some(EventType::Refused),
        (Phase::Planning, reason::REVOKED) if !left_active => Some(EventType::Refused),
        (Phase::Planning | Phase::Development, _) if left_active => Some(EventType::Withdrawn),
        _ => None,
    }
}

/// Every event the Service's history gives, oldest first.
pub fn events_of(service: &Service) -> Vec<CloudEvent> {
    let (Some(namespace), Some(name)) = (&service.metadata.namespace, &service.metadata.name)
    else {
        return Vec::new();
    };
    let uid = service.metadata.uid.as_deref().unwrap_or_default();
    let Some(status) = &service.status else {
        return Vec::new();
    };
    let mut events = Vec::new();
    let mut previous = None;
    for (i, t) in status.history.iter().enumerate() {
        if let Some(event_type) = event_type(previous, t) {
            // Two identical entries (same phase, time and reason) are told apart by their order
            // among themselves, which trimming the history's head does not change.
            let twins = status.history[..i]
                .iter()
                .filter(|o| o.phase == t.phase && o.time == t.time && o.reason == t.reason)
                .count();
            events.push(event(uid, namespace, name, event_type, t, twins));
        }
        previous = Some(t.phase);
    }
    // A review falling due is no phase change: its record is the ReviewDue condition, whose
    // lastTransitionTime stays put while it holds.
    let due = status.conditions.iter().find(|c| {
        c.type_ == crate::lifecycle::REVIEW_DUE
            && c.status == "True"
            && c.reason == reason::REVIEW_DUE
    });
    if let Some(due) = due {
        let t = Transition {
            phase: Phase::Active,
            time: due.last_transition_time.clone(),
            reason: reason::REVIEW_DUE.into(),
            message: "the periodic review is due".into(),
            by: Vec::new(),
        };
        let event_type = EventType::ReviewDue;
        events.push(event(uid, namespace, name, event_type, &t, 0));
        // Oldest first; a stable sort keeps the history's order within one second.
        events.sort_by(|a, b| a.time.cmp(&b.time));
    }
    events
}

/// The event of one recorded transition of the Service `namespace/name`; `twins` counts the
/// identical entries before it.
fn event(
    uid: &str,
    namespace: &str,
    name: &str,
    event_type: EventType,
    t: &Transition,
    twins: usize,
) -> CloudEvent {
    CloudEvent {
        specversion: "1.0",
        id: id(uid, event_type, t, twins),
        source: format!(
            "/apis/catalog.charter.dev/v1alpha1/namespaces/{namespace}/services/{name}"
        ),
        kind: event_type.as_str(),
        subject: format!("{namespace}/{name}"),
        time: time(&t.time),
        datacontenttype: "application/json",
        data: TransitionData {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            phase: t.phase,
            reason: t.reason.clone(),
            message: t.message.clone(),
            by: t.by.clone(),
        },
        event_type,
    }
}

/// The id of the event a transition gives: a hash of the Service's uid and the recorded
/// transition, so receivers de-duplicate on it.
fn id(uid: &str, event_type: EventType, t: &Transition, twins: usize) -> String {
    let mut hash = Sha256::new();
    for part in [
        uid,
        event_type.as_str(),
        t.phase.as_str(),
        &time(&t.time),
        &t.reason,
        &twins.to_string(),
    ] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hash.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The time as the API server records it (RFC 3339, as the CloudEvents `time` wants).
fn time(t: &Time) -> String {
    serde_json::to_value(t)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| t.0.to_string())
}

/// The events still to deliver after `cursor` (the last acknowledged, for this Service's uid),
/// or, without one, those from `since` (the subscription's creation) on. When the cursor's
/// event has left the bounded history, those at or after its time are delivered again: at
/// least once, never fewer.
pub fn pending<'a>(
    events: &'a [CloudEvent],
    uid: &str,
    cursor: Option<&Cursor>,
    since: Option<&Time>,
) -> &'a [CloudEvent] {
    let from = |t: &str| events.iter().position(|e| e.time.as_str() >= t);
    let start = match cursor.filter(|c| c.uid == uid) {
        Some(c) => match events.iter().position(|e| e.id == c.id) {
            Some(i) => Some(i + 1),
            None => from(&time(&c.time)),
        },
        None => match since {
            Some(since) => from(&time(since)),
            None => Some(0),
        },
    };
    &events[start.unwrap_or(events.len()).min(events.len())..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Tier;
    use crate::fixtures;
    use k8s_openapi::jiff::Timestamp;

    fn at(s: &str) -> Time {
        Time(s.parse::<Timestamp>().expect("a timestamp"))
    }

    fn step(phase: Phase, when: &str, reason: &str) -> Transition {
        Transition {
            phase,
            time: at(when),
            reason: reason.into(),
            message: format!("to {phase}"),
            by: vec!["dana".into()],
        }
    }

    fn service(history: Vec<Transition>) -> Service {
        fixtures::service("ledger")
            .in_namespace("payments")
            .uid("uid-1")
            .tier(Tier::High)
            .history(history)
            .build()
    }

    fn published_path() -> Vec<Transition> {
        vec![
            step(Phase::Planning, "2026-01-01T00:00:00Z", reason::CREATED),
            step(
                Phase::Approval,
                "2026-01-01T00:01:00Z",
                reason::AWAITING_APPROVAL,
            ),
            step(
                Phase::Development,
                "2026-01-01T00:02:00Z",
                reason::QUORUM_REACHED,
            ),
            step(Phase::Active, "2026-01-01T00:02:00Z", reason::ACTIVATED),
        ]
    }

    fn types(events: &[CloudEvent]) -> Vec<EventType> {
        events.iter().map(|e| e.event_type).collect()
    }

    #[test]
    fn creatio_steps_give_awaiting_approval_approved_published() {
        let events = events_of(&service(published_path()));
        assert_eq!(
            types(&events),
            [
                EventType::AwaitingApproval,
                EventType::Approved,
                EventType::Published
            ]
        );
        let published = &events[2];
        assert_eq!(published.subject, "payments/ledger");
        assert_eq!(published.time, "2026-01-01T00:02:00Z");
        assert_eq!(
            published.source,
            "/apis/catalog.charter.dev/v1alpha1/namespaces/payments/services/ledger"
        );
    }

    #[test]
    fn the_same_transition_always_gives_the_same_id_and_payload() {
        let once = events_of(&service(published_path()));
        let again = events_of(&service(published_path()));
        assert_eq!(once, again);
        // Trimming the history's head changes neither the ids nor the payloads of what is left.
        let trimmed = events_of(&service(published_path()[2..].to_vec()));
        assert_eq!(trimmed, once[1..]);
        // Distinct transitions, distinct ids; another Service (uid), other ids.
        let mut ids: Vec<_> = once.iter().map(|e| &e.id).collect();
        ids.dedup();
        assert_eq!(ids.len(), 3);
        let mut other = service(published_path());
        other.metadata.uid = Some("uid-2".into());
        assert_ne!(events_of(&other)[2].id, once[2].id);
    }

    #[test]
    fn leaving_active_is_a_withdrawal_and_a_rejection_a_refusal() {
        let mut history = published_path();
        history.push(step(
            Phase::Planning,
            "2026-01-02T00:00:00Z",
            reason::REVOKED,
        ));
        history.push(step(
            Phase::Approval,
            "2026-01-03T00:00:00Z",
            reason::AWAITING_APPROVAL,
        ));
        history.push(step(
            Phase::Planning,
            "2026-01-04T00:00:00Z",
            reason::REJECTED,
        ));
        history.push(step(
            Phase::Retired,
            "2026-01-05T00:00:00Z",
            reason::RETIRED,
        ));
        let events = events_of(&service(history));
        assert_eq!(
            types(&events[3..]),
            [
                EventType::Withdrawn,
                EventType::AwaitingApproval,
                EventType::Refused,
                EventType::Retired
            ]
        );
    }

    #[test]
    fn a_review_falling_due_is_told_once_in_time_order() {
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
        let mut history = published_path();
        history.push(step(
            Phase::Retired,
            "2026-06-01T00:00:00Z",
            reason::RETIRED,
        ));
        let mut s = service(history);
        let due = |message: &str| Condition {
            type_: "ReviewDue".into(),
            status: "True".into(),
            reason: reason::REVIEW_DUE.into(),
            message: message.into(),
            observed_generation: Some(1),
            last_transition_time: at("2026-04-01T00:00:00Z"),
        };
        s.status.as_mut().expect("status").conditions = vec![due("overdue by 1 day")];
        let events = events_of(&s);
        assert_eq!(
            types(&events[2..]),
            [
                EventType::Published,
                EventType::ReviewDue,
                EventType::Retired
            ]
        );
        // The condition's message changes as days pass; the event does not.
        s.status.as_mut().expect("status").conditions = vec![due("overdue by 9 days")];
        assert_eq!(events_of(&s), events);
        // Not due: no event.
        s.status.as_mut().expect("status").conditions[0].status = "False".into();
        assert!(!types(&events_of(&s)).contains(&EventType::ReviewDue));
    }

    #[test]
    fn no_history_no_event() {
        assert!(
            events_of(&service(vec![step(
                Phase::Planning,
                "2026-01-01T00:00:00Z",
                reason::CREATED
            )]))
            .is_empty()
        );
        let mut bare = service(Vec::new());
        bare.status = None;
        assert!(events_of(&bare).is_empty());
    }

    #[test]
    fn structured_mode_has_the_spec_attributes() {
        let event = &events_of(&service(published_path()))[2];
        let json = serde_json::to_value(event).expect("serialises");
        assert_eq!(json["specversion"], "1.0");
        assert_eq!(json["type"], "dev.charter.service.published");
        assert_eq!(json["datacontenttype"], "application/json");
        assert_eq!(json["data"]["phase"], "Active");
        assert_eq!(json["data"]["namespace"], "payments");
        assert!(json.get("event_type").is_none());
        assert_eq!(json.as_object().map(|o| o.len()), Some(8));
    }

    #[test]
    fn delivery_resumes_after_the_cursor_or_from_the_subscription() {
        let events = events_of(&service(published_path()));
        let cursor = |id: &str, when: &str, uid: &str| Cursor {
            service: "payments/ledger".into(),
            uid: uid.into(),
            id: id.into(),
            time: at(when),
        };
        let after_first = cursor(&events[0].id, &events[0].time, "uid-1");
        assert_eq!(
            pending(&events, "uid-1", Some(&after_first), None),
            &events[1..]
        );
        let all_done = cursor(&events[2].id, &events[2].time, "uid-1");
        assert!(pending(&events, "uid-1", Some(&all_done), None).is_empty());
        // The cursor's event trimmed away: redeliver from its time, never skip.
        let trimmed = cursor("gone", "2026-01-01T00:02:00Z", "uid-1");
        assert_eq!(
            pending(&events, "uid-1", Some(&trimmed), None),
            &events[1..]
        );
        // A cursor of an earlier Service of the same name counts for nothing.
        let stale = cursor(&events[2].id, &events[2].time, "uid-0");
        assert_eq!(pending(&events, "uid-1", Some(&stale), None), &events[..]);
        // A new subscription hears what happens from its creation on.
        let since = at("2026-01-01T00:01:30Z");
        assert_eq!(pending(&events, "uid-1", None, Some(&since)), &events[1..]);
        let later = at("2026-02-01T00:00:00Z");
        assert!(pending(&events, "uid-1", None, Some(&later)).is_empty());
    }
}
