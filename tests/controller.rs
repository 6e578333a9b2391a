//! The operator against the embedded API server, driven as a user would: apply a Service,
//! approve it, and watch it reach the catalog.

use charter::api::Phase;
use kube::api::DeleteParams;
use testkit::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_complete_service_becomes_active_and_reaches_the_catalog() {
    let fx = Fixture::start(false).await;
    let ava = fx.client("ava").await;
    fx.create(service("ledger")).await;
    let revision = fx.revision_in_approval("ledger").await;
    assert!(
        fx.published("ledger").await.is_none(),
        "nothing unapproved is published"
    );

    let approval = approve(&ava, "ledger", &revision, "ava").await;
    fx.wait_for_phase("ledger", Phase::Active).await;
    let value = eventually("the catalog to publish the Service", || {
        fx.published("ledger")
    })
    .await;
    assert_eq!(value["provenance"]["revision"], revision.as_str());
    assert_eq!(
        value["provenance"]["approvedBy"],
        serde_json::json!(["ava"])
    );
    assert_eq!(value["content"]["owner"], "dana");
    assert!(fx.wait_for_verdict(&approval, "Counted").await);

    // Deleting the catalog by hand is repaired.
    fx.configmaps()
        .delete(CATALOG_NAME, &DeleteParams::default())
        .await
        .expect("the catalog is deleted");
    eventually("the catalog to be repaired", || fx.published("ledger")).await;

    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dependant_becomes_active_when_its_dependency_does_and_deletion_leaves_the_catalog() {
    let fx = Fixture::start(false).await;
    let ava = fx.client("ava").await;

    fx.create(service("payments").depends_on("ledger")).await;
    let revision = fx.revision_in_approval("payments").await;
    approve(&ava, "payments", &revision, "ava").await;
    fx.wait_for_phase("payments", Phase::Development).await;

    fx.create(service("ledger")).await;
    let revision = fx.revision_in_approval("ledger").await;
    approve(&ava, "ledger", &revision, "ava").await;
    fx.wait_for_phase("ledger", Phase::Active).await;
    // Nothing about payments changed: only the dependency's move can wake it.
    fx.wait_for_phase("payments", Phase::Active).await;
    eventually("both Services in the catalog", || async {
        let data = fx.catalog().await?;
        (data.contains_key("default_ledger.json") && data.contains_key("default_payments.json"))
            .then_some(())
    })
    .await;

    let events = fx.events("ledger").await;
    // One Event for the move to Active, naming every step walked.
    let activation: Vec<&(String, String)> =
        events.iter().filter(|(r, _)| r == "Activated").collect();
    assert_eq!(
        activation.len(),
        1,
        "the transition is one Event: {events:?}"
    );
    assert!(
        activation[0]
            .1
            .starts_with("Approval → Development → Active. ")
            && activation[0].1.contains("QuorumReached: revision")
            && activation[0]
                .1
                .contains("Published: the catalog serves revision"),
        "the Event names every step: {events:?}"
    );

    fx.services()
        .delete("payments", &DeleteParams::default())
        .await
        .unwrap();
    eventually("the deleted Service to leave the catalog", || async {
        let data = fx.catalog().await?;
        (!data.contains_key("default_payments.json") && data.contains_key("default_ledger.json"))
            .then_some(())
    })
    .await;

    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_dependency_tells_its_dependants_at_once() {
    let fx = Fixture::start(false).await;
    let ava = fx.client("ava").await;
    fx.create(service("ledger")).await;
    let revision = fx.revision_in_approval("ledger").await;
    approve(&ava, "ledger", &revision, "ava").await;
    fx.create(service("payments").depends_on("ledger")).await;
    let revision = fx.revision_in_approval("payments").await;
    approve(&ava, "payments", &revision, "ava").await;
    let status = fx.wait_for_phase("payments", Phase::Active).await;
    assert_eq!(
        condition(&status, "DependenciesReady").map(|c| c.0),
        Some("True".into())
    );
    fx.settled().await;

    fx.services()
        .delete("ledger", &DeleteParams::default())
        .await
        .expect("the dependency is deleted");
    // Nothing about payments changed: only the deletion of its dependency can wake it.
    let status = eventually("payments to learn its dependency is gone", || async {
        let status = fx.status_of("payments").await?;
        (condition(&status, "DependenciesReady").map(|c| c.0) == Some("False".into()))
            .then_some(status)
    })
    .await;
    assert_eq!(
        status.phase,
        Some(Phase::Active),
        "a dependant stays published"
    );
    eventually("the catalog to drop ledger and keep payments", || async {
        let data = fx.catalog().await?;
        (!data.contains_key("default_ledger.json") && data.contains_key("default_payments.json"))
            .then_some(())
    })
    .await;

    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_activations_costs_a_handful_of_catalog_writes() {
    use futures::StreamExt;
    use kube::runtime::{WatchStreamExt, watcher};
    use std::sync::{Arc, Mutex};

    const N: usize = 12;
    let fx = Fixture::start(false).await;
    let ava = fx.client("ava").await;
    let mut pending = Vec::new();
    for i in 0..N {
        fx.create(service(&format!("svc-{i:02}"))).await;
    }
    for i in 0..N {
        let name = format!("svc-{i:02}");
        let revision = fx.revision_in_approval(&name).await;
        pending.push((name, revision));
    }

    // Every version of the catalog ConfigMap a watcher sees from now on is one write.
    let versions = Arc::new(Mutex::new(std::collections::BTreeSet::new()));
    let seen = versions.clone();
    let watch = tokio::spawn(
        watcher(fx.configmaps(), watcher::Config::default())
            .applied_objects()
            .for_each(move |cm| {
                if let Ok(cm) = cm
                    && cm.metadata.name.as_deref() == Some(CATALOG_NAME)
                {
                    seen.lock()
                        .unwrap()
                        .insert(cm.metadata.resource_version.unwrap_or_default());
                }
                std::future::ready(())
            }),
    );
    eventually("the watcher to see the catalog", || {
        std::future::ready((!versions.lock().unwrap().is_empty()).then_some(()))
    })
    .await;
    let before = versions.lock().unwrap().len();

    for (name, revision) in &pending {
        approve(&ava, name, revision, "ava").await;
    }
    eventually("every Service in the catalog", || async {
        let data = fx.catalog().await?;
        (data
            .keys()
            .filter(|k| *k != charter::catalog::INDEX_KEY && *k != charter::catalog::SERVICES_KEY)
            .count()
            == N)
            .then_some(())
    })
    .await;
    let writes = versions.lock().unwrap().len() - before;
    watch.abort();
    assert!(
        writes <= N / 2,
        "{N} activations cost {writes} catalog writes"
    );

    fx.shutdown().await;
}
