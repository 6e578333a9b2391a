//! The index and group-version documents kubectl reads.

use super::names::OBJECT_META;
use super::*;
use crate::discovery::tests::{core_info, crd_info};

#[test]
fn names() {
    assert_eq!(
        schema_name("catalog.charter.dev", "v1alpha1", "Service"),
        "dev.charter.catalog.v1alpha1.Service"
    );
    assert_eq!(
        schema_name("", "v1", "ConfigMap"),
        "io.k8s.api.core.v1.ConfigMap"
    );
    assert_eq!(
        schema_name("coordination.k8s.io", "v1", "Lease"),
        "io.k8s.api.coordination.v1.Lease"
    );
    assert_eq!(
        schema_name("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition"
    );
}

#[test]
fn index_is_stable_and_lists_all() {
    let rs = vec![core_info("ConfigMap", "configmaps", true), crd_info()];
    let a = index(&rs);
    let b = index(&rs);
    assert_eq!(a, b);
    let url = a["paths"]["apis/catalog.charter.dev/v1alpha1"]["serverRelativeURL"]
        .as_str()
        .unwrap();
    assert!(
        url.starts_with("/openapi/v3/apis/catalog.charter.dev/v1alpha1?hash="),
        "{url}"
    );
    assert!(
        a["paths"]["api/v1"]["serverRelativeURL"]
            .as_str()
            .unwrap()
            .starts_with("/openapi/v3/api/v1?hash=")
    );
    let mut changed = crd_info();
    changed.schema = Some(std::sync::Arc::new(json!({"type": "object"})));
    let c = index(&[core_info("ConfigMap", "configmaps", true), changed]);
    assert_ne!(
        c["paths"]["apis/catalog.charter.dev/v1alpha1"],
        a["paths"]["apis/catalog.charter.dev/v1alpha1"]
    );
}

#[test]
fn crd_document() {
    let rs = vec![crd_info()];
    let doc = group_version(&rs, "catalog.charter.dev", "v1alpha1").unwrap();
    assert_eq!(doc["openapi"], "3.0.0");
    let item =
        &doc["paths"]["/apis/catalog.charter.dev/v1alpha1/namespaces/{namespace}/services/{name}"];
    let patch = &item["patch"];
    assert_eq!(
        patch["x-kubernetes-group-version-kind"],
        json!({"group": "catalog.charter.dev", "version": "v1alpha1", "kind": "Service"})
    );
    assert!(
        patch["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "fieldValidation"
                && p["in"] == "query"
                && p["schema"]["type"] == "string")
    );
    let patch_types = patch["requestBody"]["content"].as_object().unwrap();
    assert!(patch_types.contains_key("application/merge-patch+json"));
    assert!(!patch_types.contains_key("application/strategic-merge-patch+json"));
    assert!(
        doc["paths"]["/apis/catalog.charter.dev/v1alpha1/namespaces/{namespace}/services"]["post"]
            .is_object()
    );
    assert!(doc["paths"]["/apis/catalog.charter.dev/v1alpha1/services"]["get"].is_object());
    assert!(doc["paths"]["/apis/catalog.charter.dev/v1alpha1/namespaces/{namespace}/services/{name}/status"]["patch"].is_object());
    let s = &doc["components"]["schemas"]["dev.charter.catalog.v1alpha1.Service"];
    assert_eq!(s["x-kubernetes-group-version-kind"][0]["kind"], "Service");
    assert_eq!(s["description"], "A catalogued service.");
    assert_eq!(s["properties"]["apiVersion"]["type"], "string");
    assert_eq!(s["properties"]["kind"]["type"], "string");
    assert_eq!(
        s["properties"]["metadata"]["allOf"][0]["$ref"],
        "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    );
    assert_eq!(s["properties"]["spec"]["required"], json!(["owner"]));
    assert!(doc["components"]["schemas"][OBJECT_META]["properties"]["name"].is_object());
    assert!(doc["components"]["schemas"]["dev.charter.catalog.v1alpha1.ServiceList"].is_object());
    assert!(group_version(&rs, "catalog.charter.dev", "v9").is_none());
}
