//! Server-side apply merges lists and maps by their schema types, as the SSA docs' "Merge
//! strategy" and structured-merge-diff describe: sets per value, map lists per key, atomic
//! lists and maps as a whole; fields an applier stops applying are removed.

mod common;

use common::*;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use serde_json::{Value, json};

fn shelf_crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "shelves.test.charter.dev"},
        "spec": {
            "group": "test.charter.dev",
            "scope": "Namespaced",
            "names": {"plural": "shelves", "singular": "shelf", "kind": "Shelf"},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {
                        "tags": {"type": "array", "x-kubernetes-list-type": "set",
                                 "items": {"type": "string"}},
                        "items": {"type": "array", "x-kubernetes-list-type": "map",
                                  "x-kubernetes-list-map-keys": ["name"],
                                  "items": {"type": "object", "required": ["name"], "properties": {
                                      "name": {"type": "string"},
                                      "value": {"type": "integer"},
                                      "note": {"type": "string"}}}},
                        "rules": {"type": "array", "items": {"type": "string"}},
                        "config": {"type": "object",
                                   "additionalProperties": {"type": "string"}},
                        "selector": {"type": "object", "x-kubernetes-map-type": "atomic",
                                     "additionalProperties": {"type": "string"}}
                    }}
                }}}
            }]
        }
    })
}

async fn shelves() -> (Fixture, Api<DynamicObject>) {
    let f = start().await;
    f.server
        .install_crd_values(vec![shelf_crd()])
        .expect("CRD installs");
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("test.charter.dev", "v1", "Shelf"),
        "shelves",
    );
    let api = Api::namespaced_with(f.client.clone(), "default", &ar);
    (f, api)
}

fn shelf(spec: Value) -> Value {
    json!({"apiVersion": "test.charter.dev/v1", "kind": "Shelf",
           "metadata": {"name": "s"}, "spec": spec})
}

async fn apply(
    api: &Api<DynamicObject>,
    manager: &str,
    force: bool,
    obj: &Value,
) -> Result<Value, kube::core::Status> {
    let mut pp = PatchParams::apply(manager);
    pp.force = force;
    let name = obj["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    api.patch(&name, &pp, &Patch::Apply(obj))
        .await
        .map(|o| serde_json::to_value(o).expect("object"))
        .map_err(api_error)
}

fn fields_of(obj: &Value, manager: &str) -> Value {
    obj["metadata"]["managedFields"]
        .as_array()
        .and_then(|l| l.iter().find(|e| e["manager"] == manager))
        .map(|e| e["fieldsV1"].clone())
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn two_managers_on_a_set_list_each_keep_their_own_values() {
    let (_f, api) = shelves().await;
    apply(&api, "a", false, &shelf(json!({"tags": ["x", "y"]})))
        .await
        .unwrap();
    let both = apply(&api, "b", false, &shelf(json!({"tags": ["y", "z"]})))
        .await
        .unwrap();
    assert_eq!(both["spec"]["tags"], json!(["x", "y", "z"]));
    assert_eq!(
        fields_of(&both, "a"),
        json!({"f:spec": {"f:tags": {"v:\"x\"": {}, "v:\"y\"": {}}}})
    );
    // A stops applying its values: "x" goes, "y" stays because B applies it too.
    let out = apply(&api, "a", false, &shelf(json!({}))).await.unwrap();
    assert_eq!(out["spec"]["tags"], json!(["y", "z"]));
}

#[tokio::test]
async fn a_map_list_is_owned_per_key_and_conflicts_on_the_same_keys_field() {
    let (_f, api) = shelves().await;
    apply(
        &api,
        "a",
        false,
        &shelf(json!({"items": [{"name": "one", "value": 1}]})),
    )
    .await
    .unwrap();
    let both = apply(
        &api,
        "b",
        false,
        &shelf(json!({"items": [{"name": "two", "value": 2}]})),
    )
    .await
    .unwrap();
    assert_eq!(
        both["spec"]["items"],
        json!([{"name": "one", "value": 1}, {"name": "two", "value": 2}])
    );
    assert_eq!(
        fields_of(&both, "a"),
        json!({"f:spec": {"f:items": {"k:{\"name\":\"one\"}": {".": {}, "f:name": {}, "f:value": {}}}}})
    );
    // B sets another field of A's item: no conflict, the item is shared.
    let shared = apply(
        &api,
        "b",
        false,
        &shelf(json!({"items": [{"name": "two", "value": 2}, {"name": "one", "note": "n"}]})),
    )
    .await
    .unwrap();
    assert_eq!(
        shared["spec"]["items"][0],
        json!({"name": "one", "value": 1, "note": "n"})
    );
    // B changes A's value: a conflict named in structured-merge-diff's spelling.
    let e = apply(
        &api,
        "b",
        false,
        &shelf(json!({"items": [{"name": "one", "value": 9}]})),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, 409);
    assert_eq!(
        e.message,
        "Apply failed with 1 conflict: conflict with \"a\": .spec.items[name=\"one\"].value"
    );
    // A drops its item: the fields only A owned go, B's note keeps the item.
    let out = apply(&api, "a", false, &shelf(json!({}))).await.unwrap();
    assert_eq!(
        out["spec"]["items"],
        json!([{"name": "one", "note": "n"}, {"name": "two", "value": 2}])
    );
}

#[tokio::test]
async fn an_atomic_list_is_owned_and_replaced_as_a_whole() {
    let (_f, api) = shelves().await;
    let created = apply(&api, "a", false, &shelf(json!({"rules": ["r1", "r2"]})))
        .await
        .unwrap();
    assert_eq!(fields_of(&created, "a"), json!({"f:spec": {"f:rules": {}}}));
    let e = apply(&api, "b", false, &shelf(json!({"rules": ["r3"]})))
        .await
        .unwrap_err();
    assert_eq!(
        e.message,
        "Apply failed with 1 conflict: conflict with \"a\": .spec.rules"
    );
    let forced = apply(&api, "b", true, &shelf(json!({"rules": ["r3"]})))
        .await
        .unwrap();
    assert_eq!(forced["spec"]["rules"], json!(["r3"]));
    assert_eq!(
        fields_of(&forced, "a"),
        Value::Null,
        "a owns nothing any more"
    );
    assert_eq!(fields_of(&forced, "b"), json!({"f:spec": {"f:rules": {}}}));
}

#[tokio::test]
async fn an_atomic_map_is_replaced_and_a_granular_map_merged() {
    let (_f, api) = shelves().await;
    apply(
        &api,
        "a",
        false,
        &shelf(json!({"selector": {"app": "x", "tier": "web"}, "config": {"k1": "v1"}})),
    )
    .await
    .unwrap();
    let e = apply(&api, "b", false, &shelf(json!({"selector": {"app": "y"}})))
        .await
        .unwrap_err();
    assert_eq!(
        e.message,
        "Apply failed with 1 conflict: conflict with \"a\": .spec.selector"
    );
    let out = apply(
        &api,
        "b",
        true,
        &shelf(json!({"selector": {"app": "y"}, "config": {"k2": "v2"}})),
    )
    .await
    .unwrap();
    assert_eq!(out["spec"]["selector"], json!({"app": "y"}));
    assert_eq!(out["spec"]["config"], json!({"k1": "v1", "k2": "v2"}));
    assert_eq!(
        fields_of(&out, "b"),
        json!({"f:spec": {"f:config": {"f:k2": {}}, "f:selector": {}}})
    );
}

#[tokio::test]
async fn applying_an_empty_map_removes_the_fields_only_the_applier_owned() {
    let (_f, api) = shelves().await;
    apply(
        &api,
        "a",
        false,
        &shelf(json!({"config": {"x": "1", "y": "2"}})),
    )
    .await
    .unwrap();
    apply(
        &api,
        "b",
        false,
        &shelf(json!({"config": {"y": "2", "z": "3"}})),
    )
    .await
    .unwrap();
    let out = apply(&api, "a", false, &shelf(json!({"config": {}})))
        .await
        .unwrap();
    assert_eq!(out["spec"]["config"], json!({"y": "2", "z": "3"}));
    assert_eq!(fields_of(&out, "a"), json!({"f:spec": {"f:config": {}}}));
}

#[tokio::test]
async fn two_controllers_keep_their_finalizers_even_when_forcing() {
    let f = start().await;
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("", "v1", "ConfigMap"),
        "configmaps",
    );
    let api: Api<DynamicObject> = Api::namespaced_with(f.client.clone(), "default", &ar);
    let cm = |finalizers: Value| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "c", "finalizers": finalizers}, "data": {"k": "v"}})
    };
    apply(&api, "ctrl-a", true, &cm(json!(["a.io/cleanup"])))
        .await
        .unwrap();
    let both = apply(&api, "ctrl-b", true, &cm(json!(["b.io/cleanup"])))
        .await
        .unwrap();
    assert_eq!(
        both["metadata"]["finalizers"],
        json!(["a.io/cleanup", "b.io/cleanup"])
    );
    assert_eq!(
        fields_of(&both, "ctrl-b")["f:metadata"],
        json!({"f:finalizers": {"v:\"b.io/cleanup\"": {}}})
    );
    // A releases its finalizer; B's stays.
    let released = apply(
        &api,
        "ctrl-a",
        true,
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}}),
    )
    .await
    .unwrap();
    assert_eq!(released["metadata"]["finalizers"], json!(["b.io/cleanup"]));
}

#[tokio::test]
async fn kubectl_server_side_apply_keeps_both_finalizers_and_names_the_conflicting_item() {
    let (f, _api) = shelves().await;
    let Some(k) = test_programs::kubectl::Kubectl::for_users(&f.server, &["admin"]) else {
        return;
    };
    for (manager, finalizer) in [("ctrl-a", "a.io/cleanup"), ("ctrl-b", "b.io/cleanup")] {
        let file = k.file(
            &format!("{manager}.yaml"),
            &format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: default\n  finalizers: [{finalizer}]\n"
            ),
        );
        let path = file.to_string_lossy().into_owned();
        let flag = format!("--field-manager={manager}");
        k.ok(
            "admin",
            &[
                "apply",
                "--server-side",
                "--force-conflicts",
                &flag,
                "-f",
                &path,
            ],
        )
        .await;
    }
    let out = k
        .ok(
            "admin",
            &[
                "get",
                "configmap",
                "c",
                "-n",
                "default",
                "-o",
                "jsonpath={.metadata.finalizers}",
            ],
        )
        .await;
    assert_eq!(out, r#"["a.io/cleanup","b.io/cleanup"]"#);

    let shelf = |value: u32| {
        format!(
            "apiVersion: test.charter.dev/v1\nkind: Shelf\nmetadata:\n  name: s\n  namespace: default\nspec:\n  items:\n  - name: one\n    value: {value}\n"
        )
    };
    let first = k.file("a.yaml", &shelf(1)).to_string_lossy().into_owned();
    let second = k.file("b.yaml", &shelf(2)).to_string_lossy().into_owned();
    k.ok(
        "admin",
        &["apply", "--server-side", "--field-manager=a", "-f", &first],
    )
    .await;
    let r = k
        .run(
            "admin",
            &["apply", "--server-side", "--field-manager=b", "-f", &second],
        )
        .await;
    assert!(!r.ok);
    assert!(
        r.stderr.contains(
            r#"Apply failed with 1 conflict: conflict with "a": .spec.items[name="one"].value"#
        ),
        "{}",
        r.stderr
    );
}

#[tokio::test]
async fn an_applied_map_list_item_without_its_key_is_refused() {
    let (_f, api) = shelves().await;
    let e = apply(
        &api,
        "a",
        false,
        &shelf(json!({"items": [{"name": "one"}, {"value": 2}]})),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, 500);
    assert_eq!(
        e.message,
        "failed to create typed patch object (/s; test.charter.dev/v1, Kind=Shelf): .spec.items: element 1: associative list with keys has an element that omits key field \"name\" (and doesn't have default value)"
    );
}

#[tokio::test]
async fn an_update_owns_only_the_set_items_and_map_keys_it_changed() {
    // Updates record ownership with the same schema types as apply (the field manager's
    // update path type-converts the object with the CRD's schema): a merge patch adding one
    // tag owns that tag, not the list, so the applier's next apply does not conflict.
    let (_f, api) = shelves().await;
    apply(
        &api,
        "a",
        false,
        &shelf(json!({"tags": ["x"], "items": [{"name": "one", "value": 1}]})),
    )
    .await
    .unwrap();
    let pp = PatchParams {
        field_manager: Some("editor".into()),
        ..Default::default()
    };
    let patch = json!({"spec": {"tags": ["x", "y"], "items": [
        {"name": "one", "value": 1}, {"name": "two", "value": 2}]}});
    let edited = api.patch("s", &pp, &Patch::Merge(&patch)).await.unwrap();
    let edited = serde_json::to_value(edited).unwrap();
    assert_eq!(
        fields_of(&edited, "editor"),
        json!({"f:spec": {
            "f:items": {"k:{\"name\":\"two\"}": {".": {}, "f:name": {}, "f:value": {}}},
            "f:tags": {"v:\"y\"": {}}}})
    );
    let again = apply(
        &api,
        "a",
        false,
        &shelf(json!({"tags": ["x"], "items": [{"name": "one", "value": 1}]})),
    )
    .await
    .expect("no conflict: the editor owns only what it added");
    assert_eq!(again["spec"]["tags"], json!(["x", "y"]));
    assert_eq!(again["spec"]["items"].as_array().map(Vec::len), Some(2));
}
