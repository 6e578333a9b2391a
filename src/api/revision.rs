//! The revision: a short stable hash of a Service's approvable content.
//!
//! How a client reproduces it: take `spec` without what is the owner's and outside the
//! revision (`spec.lifecycle`, `spec.categories` and `spec.contact`), drop empty lists and
//! absent fields, serialise it as JSON with object keys sorted (no whitespace), SHA-256 the
//! bytes and keep the first 10 hex digits. Field and map order never change it.

use super::ServiceContent;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Length of a revision in hex digits.
pub const REVISION_LEN: usize = 10;

/// The revision of a Service's approvable content.
pub fn revision_of(content: &ServiceContent) -> String {
    // Serialising through Value sorts object keys (serde_json's map is a BTreeMap here).
    let value = serde_json::to_value(content).unwrap_or(Value::Null);
    let canonical = canonical_json(&value);
    let digest = Sha256::digest(canonical.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    hex[..REVISION_LEN].to_string()
}

fn canonical_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .into_iter()
                .filter(|k| !is_empty(&map[*k]))
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical_json(&map[k])))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(canonical_json).collect();
            format!("[{}]", items.join(","))
        }
        other => other.to_string(),
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}
