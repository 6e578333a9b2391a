//! The built-in kinds' own rules, as their registry strategies and the typed decoder
//! apply them: field types (a 400 from decoding), ConfigMap keys, size and immutability,
//! Lease durations (the strategies in `crate::strategy` call these).

use crate::error::{ApiError, Cause};
use crate::resource::ResourceInfo;
use base64::Engine;
use serde_json::Value;

/// The largest ConfigMap (data plus binaryData values), k8s `core.MaxSecretSize`.
pub const MAX_CONFIG_MAP_BYTES: usize = 1024 * 1024;

const CONFIG_KEY_MSG: &str = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

/// Whether `label` may be used in a field selector on the kind (its field label
/// conversion): metadata.name and metadata.namespace everywhere (Namespaces: metadata.name,
/// name and status.phase), a CRD version's `selectableFields`; Events are not checked.
pub fn field_label_supported(served: &crate::registry::Served, label: &str) -> bool {
    let info = &served.info;
    match (info.group.as_str(), info.plural.as_str()) {
        ("", "events") | ("events.k8s.io", "events") => true,
        ("", "namespaces") => matches!(label, "metadata.name" | "name" | "status.phase"),
        _ => {
            matches!(label, "metadata.name" | "metadata.namespace")
                || served.selectable_fields.iter().any(|f| f == label)
        }
    }
}

fn kind_of(info: &ResourceInfo) -> Option<&'static str> {
    match (info.group.as_str(), info.plural.as_str()) {
        ("", "configmaps") => Some("ConfigMap"),
        ("coordination.k8s.io", "leases") => Some("Lease"),
        ("", "namespaces") => Some("Namespace"),
        _ => None,
    }
}

/// The Go decoder's name for a JSON value's type in "cannot unmarshal X".
fn json_type(v: &Value) -> String {
    match v {
        Value::String(_) => "string".into(),
        Value::Number(n) => format!("number {n}"),
        Value::Bool(_) => "bool".into(),
        Value::Array(_) => "array".into(),
        Value::Object(_) => "object".into(),
        Value::Null => "null".into(),
    }
}

/// `json: cannot unmarshal <value> into Go struct field <Struct>.<path> of type <type>`.
fn unmarshal_error(v: &Value, go_struct: &str, path: &str, go_type: &str) -> String {
    let value = match v {
        // encoding/json names the number only when it does not fit the type.
        Value::Number(_) => "number".to_string(),
        other => json_type(other),
    };
    format!(
        "json: cannot unmarshal {value} into Go struct field {go_struct}.{path} of type {go_type}"
    )
}

fn check_string(v: Option<&Value>, go_struct: &str, path: &str) -> Result<(), String> {
    match v {
        None | Some(Value::Null) | Some(Value::String(_)) => Ok(()),
        Some(other) => Err(unmarshal_error(other, go_struct, path, "string")),
    }
}

fn check_int32(v: Option<&Value>, go_struct: &str, path: &str) -> Result<(), String> {
    match v {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) if i32::try_from(i).is_ok() => Ok(()),
            _ => Err(format!(
                "json: cannot unmarshal number {n} into Go struct field {go_struct}.{path} of type int32"
            )),
        },
        Some(other) => Err(unmarshal_error(other, go_struct, path, "int32")),
    }
}

/// A MicroTime decodes itself from a string (its own error is not wrapped with the field).
fn check_micro_time(v: Option<&Value>) -> Result<(), String> {
    match v {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) => chrono::DateTime::parse_from_rfc3339(s)
            .map(|_| ())
            .map_err(|_| {
                format!(
                    "parsing time \"{s}\" as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse \"{s}\" as \"2006\""
                )
            }),
        Some(other) => Err(format!(
            "json: cannot unmarshal {} into Go value of type string",
            json_type(other)
        )),
    }
}

fn check_string_map(obj: &Value, field: &str, base64: bool) -> Result<(), String> {
    let (go_type, item_type) = if base64 {
        ("map[string][]uint8", "[]uint8")
    } else {
        ("map[string]string", "string")
    };
    match obj.get(field) {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Object(m)) => {
            for v in m.values() {
                match v {
                    Value::Null => {}
                    Value::String(s) if base64 => {
                        base64::engine::general_purpose::STANDARD
                            .decode(s)
                            .map_err(|e| base64_error(&e, s))?;
                    }
                    Value::String(_) => {}
                    other => return Err(unmarshal_error(other, "ConfigMap", field, item_type)),
                }
            }
            Ok(())
        }
        Some(other) => Err(unmarshal_error(other, "ConfigMap", field, go_type)),
    }
}

/// Go's `base64.CorruptInputError`: the offset of the first byte that cannot be decoded.
fn base64_error(e: &base64::DecodeError, s: &str) -> String {
    let at = match e {
        base64::DecodeError::InvalidByte(i, _) | base64::DecodeError::InvalidLastSymbol(i, _) => *i,
        _ => s.len() - s.len() % 4,
    };
    format!("illegal base64 data at input byte {at}")
}

fn decode_errors(kind: &str, obj: &Value) -> Result<(), String> {
    match kind {
        "ConfigMap" => {
            check_string_map(obj, "data", false)?;
            check_string_map(obj, "binaryData", true)?;
            match obj.get("immutable") {
                None | Some(Value::Null) | Some(Value::Bool(_)) => Ok(()),
                Some(other) => Err(unmarshal_error(other, "ConfigMap", "immutable", "bool")),
            }
        }
        "Lease" => {
            let Some(spec) = obj.get("spec").filter(|s| !s.is_null()) else {
                return Ok(());
            };
            if !spec.is_object() {
                return Err(unmarshal_error(spec, "Lease", "spec", "v1.LeaseSpec"));
            }
            for f in ["holderIdentity", "strategy", "preferredHolder"] {
                check_string(spec.get(f), "LeaseSpec", &format!("spec.{f}"))?;
            }
            for f in ["leaseDurationSeconds", "leaseTransitions"] {
                check_int32(spec.get(f), "LeaseSpec", &format!("spec.{f}"))?;
            }
            check_micro_time(spec.get("acquireTime"))?;
            check_micro_time(spec.get("renewTime"))
        }
        "Namespace" => {
            match obj.pointer("/spec/finalizers") {
                None | Some(Value::Null) => {}
                Some(Value::Array(items)) => {
                    for i in items {
                        if !(i.is_string() || i.is_null()) {
                            return Err(unmarshal_error(
                                i,
                                "NamespaceSpec",
                                "spec.finalizers",
                                "v1.FinalizerName",
                            ));
                        }
                    }
                }
                Some(other) => {
                    return Err(unmarshal_error(
                        other,
                        "NamespaceSpec",
                        "spec.finalizers",
                        "[]v1.FinalizerName",
                    ));
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The decoder's 400 for a body whose fields have the wrong JSON types:
/// `ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal ...`.
pub fn decode(info: &ResourceInfo, obj: &Value) -> Result<(), ApiError> {
    let Some(kind) = kind_of(info) else {
        return Ok(());
    };
    decode_errors(kind, obj).map_err(|detail| {
        ApiError::bad_request(format!(
            "{kind} in version \"{}\" cannot be handled as a {kind}: {detail}",
            info.version
        ))
    })
}

fn invalid(field: String, value: &str, message: &str) -> Cause {
    Cause {
        reason: "FieldValueInvalid".into(),
        message: format!("Invalid value: {value}: {message}"),
        field,
    }
}

/// `validation.IsConfigMapKey`.
fn config_key_errors(key: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if key.len() > 253 {
        errs.push("must be no more than 253 characters".to_string());
    }
    if key.is_empty()
        || !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        errs.push(CONFIG_KEY_MSG.to_string());
    }
    if key == "." {
        errs.push("must not be '.'".into());
    } else if key == ".." {
        errs.push("must not be '..'".into());
    } else if key.starts_with("..") {
        errs.push("must not start with '..'".into());
    }
    errs
}

fn string_map(obj: &Value, field: &str) -> Vec<(String, usize)> {
    obj.get(field)
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let s = v.as_str().unwrap_or_default();
                    let len = if field == "binaryData" {
                        base64::engine::general_purpose::STANDARD
                            .decode(s)
                            .map(|b| b.len())
                            .unwrap_or(s.len())
                    } else {
                        s.len()
                    };
                    (k.clone(), len)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `ValidateConfigMap`: keys, keys in both maps, and the 1 MiB total.
pub(crate) fn config_map_causes(obj: &Value) -> Vec<Cause> {
    let data = string_map(obj, "data");
    let binary = string_map(obj, "binaryData");
    let mut causes = Vec::new();
    let mut total = 0usize;
    for (field, entries) in [("data", &data), ("binaryData", &binary)] {
        for (key, len) in entries.iter() {
            for msg in config_key_errors(key) {
                causes.push(invalid(
                    format!("{field}[{key}]"),
                    &format!("{key:?}"),
                    &msg,
                ));
            }
            if field == "data" && binary.iter().any(|(k, _)| k == key) {
                causes.push(invalid(
                    format!("data[{key}]"),
                    &format!("{key:?}"),
                    "duplicate of key present in binaryData",
                ));
            }
            total += len;
        }
    }
    if total > MAX_CONFIG_MAP_BYTES {
        causes.push(Cause {
            reason: "FieldValueTooLong".into(),
            message: format!("Too long: must have at most {MAX_CONFIG_MAP_BYTES} bytes"),
            field: "[]".into(),
        });
    }
    causes
}

/// `ValidateConfigMapUpdate`: an immutable ConfigMap keeps its data and stays immutable.
pub(crate) fn config_map_update_causes(old: &Value, new: &Value) -> Vec<Cause> {
    if old.get("immutable").and_then(Value::as_bool) != Some(true) {
        return Vec::new();
    }
    let forbidden = |field: &str| Cause {
        reason: "FieldValueForbidden".into(),
        message: "Forbidden: field is immutable when `immutable` is set".into(),
        field: field.into(),
    };
    let mut causes = Vec::new();
    if new.get("immutable").and_then(Value::as_bool) != Some(true) {
        causes.push(forbidden("immutable"));
    }
    for f in ["data", "binaryData"] {
        let empty =
            |v: Option<&Value>| v.is_none_or(|v| v.is_null() || v == &serde_json::json!({}));
        let (o, n) = (old.get(f), new.get(f));
        if !(o == n || (empty(o) && empty(n))) {
            causes.push(forbidden(f));
        }
    }
    causes
}

/// `ValidateLeaseSpec`.
pub(crate) fn lease_causes(obj: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    let int = |f: &str| obj.pointer(&format!("/spec/{f}")).and_then(Value::as_i64);
    if let Some(d) = int("leaseDurationSeconds").filter(|d| *d <= 0) {
        causes.push(invalid(
            "spec.leaseDurationSeconds".into(),
            &d.to_string(),
            "must be greater than 0",
        ));
    }
    if let Some(t) = int("leaseTransitions").filter(|t| *t < 0) {
        causes.push(invalid(
            "spec.leaseTransitions".into(),
            &t.to_string(),
            "must be greater than or equal to 0",
        ));
    }
    causes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_keys_are_the_documented_characters() {
        assert!(config_key_errors("app.properties").is_empty());
        assert!(config_key_errors("KEY_NAME-1").is_empty());
        assert_eq!(
            config_key_errors("bad/key"),
            vec![CONFIG_KEY_MSG.to_string()]
        );
        assert_eq!(
            config_key_errors(".."),
            vec!["must not be '..'".to_string()]
        );
        assert_eq!(
            config_key_errors(&"a".repeat(254)),
            vec!["must be no more than 253 characters".to_string()]
        );
    }

    #[test]
    fn base64_errors_name_the_offset_as_go_does() {
        let cm = serde_json::json!({"binaryData": {"a": "ab!d"}});
        assert_eq!(
            check_string_map(&cm, "binaryData", true),
            Err("illegal base64 data at input byte 2".to_string())
        );
    }
}
