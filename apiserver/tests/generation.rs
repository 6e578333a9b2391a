//! `metadata.generation` of custom resources, as apiextensions' strategy bumps it: with a
//! status subresource only spec changes count; without one any change outside metadata
//! (status included) does.

mod common;

use common::*;
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use serde_json::json;

fn gadget_crd() -> serde_json::Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.test.charter.dev"},
        "spec": {
            "group": "test.charter.dev",
            "scope": "Namespaced",
            "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
                    }
                }}
            }]
        }
    })
}

#[tokio::test]
async fn without_a_status_subresource_a_status_change_bumps_the_generation() {
    let f = start().await;
    f.server.install_crd_values(vec![gadget_crd()]).unwrap();
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("test.charter.dev", "v1", "Gadget"),
        "gadgets",
    );
    let api: Api<DynamicObject> = Api::namespaced_with(f.client.clone(), "default", &ar);
    let g: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "test.charter.dev/v1", "kind": "Gadget",
        "metadata": {"name": "g"}, "spec": {"size": 1}, "status": {"phase": "New"}
    }))
    .unwrap();
    let g = eventually(5, "gadgets served", || {
        let (api, g) = (api.clone(), g.clone());
        async move { api.create(&PostParams::default(), &g).await.ok() }
    })
    .await;
    assert_eq!(g.metadata.generation, Some(1));
    assert_eq!(g.data["status"]["phase"], "New", "status kept on create");
    let mut g = g;
    g.data["status"] = json!({"phase": "Ready"});
    let g = api.replace("g", &PostParams::default(), &g).await.unwrap();
    assert_eq!(g.data["status"]["phase"], "Ready");
    assert_eq!(g.metadata.generation, Some(2), "a status change bumps it");
    let g = api
        .patch(
            "g",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"a": "b"}}})),
        )
        .await
        .unwrap();
    assert_eq!(g.metadata.generation, Some(2), "a metadata change does not");
    let g = api
        .patch(
            "g",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"size": 2}})),
        )
        .await
        .unwrap();
    assert_eq!(g.metadata.generation, Some(3), "a spec change does");
}
