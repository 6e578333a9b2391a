//! The metadata every message carries, and bytes as JSON shows them (base64).

use chrono::DateTime;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

pub(super) fn base64_map(m: &BTreeMap<String, Vec<u8>>) -> Value {
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

pub(super) fn object_meta(m: meta::ObjectMeta) -> Value {
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
