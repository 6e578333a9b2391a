//! Watch: a chunked stream of `{"type","object"}` lines, resumed from a resourceVersion
//! out of the store's bounded history; 410 Expired (as an ERROR event) when too old.

use super::list::{Filter, TABLE_CONTENT_TYPE, wants_table};
use crate::contain::contain;
use crate::error::ApiError;
use crate::generic_store;
use crate::request::{RequestContext, Target, error_response};
use crate::shared::Shared;
use crate::store::{Change, EventType, parse_rv};
use axum::body::Body;
use axum::http::HeaderValue;
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

struct Stream {
    target: Target,
    filter: Filter,
    table: bool,
    include_object: Option<String>,
    tx: mpsc::Sender<Bytes>,
}

impl Stream {
    async fn send(&self, kind: &str, object: &Value) -> bool {
        self.send_json(kind, &serde_json::to_string(object).unwrap_or_default())
            .await
    }

    /// One event line, `{"type":…,"object":…}`, with the object already written as JSON.
    async fn send_json(&self, kind: &str, object: &str) -> bool {
        let mut line = Vec::with_capacity(object.len() + kind.len() + 24);
        line.extend_from_slice(b"{\"type\":");
        line.extend_from_slice(serde_json::to_string(kind).unwrap_or_default().as_bytes());
        line.extend_from_slice(b",\"object\":");
        line.extend_from_slice(object.as_bytes());
        line.extend_from_slice(b"}\n");
        self.tx.send(Bytes::from(line)).await.is_ok()
    }

    /// Send one change if it is for this watch; false when the client is gone.
    async fn change(&self, c: &Change) -> bool {
        if let Some(ns) = &self.target.namespace
            && c.object.namespace() != ns.as_str()
        {
            return true;
        }
        let now_matches = self.filter.selects(&self.target, &c.object);
        let was_matching = match self.filter.is_empty() {
            true => Some(true),
            false => c
                .previous
                .as_ref()
                .map(|p| self.filter.selects(&self.target, p)),
        };
        // An object moving into or out of the selection is ADDED or DELETED for this watch.
        let event = match (c.event, was_matching, now_matches) {
            (_, _, false) if c.event != EventType::Modified || was_matching != Some(true) => {
                return true;
            }
            (EventType::Modified, Some(true), false) => EventType::Deleted,
            (EventType::Modified, Some(false), true) => EventType::Added,
            (e, _, _) => e,
        };
        // A watch that wants JSON gets an object stored under the version it watches as written.
        if !self.table
            && let Some(json) = generic_store::served_json(&self.target, &c.object)
        {
            return self.send_json(event.as_str(), json).await;
        }
        let obj = generic_store::frozen_to_served(&self.target, &c.object);
        let obj = if self.table {
            let rv = obj
                .pointer("/metadata/resourceVersion")
                .cloned()
                .unwrap_or(json!(""));
            match contain("table::to_table_including", || {
                crate::table::to_table_including(
                    &self.target.served.info,
                    &[obj],
                    json!({"resourceVersion": rv}),
                    chrono::Utc::now(),
                    self.include_object.as_deref(),
                )
            }) {
                Ok(t) => t,
                Err(e) => {
                    self.send("ERROR", &e.to_status()).await;
                    return false;
                }
            }
        } else {
            obj
        };
        self.send(event.as_str(), &obj).await
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Value {
        let info = &self.target.served.info;
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        json!({"kind": info.kind, "apiVersion": info.api_version(), "metadata": meta})
    }
}

pub fn handle(shared: &Shared, ctx: &RequestContext, target: &Target) -> Response {
    match start(shared, ctx, target) {
        Ok(r) => r,
        Err(e) => error_response(&e),
    }
}

fn start(shared: &Shared, ctx: &RequestContext, target: &Target) -> Result<Response, ApiError> {
    super::list_options::check(ctx, true)?;
    let filter = Filter::from_ctx(ctx, target)?;
    let send_initial = ctx.param("sendInitialEvents") == Some("true");
    let from = match ctx
        .param("resourceVersion")
        .filter(|rv| !rv.is_empty() && *rv != "0")
    {
        _ if send_initial => None,
        None => None,
        Some(rv) => Some(
            parse_rv(rv)
                .ok_or_else(|| ApiError::bad_request(format!("invalid resource version: {rv}")))?,
        ),
    };
    let bookmarks = ctx.param("allowWatchBookmarks") == Some("true");
    let timeout = ctx
        .param("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .unwrap_or(1800);
    let table = wants_table(ctx);
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    let stream = Stream {
        target: target.clone(),
        filter,
        table,
        include_object: ctx.param("includeObject").map(String::from),
        tx,
    };
    let started = shared.store.watch_from(&target.bucket(), from);
    let cut = shared.faults.watch_token(&ctx.user.name);
    let faults = shared.faults.clone();
    let interval = shared.bookmark_interval;
    tokio::spawn(async move {
        let start = match started {
            Ok(s) => s,
            Err(oldest) => {
                let requested = from.unwrap_or_default();
                let e = ApiError::new(
                    410,
                    "Expired",
                    format!("too old resource version: {requested} ({oldest})"),
                );
                stream.send("ERROR", &e.to_status()).await;
                return;
            }
        };
        let mut last_rv = from.unwrap_or(start.rv).max(start.rv);
        for c in &start.backlog {
            if !stream.change(c).await {
                return;
            }
        }
        if send_initial
            && !stream
                .send("BOOKMARK", &stream.bookmark(start.rv, true))
                .await
        {
            return;
        }
        let mut rx = start.rx;
        let deadline = tokio::time::sleep(Duration::from_secs(timeout));
        tokio::pin!(deadline);
        let mut tick = tokio::time::interval(interval);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = &mut deadline => break,
                _ = cut.cancelled() => {
                    faults.watch_cut();
                    break;
                }
                _ = stream.tx.closed() => break,
                _ = tick.tick(), if bookmarks => {
                    if !stream.send("BOOKMARK", &stream.bookmark(last_rv, false)).await { break; }
                }
                msg = rx.recv() => match msg {
                    Ok(c) => {
                        // Every change is seen in resourceVersion order, so the next bookmark may
                        // name the latest one, also another kind's: a quiet kind's watcher
                        // advances with the server and does not fall out of the history.
                        last_rv = last_rv.max(c.rv);
                        if c.bucket != stream.target.bucket() { continue; }
                        if !stream.change(&c).await { break; }
                    }
                    // A watcher that fell behind is closed; the client re-watches from its last RV.
                    Err(broadcast::error::RecvError::Lagged(_)) | Err(broadcast::error::RecvError::Closed) => break,
                },
            }
        }
    });
    let body = Body::from_stream(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    }));
    let mut resp = Response::new(body);
    let ct = if table {
        TABLE_CONTENT_TYPE
    } else {
        "application/json"
    };
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static(ct));
    resp.headers_mut().insert(
        "cache-control",
        HeaderValue::from_static("no-cache, private"),
    );
    Ok(resp)
}
