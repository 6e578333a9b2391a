//! CRD validation ratcheting, as the Kubernetes docs describe it ("Validation ratcheting",
//! on by default since 1.30, GA in 1.33): after a CRD's rules tighten, an update that leaves
//! an invalid value unchanged is accepted, one that changes it is refused, and transition
//! rules (those reading `oldSelf`) are never ratcheted.

mod common;

use common::{api_error, start, widget, widget_crd, widgets};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

/// The test CRD with rules added after objects were stored.
async fn tighten(client: &kube::Client, spec_rules: Value) {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let mut crd = widget_crd();
    let schema = &mut crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"];
    schema["spec"]["x-kubernetes-validations"] = spec_rules;
    schema["status"]["properties"]["phase"]["x-kubernetes-validations"] =
        json!([{"rule": "self != 'Broken'", "message": "must not be Broken"}]);
    let current = crds.get("widgets.test.charter.dev").await.expect("the CRD");
    crd["metadata"]["resourceVersion"] = json!(current.metadata.resource_version);
    let crd: CustomResourceDefinition = serde_json::from_value(crd).expect("a CRD");
    crds.replace("widgets.test.charter.dev", &PostParams::default(), &crd)
        .await
        .expect("the CRD is updated");
}

fn status(phase: &str) -> Patch<Value> {
    Patch::Merge(json!({"status": {"phase": phase}}))
}

#[tokio::test]
async fn an_unchanged_invalid_value_is_ratcheted_and_a_changed_one_is_refused() {
    let fx = start().await;
    let api = widgets(&fx.client, "default");
    api.create(
        &PostParams::default(),
        &widget("w", json!({"size": 5, "owner": "ann"})),
    )
    .await
    .expect("valid before the rules tighten");
    tighten(
        &fx.client,
        json!([{"rule": "self.size < 3", "message": "size must be below 3"}]),
    )
    .await;

    // The spec is unchanged: its rule's error is ratcheted; the status's own rule runs.
    let pp = PatchParams::default();
    api.patch_status("w", &pp, &status("Ready"))
        .await
        .expect("a status write leaves the invalid spec as it was");
    let refused = api_error(
        api.patch_status("w", &pp, &status("Broken"))
            .await
            .unwrap_err(),
    );
    assert_eq!(refused.code, 422);
    assert!(
        refused.message.contains("status.phase"),
        "{}",
        refused.message
    );
    assert!(
        refused.message.contains("must not be Broken"),
        "{}",
        refused.message
    );

    // Changing the spec (even another field of it) makes its rule count again.
    let refused = api_error(
        api.patch("w", &pp, &Patch::Merge(json!({"spec": {"owner": "bo"}})))
            .await
            .unwrap_err(),
    );
    assert_eq!(refused.code, 422);
    assert!(
        refused.message.contains("size must be below 3"),
        "{}",
        refused.message
    );
    api.patch(
        "w",
        &pp,
        &Patch::Merge(json!({"spec": {"size": 2, "owner": "bo"}})),
    )
    .await
    .expect("a spec that obeys the rule");
}

#[tokio::test]
async fn transition_rules_are_never_ratcheted() {
    let fx = start().await;
    let api = widgets(&fx.client, "default");
    api.create(
        &PostParams::default(),
        &widget("w", json!({"size": 1, "owner": "ann"})),
    )
    .await
    .expect("created");
    // A rule no unchanged value can pass: it runs on every update all the same.
    tighten(
        &fx.client,
        json!([{"rule": "self.size > oldSelf.size", "message": "size must grow"}]),
    )
    .await;
    let pp = PatchParams::default();
    let refused = api_error(
        api.patch(
            "w",
            &pp,
            &Patch::Merge(json!({"metadata": {"labels": {"a": "b"}}})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(refused.code, 422);
    assert!(
        refused.message.contains("size must grow"),
        "{}",
        refused.message
    );
    api.patch("w", &pp, &Patch::Merge(json!({"spec": {"size": 2}})))
        .await
        .expect("a growing size passes");
}
