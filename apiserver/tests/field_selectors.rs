//! Field selectors as kube-apiserver's field label conversion allows them: metadata.name
//! and metadata.namespace, the kind's own fields (Namespace status.phase), a CRD version's
//! `selectableFields`; any other label is 400 `field label not supported: <label>`.

mod common;

use common::*;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, ListParams, PostParams};
use serde_json::json;

#[tokio::test]
async fn an_unsupported_field_label_is_a_bad_request_on_list_and_watch() {
    let f = start().await;
    let cms: Api<ConfigMap> = Api::namespaced(f.client.clone(), "default");
    let e = api_error(
        cms.list(&ListParams::default().fields("data.k=v"))
            .await
            .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (400, "BadRequest"));
    assert_eq!(e.message, "field label not supported: data.k");
    let e = api_error(
        widgets(&f.client, "default")
            .list(&ListParams::default().fields("spec.size=1"))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.message, "field label not supported: spec.size");
    let watch = cms
        .watch(&kube::api::WatchParams::default().fields("spec.x=1"), "0")
        .await;
    assert_eq!(api_error(watch.err().expect("refused")).code, 400);
}

#[tokio::test]
async fn metadata_fields_namespace_phase_and_selectable_fields_are_supported() {
    let f = start().await;
    let cms: Api<ConfigMap> = Api::namespaced(f.client.clone(), "default");
    let list = cms
        .list(&ListParams::default().fields("metadata.name=x,metadata.namespace=default"))
        .await
        .unwrap();
    assert!(list.items.is_empty());
    let nss: Api<Namespace> = Api::all(f.client.clone());
    let active = nss
        .list(&ListParams::default().fields("status.phase=Active"))
        .await
        .unwrap();
    assert!(
        active
            .items
            .iter()
            .any(|n| n.metadata.name.as_deref() == Some("default"))
    );

    let mut crd = widget_crd();
    crd["metadata"]["name"] = json!("gadgets.test.charter.dev");
    crd["spec"]["names"] = json!({"plural": "gadgets", "singular": "gadget", "kind": "Gadget"});
    crd["spec"]["versions"][0]["selectableFields"] = json!([{"jsonPath": ".spec.color"}]);
    f.server.install_crd_values(vec![crd]).unwrap();
    let ar = kube::api::ApiResource::from_gvk_with_plural(
        &kube::api::GroupVersionKind::gvk("test.charter.dev", "v1", "Gadget"),
        "gadgets",
    );
    let gadgets: Api<kube::api::DynamicObject> =
        Api::namespaced_with(f.client.clone(), "default", &ar);
    for (name, color) in [("a", "red"), ("b", "green")] {
        let o = serde_json::from_value(json!({
            "apiVersion": "test.charter.dev/v1", "kind": "Gadget",
            "metadata": {"name": name}, "spec": {"color": color}
        }))
        .unwrap();
        gadgets.create(&PostParams::default(), &o).await.unwrap();
    }
    let red = gadgets
        .list(&ListParams::default().fields("spec.color=red"))
        .await
        .unwrap();
    let names: Vec<_> = red
        .items
        .iter()
        .filter_map(|o| o.metadata.name.clone())
        .collect();
    assert_eq!(names, vec!["a".to_string()]);
}
