//! Deleting a counted approval leaves a trace: an Event on its Service naming the approval and
//! its approver. (The revision stays approved: approvals are sticky.)

use charter::api::Phase;
use kube::api::DeleteParams;
use testkit::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_counted_approval_is_told_on_its_service() {
    let fx = Fixture::start(false).await;
    let ava = fx.client("ava").await;
    fx.create(service("ledger")).await;
    let approved = fx.revision_in_approval("ledger").await;
    let counted = approve(&ava, "ledger", &approved, "ava").await;
    fx.wait_for_phase("ledger", Phase::Active).await;
    assert!(fx.wait_for_verdict(&counted, "Counted").await);
    fx.create(service("fx-rates")).await;
    let revision = fx.revision_in_approval("fx-rates").await;
    // Does not count: only ava may approve fx-rates.
    let ignored = approve(&fx.client("bo").await, "fx-rates", &revision, "bo").await;
    assert!(!fx.wait_for_verdict(&ignored, "ApproverNotAllowed").await);

    for name in [&counted, &ignored] {
        fx.approvals()
            .delete(name, &DeleteParams::default())
            .await
            .expect("the admin deletes the approval");
    }
    let note = eventually("an ApprovalDeleted Event on ledger", || async {
        fx.events("ledger")
            .await
            .into_iter()
            .find(|(reason, _)| reason == "ApprovalDeleted")
            .map(|(_, note)| note)
    })
    .await;
    assert!(
        note.contains(&counted) && note.contains("by ava") && note.contains(&approved),
        "the Event names the approval and its approver: {note}"
    );
    fx.settled().await;
    assert!(
        !fx.event_reasons("fx-rates")
            .await
            .iter()
            .any(|r| r == "ApprovalDeleted"),
        "an approval that did not count is no loss"
    );
    assert_eq!(fx.phase_of("ledger").await, Some(Phase::Active));

    fx.shutdown().await;
}
