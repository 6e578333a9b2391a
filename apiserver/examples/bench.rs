//! Throughput of the embedded API server through a real kube client:
//! creates/s, status patches/s, and watch events/s delivered to 1 and 10 watchers.
//! Run with `cargo run --release -p charter-apiserver --example bench`.

use charter_apiserver::{ApiServer, Config};
use futures::{StreamExt, TryStreamExt, stream};
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams, PostParams,
    WatchEvent, WatchParams,
};
use serde_json::json;
use std::time::Instant;

const CONCURRENCY: usize = 16;

fn crd() -> serde_json::Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.bench.charter.dev"},
        "spec": {"group": "bench.charter.dev", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {"size": {"type": "integer", "minimum": 0}}},
                    "status": {"type": "object", "properties": {"phase": {"type": "string"}}}}}}}]}
    })
}

fn widget(name: &str) -> DynamicObject {
    serde_json::from_value(json!({"apiVersion": "bench.charter.dev/v1", "kind": "Widget", "metadata": {"name": name}, "spec": {"size": 1}})).expect("widget")
}

async fn create_many(api: &Api<DynamicObject>, prefix: &str, n: usize) -> f64 {
    let start = Instant::now();
    stream::iter(0..n)
        .map(|i| {
            let api = api.clone();
            let name = format!("{prefix}-{i}");
            async move {
                api.create(&PostParams::default(), &widget(&name))
                    .await
                    .map(|_| ())
            }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await
        .expect("creates succeed");
    n as f64 / start.elapsed().as_secs_f64()
}

async fn watch_rate(
    api: &Api<DynamicObject>,
    watchers: usize,
    n: usize,
    prefix: &str,
) -> (f64, f64) {
    let rv = api
        .list(&ListParams::default().limit(1))
        .await
        .expect("list")
        .metadata
        .resource_version
        .expect("rv");
    let mut tasks = Vec::new();
    for _ in 0..watchers {
        let mut s = api
            .watch(&WatchParams::default().timeout(300), &rv)
            .await
            .expect("watch")
            .boxed();
        tasks.push(tokio::spawn(async move {
            let mut seen = 0;
            while seen < n {
                match s.try_next().await {
                    Ok(Some(WatchEvent::Added(_))) => seen += 1,
                    Ok(Some(_)) => {}
                    _ => break,
                }
            }
            seen
        }));
    }
    let start = Instant::now();
    create_many(api, prefix, n).await;
    let mut delivered = 0;
    for t in tasks {
        delivered += t.await.expect("watcher");
    }
    let secs = start.elapsed().as_secs_f64();
    (delivered as f64 / secs, n as f64 / secs)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = ApiServer::start(Config {
        watch_history: 100_000,
        ..Config::default()
    })
    .await?;
    server.install_crd_values(vec![crd()])?;
    let client = server.client_for("admin").await?;
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("bench.charter.dev", "v1", "Widget"),
        "widgets",
    );
    let api: Api<DynamicObject> = Api::namespaced_with(client, "default", &ar);

    let n = 2000;
    let creates = create_many(&api, "c", n).await;
    println!(
        "creates/s:                      {creates:>9.0}  ({n} widgets, {CONCURRENCY} concurrent)"
    );

    let start = Instant::now();
    stream::iter(0..n)
        .map(|i| {
            let api = api.clone();
            async move {
                let p = Patch::Merge(json!({"status": {"phase": format!("P{i}")}}));
                api.patch_status(&format!("c-{i}"), &PatchParams::default(), &p)
                    .await
                    .map(|_| ())
            }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await?;
    println!(
        "status patches/s:               {:>9.0}",
        n as f64 / start.elapsed().as_secs_f64()
    );

    for watchers in [1, 10] {
        let (events, writes) = watch_rate(&api, watchers, n, &format!("w{watchers}")).await;
        println!(
            "watch events/s to {watchers:>2} watcher(s): {events:>9.0}  (while creating {writes:.0}/s)"
        );
    }
    server.shutdown().await;
    Ok(())
}
