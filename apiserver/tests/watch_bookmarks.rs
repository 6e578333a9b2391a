//! Bookmarks of an idle watcher advance with the server, as kube-apiserver's watch cache
//! sends them (about every minute, at the cache's current resourceVersion): a watcher of a
//! quiet kind learns that unrelated writes happened, so it can resume from there instead
//! of relisting when the history of old changes expires.

mod common;

use charter_apiserver::Config;
use common::*;
use futures::StreamExt;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams, WatchEvent, WatchParams};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn an_idle_watchers_bookmarks_advance_past_other_kinds_writes() {
    let f = start_with(Config {
        bookmark_interval: Duration::from_millis(50),
        ..Config::default()
    })
    .await;
    let quiet: Api<ConfigMap> = Api::namespaced(f.client.clone(), "default");
    let busy: Api<Lease> = Api::namespaced(f.client.clone(), "default");
    let rv = quiet
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "q"}})).unwrap(),
        )
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let wp = WatchParams {
        bookmarks: true,
        ..WatchParams::default().timeout(30)
    };
    let mut stream = quiet.watch(&wp, &rv).await.unwrap().boxed();
    let mut last = String::new();
    for i in 0..5 {
        last = busy
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({"metadata": {"name": format!("s{i}")}})).unwrap(),
            )
            .await
            .unwrap()
            .metadata
            .resource_version
            .unwrap();
    }
    let want: u64 = last.parse().unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let ev = tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("a bookmark at the Leases' resourceVersion before the deadline")
            .expect("stream open")
            .expect("event");
        match ev {
            WatchEvent::Bookmark(b) => {
                let got: u64 = b.metadata.resource_version.parse().unwrap();
                if got >= want {
                    break;
                }
            }
            other => panic!("a quiet kind's watch got {other:?}"),
        }
    }
    // The advanced resourceVersion is a valid place to resume a watch from.
    let mut again = quiet.watch(&wp, &last).await.unwrap().boxed();
    quiet
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "q2"}})).unwrap(),
        )
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, again.next())
            .await
            .expect("q2 before the deadline")
            .expect("stream open")
            .expect("event")
        {
            WatchEvent::Added(o) => {
                assert_eq!(o.metadata.name.as_deref(), Some("q2"));
                break;
            }
            WatchEvent::Bookmark(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}
