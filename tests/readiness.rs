//! `/readyz` tells whether the operator can act: once every status write fails (its identity or
//! RBAC gone) it is not ready, and it is again at the first write that succeeds; 409 Conflicts,
//! the server answering, never make it unready.

use charter::controller::telemetry::FAILED_WRITES_UNREADY;
use charter_apiserver::Matcher;
use testkit::*;

/// Faults for the operator only: the test's users and admin are spared.
fn operator_faults(fx: &Fixture) -> charter_apiserver::Faults {
    let faults = fx.server.faults();
    for user in USERS.iter().copied().chain(["admin"]) {
        faults.spare(user);
    }
    faults
}

fn injected(fx: &Fixture, code: u16) -> u64 {
    fx.server
        .faults()
        .injected()
        .errors
        .get(&code)
        .copied()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_whose_every_status_write_fails_is_not_ready_until_one_succeeds() {
    let fx = Fixture::start(false).await;
    let telemetry = fx.telemetry.clone();
    eventually("the operator to be ready", || {
        std::future::ready(telemetry.ready().then_some(()))
    })
    .await;
    let faults = operator_faults(&fx);
    faults.fail_fraction(Matcher::new(Some("patch"), Some("services")), 403, 1.0);
    for name in ["ledger", "fx-rates"] {
        fx.create(service(name)).await;
    }
    eventually("the operator to say it is not ready", || {
        std::future::ready((!telemetry.ready()).then_some(()))
    })
    .await;
    assert!(injected(&fx, 403) >= u64::from(FAILED_WRITES_UNREADY));

    faults.clear();
    eventually("the operator to be ready again", || {
        std::future::ready(telemetry.ready().then_some(()))
    })
    .await;
    fx.wait_for_phase("ledger", charter::api::Phase::Approval)
        .await;

    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicts_never_make_the_operator_unready() {
    let fx = Fixture::start(false).await;
    let telemetry = fx.telemetry.clone();
    eventually("the operator to be ready", || {
        std::future::ready(telemetry.ready().then_some(()))
    })
    .await;
    let conflicts = 2 * FAILED_WRITES_UNREADY;
    operator_faults(&fx).fail_next(
        Matcher::new(Some("patch"), Some("services")),
        409,
        conflicts,
    );
    fx.create(service("ledger")).await;
    eventually("every conflict to be thrown", || {
        std::future::ready((injected(&fx, 409) >= u64::from(conflicts)).then_some(()))
    })
    .await;
    assert!(telemetry.ready(), "{conflicts} conflicts in a row");
    fx.wait_for_phase("ledger", charter::api::Phase::Approval)
        .await;
    assert!(telemetry.ready());

    fx.shutdown().await;
}
