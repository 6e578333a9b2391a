//! Properties of the lifecycle, in the words of DESIGN.md, over random histories of edits,
//! decisions, deletions, desired phases, dependency phases and the passing of time.

use std::collections::BTreeMap;

use charter::api::{Decision, DesiredPhase, Phase, ServiceApproval, ServiceStatus, revision_of};
use charter::lifecycle::{Input, Outcome, allowed, evaluate};
use k8s_openapi::jiff::SignedDuration;
use proptest::prelude::*;
use testkit::world::*;

const PEOPLE: [&str; 4] = ["dana", "erin", "frank", "gus"];
const WORDING: [&str; 3] = [
    "the general ledger",
    "the general ledger, v2",
    "the general ledger, v3",
];

const CATEGORIES: [&str; 2] = ["finance", "platform"];

#[derive(Clone, Debug)]
enum Action {
    Desire(DesiredPhase),
    Edit(usize),
    Decide {
        person: usize,
        rejects: bool,
        wording: Option<usize>,
        expires_in: Option<i64>,
    },
    Delete(usize),
    Wait(i64),
    Dependency(Option<Phase>),
    /// The owner defines categories (`Some`), or removes them all.
    Categorise(Option<usize>),
}

fn desired() -> impl Strategy<Value = DesiredPhase> {
    prop_oneof![
        Just(DesiredPhase::Planning),
        Just(DesiredPhase::Development),
        Just(DesiredPhase::Active),
        Just(DesiredPhase::Retired),
    ]
}

fn phase() -> impl Strategy<Value = Option<Phase>> {
    prop_oneof![
        Just(None),
        Just(Some(Phase::Active)),
        Just(Some(Phase::Development)),
        Just(Some(Phase::Retired))
    ]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        2 => desired().prop_map(Action::Desire),
        1 => (0..WORDING.len()).prop_map(Action::Edit),
        5 => (0..PEOPLE.len(), prop::bool::weighted(0.2), prop::option::weighted(0.9, 0..WORDING.len()), prop::option::of(-2i64..30))
            .prop_map(|(person, rejects, wording, expires_in)| Action::Decide { person, rejects, wording, expires_in }),
        1 => (0usize..8).prop_map(Action::Delete),
        1 => (0i64..48).prop_map(Action::Wait),
        1 => phase().prop_map(Action::Dependency),
        1 => prop::option::of(0..CATEGORIES.len()).prop_map(Action::Categorise),
    ]
}

/// The world a history starts from.
#[derive(Clone, Debug)]
struct Start {
    quorum: u32,
    restricted: bool,
    depends: bool,
    review: bool,
}

fn start() -> impl Strategy<Value = Start> {
    (1u32..=2, any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(quorum, restricted, depends, review)| Start {
            quorum,
            restricted,
            depends,
            review,
        },
    )
}

fn new_world(s: &Start) -> World {
    let mut b = draft("ledger")
        .ready_to_activate()
        .description(WORDING[0])
        .quorum(s.quorum);
    if s.restricted {
        b = b.approvers(&["dana", "erin", "frank"]);
    }
    if s.depends {
        b = b.depends_on("ident");
    }
    if s.review {
        b = b.review("30h", None);
    }
    let mut w = world(b);
    w.policy.history_limit = 1000;
    w
}

fn revision_with(w: &World, wording: usize) -> String {
    let mut content = w.service.spec.content.clone();
    content.description = Some(WORDING[wording].to_owned());
    revision_of(&content)
}

fn apply(w: &mut World, action: &Action, seq: &mut i64) {
    match action {
        Action::Desire(d) => w.desire(*d),
        Action::Edit(i) => w.edit(WORDING[*i]),
        Action::Decide {
            person,
            rejects,
            wording,
            expires_in,
        } => {
            *seq += 1;
            let revision = match wording {
                Some(i) => revision_with(w, *i),
                None => "0123456789".to_owned(),
            };
            let created = w.now.checked_add(SignedDuration::from_secs(*seq)).unwrap();
            let mut a = approval(&format!("a{seq}"))
                .by(PEOPLE[*person])
                .created(created);
            a = if *rejects {
                a.rejects(&revision)
            } else {
                a.approves(&revision)
            };
            if let Some(h) = expires_in {
                a = a.expires(w.now.checked_add(SignedDuration::from_hours(*h)).unwrap());
            }
            w.add(a);
        }
        Action::Delete(i) => {
            if !w.approvals.is_empty() {
                let i = i % w.approvals.len();
                w.approvals.remove(i);
            }
        }
        Action::Wait(h) => w.now = w.now.checked_add(SignedDuration::from_hours(*h)).unwrap(),
        Action::Dependency(p) => w.set_dependency("ident", *p),
        Action::Categorise(Some(i)) => w.categorise(CATEGORIES[*i], &["all"]),
        Action::Categorise(None) => w.uncategorise(),
    }
}

fn evaluate_with(w: &World, approvals: &[ServiceApproval]) -> Outcome {
    evaluate(&Input {
        service: &w.service,
        approvals,
        dependencies: &w.dependencies,
        dependency_cycle: &[],
        active_dependants: &[],
        approval_policies: &w.approval_policies,
        now: w.now,
        policy: &w.policy,
        revision: None,
    })
}

/// An independent reading of DESIGN.md: the distinct approvers whose latest eligible decision on
/// `revision` approves it, and those whose latest rejects it, not counting expired decisions.
fn oracle(w: &World, revision: &str) -> (usize, usize) {
    let content = &w.service.spec.content;
    let mut latest: BTreeMap<&str, &ServiceApproval> = BTreeMap::new();
    let mut sorted: Vec<&ServiceApproval> = w.approvals.iter().collect();
    sorted.sort_by_key(|a| {
        (
            a.metadata.creation_timestamp.as_ref().map(|t| t.0),
            a.metadata.name.clone(),
        )
    });
    for a in sorted {
        let s = &a.spec;
        let eligible = s.service_name == "ledger"
            && s.revision == revision
            && s.approver != content.owner
            && (content.approvers.is_empty() || content.approvers.contains(&s.approver))
            // One created already expired never counts, so it supersedes nothing.
            && !matches!(
                (&s.expires_at, &a.metadata.creation_timestamp),
                (Some(expiry), Some(created)) if expiry.0 <= created.0
            );
        if eligible {
            latest.insert(&s.approver, a);
        }
    }
    let live = latest
        .values()
        .filter(|a| a.spec.expires_at.as_ref().is_none_or(|t| t.0 > w.now));
    let (approve, reject): (Vec<&&ServiceApproval>, Vec<_>) =
        live.partition(|a| a.spec.decision == Decision::Approved);
    (approve.len(), reject.len())
}

/// Plays a history step by step, as the controller would, calling `check` with the world (inputs
/// of the step applied), the status before the step and the step's outcome.
fn play(
    start: &Start,
    actions: &[Action],
    mut check: impl FnMut(&World, &ServiceStatus, &Outcome) -> Result<(), TestCaseError>,
) -> Result<(), TestCaseError> {
    let mut w = new_world(start);
    let mut seq = 0;
    w.step();
    for action in actions {
        apply(&mut w, action, &mut seq);
        let before = w.service.status.clone().unwrap_or_default();
        let outcome = w.outcome();
        check(&w, &before, &outcome)?;
        w.step();
    }
    Ok(())
}

fn history() -> impl Strategy<Value = (Start, Vec<Action>)> {
    (start(), prop::collection::vec(action(), 1..30))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// (a) A published snapshot's revision had a valid quorum and no valid rejection in the
    /// inputs that produced it, and its content is exactly the approved revision.
    #[test]
    fn a_snapshot_is_only_ever_taken_of_a_revision_with_a_quorum_and_no_rejection((start, actions) in history()) {
        play(&start, &actions, |w, before, outcome| {
            let status = &outcome.status;
            if let Some(snapshot) = &status.snapshot {
                prop_assert_eq!(revision_of(&snapshot.content), snapshot.revision.clone());
                if before.snapshot.as_ref().map(|s| &s.revision) != Some(&snapshot.revision) {
                    let (approvals, rejections) = oracle(w, &snapshot.revision);
                    prop_assert!(approvals >= w.service.spec.content.quorum() as usize);
                    prop_assert_eq!(rejections, 0);
                }
            }
            if let Some(published) = &status.published_revision {
                prop_assert_eq!(Some(published), status.approved_revision.as_ref());
            }
            Ok(())
        })?;
    }

    /// (b) Phases move only along the allowed edges of the lifecycle.
    #[test]
    fn phases_move_only_along_allowed_edges((start, actions) in history()) {
        play(&start, &actions, |_, before, outcome| {
            let phases: Vec<Phase> = outcome.status.history.iter().map(|t| t.phase).collect();
            prop_assert_eq!(phases.first(), Some(&Phase::Planning));
            for p in phases.windows(2) {
                prop_assert!(allowed(p[0], p[1]), "{:?} → {:?} is not an allowed move", p[0], p[1]);
            }
            prop_assert_eq!(phases.last(), outcome.status.phase.as_ref());
            prop_assert!(phases.len() >= before.history.len());
            Ok(())
        })?;
    }

    /// Categories are the owner's, outside the revision: defining or changing them never makes a
    /// new revision, and a Service only becomes Active with categories defined.
    #[test]
    fn categories_never_change_the_revision_and_activation_needs_them((start, actions) in history()) {
        play(&start, &actions, |w, before, outcome| {
            prop_assert_eq!(outcome.status.revision.clone(), Some(revision_of(&w.service.spec.content)));
            let activated = outcome.status.phase == Some(Phase::Active)
                && before.phase != Some(Phase::Active);
            if activated {
                prop_assert!(!w.service.spec.categories.is_empty(), "Active without categories");
            }
            Ok(())
        })?;
        let mut w = new_world(&start);
        let revision = w.revision();
        w.categorise("platform", &["anything"]);
        prop_assert_eq!(w.revision(), revision.clone());
        w.uncategorise();
        prop_assert_eq!(w.revision(), revision);
    }

    /// (c) Planning, Approval, Development and Retired services are never published.
    #[test]
    fn only_active_services_are_ever_published((start, actions) in history()) {
        play(&start, &actions, |_, _, outcome| {
            let status = &outcome.status;
            if status.phase != Some(Phase::Active) {
                prop_assert_eq!(&status.published_revision, &None);
                let published = status.conditions.iter().find(|c| c.type_ == "Published").map(|c| c.status.as_str());
                prop_assert_eq!(published, Some("False"));
            }
            Ok(())
        })?;
    }

    /// (d) Fed its own output, the lifecycle yields the same status and emits no Events.
    #[test]
    fn fed_its_own_status_it_changes_nothing_and_emits_no_events((start, actions) in history()) {
        play(&start, &actions, |w, _, outcome| {
            let mut again = w.service.clone();
            again.status = Some(outcome.status.clone());
            let second = evaluate(&Input {
                service: &again,
                approvals: &w.approvals,
                dependencies: &w.dependencies,
                dependency_cycle: &[],
                active_dependants: &[],
                approval_policies: &w.approval_policies,
                now: w.now,
                policy: &w.policy,
                revision: None,
            });
            prop_assert_eq!(&second.status, &outcome.status);
            prop_assert!(second.events.is_empty(), "events on re-evaluation: {:?}", second.events);
            prop_assert_eq!(&second.approvals, &outcome.approvals);
            Ok(())
        })?;
    }

    /// (e) The order approvals arrive in never changes the outcome.
    #[test]
    fn approval_order_never_changes_the_outcome((start, actions) in history(), rotate in 0usize..8) {
        play(&start, &actions, |w, _, outcome| {
            let mut shuffled = w.approvals.clone();
            shuffled.reverse();
            if !shuffled.is_empty() {
                let n = rotate % shuffled.len();
                shuffled.rotate_left(n);
            }
            let other = evaluate_with(w, &shuffled);
            prop_assert_eq!(&other.status, &outcome.status);
            let by_name = |o: &Outcome| o.approvals.iter().cloned().collect::<BTreeMap<_, _>>();
            prop_assert_eq!(by_name(&other), by_name(outcome));
            prop_assert_eq!(&other.events, &outcome.events);
            Ok(())
        })?;
    }

    /// (f) What a user sees is true in every reachable state: a condition message names no
    /// revision but the current one, except the one the catalog serves; the APPROVALS column
    /// shows a quorum only for an approved revision; Approved and Published agree with the phase;
    /// an approval counted as an approval counts toward the current revision.
    #[test]
    fn every_message_names_only_the_revision_it_describes_and_columns_agree_with_the_phase((start, actions) in history()) {
        play(&start, &actions, |w, _, outcome| {
            let status = &outcome.status;
            let current = status.revision.clone().unwrap_or_default();
            let current_is_approved = status.approved_revision.as_deref() == Some(current.as_str());
            for condition in &status.conditions {
                for other in (0..WORDING.len()).map(|i| revision_with(w, i)).filter(|r| *r != current) {
                    if !condition.message.contains(&other) {
                        continue;
                    }
                    let served = status.published_revision.as_deref() == Some(other.as_str())
                        && (condition.message.contains(&format!("serving revision {other}"))
                            || condition.message.contains(&format!("serves revision {other}")));
                    prop_assert!(served, "{} names revision {} while the current one is {}: {:?}", condition.type_, other, current, condition.message);
                }
            }
            let condition = |type_: &str| status.conditions.iter().find(|c| c.type_ == type_).cloned().unwrap();
            let approved = condition("Approved");
            prop_assert_eq!(approved.status == "True", current_is_approved);
            let phase = status.phase.unwrap_or_default();
            match phase {
                Phase::Planning | Phase::Retired if !current_is_approved => {
                    prop_assert!(["NotSubmitted", "Rejected"].contains(&approved.reason.as_str()), "{:?} in {}", approved, phase);
                }
                Phase::Approval => prop_assert_eq!(approved.reason.as_str(), "AwaitingApproval"),
                Phase::Development => prop_assert!(current_is_approved),
                _ => {}
            }
            prop_assert_eq!(condition("Published").status == "True", phase == Phase::Active);
            let summary = status.approvals.clone().unwrap_or_default();
            if summary.progress != "rejected" {
                // One `received/required` per bar in force: the revision's own, and the approved
                // revision's when the new one changes who approves or how many.
                let bars: Vec<(u32, u32)> = summary.progress.split(',').map(|bar| {
                    let (received, required) = bar.split_once('/').unwrap();
                    (received.parse().unwrap(), required.parse().unwrap())
                }).collect();
                if let [(received, _)] = bars.as_slice() {
                    prop_assert_eq!(*received, summary.received);
                }
                let met = bars.iter().all(|(received, required)| received >= required);
                prop_assert_eq!(met, current_is_approved, "APPROVALS {} for revision {}", summary.progress, current);
            } else {
                prop_assert_eq!(summary.progress.as_str(), "rejected");
                prop_assert!(!summary.rejected_by.is_empty() && !current_is_approved);
            }
            for (name, verdict) in &outcome.approvals {
                let approval = w.approvals.iter().find(|a| a.metadata.name.as_ref() == Some(name)).unwrap();
                if verdict.counted && approval.spec.decision == Decision::Approved {
                    prop_assert_eq!(&approval.spec.revision, &current);
                }
            }
            Ok(())
        })?;
    }
}

/// The histories above do reach every phase and publish: the properties are not vacuous.
#[test]
fn random_histories_reach_every_phase() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut seen = std::collections::BTreeSet::new();
    let mut snapshots = 0;
    for _ in 0..200 {
        let (start, actions) = history().new_tree(&mut runner).unwrap().current();
        play(&start, &actions, |_, _, outcome| {
            seen.extend(outcome.status.phase);
            snapshots += usize::from(outcome.status.published_revision.is_some());
            Ok(())
        })
        .unwrap();
    }
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert!(snapshots > 0);
}
