//! One test per lifecycle path of DESIGN.md ("The lifecycle", "The catalog"), each named as
//! a sentence of the spec, asserting only what a user can see: phase, conditions, approval
//! status, Events and the catalog ConfigMap.

use charter::api::{DesiredPhase, Phase};
use kube::api::{DeleteParams, ListParams, Patch, PatchParams};
use testkit::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejection_sends_the_service_back_to_planning_and_a_new_revision_resubmits_it() {
    let fx = Fixture::start(false).await;
    let ava = fx.client("ava").await;
    fx.create(service("ledger")).await;
    let first = fx.revision_in_approval("ledger").await;

    let rejection = reject(&ava, "ledger", &first, "ava").await;
    let status = fx.wait_for_phase("ledger", Phase::Planning).await;
    assert!(fx.wait_for_verdict(&rejection, "Counted").await);
    assert_eq!(status.revision.as_deref(), Some(first.as_str()));
    assert_eq!(
        status.history.last().map(|t| t.reason.as_str()),
        Some("Rejected"),
        "the history says why: {:?}",
        status.history
    );
    assert_eq!(
        condition(&status, "Ready").map(|c| c.0),
        Some("False".into())
    );
    assert!(
        fx.published("ledger").await.is_none(),
        "nothing rejected is published"
    );

    fx.edit("ledger", |spec| {
        spec.content.description = Some("Books every payment, twice a day".into())
    })
    .await;
    let second = fx.revision_in_approval("ledger").await;
    assert_ne!(first, second, "the content change is a new revision");

    approve(&ava, "ledger", &second, "ava").await;
    let status = fx.wait_for_phase_at("ledger", Phase::Active, &second).await;
    assert_eq!(status.published_revision.as_deref(), Some(second.as_str()));
    let entry = eventually("the new revision in the catalog", || async {
        fx.published("ledger")
            .await
            .filter(|e| e["provenance"]["revision"] == second.as_str())
    })
    .await;
    assert_eq!(
        entry["content"]["description"],
        "Books every payment, twice a day"
    );
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quorum_of_two_counts_distinct_approvers_and_ignores_a_stale_approval() {
    let fx = Fixture::start(false).await;
    let ava = fx.client("ava").await;
    let bo = fx.client("bo").await;
    fx.create(service("ledger").approvers(&["ava", "bo", "cy"]).quorum(2))
        .await;
    let stale = fx.revision_in_approval("ledger").await;
    fx.edit("ledger", |spec| {
        spec.content.description = Some("Second draft".into())
    })
    .await;
    let current = eventually("the new revision", || async {
        fx.status_of("ledger")
            .await?
            .revision
            .filter(|r| *r != stale)
    })
    .await;
    fx.wait_for_phase_at("ledger", Phase::Approval, &current)
        .await;

    // bo approves the revision they reviewed, which is no longer current.
    let bo_stale = approve(&bo, "ledger", &stale, "bo").await;
    assert!(!fx.wait_for_verdict(&bo_stale, "StaleRevision").await);
    // ava approves twice: one approver, one vote.
    let ava_1 = approve(&ava, "ledger", &current, "ava").await;
    let ava_2 = approve(&ava, "ledger", &current, "ava").await;
    fx.approval_verdict(&ava_1).await;
    fx.approval_verdict(&ava_2).await;
    let status = eventually("ava's approval in the summary", || async {
        let status = fx.status_of("ledger").await?;
        let summary = status.approvals.clone()?;
        (summary.approved_by == vec!["ava".to_string()]).then_some(status)
    })
    .await;
    let summary = status.approvals.clone().unwrap();
    assert_eq!((summary.received, summary.required), (1, 2));
    assert_eq!(summary.progress, "1/2");
    assert_eq!(
        status.phase,
        Some(Phase::Approval),
        "one approver is not a quorum of two"
    );
    assert!(fx.published("ledger").await.is_none());

    approve(&bo, "ledger", &current, "bo").await;
    let status = fx
        .wait_for_phase_at("ledger", Phase::Active, &current)
        .await;
    let summary = status.approvals.unwrap();
    assert_eq!(
        summary.approved_by,
        vec!["ava".to_string(), "bo".to_string()]
    );
    assert_eq!(summary.received, 2);
    let entry = eventually("the catalog entry", || fx.published("ledger")).await;
    assert_eq!(entry["provenance"]["revision"], current.as_str());
    assert_eq!(
        entry["provenance"]["approvedBy"],
        serde_json::json!(["ava", "bo"])
    );
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owners_own_approval_does_not_count() {
    let fx = Fixture::start(false).await;
    let dana = fx.client("dana").await;
    fx.create(service("ledger").owner("dana").approvers(&["dana", "ava"]))
        .await;
    let revision = fx.revision_in_approval("ledger").await;

    let own = approve(&dana, "ledger", &revision, "dana").await;
    assert!(!fx.wait_for_verdict(&own, "SelfApproval").await);
    let status = eventually(
        "the Service to be reconciled after the approval",
        || async {
            let status = fx.status_of("ledger").await?;
            status.approvals.is_some().then_some(status)
        },
    )
    .await;
    assert_eq!(status.phase, Some(Phase::Approval));
    assert_eq!(status.approvals.unwrap().received, 0);
    assert!(fx.published("ledger").await.is_none());
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owners_own_approval_counts_when_the_operator_allows_it() {
    let fx = Fixture::start(true).await;
    let dana = fx.client("dana").await;
    fx.create(service("ledger").owner("dana").approvers(&["dana", "ava"]))
        .await;
    let revision = fx.revision_in_approval("ledger").await;
    let own = approve(&dana, "ledger", &revision, "dana").await;
    assert!(fx.wait_for_verdict(&own, "Counted").await);
    fx.wait_for_phase("ledger", Phase::Active).await;
    fx.shutdown().await;
}

/// Creates a Service approved by ava and waits until the catalog serves it; returns its revision.
async fn activate(fx: &Fixture, builder: ServiceBuilder, name: &str) -> String {
    let ava = fx.client("ava").await;
    fx.create(builder).await;
    let revision = fx.revision_in_approval(name).await;
    approve(&ava, name, &revision, "ava").await;
    fx.wait_for_phase_at(name, Phase::Active, &revision).await;
    eventually("the Service in the catalog", || async {
        fx.published(name)
            .await
            .filter(|e| e["provenance"]["revision"] == revision.as_str())
    })
    .await;
    revision
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_content_change_while_active_keeps_the_approved_snapshot_until_the_new_revision_is_approved()
 {
    let fx = Fixture::start(false).await;
    let ava = fx.client("ava").await;
    let first = activate(&fx, service("ledger"), "ledger").await;
    let before = fx.catalog_entry("default_ledger.json").await.unwrap();

    fx.edit("ledger", |spec| {
        spec.content.description = Some("Unreviewed words".into())
    })
    .await;
    let second = eventually("the new revision to be observed", || async {
        let service = fx.services().get("ledger").await.ok()?;
        let status = service.status?;
        (status.observed_generation == service.metadata.generation)
            .then_some(status.revision?)
            .filter(|r| *r != first)
    })
    .await;
    let status = fx.status_of("ledger").await.unwrap();
    assert_eq!(status.published_revision.as_deref(), Some(first.as_str()));
    assert_eq!(status.approved_revision.as_deref(), Some(first.as_str()));
    assert_eq!(
        fx.catalog_entry("default_ledger.json").await.as_deref(),
        Some(before.as_str()),
        "the catalog keeps serving the approved snapshot, byte for byte"
    );
    assert!(!before.contains("Unreviewed words"));

    approve(&ava, "ledger", &second, "ava").await;
    let entry = eventually("the new revision in the catalog", || async {
        fx.published("ledger")
            .await
            .filter(|e| e["provenance"]["revision"] == second.as_str())
    })
    .await;
    assert_eq!(entry["content"]["description"], "Unreviewed words");
    let status = fx.wait_for_phase_at("ledger", Phase::Active, &second).await;
    assert_eq!(status.published_revision.as_deref(), Some(second.as_str()));
    fx.shutdown().await;
}

async fn set_desired(fx: &Fixture, name: &str, desired: DesiredPhase) {
    fx.edit(name, move |spec| spec.lifecycle.desired_phase = desired)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retire_withdraws_and_reactivation_without_change_returns_to_active_directly() {
    let fx = Fixture::start(false).await;
    let revision = activate(&fx, service("ledger"), "ledger").await;

    set_desired(&fx, "ledger", DesiredPhase::Retired).await;
    fx.wait_for_phase("ledger", Phase::Retired).await;
    eventually("the retired Service to leave the catalog", || async {
        (!fx.catalog().await?.contains_key("default_ledger.json")).then_some(())
    })
    .await;

    set_desired(&fx, "ledger", DesiredPhase::Active).await;
    let status = fx.wait_for_phase("ledger", Phase::Active).await;
    assert_eq!(
        status.published_revision.as_deref(),
        Some(revision.as_str())
    );
    let after_retire: Vec<Phase> = status
        .history
        .iter()
        .skip_while(|t| t.phase != Phase::Retired)
        .map(|t| t.phase)
        .collect();
    assert_eq!(
        after_retire,
        vec![Phase::Retired, Phase::Active],
        "no detour through Approval: {:?}",
        status.history
    );
    assert_eq!(status.history.last().unwrap().reason, "Reactivated");
    eventually("the Service back in the catalog", || async {
        fx.published("ledger")
            .await
            .filter(|e| e["provenance"]["revision"] == revision.as_str())
    })
    .await;
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reactivation_after_a_change_goes_through_approval() {
    let fx = Fixture::start(false).await;
    let ava = fx.client("ava").await;
    let first = activate(&fx, service("ledger"), "ledger").await;

    set_desired(&fx, "ledger", DesiredPhase::Retired).await;
    fx.wait_for_phase("ledger", Phase::Retired).await;
    eventually("the retired Service to leave the catalog", || async {
        (!fx.catalog().await?.contains_key("default_ledger.json")).then_some(())
    })
    .await;
    fx.edit("ledger", |spec| {
        spec.content.description = Some("Reworked while retired".into())
    })
    .await;
    set_desired(&fx, "ledger", DesiredPhase::Active).await;
    let second = fx.revision_in_approval("ledger").await;
    assert_ne!(first, second);
    assert!(
        fx.published("ledger").await.is_none(),
        "the old snapshot is not served again"
    );

    approve(&ava, "ledger", &second, "ava").await;
    fx.wait_for_phase_at("ledger", Phase::Active, &second).await;
    let entry = eventually("the new revision in the catalog", || async {
        fx.published("ledger")
            .await
            .filter(|e| e["provenance"]["revision"] == second.as_str())
    })
    .await;
    assert_eq!(entry["content"]["description"], "Reworked while retired");
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_approvals_does_not_unpublish() {
    let fx = Fixture::start(false).await;
    let revision = activate(&fx, service("ledger"), "ledger").await;

    fx.approvals()
        .delete_collection(&DeleteParams::default(), &ListParams::default())
        .await
        .expect("the approvals are deleted");
    eventually("the approvals to be gone", || async {
        fx.approvals()
            .list(&ListParams::default())
            .await
            .ok()?
            .items
            .is_empty()
            .then_some(())
    })
    .await;
    // A change to the owner's controls forces a reconcile that sees no approval objects.
    fx.edit("ledger", |spec| {
        spec.lifecycle.review_interval = Some("90d".into())
    })
    .await;
    let status = fx.wait_for_phase("ledger", Phase::Active).await;
    assert_eq!(
        status.revision.as_deref(),
        Some(revision.as_str()),
        "lifecycle is not content"
    );
    assert_eq!(status.approved_revision.as_deref(), Some(revision.as_str()));
    assert_eq!(
        status.published_revision.as_deref(),
        Some(revision.as_str())
    );
    assert_eq!(
        condition(&status, "Published").map(|c| c.0),
        Some("True".into())
    );
    let entry = fx.published("ledger").await.expect("still in the catalog");
    assert_eq!(entry["provenance"]["revision"], revision.as_str());
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_configmap_is_repaired_after_a_hand_edit_and_after_deletion() {
    let fx = Fixture::start(false).await;
    activate(&fx, service("ledger"), "ledger").await;
    let good = fx.catalog_entry("default_ledger.json").await.unwrap();

    fx.configmaps()
        .patch(
            CATALOG_NAME,
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"data": {
                "default_ledger.json": "{\"forged\":true}",
                "default_intruder.json": "{}"
            }})),
        )
        .await
        .expect("the hand edit is accepted");
    eventually("the hand edit to be repaired", || async {
        let data = fx.catalog().await?;
        (data.get("default_ledger.json") == Some(&good)
            && !data.contains_key("default_intruder.json"))
        .then_some(())
    })
    .await;

    fx.configmaps()
        .delete(CATALOG_NAME, &DeleteParams::default())
        .await
        .expect("the catalog is deleted");
    eventually("the deleted catalog to be recreated", || async {
        (fx.catalog_entry("default_ledger.json").await? == good).then_some(())
    })
    .await;
    fx.shutdown().await;
}

/// The global resourceVersion, as a list reports it.
async fn global_resource_version(fx: &Fixture) -> String {
    let all: kube::Api<k8s_openapi::api::core::v1::ConfigMap> = kube::Api::all(fx.admin.clone());
    all.list_metadata(&ListParams::default())
        .await
        .expect("ConfigMaps can be listed")
        .metadata
        .resource_version
        .expect("a list has a resourceVersion")
}

/// The resourceVersion of every object the operator could write, by kind and name.
async fn object_versions(fx: &Fixture) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for s in fx
        .services()
        .list_metadata(&ListParams::default())
        .await
        .unwrap()
        .items
    {
        out.push((
            format!("Service/{}", s.metadata.name.unwrap()),
            s.metadata.resource_version.unwrap(),
        ));
    }
    for a in fx
        .approvals()
        .list_metadata(&ListParams::default())
        .await
        .unwrap()
        .items
    {
        out.push((
            format!("ServiceApproval/{}", a.metadata.name.unwrap()),
            a.metadata.resource_version.unwrap(),
        ));
    }
    for c in fx
        .configmaps()
        .list_metadata(&ListParams::default())
        .await
        .unwrap()
        .items
    {
        out.push((
            format!("ConfigMap/{}", c.metadata.name.unwrap()),
            c.metadata.resource_version.unwrap(),
        ));
    }
    let events: kube::Api<k8s_openapi::api::events::v1::Event> = kube::Api::all(fx.admin.clone());
    for e in events
        .list_metadata(&ListParams::default())
        .await
        .unwrap()
        .items
    {
        out.push((
            format!("Event/{}", e.metadata.name.unwrap()),
            e.metadata.resource_version.unwrap(),
        ));
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_restarted_over_a_converged_cluster_makes_no_writes() {
    let mut fx = Fixture::start(false).await;
    let ava = fx.client("ava").await;
    // Converge: one Service published, one waiting for a second approval, one in Planning.
    let revision = activate(&fx, service("ledger"), "ledger").await;
    fx.create(service("payments").approvers(&["ava", "bo"]).quorum(2))
        .await;
    let pending = fx.revision_in_approval("payments").await;
    let half = approve(&ava, "payments", &pending, "ava").await;
    fx.wait_for_verdict(&half, "Counted").await;
    eventually("payments to count ava's approval", || async {
        (fx.status_of("payments").await?.approvals?.received == 1).then_some(())
    })
    .await;
    fx.create(service("draft").desired(DesiredPhase::Planning))
        .await;
    fx.wait_for_phase("draft", Phase::Planning).await;
    fx.stop_operator().await;

    let before = global_resource_version(&fx).await;
    let objects = object_versions(&fx).await;

    fx.start_operator();
    // The new operator lists and reconciles each of the three Services at least once.
    eventually(
        "the restarted operator to reconcile every Service",
        || async { (fx.reconciliations() >= 3).then_some(()) },
    )
    .await;
    let after = object_versions(&fx).await;
    let changed: Vec<_> = after.iter().filter(|o| !objects.contains(o)).collect();
    assert!(
        changed.is_empty(),
        "the restarted operator wrote: {changed:?}"
    );
    assert_eq!(
        global_resource_version(&fx).await,
        before,
        "nothing at all was written"
    );
    let entry = fx.published("ledger").await.unwrap();
    assert_eq!(entry["provenance"]["revision"], revision.as_str());
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejection_of_the_published_revision_withdraws_it() {
    let fx = Fixture::start(false).await;
    let ava = fx.client("ava").await;
    let revision = activate(&fx, service("ledger"), "ledger").await;

    let revocation = reject(&ava, "ledger", &revision, "ava").await;
    let status = fx.wait_for_phase("ledger", Phase::Planning).await;
    assert!(fx.wait_for_verdict(&revocation, "Counted").await);
    assert_eq!(status.published_revision, None);
    assert_eq!(
        condition(&status, "Published").map(|c| c.0),
        Some("False".into())
    );
    eventually("the revoked Service to leave the catalog", || async {
        (!fx.catalog().await?.contains_key("default_ledger.json")).then_some(())
    })
    .await;
    let events = eventually("the revocation Event", || async {
        let events = fx.events("ledger").await;
        events.iter().any(|(r, _)| r == "Revoked").then_some(events)
    })
    .await;
    // The activation is one Event naming every step walked, the quorum among them.
    assert!(
        events
            .iter()
            .any(|(r, note)| r == "Activated" && note.contains("QuorumReached")),
        "{events:?}"
    );
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_due_turns_true_with_an_event_once_the_interval_has_passed() {
    let fx = Fixture::start(false).await;
    activate(&fx, service("ledger"), "ledger").await;
    let status = fx.wait_for_phase("ledger", Phase::Active).await;
    assert_ne!(
        condition(&status, "ReviewDue").map(|c| c.0),
        Some("True".into()),
        "no review is due without an interval"
    );

    // Last reviewed long ago with a 30-day interval: the review is overdue.
    fx.edit("ledger", |spec| {
        spec.lifecycle.review_interval = Some("30d".into());
        spec.lifecycle.last_reviewed = Some("2020-01-01".into());
    })
    .await;
    eventually("ReviewDue to turn True", || async {
        let status = fx.status_of("ledger").await?;
        (condition(&status, "ReviewDue")?.0 == "True").then_some(())
    })
    .await;
    eventually("the ReviewDue Event", || async {
        let reasons = fx.event_reasons("ledger").await;
        reasons.iter().any(|r| r == "ReviewDue").then_some(())
    })
    .await;
    let status = fx.status_of("ledger").await.expect("status");
    assert_eq!(
        status.phase,
        Some(Phase::Active),
        "a due review does not unpublish"
    );

    // Reviewed today: no longer due.
    let today = k8s_openapi::jiff::Timestamp::now()
        .strftime("%Y-%m-%d")
        .to_string();
    fx.edit("ledger", |spec| {
        spec.lifecycle.last_reviewed = Some(today.clone());
    })
    .await;
    eventually("ReviewDue to turn False after a review", || async {
        let status = fx.status_of("ledger").await?;
        (condition(&status, "ReviewDue")?.0 == "False").then_some(())
    })
    .await;
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dependency_cycle_is_reported_as_a_cycle() {
    let fx = Fixture::start(false).await;
    for (name, needs) in [("ledger", "billing"), ("billing", "ledger")] {
        let mut svc = service(name).build();
        svc.spec.content.model = Some(charter::api::ServiceModel {
            depends_on: vec![charter::api::ServiceRef {
                namespace: None,
                name: needs.into(),
            }],
            ..Default::default()
        });
        fx.services()
            .create(&kube::api::PostParams::default(), &svc)
            .await
            .expect("the Service is created");
    }
    for name in ["ledger", "billing"] {
        let (status, message) = eventually("DependenciesReady to name the cycle", || async {
            let status = fx.status_of(name).await?;
            let (value, reason) = condition(&status, "DependenciesReady")?;
            (reason == "DependencyCycle").then_some((value, status))
        })
        .await;
        assert_eq!(status, "False");
        let ready = message
            .conditions
            .iter()
            .find(|c| c.type_ == "DependenciesReady")
            .expect("condition");
        assert!(
            ready.message.contains("default/ledger") && ready.message.contains("default/billing"),
            "{}",
            ready.message
        );
    }
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retiring_a_service_active_services_depend_on_proceeds_and_names_them() {
    let fx = Fixture::start(false).await;
    let ava = fx.client("ava").await;
    activate(&fx, service("identity"), "identity").await;
    let mut ledger = service("ledger").build();
    ledger.spec.content.model = Some(charter::api::ServiceModel {
        depends_on: vec![charter::api::ServiceRef {
            namespace: None,
            name: "identity".into(),
        }],
        ..Default::default()
    });
    fx.services()
        .create(&kube::api::PostParams::default(), &ledger)
        .await
        .expect("the dependant is created");
    let revision = fx.revision_in_approval("ledger").await;
    approve(&ava, "ledger", &revision, "ava").await;
    fx.wait_for_phase("ledger", Phase::Active).await;

    set_desired(&fx, "identity", DesiredPhase::Retired).await;
    fx.wait_for_phase("identity", Phase::Retired).await;
    eventually("the RetiredWithActiveDependants Event", || async {
        let reasons = fx.event_reasons("identity").await;
        reasons
            .iter()
            .any(|r| r == "RetiredWithActiveDependants")
            .then_some(())
    })
    .await;
    eventually(
        "the dependant's DependenciesReady to turn False",
        || async {
            let status = fx.status_of("ledger").await?;
            (condition(&status, "DependenciesReady")?.0 == "False").then_some(())
        },
    )
    .await;
    fx.shutdown().await;
}

/// The approval's status once it has `reason`: (counted, message).
async fn verdict_with(fx: &Fixture, approval: &str, reason: &str) -> (bool, String) {
    eventually(&format!("{approval} to be {reason}"), || async {
        let status = fx.approvals().get(approval).await.ok()?.status?;
        (status.reason == reason).then_some((status.counted, status.message))
    })
    .await
}

/// An approval's creationTimestamp, in whole seconds as Kubernetes writes it.
async fn created_at(fx: &Fixture, approval: &str) -> k8s_openapi::jiff::Timestamp {
    let approval = fx.approvals().get(approval).await.expect("the approval");
    approval
        .metadata
        .creation_timestamp
        .expect("a creationTimestamp")
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_naming_no_service_is_unknown_service_and_never_counts_for_a_service_created_after_it()
 {
    let fx = Fixture::start(false).await;
    let ava = fx.client("ava").await;
    // The approver reviewed the manifest before it was applied: the revision is computed offline.
    let revision = charter::api::revision_of(&service("ledger").build().spec.content);
    let early = approve(&ava, "ledger", &revision, "ava").await;

    let (counted, message) = verdict_with(&fx, &early, "UnknownService").await;
    assert!(!counted, "an approval of nothing counts toward nothing");
    assert!(
        message.contains("\"ledger\"") && message.contains("\"default\""),
        "the message names the missing service and its namespace: {message}"
    );

    // Approvals created before their Service count for nothing (README, "Approvals belong to
    // one Service object"). Timestamps have whole seconds: an approval made in the same second
    // as the Service is not "before" it, so the Service is created in a later second.
    let made = created_at(&fx, &early).await;
    eventually("the next second", || async {
        (k8s_openapi::jiff::Timestamp::now().as_second() > made.as_second()).then_some(())
    })
    .await;
    fx.create(service("ledger")).await;
    let (counted, message) = verdict_with(&fx, &early, "ServiceRecreated").await;
    assert!(
        !counted,
        "made before the Service, it counts for nothing: {message}"
    );
    let status = fx.wait_for_phase("ledger", Phase::Approval).await;
    assert_eq!(status.approvals.map(|a| a.received), Some(0));

    let late = approve(&ava, "ledger", &revision, "ava").await;
    let (counted, _) = verdict_with(&fx, &late, "Counted").await;
    assert!(counted, "made after the Service appeared, it counts");
    fx.wait_for_phase_at("ledger", Phase::Active, &revision)
        .await;

    fx.services()
        .delete("ledger", &DeleteParams::default())
        .await
        .expect("the Service is deleted");
    let (counted, message) = verdict_with(&fx, &late, "UnknownService").await;
    assert!(
        !counted,
        "the Service is gone: the approval counts toward nothing"
    );
    assert!(message.contains("\"ledger\""), "{message}");
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn categories_are_the_owners_to_define_in_development_and_the_catalog_shows_the_current_ones()
{
    let fx = Fixture::start(false).await;
    let ava = fx.client("ava").await;
    fx.create(service("ledger").without_categories()).await;
    let revision = fx.revision_in_approval("ledger").await;
    approve(&ava, "ledger", &revision, "ava").await;
    let status = fx.wait_for_phase("ledger", Phase::Development).await;
    assert_eq!(
        condition(&status, "Ready"),
        Some(("False".into(), "NoCategories".into())),
        "held before Active, and says why"
    );

    fx.edit("ledger", |spec| {
        spec.categories = vec![charter::api::Category {
            name: "finance".into(),
            subcategories: vec!["ledger".into()],
        }]
    })
    .await;
    let status = fx.wait_for_phase("ledger", Phase::Active).await;
    assert_eq!(
        status.revision.as_deref(),
        Some(revision.as_str()),
        "no new revision"
    );
    assert_eq!(
        status.approvals.map(|a| a.received),
        Some(1),
        "no new approval"
    );
    let entry = eventually("the entry", || fx.published("ledger")).await;
    assert_eq!(
        entry["content"]["categories"],
        serde_json::json!([{"name": "finance", "subcategories": ["ledger"]}])
    );

    fx.edit("ledger", |spec| {
        spec.categories[0].subcategories = vec!["ledger".into(), "reporting".into()]
    })
    .await;
    eventually("the current categories in the catalog", || async {
        let entry = fx.published("ledger").await?;
        (entry["content"]["categories"][0]["subcategories"]
            == serde_json::json!(["ledger", "reporting"]))
        .then_some(())
    })
    .await;
    let status = fx.wait_for_phase("ledger", Phase::Active).await;
    assert_eq!(status.revision.as_deref(), Some(revision.as_str()));
    fx.shutdown().await;
}
