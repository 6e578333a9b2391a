//! PUT as the API conventions describe it: custom resources refuse unconditional updates,
//! a uid in the body is a precondition, and the body's namespace must be the URL's.

mod common;

use common::*;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use serde_json::json;

#[tokio::test]
async fn a_custom_resource_put_without_resource_version_is_invalid() {
    let f = start().await;
    let api = widgets(&f.client, "default");
    api.create(&PostParams::default(), &widget("w", json!({"size": 1})))
        .await
        .unwrap();
    let e = api_error(
        api.replace(
            "w",
            &PostParams::default(),
            &widget("w", json!({"size": 2})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (422, "Invalid"));
    assert_eq!(
        e.message,
        "Widget.test.charter.dev \"w\" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update"
    );
    // The same write with the stored resourceVersion goes through.
    let mut w = api.get("w").await.unwrap();
    w.data["spec"]["size"] = json!(2);
    let w = api.replace("w", &PostParams::default(), &w).await.unwrap();
    assert_eq!(w.data["spec"]["size"], json!(2));
}

#[tokio::test]
async fn a_config_map_put_without_resource_version_is_an_unconditional_update() {
    let f = start().await;
    let api: Api<ConfigMap> = Api::namespaced(f.client.clone(), "default");
    let cm = |v: &str| -> ConfigMap {
        serde_json::from_value(json!({"metadata": {"name": "c"}, "data": {"k": v}})).unwrap()
    };
    api.create(&PostParams::default(), &cm("1")).await.unwrap();
    let c = api
        .replace("c", &PostParams::default(), &cm("2"))
        .await
        .unwrap();
    assert_eq!(c.data.unwrap()["k"], "2");
}

#[tokio::test]
async fn a_put_with_another_uid_fails_its_precondition() {
    let f = start().await;
    let api = widgets(&f.client, "default");
    let w = api
        .create(&PostParams::default(), &widget("w", json!({"size": 1})))
        .await
        .unwrap();
    let uid = w.metadata.uid.clone().unwrap();
    let mut other = w.clone();
    other.metadata.uid = Some("00000000-0000-0000-0000-000000000000".into());
    let e = api_error(
        api.replace("w", &PostParams::default(), &other)
            .await
            .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        e.message,
        format!(
            "Operation cannot be fulfilled on widgets.test.charter.dev \"w\": Precondition failed: UID in precondition: 00000000-0000-0000-0000-000000000000, UID in object meta: {uid}"
        )
    );
}

#[tokio::test]
async fn a_put_whose_body_names_another_namespace_is_a_bad_request() {
    let f = start().await;
    f.server.create_namespace("other").unwrap();
    let api = widgets(&f.client, "default");
    let mut w = api
        .create(&PostParams::default(), &widget("w", json!({"size": 1})))
        .await
        .unwrap();
    w.metadata.namespace = Some("other".into());
    let e = api_error(
        api.replace("w", &PostParams::default(), &w)
            .await
            .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (400, "BadRequest"));
    assert_eq!(
        e.message,
        "the namespace of the provided object does not match the namespace sent on the request"
    );
}

#[tokio::test]
async fn a_create_with_a_resource_version_is_refused_as_etcd_refuses_it() {
    let f = start().await;
    let api: Api<ConfigMap> = Api::namespaced(f.client.clone(), "default");
    let cm: ConfigMap = serde_json::from_value(
        json!({"metadata": {"name": "c", "resourceVersion": "5"}, "data": {"k": "v"}}),
    )
    .unwrap();
    let e = api_error(api.create(&PostParams::default(), &cm).await.unwrap_err());
    assert_eq!(e.code, 500);
    assert_eq!(
        e.message,
        "resourceVersion should not be set on objects to be created"
    );
    assert!(api.get_opt("c").await.unwrap().is_none());
}
