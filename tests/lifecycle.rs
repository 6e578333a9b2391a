//! The lifecycle rules of DESIGN.md, one table-driven test per rule: each table puts the gate
//! that must not open beside the one that must.

use charter::api::{DesiredPhase, DesiredPhase::*, Phase};
use charter::lifecycle::{Policy, allowed, parse_interval};
use k8s_openapi::jiff::SignedDuration;
use testkit::world::*;

#[test]
fn a_fresh_service_enters_planning() {
    let w = world(draft("ledger")).stepped();
    assert_eq!(w.phase(), Phase::Planning);
    assert_eq!(w.status().history.len(), 1);
    assert_eq!(w.status().history[0].phase, Phase::Planning);
    assert_eq!(w.ready_reason(), "Planning");
    assert_eq!(w.condition("Ready").status, "True");
}

#[test]
fn planning_moves_to_approval_when_the_owner_asks_and_the_content_is_complete() {
    // (what, service, expected phase, Ready reason)
    let cases: Vec<(&str, ServiceBuilder, Phase, &str)> = vec![
        (
            "not asked",
            draft("ledger").complete(),
            Phase::Planning,
            "Planning",
        ),
        (
            "asked, incomplete",
            draft("ledger").desired(Development),
            Phase::Planning,
            "Incomplete",
        ),
        (
            "asked, no owner",
            draft("ledger").owner("").complete().desired(Active),
            Phase::Planning,
            "Incomplete",
        ),
        (
            "asked for Development",
            draft("ledger").complete().desired(Development),
            Phase::Approval,
            "AwaitingApproval",
        ),
        (
            "asked for Active",
            draft("ledger").complete().desired(Active),
            Phase::Approval,
            "AwaitingApproval",
        ),
    ];
    for (what, s, phase, reason) in cases {
        let w = world(s).stepped();
        assert_eq!(w.phase(), phase, "{what}");
        assert_eq!(w.ready_reason(), reason, "{what}");
    }
    let w = world(draft("ledger").desired(Active).description("x")).stepped();
    assert!(
        w.condition("Ready").message.contains("serviceLevel"),
        "the message names what is missing"
    );
}

#[test]
fn approval_moves_to_development_on_a_quorum_of_valid_approvals_for_the_current_revision() {
    let s = || draft("ledger").complete().desired(Development).quorum(2);
    let rev = s().revision();
    // (what, approvals, expected phase)
    let cases: Vec<(&str, Vec<ApprovalBuilder>, Phase)> = vec![
        (
            "one of two",
            vec![approval("a1").by("erin").approves(&rev)],
            Phase::Approval,
        ),
        (
            "the same approver twice",
            vec![
                approval("a1").by("erin").approves(&rev),
                approval("a2").by("erin").approves(&rev).created(hours(1)),
            ],
            Phase::Approval,
        ),
        (
            "one for a stale revision",
            vec![
                approval("a1").by("erin").approves(&rev),
                approval("a2").by("frank").approves("0000000000"),
            ],
            Phase::Approval,
        ),
        (
            "two distinct approvers",
            vec![
                approval("a1").by("erin").approves(&rev),
                approval("a2").by("frank").approves(&rev),
            ],
            Phase::Development,
        ),
        (
            "a quorum and a valid rejection",
            vec![
                approval("a1").by("erin").approves(&rev),
                approval("a2").by("frank").approves(&rev),
                approval("a3").by("gus").rejects(&rev),
            ],
            Phase::Planning,
        ),
    ];
    for (what, approvals, phase) in cases {
        let mut w = world(s());
        for a in approvals {
            w.add(a);
        }
        w.step();
        assert_eq!(w.phase(), phase, "{what}");
    }
}

#[test]
fn rejection_sends_service_back_to_planning_and_a_new_revision_resubmits_it() {
    let mut w = world(draft("ledger").complete().desired(Development)).stepped();
    assert_eq!(w.phase(), Phase::Approval);
    let rev = w.revision();
    w.add(approval("r1").by("erin").rejects(&rev));
    w.step();
    assert_eq!(w.phase(), Phase::Planning);
    assert_eq!(w.ready_reason(), "Rejected");
    assert!(w.event_reasons().contains(&"Rejected".to_owned()));
    assert!(
        w.events()
            .iter()
            .any(|n| n.reason == "Rejected" && n.warning)
    );
    // Steady: the rejection does not loop Planning → Approval → Planning.
    w.step();
    assert_eq!(w.phase(), Phase::Planning);
    assert!(w.events().is_empty(), "{:?}", w.events());
    // A new revision resubmits.
    w.edit("the general ledger, reworked");
    w.step();
    assert_eq!(w.phase(), Phase::Approval);
    assert_eq!(w.ready_reason(), "AwaitingApproval");
}

/// (what, service, the dependency `ident` if any with its phase, expected phase, Ready reason)
type ActivationCase = (
    &'static str,
    ServiceBuilder,
    Option<Option<Phase>>,
    Phase,
    &'static str,
);

#[test]
fn development_moves_to_active_when_asked_with_categories_and_active_dependencies() {
    let base = || draft("ledger").complete().desired(Active);
    // (what, service, dependency phase, expected phase, Ready reason)
    let cases: Vec<ActivationCase> = vec![
        (
            "no categories",
            base(),
            None,
            Phase::Development,
            "NoCategories",
        ),
        (
            "only Development asked",
            base().categories().desired(Development),
            None,
            Phase::Development,
            "Development",
        ),
        (
            "dependency not found",
            base().categories().depends_on("ident"),
            Some(None),
            Phase::Development,
            "DependenciesNotReady",
        ),
        (
            "dependency in Development",
            base().categories().depends_on("ident"),
            Some(Some(Phase::Development)),
            Phase::Development,
            "DependenciesNotReady",
        ),
        (
            "dependency Active",
            base().categories().depends_on("ident"),
            Some(Some(Phase::Active)),
            Phase::Active,
            "Active",
        ),
        (
            "no dependencies",
            base().categories(),
            None,
            Phase::Active,
            "Active",
        ),
    ];
    for (what, s, dep, phase, reason) in cases {
        let rev = s.revision();
        let mut w = world(s).with(approval("a1").by("erin").approves(&rev));
        if let Some(dep) = dep {
            w.set_dependency("ident", dep);
        }
        w.step();
        assert_eq!(w.phase(), phase, "{what}");
        assert_eq!(w.ready_reason(), reason, "{what}");
    }
    let s = base()
        .categories()
        .depends_on("ident")
        .depends_on("billing");
    let rev = s.revision();
    let w = world(s)
        .with(approval("a1").by("erin").approves(&rev))
        .dependency("billing", Some(Phase::Active))
        .stepped();
    let message = w.condition("DependenciesReady").message;
    assert!(
        message.contains("shop/ident (not found or not reconciled yet)")
            && !message.contains("billing"),
        "{message}"
    );
}

#[test]
fn categories_defined_in_development_activate_without_a_new_approval() {
    let s = draft("ledger").complete().desired(Active);
    let rev = s.revision();
    let mut w = world(s).with(approval("a1").by("erin").approves(&rev));
    w.step();
    assert_eq!(
        w.phase(),
        Phase::Development,
        "no categories: held before Active"
    );
    let ready = w.condition("Ready");
    assert_eq!(ready.reason, "NoCategories");
    assert!(
        ready.message.contains("categories must be defined"),
        "a clear condition: {}",
        ready.message
    );

    w.categorise("finance", &["accounting"]);
    assert_eq!(w.revision(), rev, "categories are not part of the revision");
    w.step();
    assert_eq!(
        w.phase(),
        Phase::Active,
        "the same approval carries it to Active"
    );
    assert_eq!(w.published().as_deref(), Some(rev.as_str()));

    // Changed while Active: still the same revision, still published.
    w.categorise("platform", &[]);
    w.step();
    assert_eq!(w.phase(), Phase::Active);
    assert_eq!(w.status().revision.as_deref(), Some(rev.as_str()));
    assert_eq!(w.published().as_deref(), Some(rev.as_str()));
}

#[test]
fn backward_moves_are_immediate_and_withdraw_the_service_from_the_catalog() {
    for (desired, phase) in [
        (Planning, Phase::Planning),
        (Development, Phase::Development),
    ] {
        let mut w = active_world();
        assert!(w.published().is_some());
        w.desire(desired);
        w.step();
        assert_eq!(w.phase(), phase);
        assert_eq!(w.published(), None);
        assert_eq!(w.condition("Published").status, "False");
        assert!(w.event_reasons().contains(&"Withdrawn".to_owned()));
    }
    // Asking for Active again: the revision is still approved, straight back.
    let mut w = active_world();
    w.desire(Development);
    w.step();
    w.desire(Active);
    w.step();
    assert_eq!(w.phase(), Phase::Active);
}

#[test]
fn retired_is_reachable_from_any_phase() {
    let s = || draft("ledger").complete().categories();
    let rev = s().revision();
    let cases: Vec<(&str, World)> = vec![
        ("Planning", world(s()).stepped()),
        ("Approval", world(s().desired(Active)).stepped()),
        (
            "Development",
            world(s().desired(Development))
                .with(approval("a1").by("erin").approves(&rev))
                .stepped(),
        ),
        ("Active", active_world()),
    ];
    for (from, mut w) in cases {
        assert_eq!(w.phase().as_str(), from);
        w.desire(Retired);
        w.step();
        assert_eq!(w.phase(), Phase::Retired, "from {from}");
        assert_eq!(w.published(), None, "from {from}");
        assert_eq!(w.condition("Ready").status, "True");
    }
}

#[test]
fn reactivation_returns_to_active_directly_when_the_revision_is_still_approved_else_through_approval()
 {
    let mut w = active_world();
    w.desire(Retired);
    w.step();
    w.desire(Active);
    w.step();
    assert_eq!(w.phase(), Phase::Active);
    let last = w.status().history.last().unwrap();
    assert_eq!(last.reason, "Reactivated");

    let mut w = active_world();
    w.desire(Retired);
    w.step();
    w.edit("changed while retired");
    w.desire(Active);
    w.step();
    assert_eq!(w.phase(), Phase::Approval);
    assert_eq!(w.published(), None);
}

#[test]
fn a_content_change_while_active_keeps_serving_the_approved_snapshot_until_approved() {
    let mut w = active_world();
    let old = w.revision();
    w.edit("new wording");
    let new = w.revision();
    w.step();
    assert_eq!(w.phase(), Phase::Active);
    assert_eq!(w.published(), Some(old.clone()));
    assert_eq!(w.status().snapshot.as_ref().unwrap().revision, old);
    assert_eq!(w.status().revision.as_deref(), Some(new.as_str()));
    assert_eq!(w.condition("Approved").status, "False");
    assert_eq!(w.ready_reason(), "AwaitingApproval");
    assert!(w.condition("Ready").message.contains(&old));
    // The new revision reaches quorum: the snapshot switches.
    w.add(approval("a2").by("frank").approves(&new).created(hours(1)));
    w.step();
    assert_eq!(w.published(), Some(new.clone()));
    let snapshot = w.status().snapshot.clone().unwrap();
    assert_eq!(snapshot.content.description.as_deref(), Some("new wording"));
    assert_eq!(snapshot.approved_by, vec!["frank".to_owned()]);
    assert!(w.event_reasons().contains(&"QuorumReached".to_owned()));
    assert!(w.event_reasons().contains(&"Published".to_owned()));
    assert_eq!(w.ready_reason(), "Active");
}

#[test]
fn approvals_are_sticky_when_approval_objects_are_deleted() {
    let mut w = active_world();
    let rev = w.revision();
    w.approvals.clear();
    w.step();
    assert_eq!(w.phase(), Phase::Active);
    assert_eq!(w.published(), Some(rev.clone()));
    assert_eq!(w.status().approved_revision, Some(rev));
    assert_eq!(w.condition("Approved").status, "True");
    assert!(w.events().is_empty(), "{:?}", w.events());
}

#[test]
fn a_rejection_of_the_approved_revision_revokes_it_and_withdraws_an_active_service() {
    // (what, rejection's revision, expected phase, still published)
    let mut w = active_world();
    let rev = w.revision();
    w.add(
        approval("r1")
            .by("frank")
            .rejects("0000000000")
            .created(hours(1)),
    );
    w.step();
    assert_eq!(
        w.phase(),
        Phase::Active,
        "a rejection of another revision does not revoke"
    );
    assert_eq!(w.approval_reason("r1"), "StaleRevision");

    w.add(approval("r2").by("frank").rejects(&rev).created(hours(1)));
    w.step();
    assert_eq!(w.phase(), Phase::Planning);
    assert_eq!(w.published(), None);
    assert_eq!(w.status().snapshot, None);
    assert_eq!(w.status().approved_revision, None);
    for reason in ["Revoked", "Withdrawn"] {
        assert!(
            w.event_reasons().contains(&reason.to_owned()),
            "{reason}: {:?}",
            w.events()
        );
    }
    w.step();
    assert_eq!(w.phase(), Phase::Planning);
    assert!(w.events().is_empty());
}

#[test]
fn approvals_that_do_not_count_say_why() {
    let s = || {
        draft("ledger")
            .complete()
            .desired(Development)
            .approvers(&["erin", "frank", "dana"])
    };
    let rev = s().revision();
    // (approval, reason)
    let cases: Vec<(ApprovalBuilder, &str)> = vec![
        (approval("x").by("erin").approves(&rev), "Counted"),
        (
            approval("x").by("erin").approves("0123456789"),
            "StaleRevision",
        ),
        (approval("x").by("dana").approves(&rev), "SelfApproval"),
        (
            approval("x").by("mallory").approves(&rev),
            "ApproverNotAllowed",
        ),
        (
            approval("x").by("erin").approves(&rev).of("payroll"),
            "UnknownService",
        ),
        (
            approval("x").by("erin").approves(&rev).expires(hours(-1)),
            "Expired",
        ),
        (
            approval("x").by("erin").approves(&rev).expires(hours(1)),
            "Counted",
        ),
    ];
    for (a, reason) in cases {
        let w = world(s()).with(a).stepped();
        assert_eq!(w.approval_reason("x"), reason);
        let counted = w.last.as_ref().unwrap().approvals[0].1.counted;
        assert_eq!(counted, reason == "Counted", "{reason}");
        assert_eq!(
            w.phase() == Phase::Development,
            reason == "Counted",
            "{reason}"
        );
    }
}

#[test]
fn the_latest_decision_of_an_approver_wins() {
    let s = || draft("ledger").complete().desired(Development);
    let rev = s().revision();
    let w = world(s())
        .with(approval("early").by("erin").rejects(&rev).created(hours(0)))
        .with(approval("late").by("erin").approves(&rev).created(hours(1)))
        .stepped();
    assert_eq!(w.approval_reason("early"), "Superseded");
    assert_eq!(w.approval_reason("late"), "Counted");
    assert_eq!(w.phase(), Phase::Development);
}

#[test]
fn an_owners_approval_counts_only_when_the_operator_allows_self_approval() {
    let s = || draft("ledger").complete().desired(Development);
    let rev = s().revision();
    for (allow, phase) in [(false, Phase::Approval), (true, Phase::Development)] {
        let mut w = world(s()).with(approval("a1").by("dana").approves(&rev));
        w.policy = Policy {
            allow_self_approval: allow,
            history_limit: 20,
        };
        w.step();
        assert_eq!(w.phase(), phase, "allow_self_approval={allow}");
    }
}

#[test]
fn an_approval_that_expires_before_its_revision_reaches_quorum_does_not_count() {
    let s = || draft("ledger").complete().desired(Development).quorum(2);
    let rev = s().revision();
    let mut w = world(s()).with(approval("a1").by("erin").approves(&rev).expires(hours(5)));
    w.step();
    assert_eq!(w.requeue_at(), Some(hours(5)), "requeued for the expiry");
    w.now = hours(6);
    w.add(approval("a2").by("frank").approves(&rev).created(hours(6)));
    w.step();
    assert_eq!(w.approval_reason("a1"), "Expired");
    assert_eq!(w.phase(), Phase::Approval);

    // Reaching quorum before the expiry: it keeps counting afterwards.
    let mut w = world(s())
        .with(approval("a1").by("erin").approves(&rev).expires(hours(5)))
        .with(approval("a2").by("frank").approves(&rev));
    w.step();
    assert_eq!(w.phase(), Phase::Development);
    w.now = hours(10);
    w.step();
    assert_eq!(w.approval_reason("a1"), "Counted");
    assert_eq!(w.phase(), Phase::Development);
    assert!(w.events().is_empty());
}

#[test]
fn review_due_turns_true_with_one_event_and_the_reconcile_is_requeued_for_the_due_time() {
    let s = draft("ledger").ready_to_activate().review("36h", None);
    let rev = s.revision();
    let mut w = world(s).with(approval("a1").by("erin").approves(&rev));
    w.step();
    assert_eq!(w.phase(), Phase::Active);
    assert_eq!(w.condition("ReviewDue").status, "False");
    assert_eq!(w.requeue_at(), Some(hours(36)), "due 36h after activation");
    w.now = hours(36);
    w.step();
    assert_eq!(w.condition("ReviewDue").status, "True");
    assert_eq!(w.event_reasons(), vec!["ReviewDue".to_owned()]);
    w.now = hours(40);
    w.step();
    assert!(w.events().is_empty(), "the event is emitted once");
    assert_eq!(w.requeue_at(), None);
    // A recorded review moves the due date.
    w.service.spec.lifecycle.last_reviewed = Some("2026-01-02".to_owned());
    w.step();
    assert_eq!(w.condition("ReviewDue").status, "False");
    assert_eq!(w.requeue_at(), Some(hours(24 + 36)));
}

#[test]
fn review_intervals_are_hours_days_or_weeks() {
    let cases = [
        ("36h", Some(36)),
        ("90d", Some(90 * 24)),
        ("12w", Some(12 * 7 * 24)),
        ("0d", None),
        ("d", None),
        ("5y", None),
        ("", None),
        ("1ä", None),
    ];
    for (s, hours) in cases {
        assert_eq!(
            parse_interval(s),
            hours.map(SignedDuration::from_hours),
            "{s}"
        );
    }
    let s = draft("ledger").ready_to_activate().review("soon", None);
    let rev = s.revision();
    let w = world(s)
        .with(approval("a1").by("erin").approves(&rev))
        .stepped();
    assert_eq!(w.condition("ReviewDue").reason, "InvalidReviewInterval");
}

#[test]
fn history_records_every_transition_and_stays_bounded() {
    let mut w = active_world();
    let reasons: Vec<&str> = w
        .status()
        .history
        .iter()
        .map(|t| t.reason.as_str())
        .collect();
    assert_eq!(
        reasons,
        ["Created", "AwaitingApproval", "QuorumReached", "Activated"]
    );
    w.policy.history_limit = 3;
    for i in 0..5 {
        w.desire(if i % 2 == 0 { Development } else { Active });
        w.step();
    }
    assert_eq!(w.status().history.len(), 3);
    assert_eq!(w.status().history.last().unwrap().phase, Phase::Development);
}

#[test]
fn every_transition_is_an_event_and_follows_an_allowed_edge() {
    let w = active_world();
    let reasons = w.event_reasons();
    for r in [
        "Created",
        "AwaitingApproval",
        "QuorumReached",
        "Activated",
        "Published",
    ] {
        assert!(reasons.contains(&r.to_owned()), "{r} in {reasons:?}");
    }
    let phases: Vec<Phase> = w.status().history.iter().map(|t| t.phase).collect();
    assert!(phases.windows(2).all(|p| allowed(p[0], p[1])));
    assert!(!allowed(Phase::Planning, Phase::Active) && !allowed(Phase::Approval, Phase::Active));
}

#[test]
fn conditions_carry_the_observed_generation_and_keep_their_transition_time_at_steady_state() {
    let mut w = active_world();
    let before = w.status().conditions.clone();
    w.now = hours(3);
    w.service.metadata.generation = Some(7);
    w.step();
    for (old, new) in before.iter().zip(&w.status().conditions) {
        assert_eq!(old.type_, new.type_);
        assert_eq!(
            old.last_transition_time, new.last_transition_time,
            "{}",
            new.type_
        );
        assert_eq!(new.observed_generation, Some(7));
    }
    assert_eq!(w.status().observed_generation, Some(7));
    let types: Vec<String> = w
        .status()
        .conditions
        .iter()
        .map(|c| c.type_.clone())
        .collect();
    assert_eq!(
        types,
        [
            "Ready",
            "Approved",
            "Published",
            "DependenciesReady",
            "ReviewDue"
        ]
    );
}

#[test]
fn ready_is_true_exactly_when_the_desired_phase_is_reached() {
    let rev = draft("ledger").complete().categories().revision();
    let cases: Vec<(DesiredPhase, bool)> = vec![
        (Planning, true),
        (Development, true),
        (Active, true),
        (Retired, true),
    ];
    for (desired, ready) in cases {
        let w = world(draft("ledger").complete().categories().desired(desired))
            .with(approval("a1").by("erin").approves(&rev))
            .stepped();
        assert_eq!(w.condition("Ready").status == "True", ready, "{desired:?}");
        assert_eq!(w.phase(), Phase::from(desired));
    }
    let w = world(draft("ledger").complete().desired(Active)).stepped();
    assert_eq!(w.condition("Ready").status, "False");
    assert_eq!(w.ready_reason(), "AwaitingApproval");
    assert_eq!(w.status().approvals.as_ref().unwrap().progress, "0/1");
}

#[test]
fn the_approvals_summary_counts_distinct_valid_approvers() {
    let s = || draft("ledger").complete().desired(Development).quorum(3);
    let rev = s().revision();
    let w = world(s())
        .with(approval("a1").by("erin").approves(&rev))
        .with(approval("a2").by("frank").approves(&rev))
        .with(approval("a3").by("dana").approves(&rev))
        .stepped();
    let summary = w.status().approvals.clone().unwrap();
    assert_eq!(
        (
            summary.required,
            summary.received,
            summary.progress.as_str()
        ),
        (3, 2, "2/3")
    );
    assert_eq!(summary.approved_by, ["erin", "frank"]);
}

#[test]
fn odd_input_never_panics() {
    let mut w = world(draft("").owner("").review("99999w", Some("2026-02-30")))
        .with(approval("").by("").approves(""));
    w.service.metadata.namespace = None;
    w.service.metadata.generation = None;
    w.step();
    w.step();
    assert_eq!(w.phase(), Phase::Planning);
}

#[test]
fn a_revoked_approval_sends_development_back_to_planning_and_retired_services_back_through_approval()
 {
    let s = || draft("ledger").complete().categories().desired(Development);
    let rev = s().revision();
    let mut w = world(s())
        .with(approval("a1").by("erin").approves(&rev))
        .stepped();
    assert_eq!(w.phase(), Phase::Development);
    w.add(approval("r1").by("frank").rejects(&rev).created(hours(1)));
    w.step();
    assert_eq!(w.phase(), Phase::Planning);
    assert_eq!(w.status().history.last().unwrap().reason, "Revoked");

    let mut w = active_world();
    let rev = w.revision();
    w.desire(Retired);
    w.step();
    w.add(approval("r1").by("frank").rejects(&rev).created(hours(1)));
    w.step();
    assert_eq!(w.phase(), Phase::Retired);
    assert_eq!(w.status().approved_revision, None);
    w.desire(Active);
    w.step();
    assert_eq!(
        w.phase(),
        Phase::Retired,
        "the rejected revision cannot be resubmitted"
    );
    assert_eq!(w.ready_reason(), "Rejected");
}

#[test]
fn a_rejected_new_revision_while_active_keeps_the_approved_snapshot_published() {
    let mut w = active_world();
    let old = w.revision();
    w.edit("a change nobody wants");
    let new = w.revision();
    w.add(approval("r1").by("frank").rejects(&new).created(hours(1)));
    w.step();
    assert_eq!(w.phase(), Phase::Active);
    assert_eq!(w.published(), Some(old));
    assert_eq!(w.ready_reason(), "Rejected");
    assert!(
        w.events()
            .iter()
            .any(|n| n.reason == "Rejected" && n.warning)
    );
    w.step();
    assert!(w.events().is_empty());
}

#[test]
fn the_approved_condition_says_the_catalog_keeps_serving_a_revision_only_while_it_is_published() {
    // (what, world after an edit, expected phase, the old revision is named as served)
    let developed = {
        let s = draft("ledger").complete().desired(Development);
        let rev = s.revision();
        world(s)
            .with(approval("a1").by("erin").approves(&rev))
            .stepped()
    };
    let cases = [
        (
            "approved in Development, never published",
            developed,
            Phase::Approval,
            false,
        ),
        ("Active and published", active_world(), Phase::Active, true),
    ];
    for (what, mut w, phase, served) in cases {
        let old = w.revision();
        w.edit("the general ledger, v2");
        w.step();
        let approved = w.condition("Approved");
        assert_eq!(w.phase(), phase, "{what}");
        assert_eq!(approved.reason, "AwaitingApproval", "{what}");
        assert!(
            approved.message.contains(&w.revision()),
            "{what}: {approved:?}"
        );
        assert_eq!(
            approved
                .message
                .contains(&format!("the catalog keeps serving revision {old}")),
            served,
            "{what}: {approved:?}"
        );
        assert_eq!(
            approved.message.contains(&old),
            served,
            "{what}: {approved:?}"
        );
    }
}

#[test]
fn before_anything_is_submitted_approved_says_so_rather_than_awaiting_approval() {
    // (what, service, Approved reason)
    let cases = [
        (
            "incomplete content",
            draft("ledger").desired(Development),
            "NotSubmitted",
        ),
        (
            "Planning asked for",
            draft("ledger").complete(),
            "NotSubmitted",
        ),
        (
            "submitted",
            draft("ledger").complete().desired(Development),
            "AwaitingApproval",
        ),
    ];
    for (what, s, reason) in cases {
        let w = world(s).stepped();
        assert_eq!(w.condition("Approved").reason, reason, "{what}");
        assert_eq!(w.condition("Approved").status, "False", "{what}");
    }
}

#[test]
fn after_a_revocation_the_approvals_column_shows_no_quorum() {
    let mut w = active_world();
    let rev = w.revision();
    assert_eq!(w.status().approvals.as_ref().unwrap().progress, "1/1");
    w.add(approval("r1").by("frank").rejects(&rev).created(hours(1)));
    w.step();
    assert_eq!(w.phase(), Phase::Planning);
    let summary = w.status().approvals.clone().unwrap();
    assert_eq!(summary.progress, "rejected");
    assert_eq!(summary.rejected_by, ["frank"]);
    assert_eq!(w.condition("Approved").reason, "Rejected");
}

#[test]
fn an_approval_of_the_previously_approved_revision_does_not_count_toward_the_current_one() {
    let mut w = active_world();
    let old = w.revision();
    w.edit("the general ledger, v2");
    w.step();
    let status = |w: &World, name: &str| {
        w.last
            .as_ref()
            .unwrap()
            .approvals
            .iter()
            .find(|(n, _)| n == name)
            .unwrap()
            .1
            .clone()
    };
    let a1 = status(&w, "a1");
    assert_eq!((a1.counted, a1.reason.as_str()), (false, "StaleRevision"));
    assert!(
        a1.message.contains(&old) && a1.message.contains(&w.revision()),
        "{a1:?}"
    );
    assert_eq!(w.status().approvals.as_ref().unwrap().progress, "0/1");
    assert_eq!(
        w.published(),
        Some(old.clone()),
        "the approval stays sticky"
    );

    // A rejection of the approved revision still acts: it revokes.
    w.add(approval("r1").by("frank").rejects(&old).created(hours(1)));
    w.step();
    assert_eq!(w.published(), None);
    assert!(w.event_reasons().contains(&"Revoked".to_owned()));
}

#[test]
fn a_dependency_without_a_phase_is_not_claimed_to_be_missing() {
    let w = world(draft("ledger").ready_to_activate().depends_on("ident"))
        .dependency("ident", None)
        .stepped();
    let message = w.condition("DependenciesReady").message;
    assert!(
        message.contains("not found or not reconciled yet"),
        "{message}"
    );
}

#[test]
fn an_approval_naming_a_service_that_does_not_exist_is_unknown_service() {
    let a = approval("typo")
        .in_namespace(NS)
        .of("ledgre")
        .approves("0123456789")
        .build();
    let status = charter::lifecycle::for_unknown_service(&a);
    assert!(!status.counted);
    assert_eq!(status.reason, "UnknownService");
    assert!(
        status.message.contains("\"ledgre\"") && status.message.contains(NS),
        "{status:?}"
    );
}
