use super::*;
use crate::error::ApiError;
use crate::patch::{PatchType, apply_patch};
use crate::resource::ResourceInfo;
use serde_json::{Value, json};

fn info(kind: &str, custom: bool, status_subresource: bool) -> ResourceInfo {
    ResourceInfo::for_tests(kind, custom, status_subresource)
}

fn apply(
    info: &ResourceInfo,
    current: Option<&Value>,
    applied: &Value,
    manager: &str,
    force: bool,
    sub: Option<&str>,
) -> Result<Value, ApiError> {
    server_side_apply(ApplyRequest {
        info,
        current,
        applied,
        manager,
        force,
        subresource: sub,
        now: "2026-01-01T00:00:00Z",
    })
}

fn entry<'a>(obj: &'a Value, manager: &str, op: &str) -> Option<&'a Value> {
    obj["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .find(|e| e["manager"] == manager && e["operation"] == op)
}

fn lease(holder: &str) -> Value {
    json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
           "metadata": {"name": "l", "namespace": "ns"},
           "spec": {"holderIdentity": holder, "leaseDurationSeconds": 10}})
}

#[test]
fn ssa_create_and_noop_reapply() {
    let i = info("Lease", false, false);
    let created = apply(&i, None, &lease("a"), "mgr-a", false, None).unwrap();
    assert_eq!(created["spec"]["holderIdentity"], "a");
    assert_eq!(created["metadata"]["name"], "l");
    let e = entry(&created, "mgr-a", "Apply").unwrap();
    assert_eq!(
        e["fieldsV1"],
        json!({"f:spec": {"f:holderIdentity": {}, "f:leaseDurationSeconds": {}}})
    );
    assert_eq!(e["fieldsType"], "FieldsV1");
    assert_eq!(e["apiVersion"], "coordination.k8s.io/v1");
    let again = server_side_apply(ApplyRequest {
        info: &i,
        current: Some(&created),
        applied: &lease("a"),
        manager: "mgr-a",
        force: false,
        subresource: None,
        now: "2026-02-02T00:00:00Z",
    })
    .unwrap();
    assert_eq!(
        again, created,
        "a no-op re-apply changes nothing, not even the time"
    );
}

#[test]
fn ssa_removes_omitted_fields() {
    let i = info("Lease", false, false);
    let mut applied = lease("a");
    applied["metadata"]["labels"] = json!({"app": "x"});
    let created = apply(&i, None, &applied, "mgr-a", false, None).unwrap();
    assert_eq!(created["metadata"]["labels"]["app"], "x");
    let out = apply(
        &i,
        Some(&created),
        &json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "l", "namespace": "ns"}, "spec": {"holderIdentity": "a"}}),
        "mgr-a",
        false,
        None,
    )
    .unwrap();
    assert!(out["spec"].get("leaseDurationSeconds").is_none());
    assert!(out["metadata"]["labels"].get("app").is_none());
    assert_eq!(
        entry(&out, "mgr-a", "Apply").unwrap()["fieldsV1"],
        json!({"f:spec": {"f:holderIdentity": {}}})
    );
}

#[test]
fn ssa_conflict_and_force() {
    let i = info("Lease", false, false);
    let created = apply(&i, None, &lease("a"), "mgr-a", false, None).unwrap();
    let err = apply(&i, Some(&created), &lease("b"), "mgr-b", false, None).unwrap_err();
    assert_eq!(err.code, 409);
    assert_eq!(err.reason, "Conflict");
    assert_eq!(
        err.message,
        "Apply failed with 1 conflict: conflict with \"mgr-a\": .spec.holderIdentity"
    );
    assert_eq!(err.causes.len(), 1);
    assert_eq!(err.causes[0].reason, "FieldManagerConflict");
    assert_eq!(err.causes[0].field, ".spec.holderIdentity");
    let forced = apply(&i, Some(&created), &lease("b"), "mgr-b", true, None).unwrap();
    assert_eq!(forced["spec"]["holderIdentity"], "b");
    assert_eq!(
        entry(&forced, "mgr-a", "Apply").unwrap()["fieldsV1"],
        json!({"f:spec": {"f:leaseDurationSeconds": {}}})
    );
    assert_eq!(
        entry(&forced, "mgr-b", "Apply").unwrap()["fieldsV1"],
        json!({"f:spec": {"f:holderIdentity": {}, "f:leaseDurationSeconds": {}}})
    );
    // Now a re-apply by A without force conflicts with B.
    let err = apply(&i, Some(&forced), &lease("a"), "mgr-a", false, None).unwrap_err();
    assert_eq!(err.code, 409);
}

#[test]
fn ssa_drops_the_maps_a_removal_leaves_empty() {
    let i = info("Lease", false, false);
    let mut with_nested = lease("a");
    with_nested["spec"]["extra"] = json!({"inner": {"x": 1, "y": "z"}});
    let created = apply(&i, None, &with_nested, "mgr-a", false, None).unwrap();
    let out = apply(&i, Some(&created), &lease("a"), "mgr-a", false, None).unwrap();
    assert_eq!(out["spec"].get("extra"), None, "{}", out["spec"]);
    assert_eq!(out["spec"]["holderIdentity"], "a");
}

#[test]
fn ssa_status_drops_an_omitted_nested_snapshot() {
    let i = info("Widget", true, true);
    let base = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "default"}, "spec": {"a": 1}});
    let created = apply(&i, None, &base, "owner", false, None).unwrap();
    let full = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "default"},
        "status": {"phase": "Active", "conditions": [{"type": "Ready", "status": "True"}],
                   "snapshot": {"revision": "r1", "approvedBy": ["ava"], "content": {"owner": "dana", "categories": [{"name": "x", "subcategories": ["y"]}]}}}});
    let published = apply(&i, Some(&created), &full, "charter", true, Some("status")).unwrap();
    assert_eq!(published["status"]["snapshot"]["revision"], "r1");
    let mut revoked = full.clone();
    revoked["status"]
        .as_object_mut()
        .unwrap()
        .remove("snapshot");
    revoked["status"]["phase"] = json!("Planning");
    let out = apply(
        &i,
        Some(&published),
        &revoked,
        "charter",
        true,
        Some("status"),
    )
    .unwrap();
    assert_eq!(out["status"].get("snapshot"), None, "{}", out["status"]);
}

#[test]
fn ssa_shared_same_value() {
    let i = info("Lease", false, false);
    let created = apply(&i, None, &lease("a"), "mgr-a", false, None).unwrap();
    let shared = apply(&i, Some(&created), &lease("a"), "mgr-b", false, None).unwrap();
    assert!(entry(&shared, "mgr-a", "Apply").is_some());
    assert!(entry(&shared, "mgr-b", "Apply").is_some());
    // A drops its fields; B still owns them, so they stay.
    let mut only_meta = lease("a");
    only_meta.as_object_mut().unwrap().remove("spec");
    only_meta["metadata"]["labels"] = json!({"k": "v"});
    let out = apply(&i, Some(&shared), &only_meta, "mgr-a", false, None).unwrap();
    assert_eq!(out["spec"]["holderIdentity"], "a");
}

#[test]
fn ssa_conflict_with_update_manager() {
    let i = info("Lease", false, false);
    let mut obj = lease("a");
    record_update(
        None,
        None,
        &mut obj,
        "kubectl-create",
        None,
        "2026-01-01T00:00:00Z",
    );
    let e = entry(&obj, "kubectl-create", "Update").unwrap();
    assert_eq!(e["fieldsV1"]["f:spec"]["f:holderIdentity"], json!({}));
    let err = apply(&i, Some(&obj), &lease("b"), "mgr-b", false, None).unwrap_err();
    assert_eq!(
        err.message,
        "Apply failed with 1 conflict: conflict with \"kubectl-create\" using coordination.k8s.io/v1 at 2026-01-01T00:00:00Z: .spec.holderIdentity"
    );
}

#[test]
fn ssa_conflicts_with_own_update_entry() {
    let i = info("Lease", false, false);
    let created = apply(&i, None, &lease("a"), "mgr-a", false, None).unwrap();
    let patched = apply_patch(
        &i,
        &created,
        PatchType::Strategic,
        br#"{"spec":{"holderIdentity":"z"}}"#,
    )
    .unwrap();
    let mut patched = patched;
    record_update(
        None,
        Some(&created),
        &mut patched,
        "mgr-a",
        None,
        "2026-01-01T00:00:01Z",
    );
    assert!(entry(&patched, "mgr-a", "Update").is_some());
    let err = apply(&i, Some(&patched), &lease("a"), "mgr-a", false, None).unwrap_err();
    assert_eq!(err.code, 409);
    // Released (fields removed by a patch): nobody owns them any more.
    let released = apply_patch(
        &i,
        &patched,
        PatchType::Strategic,
        br#"{"spec":{"holderIdentity":null,"leaseDurationSeconds":null}}"#,
    )
    .unwrap();
    let mut released = released;
    record_update(
        None,
        Some(&patched),
        &mut released,
        "mgr-a",
        None,
        "2026-01-01T00:00:02Z",
    );
    assert!(
        released["metadata"].get("managedFields").is_none(),
        "{released}"
    );
    let relocked = apply(&i, Some(&released), &lease("b"), "mgr-b", false, None).unwrap();
    assert_eq!(relocked["spec"]["holderIdentity"], "b");
}

#[test]
fn ssa_status_subresource() {
    let i = info("Thing", true, true);
    let obj = json!({"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "t"},
        "spec": {"a": 1}, "status": {"phase": "Old"}});
    let created = apply(&i, None, &obj, "op", false, None).unwrap();
    assert!(
        created.get("status").is_none(),
        "status is ignored on the main resource"
    );
    let st = json!({"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "t"},
        "spec": {"a": 2}, "status": {"phase": "Ready"}});
    let out = apply(&i, Some(&created), &st, "op", false, Some("status")).unwrap();
    assert_eq!(out["status"]["phase"], "Ready");
    assert_eq!(out["spec"]["a"], 1);
    let e = out["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["subresource"] == "status")
        .unwrap();
    assert_eq!(e["fieldsV1"], json!({"f:status": {"f:phase": {}}}));
    assert_eq!(e["operation"], "Apply");
    assert!(
        apply(&i, None, &st, "op", false, Some("status"))
            .unwrap_err()
            .code
            == 404
    );
}

#[test]
fn ssa_keyed_list_merge() {
    let mut i = info("Thing", true, false);
    i.schema = Some(std::sync::Arc::new(
        json!({"type": "object", "properties": {"spec": {"type": "object",
        "properties": {"items": {"type": "array", "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"], "items": {"type": "object"}}}}}}),
    ));
    let a = json!({"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "t"},
        "spec": {"items": [{"name": "x", "v": 1}]}});
    let b = json!({"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "t"},
        "spec": {"items": [{"name": "y", "v": 2}]}});
    let o = apply(&i, None, &a, "a", false, None).unwrap();
    let o = apply(&i, Some(&o), &b, "b", false, None).unwrap();
    assert_eq!(
        o["spec"]["items"],
        json!([{"name": "x", "v": 1}, {"name": "y", "v": 2}])
    );
    let fa = &entry(&o, "a", "Apply").unwrap()["fieldsV1"];
    assert_eq!(
        fa,
        &json!({"f:spec": {"f:items": {"k:{\"name\":\"x\"}": {".": {}, "f:name": {}, "f:v": {}}}}})
    );
}

#[test]
fn record_update_moves_ownership() {
    let i = info("Lease", false, false);
    let created = apply(&i, None, &lease("a"), "mgr-a", false, None).unwrap();
    let mut new = created.clone();
    new["spec"]["holderIdentity"] = json!("z");
    new["metadata"]["labels"] = json!({"k": "v"});
    record_update(
        None,
        Some(&created),
        &mut new,
        "editor",
        None,
        "2026-01-02T00:00:00Z",
    );
    assert_eq!(
        entry(&new, "mgr-a", "Apply").unwrap()["fieldsV1"],
        json!({"f:spec": {"f:leaseDurationSeconds": {}}})
    );
    assert_eq!(
        entry(&new, "editor", "Update").unwrap()["fieldsV1"],
        // The labels map the update added is a member itself, as structured-merge-diff's
        // compare records it (kube-apiserver writes `".": {}` for it).
        json!({"f:metadata": {"f:labels": {".": {}, "f:k": {}}}, "f:spec": {"f:holderIdentity": {}}})
    );
    // An update that changes nothing adds no entry.
    let mut same = new.clone();
    record_update(
        None,
        Some(&new),
        &mut same,
        "other",
        None,
        "2026-01-03T00:00:00Z",
    );
    assert!(entry(&same, "other", "Update").is_none());
    assert_eq!(same, new);
}

#[test]
fn owner_references_merge_by_uid() {
    let i = info("Lease", false, false);
    let with_owner = |uid: &str| {
        let mut l = lease("a");
        l["metadata"]["ownerReferences"] =
            json!([{"apiVersion": "v1", "kind": "ConfigMap", "name": uid, "uid": uid}]);
        l
    };
    let o = apply(&i, None, &with_owner("u1"), "a", false, None).unwrap();
    let o = apply(&i, Some(&o), &with_owner("u2"), "b", true, None).unwrap();
    let uids: Vec<&Value> = o["metadata"]["ownerReferences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["uid"])
        .collect();
    assert_eq!(uids, [&json!("u1"), &json!("u2")]);
    assert_eq!(
        entry(&o, "a", "Apply").unwrap()["fieldsV1"]["f:metadata"],
        json!({"f:ownerReferences": {"k:{\"uid\":\"u1\"}": {
            ".": {}, "f:apiVersion": {}, "f:kind": {}, "f:name": {}, "f:uid": {}}}})
    );
}

#[test]
fn conflict_paths_are_spelled_as_structured_merge_diff_prints_them() {
    use super::fieldset::display_path;
    let p = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        display_path(&p(&["f:metadata", "f:finalizers", "v:\"x\""])),
        ".metadata.finalizers[=\"x\"]"
    );
    assert_eq!(
        display_path(&p(&[
            "f:spec",
            "f:ports",
            "k:{\"port\":80,\"protocol\":\"TCP\"}",
            "f:name"
        ])),
        ".spec.ports[port=80,protocol=\"TCP\"].name"
    );
}

#[test]
fn apply_merge_uses_the_schema_list_types() {
    let mut i = info("Thing", true, false);
    i.schema = Some(std::sync::Arc::new(
        json!({"type": "object", "properties": {"spec": {"type": "object",
        "properties": {"tags": {"type": "array", "x-kubernetes-list-type": "set"},
                       "plain": {"type": "array"}}}}}),
    ));
    let mut obj = json!({"spec": {"tags": ["a"], "plain": ["a"]}});
    apply_merge(
        &mut obj,
        &json!({"spec": {"tags": ["b"], "plain": ["b"]}}),
        &i,
    );
    assert_eq!(obj["spec"], json!({"tags": ["a", "b"], "plain": ["b"]}));
}
