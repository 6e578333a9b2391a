//! The families' own printers, as `kubectl get` shows them.

use super::builtins;
use crate::resource::ResourceInfo;
use crate::table::to_table;
use chrono::{DateTime, Utc};
use serde_json::json;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-10T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn kind(group: &str, kind: &str) -> ResourceInfo {
    builtins()
        .into_iter()
        .find(|i| i.group == group && i.kind == kind)
        .expect("a built-in kind")
}

#[test]
fn config_maps_and_namespaces_print_their_own_columns() {
    let o = json!({"metadata": {"name": "a", "creationTimestamp": "2026-01-10T11:59:50Z"}, "data": {"x": "1", "y": "2"}});
    let cm = to_table(
        &kind("", "ConfigMap"),
        std::slice::from_ref(&o),
        json!({}),
        now(),
    );
    assert_eq!(cm["rows"][0]["cells"], json!(["a", 2, "10s"]));
    let ns = to_table(&kind("", "Namespace"), &[o], serde_json::Value::Null, now());
    assert_eq!(ns["rows"][0]["cells"], json!(["a", "Active", "10s"]));
    assert_eq!(ns["metadata"], json!({}));
    let gone = json!({"metadata": {"name": "g", "deletionTimestamp": "2026-01-10T11:59:50Z"}});
    let ns = to_table(&kind("", "Namespace"), &[gone], json!({}), now());
    assert_eq!(ns["rows"][0]["cells"][1], "Terminating");
}

#[test]
fn crd_list_shows_created_at() {
    let info = kind("apiextensions.k8s.io", "CustomResourceDefinition");
    let o = json!({"metadata": {"name": "services.catalog.charter.dev", "creationTimestamp": "2026-01-10T11:59:50Z"}});
    let t = to_table(&info, &[o], json!({}), now());
    assert_eq!(t["columnDefinitions"][1]["name"], "Created At");
    assert_eq!(
        t["rows"][0]["cells"],
        json!(["services.catalog.charter.dev", "2026-01-10T11:59:50Z"])
    );
}

#[test]
fn event_columns() {
    let info = kind("events.k8s.io", "Event");
    let e = json!({"metadata": {"name": "e1"}, "type": "Normal", "reason": "Synced", "note": "all good",
        "regarding": {"kind": "Service", "name": "p1"}, "eventTime": "2026-01-10T11:00:00.000000Z"});
    let t = to_table(&info, &[e], json!({}), now());
    assert_eq!(
        t["rows"][0]["cells"],
        json!(["60m", "Normal", "Synced", "service/p1", "all good"])
    );
}

#[test]
fn builtin_document() {
    let rs = vec![kind("", "ConfigMap"), kind("", "Namespace")];
    let doc = crate::openapi::group_version(&rs, "", "v1").unwrap();
    let cm = &doc["components"]["schemas"]["io.k8s.api.core.v1.ConfigMap"];
    assert_eq!(
        cm["x-kubernetes-group-version-kind"][0],
        json!({"group": "", "version": "v1", "kind": "ConfigMap"})
    );
    assert_eq!(cm["properties"]["data"]["type"], "object");
    assert!(doc["paths"]["/api/v1/namespaces/{name}"]["patch"].is_object());
    assert!(doc["paths"]["/api/v1/namespaces/{namespace}/configmaps/{name}"]["patch"].is_object());
}
