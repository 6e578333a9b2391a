//! Watches and the kube-runtime machinery built on them: watcher relists after 410,
//! streaming lists, the finalizer helper, the event Recorder and lease-based election.

mod common;

use charter_apiserver::{Config, Matcher, UserSpec};
use common::*;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, ObjectReference};
use k8s_openapi::api::events::v1::Event as EventV1;
use kube::api::{Api, DeleteParams, ListParams, PostParams, WatchEvent, WatchParams};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn cm(name: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}, "data": {"k": "v"}})).unwrap()
}

#[tokio::test]
async fn watch_from_a_resource_version_sees_only_later_changes() {
    let f = start().await;
    let api: Api<ConfigMap> = Api::namespaced(f.client.clone(), "default");
    api.create(&PostParams::default(), &cm("before"))
        .await
        .unwrap();
    let rv = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let mut stream = api
        .watch(&WatchParams::default().timeout(10), &rv)
        .await
        .unwrap()
        .boxed();
    api.create(&PostParams::default(), &cm("after"))
        .await
        .unwrap();
    api.delete("after", &DeleteParams::default()).await.unwrap();
    match stream.try_next().await.unwrap() {
        Some(WatchEvent::Added(o)) => assert_eq!(o.metadata.name.as_deref(), Some("after")),
        other => panic!("expected ADDED after, got {other:?}"),
    }
    assert!(matches!(
        stream.try_next().await.unwrap(),
        Some(WatchEvent::Deleted(_))
    ));
}

#[tokio::test]
async fn a_too_old_resource_version_is_an_expired_error_event() {
    let f = start().await;
    let api: Api<ConfigMap> = Api::namespaced(f.client.clone(), "default");
    api.create(&PostParams::default(), &cm("a")).await.unwrap();
    f.server.faults().expire_history();
    let mut stream = api
        .watch(&WatchParams::default().timeout(10), "1")
        .await
        .unwrap()
        .boxed();
    match stream.try_next().await.unwrap() {
        Some(WatchEvent::Error(s)) => {
            assert_eq!((s.code, s.reason.as_str()), (410, "Expired"));
            assert!(
                s.message.starts_with("too old resource version: 1 ("),
                "{}",
                s.message
            );
        }
        other => panic!("expected ERROR 410, got {other:?}"),
    }
    assert!(
        stream.try_next().await.unwrap().is_none(),
        "stream closes after the error"
    );
}

#[tokio::test]
async fn history_window_overflow_makes_old_versions_too_old() {
    let f = start_with(Config {
        watch_history: 3,
        ..Config::default()
    })
    .await;
    let api: Api<ConfigMap> = Api::namespaced(f.client.clone(), "default");
    let rv = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    for n in ["a", "b", "c", "d", "e"] {
        api.create(&PostParams::default(), &cm(n)).await.unwrap();
    }
    let mut stream = api
        .watch(&WatchParams::default().timeout(10), &rv)
        .await
        .unwrap()
        .boxed();
    assert!(
        matches!(stream.try_next().await.unwrap(), Some(WatchEvent::Error(s)) if s.code == 410)
    );
}

#[tokio::test]
async fn watcher_relists_after_its_history_expires() {
    let f = start().await;
    let api: Api<ConfigMap> = Api::namespaced(f.client.clone(), "default");
    api.create(&PostParams::default(), &cm("one"))
        .await
        .unwrap();
    let seen: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let sink = seen.clone();
    let task = tokio::spawn(
        watcher(api.clone(), watcher::Config::default())
            .applied_objects()
            .for_each(move |o| {
                if let Ok(o) = o {
                    sink.lock()
                        .unwrap()
                        .insert(o.metadata.name.unwrap_or_default());
                }
                futures::future::ready(())
            }),
    );
    eventually(10, "the initial list", || async {
        seen.lock().unwrap().contains("one").then_some(())
    })
    .await;
    // While the watch is cut, a change happens and the history is forgotten: the
    // re-watch from the old resourceVersion gets 410 and the watcher must relist.
    f.server.faults().pause();
    f.server.faults().cut_watches();
    f.server.faults().resume();
    api.create(&PostParams::default(), &cm("two"))
        .await
        .unwrap();
    f.server.faults().expire_history();
    f.server.faults().cut_watches();
    eventually(15, "the object created across the relist", || async {
        seen.lock().unwrap().contains("two").then_some(())
    })
    .await;
    task.abort();
}

#[tokio::test]
async fn streaming_lists_end_their_initial_events_with_a_bookmark() {
    let f = start().await;
    let api: Api<ConfigMap> = Api::namespaced(f.client.clone(), "default");
    for n in ["a", "b"] {
        api.create(&PostParams::default(), &cm(n)).await.unwrap();
    }
    let mut stream = watcher(api.clone(), watcher::Config::default().streaming_lists()).boxed();
    let mut names = BTreeSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let ev = tokio::time::timeout_at(deadline, stream.try_next())
            .await
            .expect("initial events end in time")
            .unwrap()
            .unwrap();
        match ev {
            watcher::Event::InitApply(o) => {
                names.insert(o.metadata.name.unwrap());
            }
            watcher::Event::InitDone => break,
            _ => {}
        }
    }
    assert_eq!(names, BTreeSet::from(["a".to_string(), "b".to_string()]));
}

#[tokio::test]
async fn bookmarks_carry_the_current_resource_version() {
    let f = start_with(Config {
        bookmark_interval: Duration::from_millis(100),
        ..Config::default()
    })
    .await;
    let api: Api<ConfigMap> = Api::namespaced(f.client.clone(), "default");
    let mut stream = api
        .watch(
            &WatchParams {
                bookmarks: true,
                ..WatchParams::default().timeout(10)
            },
            "0",
        )
        .await
        .unwrap()
        .boxed();
    match stream.try_next().await.unwrap() {
        Some(WatchEvent::Bookmark(b)) => assert!(!b.metadata.resource_version.is_empty()),
        other => panic!("expected a BOOKMARK, got {other:?}"),
    }
}

#[tokio::test]
async fn injected_faults_fail_the_next_matching_requests() {
    let f = start().await;
    let api: Api<ConfigMap> = Api::namespaced(f.client.clone(), "default");
    f.server
        .faults()
        .fail_next(Matcher::new(Some("create"), Some("configmaps")), 500, 1);
    let e = api_error(
        api.create(&PostParams::default(), &cm("a"))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 500);
    api.create(&PostParams::default(), &cm("a")).await.unwrap();
    f.server
        .faults()
        .fail_next(Matcher::new(Some("get"), None), 409, 1);
    assert_eq!(api_error(api.get("a").await.unwrap_err()).code, 409);
    // kube's client retries a 429 (honouring Retry-After), so one injected 429 is absorbed.
    f.server
        .faults()
        .fail_next(Matcher::new(Some("get"), None), 429, 1);
    api.get("a").await.unwrap();
}

#[tokio::test]
async fn a_spared_user_sees_no_fault_and_what_is_injected_is_counted() {
    let f = start_with(Config {
        users: vec![UserSpec::new("ops", &["system:masters"])],
        ..Config::default()
    })
    .await;
    let faults = f.server.faults();
    faults.spare("admin");
    faults.fail_fraction(Matcher::default(), 500, 1.0);
    let spared: Api<ConfigMap> = Api::namespaced(f.client.clone(), "default");
    spared
        .create(&PostParams::default(), &cm("a"))
        .await
        .unwrap();
    let mut watch = spared
        .watch(&WatchParams::default(), "0")
        .await
        .expect("a spared watch")
        .boxed();
    assert!(matches!(
        watch.try_next().await.unwrap(),
        Some(WatchEvent::Added(_))
    ));
    let ops: Api<ConfigMap> = Api::namespaced(
        f.server.client_for("ops").await.expect("a client"),
        "default",
    );
    assert_eq!(api_error(ops.get("a").await.unwrap_err()).code, 500);
    assert_eq!(faults.injected().errors.get(&500), Some(&1));

    // Cutting every watch leaves the spared one open: it still sees the next change.
    faults.cut_watches();
    faults.expire_history();
    spared
        .create(&PostParams::default(), &cm("b"))
        .await
        .unwrap();
    match watch.try_next().await.unwrap() {
        Some(WatchEvent::Added(c)) => assert_eq!(c.metadata.name.as_deref(), Some("b")),
        other => panic!("the spared watch goes on, got {other:?}"),
    }
    let injected = faults.injected();
    assert_eq!((injected.cuts, injected.expiries), (1, 1));
    assert_eq!(
        injected.watches_cut, 0,
        "no watch was open but the spared one"
    );
    assert_eq!(injected.total(), 2);
}

#[tokio::test]
async fn the_finalizer_helper_adds_and_removes_its_finalizer() {
    use kube::runtime::controller::Action;
    use kube::runtime::finalizer::{Event as Fin, finalizer};
    let f = start().await;
    let api: Api<ConfigMap> = Api::namespaced(f.client.clone(), "default");
    api.create(&PostParams::default(), &cm("fin"))
        .await
        .unwrap();
    let run = |api: Api<ConfigMap>| async move {
        let obj = Arc::new(api.get("fin").await.unwrap());
        finalizer(&api, "test.charter.dev/cleanup", obj, |ev| async move {
            match ev {
                Fin::Apply(_) | Fin::Cleanup(_) => {
                    Ok::<_, std::convert::Infallible>(Action::await_change())
                }
            }
        })
        .await
        .unwrap();
    };
    run(api.clone()).await;
    let got = api.get("fin").await.unwrap();
    assert_eq!(
        got.metadata.finalizers,
        Some(vec!["test.charter.dev/cleanup".to_string()])
    );
    api.delete("fin", &DeleteParams::default()).await.unwrap();
    assert!(
        api.get("fin")
            .await
            .unwrap()
            .metadata
            .deletion_timestamp
            .is_some()
    );
    run(api.clone()).await;
    eventually(5, "deletion after cleanup", || async {
        api.get_opt("fin").await.unwrap().is_none().then_some(())
    })
    .await;
}

#[tokio::test]
async fn the_recorder_turns_repeats_into_an_event_series_visible_as_core_events() {
    use kube::runtime::events::{Event, EventType, Recorder, Reporter};
    let f = start().await;
    let api: Api<ConfigMap> = Api::namespaced(f.client.clone(), "default");
    let obj = api
        .create(&PostParams::default(), &cm("subject"))
        .await
        .unwrap();
    let reference = ObjectReference {
        api_version: Some("v1".into()),
        kind: Some("ConfigMap".into()),
        name: obj.metadata.name.clone(),
        namespace: obj.metadata.namespace.clone(),
        uid: obj.metadata.uid.clone(),
        ..ObjectReference::default()
    };
    let recorder = Recorder::new(
        f.client.clone(),
        Reporter {
            controller: "test-controller".into(),
            instance: None,
        },
    );
    let ev = Event {
        type_: EventType::Normal,
        reason: "Tested".into(),
        note: Some("it works".into()),
        action: "Test".into(),
        secondary: None,
    };
    recorder.publish(&ev, &reference).await.unwrap();
    recorder.publish(&ev, &reference).await.unwrap();
    let events: Api<EventV1> = Api::namespaced(f.client.clone(), "default");
    let list = events.list(&ListParams::default()).await.unwrap();
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].series.as_ref().map(|s| s.count), Some(2));
    let core: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(f.client.clone(), "default");
    let described = core
        .list(
            &ListParams::default()
                .fields("involvedObject.name=subject,involvedObject.kind=ConfigMap"),
        )
        .await
        .unwrap();
    assert_eq!(described.items.len(), 1);
    assert_eq!(described.items[0].message.as_deref(), Some("it works"));
}

#[tokio::test]
async fn a_lease_manager_acquires_the_lease_and_a_second_candidate_waits() {
    use kube_lease_manager::LeaseManagerBuilder;
    let f = start().await;
    let first = LeaseManagerBuilder::new(f.client.clone(), "leader")
        .with_namespace("default")
        .with_identity("a")
        .with_duration(5)
        .with_grace(2)
        .build()
        .await
        .unwrap();
    assert!(first.changed().await.unwrap(), "first candidate leads");
    let second = LeaseManagerBuilder::new(f.client.clone(), "leader")
        .with_namespace("default")
        .with_identity("b")
        .with_duration(5)
        .with_grace(2)
        .build()
        .await
        .unwrap();
    let leads = tokio::time::timeout(Duration::from_millis(500), second.changed()).await;
    assert!(
        leads.is_err() || !leads.unwrap().unwrap(),
        "second candidate does not lead while the first holds the lease"
    );
    let lease: Api<k8s_openapi::api::coordination::v1::Lease> =
        Api::namespaced(f.client.clone(), "default");
    let holder = lease
        .get("leader")
        .await
        .unwrap()
        .spec
        .unwrap()
        .holder_identity;
    assert_eq!(holder.as_deref(), Some("a"));
}

#[tokio::test]
async fn objects_moving_out_of_and_into_a_selection_are_deleted_and_added() {
    use kube::api::{Patch, PatchParams};
    let f = start().await;
    let api: Api<ConfigMap> = Api::namespaced(f.client.clone(), "default");
    let rv = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let params = WatchParams::default().timeout(10).labels("team=a");
    let mut stream = api.watch(&params, &rv).await.unwrap().boxed();
    let mut labelled = cm("sel");
    labelled.metadata.labels = Some([("team".to_string(), "a".to_string())].into());
    api.create(&PostParams::default(), &labelled).await.unwrap();
    let relabel = |team: &str| Patch::Merge(json!({"metadata": {"labels": {"team": team}}}));
    api.patch("sel", &PatchParams::default(), &relabel("b"))
        .await
        .unwrap();
    api.patch("sel", &PatchParams::default(), &relabel("c"))
        .await
        .unwrap();
    api.patch("sel", &PatchParams::default(), &relabel("a"))
        .await
        .unwrap();
    let mut kinds = Vec::new();
    for _ in 0..3 {
        kinds.push(match stream.try_next().await.unwrap() {
            Some(WatchEvent::Added(_)) => "ADDED",
            Some(WatchEvent::Deleted(_)) => "DELETED",
            other => panic!("unexpected {other:?}"),
        });
    }
    assert_eq!(kinds, ["ADDED", "DELETED", "ADDED"]);
}

#[tokio::test]
async fn latency_and_pause_hold_requests() {
    let f = start().await;
    let api: Api<ConfigMap> = Api::namespaced(f.client.clone(), "default");
    f.server
        .faults()
        .add_latency(Matcher::new(Some("list"), None), Duration::from_millis(200));
    let t = std::time::Instant::now();
    api.list(&ListParams::default()).await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(200));
    f.server.faults().clear();
    f.server.faults().pause();
    let held =
        tokio::time::timeout(Duration::from_millis(300), api.list(&ListParams::default())).await;
    assert!(held.is_err(), "a paused server holds requests");
    f.server.faults().resume();
    assert!(
        api.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
}
