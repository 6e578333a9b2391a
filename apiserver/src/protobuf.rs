//! Protobuf request bodies (`application/vnd.kubernetes.protobuf`): kubectl's typed
//! commands send them. Decodes the `k8s\0` envelope and the kinds this server needs.

use crate::error::ApiError;
use chrono::DateTime;
use k8s_pb::api::core::v1 as core;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_pb::apimachinery::pkg::runtime::Unknown;
use prost::Message;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The media type of protobuf bodies.
pub const PROTOBUF_CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

const MAGIC: &[u8] = b"k8s\0";

/// True when a `Content-Type` header names the Kubernetes protobuf encoding.
pub fn is_protobuf(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .eq_ignore_ascii_case(PROTOBUF_CONTENT_TYPE)
}

fn unsupported(what: &str) -> ApiError {
    ApiError::unsupported_media_type(&format!("{PROTOBUF_CONTENT_TYPE} ({what})"))
}

/// Decode a protobuf body into the JSON object it stands for (with apiVersion and kind).
/// Unsupported kinds are 415 UnsupportedMediaType.
#[allow(clippy::result_large_err)]
pub fn decode(body: &[u8]) -> Result<Value, ApiError> {
    let Some(rest) = body.strip_prefix(MAGIC) else {
        return Err(ApiError::bad_request(
            "the protobuf body does not start with the k8s magic prefix",
        ));
    };
    let unknown = Unknown::decode(rest).map_err(|e| {
        ApiError::bad_request(format!("the protobuf envelope could not be decoded: {e}"))
    })?;
    if unknown
        .content_encoding
        .as_deref()
        .is_some_and(|e| !e.is_empty())
    {
        return Err(unsupported("content encodings are not supported"));
    }
    let type_meta = unknown.type_meta.unwrap_or_default();
    let api_version = type_meta.api_version.unwrap_or_default();
    let kind = type_meta.kind.unwrap_or_default();
    let raw = unknown.raw.unwrap_or_default();
    let bad = |e: prost::DecodeError| {
        ApiError::bad_request(format!("the protobuf {kind} could not be decoded: {e}"))
    };
    let mut out = Map::new();
    out.insert("apiVersion".into(), json!(api_version));
    out.insert("kind".into(), json!(kind));
    match (api_version.as_str(), kind.as_str()) {
        ("v1", "Namespace") => {
            let ns = core::Namespace::decode(raw.as_slice()).map_err(bad)?;
            out.insert(
                "metadata".into(),
                object_meta(ns.metadata.unwrap_or_default()),
            );
            if let Some(spec) = ns.spec
                && !spec.finalizers.is_empty()
            {
                out.insert("spec".into(), json!({"finalizers": spec.finalizers}));
            }
            if let Some(phase) = ns.status.and_then(|s| s.phase) {
                out.insert("status".into(), json!({"phase": phase}));
            }
        }
        ("v1", "ConfigMap") => {
            let cm = core::ConfigMap::decode(raw.as_slice()).map_err(bad)?;
            out.insert(
                "metadata".into(),
                object_meta(cm.metadata.unwrap_or_default()),
            );
            if !cm.data.is_empty() {
                out.insert("data".into(), json!(cm.data));
            }
            if !cm.binary_data.is_empty() {
                out.insert("binaryData".into(), base64_map(&cm.binary_data));
            }
            if let Some(i) = cm.immutable {
                out.insert("immutable".into(), json!(i));
            }
        }
        ("v1", "Secret") => {
            let s = core::Secret::decode(raw.as_slice()).map_err(bad)?;
            out.insert(
                "metadata".into(),
                object_meta(s.metadata.unwrap_or_default()),
            );
            if !s.data.is_empty() {
                out.insert("data".into(), base64_map(&s.data));
            }
            if !s.string_data.is_empty() {
                out.insert("stringData".into(), json!(s.string_data));
            }
            if let Some(t) = s.r#type {
                out.insert("type".into(), json!(t));
            }
            if let Some(i) = s.immutable {
                out.insert("immutable".into(), json!(i));
            }
        }
        ("authentication.k8s.io/v1", "SelfSubjectReview") => {
            // `kubectl auth whoami` posts an empty review; the server fills in the status.
            let r = k8s_pb::api::authentication::v1::SelfSubjectReview::decode(raw.as_slice())
                .map_err(bad)?;
            out.insert(
                "metadata".into(),
                object_meta(r.metadata.unwrap_or_default()),
            );
        }
        (v, k) if let Some(fields) = crate::authz::wire::decode(v, k, &raw) => {
            out.extend(fields.map_err(bad)?);
        }
        _ => {
            let what = if api_version.is_empty() && kind.is_empty() {
                "no kind given".to_string()
            } else {
                format!("kind {kind} in {api_version} is not supported as protobuf; send JSON")
            };
            return Err(unsupported(&what));
        }
    }
    Ok(Value::Object(out))
}

fn base64_map(m: &BTreeMap<String, Vec<u8>>) -> Value {
    Value::Object(
        m.iter()
            .map(|(k, v)| (k.clone(), json!(base64(v))))
            .collect(),
    )
}

/// Standard base64 with padding, as Go's encoding/json writes `[]byte`.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(ALPHABET[(n >> 18) as usize & 63] as char);
        out.push(ALPHABET[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            ALPHABET[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            ALPHABET[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

fn time(t: Option<meta::Time>) -> Option<Value> {
    let t = t?;
    let dt = DateTime::from_timestamp(
        t.seconds.unwrap_or(0),
        u32::try_from(t.nanos.unwrap_or(0)).unwrap_or(0),
    )?;
    Some(json!(dt.format("%Y-%m-%dT%H:%M:%SZ").to_string()))
}

pub(crate) fn object_meta(m: meta::ObjectMeta) -> Value {
    let mut out = Map::new();
    let put_str = |k: &str, v: Option<String>, out: &mut Map<String, Value>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            out.insert(k.to_string(), json!(v));
        }
    };
    put_str("name", m.name, &mut out);
    put_str("generateName", m.generate_name, &mut out);
    put_str("namespace", m.namespace, &mut out);
    put_str("uid", m.uid, &mut out);
    put_str("resourceVersion", m.resource_version, &mut out);
    if let Some(g) = m.generation.filter(|g| *g != 0) {
        out.insert("generation".into(), json!(g));
    }
    if let Some(t) = time(m.creation_timestamp).filter(|t| t != "1970-01-01T00:00:00Z") {
        out.insert("creationTimestamp".into(), t);
    }
    if let Some(t) = time(m.deletion_timestamp) {
        out.insert("deletionTimestamp".into(), t);
    }
    if let Some(s) = m.deletion_grace_period_seconds {
        out.insert("deletionGracePeriodSeconds".into(), json!(s));
    }
    if !m.labels.is_empty() {
        out.insert("labels".into(), json!(m.labels));
    }
    if !m.annotations.is_empty() {
        out.insert("annotations".into(), json!(m.annotations));
    }
    if !m.owner_references.is_empty() {
        let refs: Vec<Value> = m
            .owner_references
            .into_iter()
            .map(|r| {
                let mut o = json!({
                    "apiVersion": r.api_version.unwrap_or_default(),
                    "kind": r.kind.unwrap_or_default(),
                    "name": r.name.unwrap_or_default(),
                    "uid": r.uid.unwrap_or_default(),
                });
                if let Some(c) = r.controller {
                    o["controller"] = json!(c);
                }
                if let Some(b) = r.block_owner_deletion {
                    o["blockOwnerDeletion"] = json!(b);
                }
                o
            })
            .collect();
        out.insert("ownerReferences".into(), Value::Array(refs));
    }
    if !m.finalizers.is_empty() {
        out.insert("finalizers".into(), json!(m.finalizers));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_pb::apimachinery::pkg::runtime::TypeMeta;

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
}
