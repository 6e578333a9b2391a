//! ConfigMaps: the typed decoder's checks, keys, the 1 MiB total and immutability (k8s
//! `ValidateConfigMap`, `ValidateConfigMapUpdate`), the data column and OpenAPI properties.

use super::field_errors::{invalid, unmarshal_error};
use crate::error::Cause;
use crate::resource::{ResourceInfo, Strategy, Table};
use crate::table;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

/// The largest ConfigMap (data plus binaryData values), k8s `core.MaxSecretSize`.
const MAX_CONFIG_MAP_BYTES: usize = 1024 * 1024;

const CONFIG_KEY_MSG: &str = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

#[derive(Debug)]
pub(super) struct ConfigMap;

impl Strategy for ConfigMap {
    fn type_error(&self, obj: &Value) -> Option<String> {
        type_error(obj).err()
    }

    fn validate(&self, _info: &ResourceInfo, obj: &Value) -> Vec<Cause> {
        causes(obj)
    }

    fn validate_update(&self, _info: &ResourceInfo, obj: &Value, old: &Value) -> Vec<Cause> {
        let mut causes = update_causes(old, obj);
        causes.extend(self::causes(obj));
        causes
    }

    fn table(&self, objects: &[Value], now: DateTime<Utc>) -> Option<Table> {
        let data = table::column("Data", "integer", "Data contains the configuration data.");
        Some(table::with_columns(
            objects,
            now,
            &[(data, |o, _| {
                json!(table::count_keys(o, "data") + table::count_keys(o, "binaryData"))
            })],
        ))
    }

    fn openapi_properties(&self, _info: &ResourceInfo, props: &mut Map<String, Value>) -> String {
        props.insert(
            "data".into(),
            crate::openapi::string_map("Data contains the configuration data."),
        );
        props.insert(
            "binaryData".into(),
            json!({"type": "object", "additionalProperties": {"type": "string", "format": "byte"}, "description": "BinaryData contains the binary data."}),
        );
        props.insert("immutable".into(), json!({"type": "boolean", "description": "Immutable, if set to true, ensures that data stored in the ConfigMap cannot be updated."}));
        "ConfigMap holds configuration data for pods to consume.".into()
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

fn type_error(obj: &Value) -> Result<(), String> {
    check_string_map(obj, "data", false)?;
    check_string_map(obj, "binaryData", true)?;
    match obj.get("immutable") {
        None | Some(Value::Null) | Some(Value::Bool(_)) => Ok(()),
        Some(other) => Err(unmarshal_error(other, "ConfigMap", "immutable", "bool")),
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
fn causes(obj: &Value) -> Vec<Cause> {
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
fn update_causes(old: &Value, new: &Value) -> Vec<Cause> {
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
        let empty = |v: Option<&Value>| v.is_none_or(|v| v.is_null() || v == &json!({}));
        let (o, n) = (old.get(f), new.get(f));
        if !(o == n || (empty(o) && empty(n))) {
            causes.push(forbidden(f));
        }
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
        let cm = json!({"binaryData": {"a": "ab!d"}});
        assert_eq!(
            check_string_map(&cm, "binaryData", true),
            Err("illegal base64 data at input byte 2".to_string())
        );
    }
}
