//! The revision: a short stable hash of a Service's approvable content.
//!
//! How a client reproduces it: take `spec` without what is the owner's and outside the
//! revision (`spec.lifecycle`, `spec.categories` and `spec.contact`), drop empty lists and
//! absent fields, serialise it as JSON with object keys sorted (no whitespace), SHA-256 the
//! bytes and keep the first 10 hex digits. Field and map order never change it.

use super::ServiceContent;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt::Write;

/// Length of a revision in hex digits.
pub const REVISION_LEN: usize = 10;

/// The revision of a Service's approvable content.
pub fn revision_of(content: &ServiceContent) -> String {
    // Serialising through Value sorts object keys (serde_json's map is a BTreeMap here).
    let value = serde_json::to_value(content).unwrap_or(Value::Null);
    let mut canonical = String::with_capacity(1024);
    canonical_json(&value, &mut canonical);
    let digest = Sha256::digest(canonical.as_bytes());
    let mut hex = String::with_capacity(REVISION_LEN);
    for b in digest.iter().take(REVISION_LEN.div_ceil(2)) {
        // Writing to a String cannot fail.
        let _ = write!(hex, "{b:02x}");
    }
    hex.truncate(REVISION_LEN);
    hex
}

/// Appends `value` to `out` as canonical JSON: keys sorted, empty values left out, no
/// whitespace (one buffer: this runs on every reconcile).
fn canonical_json(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            let mut first = true;
            for key in keys.into_iter().filter(|k| !is_empty(&map[*k])) {
                if !first {
                    out.push(',');
                }
                first = false;
                push_json(&Value::String(key.clone()), out);
                out.push(':');
                canonical_json(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(item, out);
            }
            out.push(']');
        }
        other => push_json(other, out),
    }
}

/// Appends a scalar as serde_json writes it.
fn push_json(value: &Value, out: &mut String) {
    let _ = write!(out, "{value}");
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_keys_drops_empty_values_and_escapes_as_json() {
        let value = json!({
            "owner": "ava \"the\" owner",
            "approvers": ["bo", "ava"],
            "tags": [],
            "tier": null,
            "links": [{"url": "https://x/é", "name": "run\nbook"}],
            "requiredApprovals": 2,
        });
        let mut out = String::new();
        canonical_json(&value, &mut out);
        assert_eq!(
            out,
            r#"{"approvers":["bo","ava"],"links":[{"name":"run\nbook","url":"https://x/é"}],"owner":"ava \"the\" owner","requiredApprovals":2}"#
        );
    }

    #[test]
    fn the_revision_is_the_first_ten_hex_digits_of_the_canonical_json_sha256() {
        let content: ServiceContent =
            serde_json::from_value(serde_json::json!({"owner": "ava", "approvers": ["bo"]}))
                .expect("content");
        let digest = Sha256::digest(br#"{"approvers":["bo"],"owner":"ava"}"#);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(revision_of(&content), hex[..REVISION_LEN]);
    }
}
