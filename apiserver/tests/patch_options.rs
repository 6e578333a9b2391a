//! PatchOptions validated as kube-apiserver's ValidatePatchOptions does, before the
//! object is read: `force` only for apply patches, a field manager required for them.

mod common;

use common::*;
use serde_json::{Value, json};

async fn patch(f: &Fixture, query: &str, content_type: &str, body: Value) -> kube::core::Status {
    let req = axum::http::Request::patch(format!(
        "/apis/test.charter.dev/v1/namespaces/default/widgets/w?{query}"
    ))
    .header("content-type", content_type)
    .body(serde_json::to_vec(&body).unwrap())
    .unwrap();
    api_error(f.client.request::<Value>(req).await.unwrap_err())
}

#[tokio::test]
async fn force_on_a_non_apply_patch_is_invalid() {
    let f = start().await;
    widgets(&f.client, "default")
        .create(&Default::default(), &widget("w", json!({})))
        .await
        .unwrap();
    for force in ["true", "false"] {
        let e = patch(
            &f,
            &format!("force={force}&fieldManager=m"),
            "application/merge-patch+json",
            json!({"spec": {"size": 2}}),
        )
        .await;
        assert_eq!((e.code, e.reason.as_str()), (422, "Invalid"));
        assert_eq!(
            e.message,
            "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch"
        );
    }
}

#[tokio::test]
async fn an_apply_patch_needs_a_field_manager() {
    let f = start().await;
    let e = patch(
        &f,
        "force=true",
        "application/apply-patch+yaml",
        json!({"apiVersion": "test.charter.dev/v1", "kind": "Widget", "metadata": {"name": "w"}}),
    )
    .await;
    assert_eq!((e.code, e.reason.as_str()), (422, "Invalid"));
    assert_eq!(
        e.message,
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
    );
}

#[tokio::test]
async fn an_applied_object_must_name_the_requests_group_version_and_kind() {
    let f = start().await;
    for (body, shown) in [
        (json!({"metadata": {"name": "w"}}), "/, Kind="),
        (
            json!({"apiVersion": "test.charter.dev/v1", "kind": "Gadget", "metadata": {"name": "w"}}),
            "test.charter.dev/v1, Kind=Gadget",
        ),
        (
            json!({"apiVersion": "v1", "kind": "Widget", "metadata": {"name": "w"}}),
            "/v1, Kind=Widget",
        ),
    ] {
        let e = patch(&f, "fieldManager=m", "application/apply-patch+yaml", body).await;
        assert_eq!((e.code, e.reason.as_str()), (400, "BadRequest"));
        assert_eq!(e.message, format!("invalid object type: {shown}"));
    }
}
