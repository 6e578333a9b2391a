//! Protobuf bodies as typed kubectl commands send them.

use super::object_meta::base64;
use super::*;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_pb::apimachinery::pkg::runtime::TypeMeta;
use std::collections::BTreeMap;

fn envelope(api_version: &str, kind: &str, raw: Vec<u8>) -> Vec<u8> {
    let u = Unknown {
        type_meta: Some(TypeMeta {
            api_version: Some(api_version.into()),
            kind: Some(kind.into()),
        }),
        raw: Some(raw),
        content_encoding: Some(String::new()),
        content_type: Some(String::new()),
    };
    let mut out = MAGIC.to_vec();
    out.extend(u.encode_to_vec());
    out
}

#[test]
fn namespace_as_kubectl_create_namespace_sends_it() {
    let ns = core::Namespace {
        metadata: Some(meta::ObjectMeta {
            name: Some("x".into()),
            creation_timestamp: Some(meta::Time {
                seconds: Some(0),
                nanos: Some(0),
            }),
            ..Default::default()
        }),
        spec: Some(core::NamespaceSpec::default()),
        status: Some(core::NamespaceStatus::default()),
    };
    let v = decode(&envelope("v1", "Namespace", ns.encode_to_vec())).unwrap();
    assert_eq!(
        v,
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}})
    );
}

#[test]
fn configmap_with_data_labels_and_binary() {
    let mut data = BTreeMap::new();
    data.insert("a".to_string(), "b".to_string());
    let mut bin = BTreeMap::new();
    bin.insert("k".to_string(), b"hello".to_vec());
    let mut labels = BTreeMap::new();
    labels.insert("team".to_string(), "a".to_string());
    let cm = core::ConfigMap {
        metadata: Some(meta::ObjectMeta {
            name: Some("y".into()),
            namespace: Some("x".into()),
            labels,
            finalizers: vec!["f".into()],
            creation_timestamp: Some(meta::Time {
                seconds: Some(1_700_000_000),
                nanos: Some(0),
            }),
            ..Default::default()
        }),
        immutable: None,
        data,
        binary_data: bin,
    };
    let v = decode(&envelope("v1", "ConfigMap", cm.encode_to_vec())).unwrap();
    assert_eq!(v["kind"], "ConfigMap");
    assert_eq!(v["apiVersion"], "v1");
    assert_eq!(v["metadata"]["name"], "y");
    assert_eq!(v["metadata"]["namespace"], "x");
    assert_eq!(v["metadata"]["labels"]["team"], "a");
    assert_eq!(v["metadata"]["finalizers"], json!(["f"]));
    assert_eq!(v["metadata"]["creationTimestamp"], "2023-11-14T22:13:20Z");
    assert_eq!(v["data"], json!({"a": "b"}));
    assert_eq!(v["binaryData"], json!({"k": "aGVsbG8="}));
}

#[test]
fn secret_and_errors() {
    let mut data = BTreeMap::new();
    data.insert("p".to_string(), b"ab".to_vec());
    let s = core::Secret {
        metadata: None,
        immutable: None,
        data,
        string_data: BTreeMap::new(),
        r#type: Some("Opaque".into()),
    };
    let v = decode(&envelope("v1", "Secret", s.encode_to_vec())).unwrap();
    assert_eq!(v["data"]["p"], "YWI=");
    assert_eq!(v["type"], "Opaque");

    let e = decode(&envelope("apps/v1", "Deployment", vec![])).unwrap_err();
    assert_eq!(e.code, 415);
    assert_eq!(e.reason, "UnsupportedMediaType");
    assert_eq!(decode(b"{}").unwrap_err().code, 400);
    assert_eq!(decode(b"k8s\0\xff\xff\xff").unwrap_err().code, 400);
    let garbage = envelope("v1", "ConfigMap", vec![0xff, 0xff, 0xff]);
    assert_eq!(decode(&garbage).unwrap_err().code, 400);
    assert!(is_protobuf(
        "application/vnd.kubernetes.protobuf; charset=x"
    ));
    assert!(!is_protobuf("application/json"));
}

#[test]
fn self_subject_review() {
    let r = k8s_pb::api::authentication::v1::SelfSubjectReview {
        metadata: Some(meta::ObjectMeta::default()),
        status: None,
    };
    let v = decode(&envelope(
        "authentication.k8s.io/v1",
        "SelfSubjectReview",
        r.encode_to_vec(),
    ))
    .unwrap();
    assert_eq!(
        v,
        json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview", "metadata": {}})
    );
}

#[test]
fn base64_matches_go() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foo"), "Zm9v");
    assert_eq!(base64(&[0xfb, 0xff]), "+/8=");
}
