//! ObjectMeta validation as kube-apiserver does it for every kind: names by the kind's
//! rule, label keys and values, and at most one controller ownerReference.

mod common;

use common::*;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

fn config_map(meta: serde_json::Value) -> ConfigMap {
    serde_json::from_value(json!({"metadata": meta, "data": {"k": "v"}})).unwrap()
}

#[tokio::test]
async fn a_name_that_is_not_a_dns_subdomain_is_invalid() {
    let f = start().await;
    let e = api_error(
        widgets(&f.client, "default")
            .create(&PostParams::default(), &widget("Bad_Name", json!({})))
            .await
            .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (422, "Invalid"));
    assert_eq!(
        e.message,
        "Widget.test.charter.dev \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": \
         a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', \
         and must start and end with an alphanumeric character (e.g. 'example.com', regex used for \
         validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    );
    let cms: Api<ConfigMap> = Api::namespaced(f.client.clone(), "default");
    let e = api_error(
        cms.create(&PostParams::default(), &config_map(json!({"name": "a_b"})))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 422);
}

#[tokio::test]
async fn a_namespace_name_must_be_a_dns_label() {
    let f = start().await;
    let api: Api<Namespace> = Api::all(f.client.clone());
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": "has.dot"}})).unwrap();
    let e = api_error(api.create(&PostParams::default(), &ns).await.unwrap_err());
    assert_eq!(e.code, 422);
    assert!(
        e.message.starts_with(
            "Namespace \"has.dot\" is invalid: metadata.name: Invalid value: \"has.dot\": a lowercase RFC 1123 label must consist of"
        ),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn a_label_value_longer_than_63_characters_is_invalid_on_create_and_patch() {
    let f = start().await;
    let api: Api<ConfigMap> = Api::namespaced(f.client.clone(), "default");
    let long = "v".repeat(70);
    let e = api_error(
        api.create(
            &PostParams::default(),
            &config_map(json!({"name": "c", "labels": {"team": long}})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e.code, 422);
    assert_eq!(
        e.message,
        format!(
            "ConfigMap \"c\" is invalid: metadata.labels: Invalid value: \"{long}\": must be no more than 63 bytes"
        )
    );
    api.create(&PostParams::default(), &config_map(json!({"name": "c"})))
        .await
        .unwrap();
    let e = api_error(
        api.patch(
            "c",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"team": long}}})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e.code, 422);
}

#[tokio::test]
async fn only_one_owner_reference_may_be_the_controller() {
    let f = start().await;
    let api: Api<ConfigMap> = Api::namespaced(f.client.clone(), "default");
    let owner = |kind: &str, name: &str| {
        json!({"apiVersion": "v1", "kind": kind, "name": name,
               "uid": "00000000-0000-0000-0000-000000000001", "controller": true})
    };
    let e = api_error(
        api.create(
            &PostParams::default(),
            &config_map(
                json!({"name": "c", "ownerReferences": [owner("A", "x"), owner("B", "y")]}),
            ),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e.code, 422);
    assert!(
        e.message.contains("Only one reference can have Controller set to true. Found \"true\" in references for A/x and B/y"),
        "{}",
        e.message
    );
    api.create(
        &PostParams::default(),
        &config_map(json!({"name": "c", "ownerReferences": [owner("A", "x")]})),
    )
    .await
    .unwrap();
}
