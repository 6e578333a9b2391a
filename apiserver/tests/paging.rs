//! Paged lists are snapshots (API conventions, "Retrieving large results sets in chunks"):
//! every page is served at the first page's resourceVersion, and a kube-runtime watcher
//! that pages while others write ends with exactly the server's objects.

mod common;

use common::*;
use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::watcher::ListSemantic;
use kube::runtime::{WatchStreamExt, reflector, watcher};
use serde_json::json;
use std::collections::BTreeMap;

fn cm(name: &str, value: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}, "data": {"k": value}})).unwrap()
}

fn names(list: &kube::core::ObjectList<ConfigMap>) -> Vec<String> {
    list.items
        .iter()
        .map(|o| o.metadata.name.clone().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn every_page_of_a_list_is_served_at_the_first_pages_resource_version() {
    let f = start().await;
    let api: Api<ConfigMap> = Api::namespaced(f.client.clone(), "default");
    for n in ["b", "c", "d", "e", "f"] {
        api.create(&PostParams::default(), &cm(n, "1"))
            .await
            .unwrap();
    }
    let first = api.list(&ListParams::default().limit(2)).await.unwrap();
    assert_eq!(names(&first), ["b", "c"]);
    assert_eq!(first.metadata.remaining_item_count, Some(3));
    let rv = first.metadata.resource_version.clone().unwrap();
    let d_before = api.get("d").await.unwrap();

    // Writes after the first page: none of them may show in the rest of this list.
    api.create(&PostParams::default(), &cm("a", "1"))
        .await
        .unwrap();
    api.create(&PostParams::default(), &cm("dd", "1"))
        .await
        .unwrap();
    api.patch(
        "d",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"k": "2"}})),
    )
    .await
    .unwrap();
    api.delete("e", &DeleteParams::default()).await.unwrap();

    let token = first.metadata.continue_.clone().unwrap();
    let second = api
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(names(&second), ["d", "e"]);
    assert_eq!(
        second.metadata.resource_version.as_deref(),
        Some(rv.as_str())
    );
    assert_eq!(second.metadata.remaining_item_count, Some(1));
    assert_eq!(second.items[0], d_before, "d as it was at the snapshot");
    let token = second.metadata.continue_.clone().unwrap();
    let third = api
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(names(&third), ["f"]);
    assert_eq!(
        third.metadata.resource_version.as_deref(),
        Some(rv.as_str())
    );
    assert!(third.metadata.continue_.is_none());

    // A new list sees the writes.
    let now = api.list(&ListParams::default()).await.unwrap();
    assert_eq!(names(&now), ["a", "b", "c", "d", "dd", "f"]);
}

#[tokio::test]
async fn remaining_item_count_is_not_set_when_a_selector_is_used() {
    let f = start().await;
    let api: Api<ConfigMap> = Api::namespaced(f.client.clone(), "default");
    for n in ["a", "b", "c"] {
        api.create(&PostParams::default(), &cm(n, "1"))
            .await
            .unwrap();
    }
    let page = api
        .list(
            &ListParams::default()
                .limit(1)
                .fields("metadata.namespace=default"),
        )
        .await
        .unwrap();
    assert!(page.metadata.continue_.is_some());
    assert_eq!(page.metadata.remaining_item_count, None);
}

#[tokio::test]
async fn a_continue_token_older_than_the_history_is_expired() {
    let f = start().await;
    let api: Api<ConfigMap> = Api::namespaced(f.client.clone(), "default");
    for n in ["a", "b", "c"] {
        api.create(&PostParams::default(), &cm(n, "1"))
            .await
            .unwrap();
    }
    let first = api.list(&ListParams::default().limit(1)).await.unwrap();
    api.create(&PostParams::default(), &cm("z", "1"))
        .await
        .unwrap();
    f.server.faults().expire_history();
    let token = first.metadata.continue_.unwrap();
    let e = api_error(
        api.list(&ListParams::default().limit(1).continue_token(&token))
            .await
            .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (410, "Expired"));
    assert_eq!(
        e.message,
        "The provided continue parameter is too old to display a consistent list result. \
         You can start a new list without the continue parameter, or use the continue token \
         in this response to retrieve the remainder of the results. Continuing with the \
         provided token results in an inconsistent list - objects that were created, \
         modified, or deleted between the time the first chunk was returned and now may \
         show up in the list."
    );
}

#[tokio::test]
async fn a_continue_token_refuses_a_resource_version_and_garbage() {
    let f = start().await;
    let api: Api<ConfigMap> = Api::namespaced(f.client.clone(), "default");
    for n in ["a", "b"] {
        api.create(&PostParams::default(), &cm(n, "1"))
            .await
            .unwrap();
    }
    let first = api.list(&ListParams::default().limit(1)).await.unwrap();
    let token = first.metadata.continue_.unwrap();
    let rv = first.metadata.resource_version.unwrap();
    // kube-rs leaves resourceVersion out beside a continue token; kubectl-like raw GET.
    let req = axum::http::Request::get(format!(
        "/api/v1/namespaces/default/configmaps?limit=1&continue={token}&resourceVersion={rv}"
    ))
    .body(Vec::new())
    .unwrap();
    let e = api_error(
        f.client
            .request::<serde_json::Value>(req)
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 400);
    assert_eq!(
        e.message,
        "specifying resource version is not allowed when using continue"
    );
    let e = api_error(
        api.list(&ListParams::default().continue_token("default/a"))
            .await
            .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (400, "BadRequest"));
    assert!(
        e.message.starts_with("invalid continue token"),
        "{}",
        e.message
    );
}

/// A small deterministic generator: runs differ, failures replay.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn versions<'a>(objs: impl Iterator<Item = &'a ConfigMap>) -> BTreeMap<String, String> {
    objs.map(|o| {
        (
            o.metadata.name.clone().unwrap_or_default(),
            o.metadata.resource_version.clone().unwrap_or_default(),
        )
    })
    .collect()
}

#[tokio::test]
async fn a_paging_watcher_ends_with_exactly_the_servers_objects_while_others_write() {
    let f = start().await;
    for run in 0..16u64 {
        let ns = format!("run-{run}");
        f.server.create_namespace(&ns).unwrap();
        let api: Api<ConfigMap> = Api::namespaced(f.client.clone(), &ns);
        let mut rng = Lcg(run + 1);
        let mut exists = [false; 24];
        for (k, e) in exists.iter_mut().enumerate() {
            if rng.below(2) == 0 {
                api.create(&PostParams::default(), &cm(&format!("cm-{k}"), "0"))
                    .await
                    .unwrap();
                *e = true;
            }
        }
        let writer = {
            let api = api.clone();
            tokio::spawn(async move {
                for step in 0..48 {
                    let k = rng.below(exists.len() as u64) as usize;
                    let name = format!("cm-{k}");
                    if !exists[k] {
                        api.create(&PostParams::default(), &cm(&name, "0"))
                            .await
                            .unwrap();
                        exists[k] = true;
                    } else if rng.below(3) == 0 {
                        api.delete(&name, &DeleteParams::default()).await.unwrap();
                        exists[k] = false;
                    } else {
                        let patch = Patch::Merge(json!({"data": {"k": step.to_string()}}));
                        api.patch(&name, &PatchParams::default(), &patch)
                            .await
                            .unwrap();
                    }
                }
            })
        };
        let semantic = if run % 2 == 0 {
            ListSemantic::Any
        } else {
            ListSemantic::MostRecent
        };
        let config = watcher::Config::default()
            .page_size(2)
            .list_semantic(semantic);
        let (reader, store) = reflector::store::<ConfigMap>();
        let reflect = tokio::spawn(
            reflector(store, watcher(api.clone(), config))
                .default_backoff()
                .for_each(|_| async {}),
        );
        writer.await.unwrap();
        let server = versions(api.list(&ListParams::default()).await.unwrap().items.iter());
        eventually(
            5,
            &format!("run {run}: the watcher's store equals the server"),
            || {
                let seen = versions(reader.state().iter().map(|o| o.as_ref()));
                let server = server.clone();
                async move { (seen == server).then_some(()) }
            },
        )
        .await;
        reflect.abort();
    }
}
