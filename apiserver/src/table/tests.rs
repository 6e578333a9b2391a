//! Tables as `kubectl get` asks for them: the Accept header, ages, JSONPath, columns.

use super::*;
use crate::discovery::tests::crd_info;
use chrono::Duration;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-10T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn accept_header() {
    assert!(wants_table(
        "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
    ));
    assert!(wants_table(
        "application/json; as=Table; g=meta.k8s.io; v=v1"
    ));
    assert!(!wants_table("application/json"));
    assert!(!wants_table(
        "application/json;as=Table;v=v1beta1;g=meta.k8s.io"
    ));
    assert!(!wants_table(""));
}

#[test]
fn human_durations() {
    let h = |s: i64| human_duration(Duration::seconds(s));
    assert_eq!(h(-5), "<invalid>");
    assert_eq!(h(-1), "0s");
    assert_eq!(h(10), "10s");
    assert_eq!(h(119), "119s");
    assert_eq!(h(120), "2m");
    assert_eq!(h(200), "3m20s");
    assert_eq!(h(300), "5m");
    assert_eq!(h(60 * 100), "100m");
    assert_eq!(h(3600 * 3 + 60 * 5), "3h5m");
    assert_eq!(h(3600 * 30), "30h");
    assert_eq!(h(3600 * 51), "2d3h");
    assert_eq!(h(3600 * 24 * 3), "3d");
    assert_eq!(h(3600 * 24 * 400), "400d");
    assert_eq!(h(3600 * 24 * (365 * 2 + 10)), "2y10d");
    assert_eq!(h(3600 * 24 * 365 * 9), "9y");
}

#[test]
fn jsonpath_translation() {
    assert_eq!(to_rfc9535(".status.phase"), "$['status']['phase']");
    assert_eq!(
        to_rfc9535("{.metadata.annotations.a\\.b/c}"),
        "$['metadata']['annotations']['a.b/c']"
    );
    assert_eq!(
        to_rfc9535(".status.conditions[?(@.type==\"Ready\")].status"),
        "$['status']['conditions'][?(@.type==\"Ready\")]['status']"
    );
    assert_eq!(
        to_rfc9535(".spec.ports[0].port"),
        "$['spec']['ports'][0]['port']"
    );
    let o = json!({
        "metadata": {"annotations": {"a.b/c": "x"}, "labels": {"app-name": "web"}},
        "status": {"conditions": [{"type": "Synced", "status": "False"}, {"type": "Ready", "status": "True"}]},
        "spec": {"ports": [{"port": 80}]}
    });
    assert_eq!(
        find_first(&o, ".metadata.annotations.a\\.b/c"),
        Some(json!("x"))
    );
    assert_eq!(
        find_first(&o, ".metadata.labels.app-name"),
        Some(json!("web"))
    );
    assert_eq!(
        find_first(&o, ".status.conditions[?(@.type==\"Ready\")].status"),
        Some(json!("True"))
    );
    assert_eq!(
        find_first(&o, ".status.conditions[?(@.type=='Ready')].status"),
        Some(json!("True"))
    );
    assert_eq!(find_first(&o, ".spec.ports[0].port"), Some(json!(80)));
    assert_eq!(find_first(&o, ".status.phase"), None);
    assert_eq!(find_first(&o, "..port"), Some(json!(80)));
    assert_eq!(find_first(&o, "[[[bad"), None);
}

#[test]
fn crd_table() {
    let mut info = crd_info();
    info.printer_columns.push(PrinterColumn {
        name: "Replicas".into(),
        type_: "integer".into(),
        format: None,
        description: Some("wanted".into()),
        priority: 1,
        json_path: ".spec.replicas".into(),
    });
    let objs = vec![
        json!({"apiVersion": "catalog.charter.dev/v1alpha1", "kind": "Service",
            "metadata": {"name": "p1", "namespace": "default", "creationTimestamp": "2026-01-10T11:55:00Z"},
            "spec": {"replicas": 3},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}),
        json!({"metadata": {"name": "p2", "creationTimestamp": "2026-01-08T09:00:00Z"}}),
    ];
    let t = to_table(&info, &objs, json!({"resourceVersion": "7"}), now());
    assert_eq!(t["kind"], "Table");
    assert_eq!(t["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(t["metadata"]["resourceVersion"], "7");
    let names: Vec<&str> = t["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Name", "Phase", "Ready", "Age", "Replicas"]);
    assert_eq!(t["columnDefinitions"][0]["format"], "name");
    assert_eq!(t["columnDefinitions"][4]["priority"], 1);
    assert_eq!(
        t["rows"][0]["cells"],
        json!(["p1", "Running", "True", "5m", 3])
    );
    assert_eq!(
        t["rows"][1]["cells"],
        json!(["p2", null, null, "2d3h", null])
    );
    assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
    assert_eq!(t["rows"][0]["object"]["metadata"]["namespace"], "default");
}

#[test]
fn default_columns() {
    let mut info = crd_info();
    info.printer_columns.clear();
    let o = json!({"metadata": {"name": "a", "creationTimestamp": "2026-01-10T11:59:50Z"}, "data": {"x": "1", "y": "2"}});
    let t = to_table(&info, std::slice::from_ref(&o), json!({}), now());
    assert_eq!(t["columnDefinitions"][1]["name"], "Age");
    assert_eq!(t["columnDefinitions"][1]["type"], "date");
    assert_eq!(t["rows"][0]["cells"], json!(["a", "10s"]));
}

#[test]
fn include_object() {
    let info = crd_info();
    let o = json!({"apiVersion": "catalog.charter.dev/v1alpha1", "kind": "Service", "metadata": {"name": "a"}, "spec": {"owner": "x"}});
    let full = to_table_including(
        &info,
        std::slice::from_ref(&o),
        json!({}),
        now(),
        Some("Object"),
    );
    assert_eq!(full["rows"][0]["object"], o);
    let none = to_table_including(
        &info,
        std::slice::from_ref(&o),
        json!({}),
        now(),
        Some("None"),
    );
    assert!(none["rows"][0].get("object").is_none());
    let meta = to_table_including(&info, &[o], json!({}), now(), Some("Metadata"));
    assert_eq!(meta["rows"][0]["object"]["kind"], "PartialObjectMetadata");
}
