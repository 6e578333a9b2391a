//! The store keeps objects as their JSON, and a list or watch that selects nothing, or selects
//! by label only, sends that JSON as it is (a label selector reads the labels alone). These
//! tests hold those paths to the parsed one: a field selector that every object matches makes
//! the server parse each object, and the bytes must not differ.

mod common;

use common::*;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

async fn text(client: &kube::Client, path: &str) -> String {
    let req = axum::http::Request::get(path)
        .body(Vec::new())
        .unwrap_or_else(|e| panic!("request {path}: {e}"));
    client
        .request_text(req)
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

/// A field selector every seeded object matches: the server parses each object to judge it.
const ALL_FIELDS: &str = "metadata.namespace%3Ddefault";

/// The text as `serde_json` writes the `Value` it parses to: keys sorted, no whitespace.
fn rewritten(text: &str) -> String {
    let value: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    serde_json::to_string(&value).unwrap_or_default()
}

/// Widgets and ConfigMaps, all labelled `all=yes`; the resourceVersion before them.
async fn seed(f: &Fixture) -> String {
    let list = text(&f.client, "/api/v1/namespaces/default/configmaps").await;
    let list: Value = serde_json::from_str(&list).unwrap_or_default();
    let before = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let widgets = widgets(&f.client, "default");
    for (name, size) in [("a", 1), ("b", 2), ("c", 3)] {
        let mut w = widget(name, json!({"size": size, "owner": "ünïcode \"quoted\""}));
        w.metadata.labels = Some([("all".to_string(), "yes".to_string())].into());
        widgets
            .create(&PostParams::default(), &w)
            .await
            .unwrap_or_else(|e| panic!("create widget {name}: {e}"));
    }
    let cms: Api<ConfigMap> = Api::namespaced(f.client.clone(), "default");
    for name in ["x", "y"] {
        let cm = serde_json::from_value(json!({
            "metadata": {"name": name, "labels": {"all": "yes"}},
            "data": {"k": "v\n<&>"},
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        cms.create(&PostParams::default(), &cm)
            .await
            .unwrap_or_else(|e| panic!("create configmap {name}: {e}"));
    }
    before
}

#[tokio::test]
async fn a_list_served_from_stored_json_is_the_list_the_parsed_objects_make() {
    let f = start().await;
    seed(&f).await;
    for path in [
        "/apis/test.charter.dev/v1/namespaces/default/widgets",
        "/apis/test.charter.dev/v1/widgets",
        "/api/v1/namespaces/default/configmaps",
    ] {
        let stored = text(&f.client, path).await;
        let labelled = text(&f.client, &format!("{path}?labelSelector=all%3Dyes")).await;
        let parsed = text(&f.client, &format!("{path}?fieldSelector={ALL_FIELDS}")).await;
        assert_eq!(stored, labelled, "{path}");
        assert_eq!(stored, parsed, "{path}");
        let none = text(&f.client, &format!("{path}?labelSelector=all%3Dno")).await;
        let none: Value = serde_json::from_str(&none).unwrap_or_default();
        assert_eq!(none["items"], json!([]), "{path}");
        assert_eq!(stored, rewritten(&stored), "{path}");
        let list: Value = serde_json::from_str(&stored).unwrap_or_default();
        let items = list["items"].as_array().cloned().unwrap_or_default();
        assert!(items.len() >= 2, "{path}: {stored}");
        // A typed list's items carry no apiVersion and kind; a custom resource list's do.
        let custom = path.starts_with("/apis/");
        assert!(
            items.iter().all(|i| i.get("kind").is_some() == custom),
            "{path}: {stored}"
        );
        let paged = text(&f.client, &format!("{path}?limit=1")).await;
        let paged: Value = serde_json::from_str(&paged).unwrap_or_default();
        assert_eq!(paged["items"][0], items[0], "{path}");
        assert!(paged["metadata"]["continue"].is_string(), "{path}");
    }
}

#[tokio::test]
async fn a_watch_sends_the_stored_json_as_a_selecting_watch_sends_the_parsed_object() {
    let f = start().await;
    let from = seed(&f).await;
    widgets(&f.client, "default")
        .patch(
            "b",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"size": 20}})),
        )
        .await
        .unwrap_or_else(|e| panic!("patch: {e}"));
    for path in [
        "/apis/test.charter.dev/v1/namespaces/default/widgets",
        "/api/v1/namespaces/default/configmaps",
    ] {
        let watch = |selector: &str| {
            format!("{path}?watch=true&timeoutSeconds=1&resourceVersion={from}{selector}")
        };
        let initial = |selector: &str| {
            format!(
                "{path}?watch=true&timeoutSeconds=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true{selector}"
            )
        };
        let labels = "&labelSelector=all%3Dyes";
        let fields = format!("&fieldSelector={ALL_FIELDS}");
        for [stored, labelled, parsed] in [
            [watch(""), watch(labels), watch(&fields)],
            [initial(""), initial(labels), initial(&fields)],
        ] {
            let stored = text(&f.client, &stored).await;
            let labelled = text(&f.client, &labelled).await;
            let parsed = text(&f.client, &parsed).await;
            assert_eq!(stored, labelled, "{path}");
            assert_eq!(stored, parsed, "{path}");
            assert!(!stored.is_empty(), "{path}: no events");
            for line in stored.lines() {
                let event: Value = serde_json::from_str(line).unwrap_or_default();
                let object = serde_json::to_string(&event["object"]).unwrap_or_default();
                assert!(line.contains(&object), "{path}: {line}");
            }
        }
    }
}

#[tokio::test]
async fn core_v1_events_are_converted_for_a_watch_even_when_nothing_is_selected() {
    let f = start().await;
    let from = seed(&f).await;
    let event = json!({
        "apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": {"name": "e1", "namespace": "default"},
        "eventTime": "2026-12-07T10:00:00.000000Z",
        "reportingController": "test", "reportingInstance": "test-1",
        "action": "Test", "reason": "Tested", "type": "Normal", "note": "it works",
        "regarding": {"kind": "ConfigMap", "namespace": "default", "name": "x"},
    });
    let req = axum::http::Request::post("/apis/events.k8s.io/v1/namespaces/default/events")
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&event).unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}"));
    f.client
        .request::<Value>(req)
        .await
        .unwrap_or_else(|e| panic!("create event: {e}"));
    for (path, api_version, field) in [
        ("/api/v1/namespaces/default/events", "v1", "involvedObject"),
        (
            "/apis/events.k8s.io/v1/namespaces/default/events",
            "events.k8s.io/v1",
            "regarding",
        ),
    ] {
        let watched = text(
            &f.client,
            &format!("{path}?watch=true&timeoutSeconds=1&resourceVersion={from}"),
        )
        .await;
        let objects: Vec<Value> = watched
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap_or_default()["object"].clone())
            .collect();
        assert_eq!(objects.len(), 1, "{path}: {watched}");
        assert_eq!(objects[0]["apiVersion"], api_version, "{path}: {watched}");
        assert_eq!(objects[0][field]["name"], "x", "{path}: {watched}");
    }
}
