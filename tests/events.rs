//! What `kubectl describe csvc` shows under Events tells the truth: every Event's note names the
//! revision and the people it concerns, and Events about different revisions are never folded
//! into one series that keeps the first note.

use charter::api::Phase;
use k8s_openapi::api::{core::v1::ObjectReference, events::v1::Event as K8sEvent};
use kube::{
    Api,
    api::ListParams,
    runtime::events::{Event, EventType, Recorder, Reporter},
};
use testkit::*;

/// The Events about `name` with `reason`, as (note, series count).
async fn events_with(fx: &Fixture, name: &str, reason: &str) -> Vec<(String, i32)> {
    let events: Api<K8sEvent> = Api::namespaced(fx.admin.clone(), NAMESPACE);
    events
        .list(&ListParams::default())
        .await
        .expect("Events can be listed")
        .items
        .into_iter()
        .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
        .filter(|e| e.reason.as_deref() == Some(reason))
        .map(|e| (e.note.unwrap_or_default(), e.series.map_or(1, |s| s.count)))
        .collect()
}

/// Why the operator never shares a `Recorder` between Events: kube-runtime's Recorder keys its
/// series by type, action, reason, reporter and object, not by note, so a second Event with the
/// same reason and another note becomes "x2" of the first, keeping the first note.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_kube_recorder_folds_different_notes_into_the_first() {
    let fx = Fixture::start_without_operator(false).await;
    fx.services()
        .create(&Default::default(), &service("ledger").build())
        .await
        .expect("the Service is created");
    let reference = ObjectReference {
        api_version: Some("catalog.charter.dev/v1alpha1".into()),
        kind: Some("Service".into()),
        name: Some("ledger".into()),
        namespace: Some(NAMESPACE.into()),
        ..Default::default()
    };
    let recorder = Recorder::new(
        fx.admin.clone(),
        Reporter {
            controller: "probe".into(),
            instance: None,
        },
    );
    for revision in ["aaaaaaaaaa", "bbbbbbbbbb"] {
        let event = Event {
            type_: EventType::Normal,
            reason: "QuorumReached".into(),
            note: Some(format!("revision {revision} approved by ava")),
            action: "Reconcile".into(),
            secondary: None,
        };
        recorder
            .publish(&event, &reference)
            .await
            .expect("the Event is published");
    }
    let events = events_with(&fx, "ledger", "QuorumReached").await;
    assert_eq!(
        events,
        vec![("revision aaaaaaaaaa approved by ava".to_owned(), 2)],
        "kube-runtime folds a second note into the first Event's series"
    );
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_approved_revision_is_its_own_event_naming_the_revision_and_its_approvers() {
    let fx = Fixture::start(false).await;
    let ava = fx.client("ava").await;
    let bo = fx.client("bo").await;
    fx.create(service("ledger").approvers(&["ava", "bo"])).await;
    let first = fx.revision_in_approval("ledger").await;
    approve(&ava, "ledger", &first, "ava").await;
    fx.wait_for_phase_at("ledger", Phase::Active, &first).await;

    // Two more revisions approved while Active, by different approvers.
    let mut approved = vec![(first, "ava")];
    for (i, (client, approver)) in [(&bo, "bo"), (&ava, "ava")].into_iter().enumerate() {
        fx.edit("ledger", |spec| {
            spec.content.description = Some(format!("Books every payment, edition {i}"))
        })
        .await;
        let revision = eventually("the new revision", || async {
            let status = fx.status_of("ledger").await?;
            status
                .revision
                .filter(|r| approved.iter().all(|(a, _)| a != r))
        })
        .await;
        approve(client, "ledger", &revision, approver).await;
        eventually("the new revision published", || async {
            let status = fx.status_of("ledger").await?;
            (status.published_revision.as_deref() == Some(revision.as_str())).then_some(())
        })
        .await;
        approved.push((revision, approver));
    }

    for (revision, approver) in &approved {
        let published = eventually(&format!("the Event publishing {revision}"), || async {
            let notes: Vec<String> = fx
                .events("ledger")
                .await
                .into_iter()
                .map(|(_, note)| note)
                .filter(|note| note.contains(&format!("the catalog serves revision {revision}")))
                .collect();
            (!notes.is_empty()).then_some(notes)
        })
        .await;
        assert_eq!(
            published.len(),
            1,
            "one Event publishes {revision}: {published:?}"
        );
        assert!(
            published[0].contains(&format!("approved by {approver}")),
            "the note names who approved {revision}: {}",
            published[0]
        );
    }
    // The two approvals while Active: each its own QuorumReached Event, never a series.
    let quorum = events_with(&fx, "ledger", "QuorumReached").await;
    for (revision, approver) in &approved[1..] {
        let told: Vec<_> = quorum
            .iter()
            .filter(|(note, _)| {
                note.contains(&format!("revision {revision} approved by {approver}"))
            })
            .collect();
        assert_eq!(told.len(), 1, "{revision} reached quorum once: {quorum:?}");
        assert_eq!(told[0].1, 1, "not folded into a series: {quorum:?}");
    }
    assert!(
        quorum.iter().all(|(_, count)| *count == 1),
        "no QuorumReached Event stands for several: {quorum:?}"
    );
    fx.shutdown().await;
}
