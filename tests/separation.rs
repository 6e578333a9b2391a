//! Separation of duties in the lifecycle core: who may not approve a revision (its owner, the
//! Service's creator, the revision's author), the stricter bar when a revision changes who
//! approves, approvals bound to one Service object, and what a delegate may record.

use charter::api::{DesiredPhase::*, Phase};
use testkit::world::*;

/// Each identity the API server recorded keeps its holder from approving; others count.
#[test]
fn the_owner_the_creator_and_the_author_of_a_revision_never_approve_it() {
    let s = || {
        draft("ledger")
            .complete()
            .desired(Development)
            .created_by("gus")
            .revised_by("hal")
    };
    let rev = s().revision();
    for (approver, reason, says) in [
        ("dana", "SelfApproval", "owns the service"),
        ("gus", "SelfApproval", "created the service"),
        (
            "hal",
            "SelfApproval",
            "last changed the content of revision",
        ),
        ("erin", "Counted", "counts"),
    ] {
        let w = world(s())
            .with(approval("a1").by(approver).approves(&rev))
            .stepped();
        assert_eq!(w.approval_reason("a1"), reason, "{approver}");
        let message = &w.last.as_ref().unwrap().approvals[0].1.message;
        assert!(message.contains(says), "{approver}: {message}");
        let expected = if reason == "Counted" {
            Phase::Development
        } else {
            Phase::Approval
        };
        assert_eq!(w.phase(), expected, "{approver}");
    }
}

#[test]
fn the_self_approval_flag_lets_the_owner_creator_and_author_count() {
    let s = || {
        draft("ledger")
            .complete()
            .desired(Development)
            .created_by("gus")
            .revised_by("gus")
    };
    let rev = s().revision();
    let mut w = world(s()).with(approval("a1").by("gus").approves(&rev));
    w.policy.allow_self_approval = true;
    w.step();
    assert_eq!(w.approval_reason("a1"), "Counted");
    assert_eq!(w.phase(), Phase::Development);
}

/// gus edits dana's published ledger (a new description) and approves it: he wrote the revision.
#[test]
fn an_editor_who_changes_the_content_cannot_approve_his_own_change() {
    let mut w = active_world();
    w.revise("gus", |c| c.description = Some("gus's text".into()));
    let rev = w.revision();
    w.add(approval("gus-1").by("gus").approves(&rev).created(hours(1)));
    w.now = hours(1);
    w.step();
    assert_eq!(w.approval_reason("gus-1"), "SelfApproval");
    assert_ne!(w.published().as_deref(), Some(rev.as_str()));
    assert!(
        w.published().is_some(),
        "the catalog keeps the approved revision"
    );
}

/// priya lowers identity's bar (2 of lee and sam) by removing the approvers: the new revision
/// still needs lee and sam, while an unchanged bar needs only its own approvals.
#[test]
fn a_revision_that_lowers_the_bar_still_needs_the_approved_bar() {
    let s = draft("ledger")
        .owner("priya")
        .ready_to_activate()
        .approvers(&["lee", "sam"])
        .quorum(2);
    let rev = s.revision();
    let mut w = world(s)
        .with(approval("lee-1").by("lee").approves(&rev))
        .with(approval("sam-1").by("sam").approves(&rev))
        .stepped();
    assert_eq!(w.phase(), Phase::Active);

    w.revise("priya", |c| {
        c.approvers.clear();
        c.required_approvals = None;
    });
    let lowered = w.revision();
    w.add(
        approval("gus-1")
            .by("gus")
            .approves(&lowered)
            .created(hours(1)),
    );
    w.now = hours(1);
    w.step();
    assert_eq!(
        w.approval_reason("gus-1"),
        "Counted",
        "the new bar admits gus"
    );
    assert_eq!(w.status().approvals.as_ref().unwrap().progress, "1/1,0/2");
    let approved = w.condition("Approved");
    assert!(
        approved.message.contains("2 more approvals from lee, sam"),
        "{}",
        approved.message
    );
    assert_ne!(w.published().as_deref(), Some(lowered.as_str()));

    w.add(
        approval("lee-2")
            .by("lee")
            .approves(&lowered)
            .created(hours(2)),
    );
    w.add(
        approval("sam-2")
            .by("sam")
            .approves(&lowered)
            .created(hours(2)),
    );
    w.now = hours(2);
    w.step();
    assert_eq!(w.published().as_deref(), Some(lowered.as_str()));
}

/// Replacing the approvers (erin → frank) needs one of each: the old list agrees to the change.
#[test]
fn replacing_the_approvers_needs_the_old_and_the_new_ones() {
    let s = draft("ledger").ready_to_activate().approvers(&["erin"]);
    let rev = s.revision();
    let mut w = world(s)
        .with(approval("erin-1").by("erin").approves(&rev))
        .stepped();
    assert_eq!(w.phase(), Phase::Active);
    w.revise("dana", |c| c.approvers = vec!["frank".into()]);
    let next = w.revision();
    w.add(
        approval("frank-1")
            .by("frank")
            .approves(&next)
            .created(hours(1)),
    );
    w.now = hours(1);
    w.step();
    assert_eq!(w.approval_reason("frank-1"), "Counted");
    assert_ne!(w.published().as_deref(), Some(next.as_str()));
    w.add(
        approval("erin-2")
            .by("erin")
            .approves(&next)
            .created(hours(2)),
    );
    w.now = hours(2);
    w.step();
    assert_eq!(w.published().as_deref(), Some(next.as_str()));
    // The new bar is the approved one now: frank alone approves what follows.
    w.revise("dana", |c| c.description = Some("v3".into()));
    let third = w.revision();
    w.add(
        approval("frank-2")
            .by("frank")
            .approves(&third)
            .created(hours(3)),
    );
    w.now = hours(3);
    w.step();
    assert_eq!(w.published().as_deref(), Some(third.as_str()));
}

/// A revocation withdraws the service but keeps the bar: lowering it afterwards does not help.
#[test]
fn after_a_revocation_the_approved_bar_still_holds() {
    let s = draft("ledger").ready_to_activate().approvers(&["erin"]);
    let rev = s.revision();
    let mut w = world(s)
        .with(approval("erin-1").by("erin").approves(&rev))
        .stepped();
    w.add(
        approval("erin-2")
            .by("erin")
            .rejects(&rev)
            .created(hours(1)),
    );
    w.now = hours(1);
    w.step();
    assert_eq!(w.phase(), Phase::Planning);
    w.revise("dana", |c| c.approvers = vec!["gus".into()]);
    let next = w.revision();
    w.add(
        approval("gus-1")
            .by("gus")
            .approves(&next)
            .created(hours(2)),
    );
    w.now = hours(2);
    w.step();
    assert_eq!(
        w.phase(),
        Phase::Approval,
        "gus alone clears only his own bar"
    );
    assert!(w.published().is_none());
}

/// A Service deleted and created again with the same content is another object.
#[test]
fn approvals_do_not_pass_to_a_service_created_again() {
    let s = || {
        draft("ledger")
            .ready_to_activate()
            .object("uid-2", hours(5))
    };
    let rev = s().revision();
    for (approval_, why) in [
        (
            approval("old").by("erin").approves(&rev).created(hours(1)),
            "created before the Service",
        ),
        (
            approval("old")
                .by("erin")
                .approves(&rev)
                .created(hours(5))
                .judged_for("uid-1"),
            "judged for the earlier object",
        ),
    ] {
        let w = world(s()).with(approval_).at(hours(6)).stepped();
        assert_eq!(w.approval_reason("old"), "ServiceRecreated", "{why}");
        assert_eq!(w.phase(), Phase::Approval, "{why}");
    }
    let w = world(s())
        .with(approval("new").by("erin").approves(&rev).created(hours(5)))
        .at(hours(6))
        .stepped();
    assert_eq!(w.approval_reason("new"), "Counted");
    assert_eq!(w.phase(), Phase::Active);
    let bound = &w.last.as_ref().unwrap().approvals[0].1;
    assert_eq!(
        bound.service_uid.as_deref(),
        Some("uid-2"),
        "bound to the object"
    );
}

/// A delegate (a GitOps pipeline) records decisions only for approvers the Service lists.
#[test]
fn a_delegate_records_decisions_only_for_listed_approvers() {
    let s = || draft("ledger").complete().desired(Development);
    let rev = s().revision();
    let w = world(s())
        .with(
            approval("a1")
                .by("invented")
                .approves(&rev)
                .recorded_by("argocd"),
        )
        .stepped();
    assert_eq!(w.approval_reason("a1"), "DelegateNotAllowed");
    assert_eq!(w.phase(), Phase::Approval);

    let w = world(s().approvers(&["erin"]))
        .with(
            approval("a1")
                .by("erin")
                .approves(&s().approvers(&["erin"]).revision())
                .recorded_by("argocd"),
        )
        .stepped();
    assert_eq!(w.approval_reason("a1"), "Counted");

    let w = world(s())
        .with(approval("a1").by("erin").approves(&rev).recorded_by("erin"))
        .stepped();
    assert_eq!(w.approval_reason("a1"), "Counted", "in one's own name");
}

#[test]
fn an_approval_created_already_expired_supersedes_nothing() {
    let s = || draft("ledger").complete().desired(Development);
    let rev = s().revision();
    let w = world(s())
        .with(
            approval("valid")
                .by("erin")
                .approves(&rev)
                .created(hours(0)),
        )
        .with(
            approval("stillborn")
                .by("erin")
                .approves(&rev)
                .created(hours(2))
                .expires(hours(1)),
        )
        .at(hours(3))
        .stepped();
    assert_eq!(w.approval_reason("stillborn"), "Expired");
    assert_eq!(w.approval_reason("valid"), "Counted");
    assert_eq!(w.phase(), Phase::Development);
}

/// The history says who acted: who created, who asked for a phase, who approved or rejected.
#[test]
fn the_history_names_who_acted() {
    let s = draft("ledger")
        .ready_to_activate()
        .created_by("dana")
        .recorded(charter::api::identity::PHASE_REQUESTED_BY, "dana");
    let rev = s.revision();
    let mut w = world(s)
        .with(approval("a1").by("erin").approves(&rev))
        .stepped();
    let by: Vec<(String, Vec<String>)> = w
        .status()
        .history
        .iter()
        .map(|t| (t.reason.clone(), t.by.clone()))
        .collect();
    assert_eq!(
        by,
        [
            ("Created".to_owned(), vec!["dana".to_owned()]),
            ("AwaitingApproval".to_owned(), vec!["dana".to_owned()]),
            ("QuorumReached".to_owned(), vec!["erin".to_owned()]),
            ("Activated".to_owned(), vec!["dana".to_owned()]),
        ]
    );
    w.service.metadata.annotations.as_mut().unwrap().insert(
        charter::api::identity::PHASE_REQUESTED_BY.into(),
        "priya".into(),
    );
    w.desire(Retired);
    w.step();
    let last = w.status().history.last().unwrap();
    assert_eq!(
        (last.reason.as_str(), last.by.clone()),
        ("Retired", vec!["priya".to_owned()])
    );
    assert!(last.message.contains("as priya asked"), "{}", last.message);
    assert!(
        w.events()
            .iter()
            .any(|e| e.message.contains("as priya asked")),
        "the Event says who too"
    );
}
