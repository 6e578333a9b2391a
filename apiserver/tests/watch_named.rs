//! A watch with `fieldSelector=metadata.name=X` (what `kubectl get -w NAME` and kube's
//! `Api::watch` with a field selector send) streams only that object's events: the API
//! conventions' field selectors filter watch events exactly as they filter lists.

mod common;

use common::*;
use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams, WatchEvent, WatchParams};
use serde_json::json;
use std::time::Duration;

fn cm(name: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}, "data": {"k": name}})).unwrap()
}

#[tokio::test]
async fn a_watch_on_a_named_object_streams_only_its_events() {
    let fx = start().await;
    let api: Api<ConfigMap> = Api::namespaced(fx.client.clone(), "default");
    let first = api.create(&PostParams::default(), &cm("a")).await.unwrap();
    let rv = first.metadata.resource_version.clone().unwrap();
    let wp = WatchParams::default().fields("metadata.name=b");
    let mut stream = api.watch(&wp, &rv).await.expect("watch").boxed();
    for n in ["a2", "b", "c"] {
        api.create(&PostParams::default(), &cm(n)).await.unwrap();
    }
    // Then b changes: events are ordered, so a neighbour's event that passed the selector
    // would arrive before b's MODIFIED. Read (with a deadline) until that MODIFIED.
    api.patch(
        "b",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(json!({"data": {"k": "changed"}})),
    )
    .await
    .unwrap();
    assert_eq!(
        until_modified(&mut stream).await,
        vec!["ADDED b", "MODIFIED b"]
    );
}

#[tokio::test]
async fn the_initial_events_of_a_named_watch_are_only_that_object() {
    let fx = start().await;
    let api: Api<ConfigMap> = Api::namespaced(fx.client.clone(), "default");
    for n in ["a", "b", "c"] {
        api.create(&PostParams::default(), &cm(n)).await.unwrap();
    }
    // resourceVersion "0": the watch starts with synthetic ADDED events for what exists.
    let wp = WatchParams::default().fields("metadata.name=b");
    let mut stream = api.watch(&wp, "0").await.expect("watch").boxed();
    api.patch(
        "b",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(json!({"data": {"k": "changed"}})),
    )
    .await
    .unwrap();
    assert_eq!(
        until_modified(&mut stream).await,
        vec!["ADDED b", "MODIFIED b"]
    );
}

/// The events a watch streams, as `ADDED b`, until (and with) the first MODIFIED; within 5 s.
/// Events are ordered, so a neighbour's event that passed the selector would come first.
async fn until_modified(
    stream: &mut (impl futures::Stream<Item = kube::Result<WatchEvent<ConfigMap>>> + Unpin),
) -> Vec<String> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let ev = tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("b's events before the deadline")
            .expect("stream open")
            .expect("event");
        match ev {
            WatchEvent::Added(o) => seen.push(format!("ADDED {}", o.metadata.name.unwrap())),
            WatchEvent::Modified(o) => {
                seen.push(format!("MODIFIED {}", o.metadata.name.unwrap()));
                return seen;
            }
            WatchEvent::Deleted(o) => seen.push(format!("DELETED {}", o.metadata.name.unwrap())),
            WatchEvent::Bookmark(_) => {}
            WatchEvent::Error(e) => panic!("watch error {e:?}"),
        }
    }
}
