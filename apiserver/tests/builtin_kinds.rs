//! Built-in kinds validated as their registry strategies and typed decoder do it
//! (pkg/apis/core/validation ValidateConfigMap, coordination ValidateLease, the JSON
//! decoder's type errors), which of them carry `metadata.generation`, and strict
//! decoding of ObjectMeta.

mod common;

use common::*;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::GroupVersionKind;
use serde_json::{Value, json};

fn dynamic(
    client: &kube::Client,
    group: &str,
    version: &str,
    kind: &str,
    plural: &str,
) -> Api<DynamicObject> {
    let ar =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
    Api::namespaced_with(client.clone(), "default", &ar)
}

fn config_maps(client: &kube::Client) -> Api<DynamicObject> {
    dynamic(client, "", "v1", "ConfigMap", "configmaps")
}

fn leases(client: &kube::Client) -> Api<DynamicObject> {
    dynamic(client, "coordination.k8s.io", "v1", "Lease", "leases")
}

fn object(api_version: &str, kind: &str, name: &str, rest: Value) -> DynamicObject {
    let mut o = json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name}});
    for (k, v) in rest.as_object().unwrap() {
        o[k] = v.clone();
    }
    serde_json::from_value(o).unwrap()
}

fn cm(name: &str, rest: Value) -> DynamicObject {
    object("v1", "ConfigMap", name, rest)
}

async fn create_error(api: &Api<DynamicObject>, o: &DynamicObject) -> kube::core::Status {
    api_error(api.create(&PostParams::default(), o).await.unwrap_err())
}

#[tokio::test]
async fn config_map_data_values_must_be_strings_as_the_decoder_says() {
    let f = start().await;
    let e = create_error(&config_maps(&f.client), &cm("c", json!({"data": {"a": 1}}))).await;
    assert_eq!((e.code, e.reason.as_str()), (400, "BadRequest"));
    assert_eq!(
        e.message,
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data of type string"
    );
    let e = create_error(
        &config_maps(&f.client),
        &cm("c", json!({"binaryData": {"a": "ab!d"}})),
    )
    .await;
    assert_eq!(e.code, 400);
    assert_eq!(
        e.message,
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: illegal base64 data at input byte 2"
    );
}

#[tokio::test]
async fn config_map_keys_must_be_valid_config_keys() {
    let f = start().await;
    let e = create_error(
        &config_maps(&f.client),
        &cm("c", json!({"data": {"bad/key": "v"}})),
    )
    .await;
    assert_eq!((e.code, e.reason.as_str()), (422, "Invalid"));
    assert_eq!(
        e.message,
        "ConfigMap \"c\" is invalid: data[bad/key]: Invalid value: \"bad/key\": a valid config key must consist of \
         alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for \
         validation is '[-._a-zA-Z0-9]+')"
    );
    let e = create_error(
        &config_maps(&f.client),
        &cm(
            "c",
            json!({"data": {"a": "x"}, "binaryData": {"a": "eA=="}}),
        ),
    )
    .await;
    assert_eq!(
        e.message,
        "ConfigMap \"c\" is invalid: data[a]: Invalid value: \"a\": duplicate of key present in binaryData"
    );
    config_maps(&f.client)
        .create(
            &PostParams::default(),
            &cm(
                "ok",
                json!({"data": {"app.properties": "x", "KEY_NAME-1": "y"}}),
            ),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn a_config_map_over_one_mebibyte_is_too_long_on_create_and_on_patch() {
    let f = start().await;
    let api = config_maps(&f.client);
    let big = "x".repeat(600 * 1024);
    let e = create_error(&api, &cm("big", json!({"data": {"a": big, "b": big}}))).await;
    assert_eq!((e.code, e.reason.as_str()), (422, "Invalid"));
    assert_eq!(
        e.message,
        "ConfigMap \"big\" is invalid: []: Too long: must have at most 1048576 bytes"
    );
    // Exactly 1 MiB of values fits; keys do not count.
    let exact = "x".repeat(1024 * 1024 - 1);
    api.create(
        &PostParams::default(),
        &cm("big", json!({"data": {"a": exact, "b": "y"}})),
    )
    .await
    .unwrap();
    let e = api_error(
        api.patch(
            "big",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"c": "z"}})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e.code, 422);
}

#[tokio::test]
async fn an_immutable_config_map_keeps_its_data() {
    let f = start().await;
    let api = config_maps(&f.client);
    api.create(
        &PostParams::default(),
        &cm("frozen", json!({"data": {"a": "1"}, "immutable": true})),
    )
    .await
    .unwrap();
    let e = api_error(
        api.patch(
            "frozen",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"a": "2"}})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(
        e.message,
        "ConfigMap \"frozen\" is invalid: data: Forbidden: field is immutable when `immutable` is set"
    );
    // Metadata stays writable.
    api.patch(
        "frozen",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn lease_spec_fields_have_their_types_and_ranges() {
    let f = start().await;
    let api = leases(&f.client);
    let lease = |spec: Value| {
        object(
            "coordination.k8s.io/v1",
            "Lease",
            "l",
            json!({"spec": spec}),
        )
    };
    let e = create_error(&api, &lease(json!({"leaseDurationSeconds": "fifteen"}))).await;
    assert_eq!((e.code, e.reason.as_str()), (400, "BadRequest"));
    assert_eq!(
        e.message,
        "Lease in version \"v1\" cannot be handled as a Lease: json: cannot unmarshal string into Go struct field LeaseSpec.spec.leaseDurationSeconds of type int32"
    );
    let e = create_error(&api, &lease(json!({"holderIdentity": 7}))).await;
    assert_eq!(e.code, 400);
    let e = create_error(&api, &lease(json!({"leaseDurationSeconds": 0}))).await;
    assert_eq!(
        e.message,
        "Lease.coordination.k8s.io \"l\" is invalid: spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"
    );
    api.create(
        &PostParams::default(),
        &lease(json!({"holderIdentity": "a", "leaseDurationSeconds": 15, "renewTime": "2026-01-01T00:00:00.000000Z"})),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn config_maps_leases_and_namespaces_carry_no_generation() {
    let f = start().await;
    let api = config_maps(&f.client);
    let c = api
        .create(
            &PostParams::default(),
            &cm("c", json!({"data": {"a": "1"}})),
        )
        .await
        .unwrap();
    assert_eq!(c.metadata.generation, None);
    let c = api
        .patch(
            "c",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"a": "2"}})),
        )
        .await
        .unwrap();
    assert_eq!(c.metadata.generation, None);
    let l = leases(&f.client)
        .create(
            &PostParams::default(),
            &object(
                "coordination.k8s.io/v1",
                "Lease",
                "l",
                json!({"spec": {"holderIdentity": "a"}}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(l.metadata.generation, None);
    let nss: Api<DynamicObject> = Api::all_with(
        f.client.clone(),
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("", "v1", "Namespace"),
            "namespaces",
        ),
    );
    let ns = nss
        .create(
            &PostParams::default(),
            &object("v1", "Namespace", "team-a", json!({})),
        )
        .await
        .unwrap();
    assert_eq!(ns.metadata.generation, None);
    // A deleting ConfigMap gets its deletionTimestamp, still without a generation.
    api.patch(
        "c",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": ["example.com/hold"]}})),
    )
    .await
    .unwrap();
    api.delete("c", &DeleteParams::default()).await.unwrap();
    let c = api.get("c").await.unwrap();
    assert!(c.metadata.deletion_timestamp.is_some());
    assert_eq!(c.metadata.generation, None);
    // Custom resources do carry one.
    let w = widgets(&f.client, "default")
        .create(&PostParams::default(), &widget("w", json!({})))
        .await
        .unwrap();
    assert_eq!(w.metadata.generation, Some(1));
}

#[tokio::test]
async fn unknown_metadata_fields_are_refused_under_strict_and_dropped_with_a_warning_otherwise() {
    let f = start().await;
    let api = config_maps(&f.client);
    let body = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c", "lables": {"a": "b"}}, "data": {"k": "v"}
    });
    let create = |path: &str, body: Value| {
        let req = axum::http::Request::post(path)
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&body).unwrap())
            .unwrap();
        f.client.request::<Value>(req)
    };
    let e = api_error(
        create(
            "/api/v1/namespaces/default/configmaps?fieldValidation=Strict",
            body.clone(),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (400, "BadRequest"));
    // The decoder's 400, as kube-apiserver words it (differential suite).
    assert_eq!(
        e.message,
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: unknown field \"metadata.lables\""
    );
    let e = api_error(
        create(
            "/apis/test.charter.dev/v1/namespaces/default/widgets?fieldValidation=Strict",
            json!({
                "apiVersion": "test.charter.dev/v1", "kind": "Widget",
                "metadata": {"name": "w", "lables": {"a": "b"}}, "spec": {}
            }),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(
        e.message,
        "Widget in version \"v1\" cannot be handled as a Widget: strict decoding error: unknown field \"metadata.lables\""
    );
    // Without Strict (the server's default is Warn) the field is dropped.
    let raw = create("/api/v1/namespaces/default/configmaps", body)
        .await
        .unwrap();
    assert!(raw["metadata"].get("lables").is_none(), "{raw}");
    let stored = api.get("c").await.unwrap();
    assert_eq!(stored.metadata.labels, None);
}
