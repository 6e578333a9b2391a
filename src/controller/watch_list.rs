//! Whether the API server serves streaming lists (the WatchList feature: a watch with
//! `sendInitialEvents=true` that sends the current state, then a bookmark annotated
//! `k8s.io/initial-events-end`). kube's watcher does not fall back to paged lists where they are
//! not served (it retries the refused watch), so the operator asks once, at start.

use std::time::Duration;

use futures::TryStreamExt;
use kube::{
    Api, Client,
    api::{WatchEvent, WatchParams},
};

use crate::api::Service;

/// The annotation of the bookmark that ends a streaming list's initial state.
const INITIAL_EVENTS_END: &str = "k8s.io/initial-events-end";

/// How long the server has to answer the probe; an old server that ignores `sendInitialEvents`
/// sends no closing bookmark, and the probe's watch ends after this many seconds.
const PROBE_SECONDS: u32 = 2;

/// Asks the API server for a streaming list of the Services named like no Service (so that
/// the answer is one bookmark, whatever the cluster holds) in `namespace`, or in every
/// namespace: true when it ends the initial state with the closing bookmark. A refusal (an
/// older server rejects the parameter), a silence or an error means paged lists.
pub async fn streaming_lists_served(client: &Client, namespace: Option<&str>) -> bool {
    let api: Api<Service> = match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let params = WatchParams::streaming_lists()
        .fields("metadata.name=charter.watch-list.probe")
        .timeout(PROBE_SECONDS);
    let probe = async {
        let stream = api.watch(&params, "0").await?;
        futures::pin_mut!(stream);
        while let Some(event) = stream.try_next().await? {
            match event {
                WatchEvent::Bookmark(bookmark)
                    if bookmark
                        .metadata
                        .annotations
                        .contains_key(INITIAL_EVENTS_END) =>
                {
                    return Ok(true);
                }
                WatchEvent::Error(_) => return Ok(false),
                _ => {}
            }
        }
        Ok::<bool, kube::Error>(false)
    };
    let answer = tokio::time::timeout(Duration::from_secs(PROBE_SECONDS as u64 + 3), probe).await;
    match answer {
        Ok(Ok(served)) => {
            tracing::info!(
                served,
                "asked the API server whether it serves streaming lists"
            );
            served
        }
        Ok(Err(error)) => {
            tracing::info!(%error, "streaming lists are not served; listing in pages");
            false
        }
        Err(_) => {
            tracing::info!("the streaming-list probe went unanswered; listing in pages");
            false
        }
    }
}
