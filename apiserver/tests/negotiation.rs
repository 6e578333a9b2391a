//! Content negotiation as kubectl does it: aggregated discovery, Table responses,
//! the OpenAPI endpoints, and watch query strings starting with `&`.

mod common;

use common::*;
use kube::api::{Api, PostParams};
use serde_json::{Value, json};

async fn get(f: &Fixture, path: &str, accept: &str) -> (u16, String, Value) {
    let req = axum::http::Request::get(path)
        .header("accept", accept)
        .body(Vec::new())
        .unwrap();
    let resp = f
        .client
        .send(req.map(kube::client::Body::from))
        .await
        .unwrap();
    let code = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let bytes = axum::body::to_bytes(axum::body::Body::new(resp.into_body()), 1 << 24)
        .await
        .unwrap();
    let first_line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    (
        code,
        ct,
        serde_json::from_slice(first_line).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn aggregated_discovery_is_served_when_asked_for() {
    let f = start().await;
    let accept =
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
    let (code, ct, body) = get(&f, "/apis", accept).await;
    assert_eq!(code, 200);
    assert_eq!(
        ct,
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    );
    assert!(body.to_string().contains("test.charter.dev"));
    let (_, ct, _) = get(&f, "/apis", "application/json").await;
    assert_eq!(ct, "application/json");
}

#[tokio::test]
async fn tables_are_served_with_the_printer_columns() {
    let f = start().await;
    widgets(&f.client, "default")
        .create(&PostParams::default(), &widget("t", json!({"size": 7})))
        .await
        .unwrap();
    let accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
    let (code, ct, table) = get(
        &f,
        "/apis/test.charter.dev/v1/namespaces/default/widgets",
        accept,
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(ct, "application/json;as=Table;v=v1;g=meta.k8s.io");
    assert_eq!(table["kind"], "Table");
    assert!(
        table["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "Size")
    );
    assert_eq!(table["rows"].as_array().unwrap().len(), 1);
    let (_, _, one) = get(
        &f,
        "/apis/test.charter.dev/v1/namespaces/default/widgets/t",
        accept,
    )
    .await;
    assert_eq!(one["kind"], "Table");
}

#[tokio::test]
async fn openapi_v3_is_indexed_and_v2_is_not_served() {
    let f = start().await;
    let (code, _, index) = get(&f, "/openapi/v3", "application/json").await;
    assert_eq!(code, 200);
    assert!(
        index["paths"].get("apis/test.charter.dev/v1").is_some(),
        "{index}"
    );
    // A path no handler serves is the mux's plain-text 404, as kube-apiserver's (differential
    // suite); that v2 is not served at all is a listed deviation.
    let (code, content_type, _) = get(&f, "/openapi/v2", "application/json").await;
    assert_eq!(code, 404);
    assert!(content_type.starts_with("text/plain"), "{content_type}");
}

#[tokio::test]
async fn a_watch_query_may_start_with_an_ampersand() {
    let f = start().await;
    let api: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(f.client.clone(), "default");
    api.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "w"}})).unwrap(),
    )
    .await
    .unwrap();
    let (code, _, first) = get(
        &f,
        "/api/v1/namespaces/default/configmaps?&watch=true&timeoutSeconds=1",
        "application/json",
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(first["type"], "ADDED");
    assert_eq!(first["object"]["metadata"]["name"], "w");
}
