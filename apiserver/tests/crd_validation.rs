//! Invalid CRDs are refused with 422, as apiextensions-apiserver's
//! `ValidateCustomResourceDefinition` (pkg/apis/apiextensions/validation/validation.go):
//! exactly one storage version, a schema per version, a structural schema, CEL rules that
//! compile — on create and on update.

mod common;

use common::{api_error, start};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, PostParams};
use serde_json::{Value, json};

fn gadget_crd(versions: Value) -> CustomResourceDefinition {
    serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.test.charter.dev"},
        "spec": {
            "group": "test.charter.dev",
            "scope": "Namespaced",
            "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
            "versions": versions,
        }
    }))
    .expect("a CRD")
}

fn version(name: &str, storage: bool, schema: Value) -> Value {
    json!({"name": name, "served": true, "storage": storage, "schema": {"openAPIV3Schema": schema}})
}

fn good_schema() -> Value {
    json!({"type": "object", "properties": {"spec": {"type": "object",
        "properties": {"size": {"type": "integer"}},
        "x-kubernetes-validations": [{"rule": "self.size >= 0"}]}}})
}

async fn refused(client: &kube::Client, versions: Value) -> String {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let e = api_error(
        crds.create(&PostParams::default(), &gadget_crd(versions))
            .await
            .expect_err("an invalid CRD is refused"),
    );
    assert_eq!(e.code, 422, "{}", e.message);
    assert_eq!(e.reason, "Invalid");
    e.message
}

#[tokio::test]
async fn not_exactly_one_storage_version_is_refused() {
    let fx = start().await;
    let two = json!([
        version("v1", true, good_schema()),
        version("v2", true, good_schema())
    ]);
    let m = refused(&fx.client, two).await;
    assert!(
        m.contains("spec.versions: Invalid value: ")
            && m.contains("must have exactly one version marked as storage version"),
        "{m}"
    );
    let none = json!([version("v1", false, good_schema())]);
    let m = refused(&fx.client, none).await;
    assert!(
        m.contains("must have exactly one version marked as storage version"),
        "{m}"
    );
}

#[tokio::test]
async fn a_version_without_a_schema_is_refused() {
    let fx = start().await;
    let m = refused(
        &fx.client,
        json!([{"name": "v1", "served": true, "storage": true}]),
    )
    .await;
    assert!(
        m.contains("spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required"),
        "{m}"
    );
}

#[tokio::test]
async fn a_schema_that_is_not_structural_is_refused() {
    let fx = start().await;
    let m = refused(
        &fx.client,
        json!([version(
            "v1",
            true,
            json!({"properties": {"spec": {"type": "object"}}})
        )]),
    )
    .await;
    assert!(
        m.contains("spec.versions[0].schema.openAPIV3Schema.type: Required value: must not be empty at the root"),
        "{m}"
    );
    let m = refused(
        &fx.client,
        json!([version(
            "v1",
            true,
            json!({"type": "object", "properties": {"spec": {"description": "no type"}}})
        )]),
    )
    .await;
    assert!(
        m.contains("spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields"),
        "{m}"
    );
}

#[tokio::test]
async fn a_cel_rule_that_does_not_compile_is_refused_on_create_and_update() {
    let fx = start().await;
    let mut bad = good_schema();
    bad["properties"]["spec"]["x-kubernetes-validations"] = json!([{"rule": "self.size >="}]);
    let m = refused(&fx.client, json!([version("v1", true, bad.clone())])).await;
    assert!(
        m.contains("spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: Invalid value: ")
            && m.contains("compilation failed: "),
        "{m}"
    );

    // A valid CRD is accepted, and an update bringing the bad rule is refused.
    let crds: Api<CustomResourceDefinition> = Api::all(fx.client.clone());
    let created = crds
        .create(
            &PostParams::default(),
            &gadget_crd(json!([version("v1", true, good_schema())])),
        )
        .await
        .expect("a valid CRD is created");
    let mut next = gadget_crd(json!([version("v1", true, bad)]));
    next.metadata.resource_version = created.metadata.resource_version;
    let e = api_error(
        crds.replace("gadgets.test.charter.dev", &PostParams::default(), &next)
            .await
            .expect_err("the update is refused"),
    );
    assert_eq!(e.code, 422);
    assert!(e.message.contains("compilation failed: "), "{}", e.message);
}

#[tokio::test]
async fn a_rule_far_over_its_cost_budget_is_refused_and_a_bounded_one_accepted() {
    // apiextensions' per-rule StaticEstimatedCostLimit: a comprehension nested in another
    // over a list without maxItems is estimated at far more than 100 times the budget.
    let fx = start().await;
    let rule = json!([{"rule": "self.all(x, self.exists(y, x == y))"}]);
    let mut over = good_schema();
    over["properties"]["spec"]["properties"]["tags"] =
        json!({"type": "array", "items": {"type": "string"}, "x-kubernetes-validations": rule});
    let m = refused(&fx.client, json!([version("v1", true, over.clone())])).await;
    assert!(
        m.contains("spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[tags].x-kubernetes-validations[0].rule: Forbidden: estimated rule cost exceeds budget by factor of more than 100x (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)"),
        "{m}"
    );
    // The fix the message suggests: bound the list.
    let mut bounded = over;
    bounded["properties"]["spec"]["properties"]["tags"]["maxItems"] = json!(20);
    let crds: Api<CustomResourceDefinition> = Api::all(fx.client.clone());
    crds.create(
        &PostParams::default(),
        &gadget_crd(json!([version("v1", true, bounded)])),
    )
    .await
    .expect("with maxItems the rule is within budget");
}
