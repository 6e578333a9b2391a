//! Recorded reviews in the lifecycle core: a reviewer records a review of an Active Service's
//! published revision (a `Reviewed` ServiceApproval); it resets the review clock, and the
//! status shows who reviewed, when and with what outcome. Overdue reviews stay a condition and
//! an Event; a `lastReviewed` date in the future pushes nothing out.

use charter::api::{DesiredPhase::*, Phase};
use testkit::world::*;

fn reviewed_weekly() -> World {
    let s = draft("ledger").ready_to_activate().review("7d", None);
    let rev = s.revision();
    let mut w = world(s).with(approval("a1").by("erin").approves(&rev));
    w.step();
    w.step();
    assert_eq!(w.phase(), Phase::Active);
    w
}

#[test]
fn a_recorded_review_resets_the_clock_and_says_who_when_and_how() {
    let mut w = reviewed_weekly();
    let rev = w.revision();
    assert_eq!(w.status().review_due_at.as_ref().unwrap().0, hours(7 * 24));
    w.now = hours(100);
    w.add(
        approval("r1")
            .by("frank")
            .reviews(&rev)
            .comment("runbook checked")
            .created(hours(100)),
    );
    let outcome = w.step();
    assert_eq!(w.approval_reason("r1"), "Counted");
    assert_eq!(
        w.approval_reason("a1"),
        "Counted",
        "a review supersedes no approval"
    );
    let last = w
        .status()
        .last_review
        .clone()
        .expect("the review is recorded");
    assert_eq!(
        (
            last.by.as_str(),
            last.at.0,
            last.revision.as_str(),
            last.outcome.as_str()
        ),
        ("frank", hours(100), rev.as_str(), "Confirmed")
    );
    assert_eq!(last.comment.as_deref(), Some("runbook checked"));
    assert_eq!(
        w.status().review_due_at.as_ref().unwrap().0,
        hours(100 + 7 * 24),
        "the clock restarts at the review"
    );
    assert!(
        outcome
            .events
            .iter()
            .any(|e| e.reason == "ReviewRecorded" && e.message.contains("frank reviewed")),
        "{:?}",
        outcome.events
    );
    assert_eq!(w.phase(), Phase::Active);

    // Pruned from git, the review stays recorded.
    w.approvals
        .retain(|a| a.metadata.name.as_deref() != Some("r1"));
    let again = w.step();
    assert_eq!(w.status().last_review, Some(last));
    assert!(again.events.is_empty(), "{:?}", again.events);
}

#[test]
fn only_an_eligible_review_of_the_published_revision_counts() {
    for (who, revision, reason) in [
        ("dana", None, "SelfApproval"),
        ("frank", Some("0123456789"), "NotReviewable"),
        ("frank", None, "Counted"),
    ] {
        let mut w = reviewed_weekly();
        let rev = revision.map_or_else(|| w.revision(), str::to_owned);
        w.add(approval("r1").by(who).reviews(&rev));
        w.step();
        assert_eq!(w.approval_reason("r1"), reason, "{who} {rev}");
        assert_eq!(w.status().last_review.is_some(), reason == "Counted");
    }
    // Not Active: nothing is published, so nothing to review.
    let s = draft("ledger").complete().desired(Development);
    let rev = s.revision();
    let w = world(s)
        .with(approval("a1").by("erin").approves(&rev))
        .with(approval("r1").by("frank").reviews(&rev))
        .stepped();
    assert_eq!(w.approval_reason("r1"), "NotReviewable");
}

#[test]
fn an_overdue_review_is_a_condition_and_one_event() {
    let mut w = reviewed_weekly();
    w.now = hours(7 * 24);
    let outcome = w.step();
    assert_eq!(w.condition("ReviewDue").status, "True");
    assert!(outcome.events.iter().any(|e| e.reason == "ReviewDue"));
    assert!(w.step().events.is_empty(), "told once");
    let rev = w.revision();
    w.now = hours(7 * 24 + 1);
    w.add(approval("r1").by("frank").reviews(&rev).created(w.now));
    w.step();
    assert_eq!(w.condition("ReviewDue").status, "False");
}

#[test]
fn a_last_reviewed_date_in_the_future_pushes_nothing_out() {
    let s = draft("ledger")
        .ready_to_activate()
        .review("7d", Some("2030-01-01"));
    let rev = s.revision();
    let mut w = world(s).with(approval("a1").by("erin").approves(&rev));
    w.step();
    w.step();
    assert_eq!(w.status().review_due_at.as_ref().unwrap().0, hours(7 * 24));
}
