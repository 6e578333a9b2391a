//! `charter approve` / `charter reject` against the embedded API server: a decision is refused
//! only when it would change nothing (the approver's latest decision on the revision is already
//! this one), so an approver revokes a live Service with the tool and may change their mind
//! again; `--force` always records.

use charter::api::{Decision, Phase, ServiceApproval};
use charter::cli::decide::{self, DecideError, Decided, Request};
use kube::{Api, api::ListParams};
use testkit::*;

async fn decide_as(
    fx: &Fixture,
    user: &str,
    decision: Decision,
    force: bool,
    dry_run: bool,
) -> Result<Decided, DecideError> {
    decide::decide(
        &fx.client(user).await,
        Request {
            namespace: NAMESPACE,
            name: "ledger",
            decision,
            comment: None,
            revision: None,
            force,
            dry_run,
            approver: None,
        },
    )
    .await
}

async fn decisions_of(fx: &Fixture, approver: &str) -> Vec<ServiceApproval> {
    Api::<ServiceApproval>::namespaced(fx.admin.clone(), NAMESPACE)
        .list(&ListParams::default())
        .await
        .expect("approvals listed")
        .items
        .into_iter()
        .filter(|a| a.spec.approver == approver)
        .collect()
}

fn name_of(decided: &Decided) -> String {
    decided.approval.metadata.name.clone().unwrap_or_default()
}

fn already(result: Result<Decided, DecideError>) -> String {
    match result {
        Err(e @ DecideError::AlreadyDecided { .. }) => e.to_string(),
        Err(e) => panic!("refused for another reason: {e}"),
        Ok(d) => panic!("recorded {} although nothing changes", name_of(&d)),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approver_revokes_a_live_service_and_re_approves_it_with_the_tool() {
    let fx = Fixture::start(false).await;
    fx.create(service("ledger")).await;
    fx.revision_in_approval("ledger").await;

    let approved = decide_as(&fx, "ava", Decision::Approved, false, false)
        .await
        .expect("the first approval is recorded");
    assert_eq!(approved.supersedes, None);
    fx.wait_for_phase("ledger", Phase::Active).await;
    let refused = already(decide_as(&fx, "ava", Decision::Approved, false, false).await);
    assert!(
        refused.contains("nothing would change") && refused.contains("--force"),
        "{refused}"
    );

    // The revocation the README describes: a rejection of the approved revision.
    let rejected = decide_as(&fx, "ava", Decision::Rejected, false, false)
        .await
        .expect("a revocation is recorded");
    assert_eq!(rejected.supersedes, Some(name_of(&approved)));
    fx.wait_for_phase("ledger", Phase::Planning).await;
    already(decide_as(&fx, "ava", Decision::Rejected, false, false).await);

    // A mind changed back: the earlier approval of the same kind does not stand in the way.
    let again = decide_as(&fx, "ava", Decision::Approved, false, false)
        .await
        .expect("a re-approval is recorded");
    assert_eq!(again.supersedes, Some(name_of(&rejected)));
    fx.wait_for_phase("ledger", Phase::Active).await;
    assert_eq!(decisions_of(&fx, "ava").await.len(), 3);
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn force_records_a_decision_that_changes_nothing_and_a_dry_run_records_nothing() {
    let fx = Fixture::start_without_operator(false).await;
    fx.create(service("ledger")).await;
    decide_as(&fx, "ava", Decision::Approved, false, false)
        .await
        .expect("recorded");

    let dry = decide_as(&fx, "ava", Decision::Approved, false, true).await;
    let refused = already(dry);
    assert!(refused.contains("--force to print it anyway"), "{refused}");
    let printed = decide_as(&fx, "ava", Decision::Approved, true, true)
        .await
        .expect("a forced dry run prints the manifest");
    assert!(
        printed
            .warnings
            .iter()
            .any(|w| w.contains("nothing changes")),
        "{:?}",
        printed.warnings
    );
    assert_eq!(
        decisions_of(&fx, "ava").await.len(),
        1,
        "a dry run records nothing"
    );

    let forced = decide_as(&fx, "ava", Decision::Approved, true, false)
        .await
        .expect("--force records");
    assert!(
        forced.approval.metadata.uid.is_some(),
        "created on the server"
    );
    assert_eq!(decisions_of(&fx, "ava").await.len(), 2);

    // A decision that will not count (the owner's) is refused with the same words a dry run
    // can keep.
    match decide_as(&fx, "dana", Decision::Approved, false, true).await {
        Err(e @ DecideError::WillNotCount { .. }) => {
            let text = e.to_string();
            assert!(
                text.contains("owns the Service") && text.contains("print it anyway"),
                "{text}"
            );
        }
        other => panic!("the owner's dry run is refused: {:?}", other.err()),
    }
    fx.shutdown().await;
}
