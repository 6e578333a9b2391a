//! How the typed decoder and the built-in kinds' validation word a bad field: Go's
//! `encoding/json` unmarshal errors and `field.Invalid`.

use crate::error::Cause;
use serde_json::Value;

/// The Go decoder's name for a JSON value's type in "cannot unmarshal X".
pub(super) fn json_type(v: &Value) -> String {
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
pub(super) fn unmarshal_error(v: &Value, go_struct: &str, path: &str, go_type: &str) -> String {
    let value = match v {
        // encoding/json names the number only when it does not fit the type.
        Value::Number(_) => "number".to_string(),
        other => json_type(other),
    };
    format!(
        "json: cannot unmarshal {value} into Go struct field {go_struct}.{path} of type {go_type}"
    )
}

pub(super) fn check_string(v: Option<&Value>, go_struct: &str, path: &str) -> Result<(), String> {
    match v {
        None | Some(Value::Null) | Some(Value::String(_)) => Ok(()),
        Some(other) => Err(unmarshal_error(other, go_struct, path, "string")),
    }
}

pub(super) fn check_int32(v: Option<&Value>, go_struct: &str, path: &str) -> Result<(), String> {
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
pub(super) fn check_micro_time(v: Option<&Value>) -> Result<(), String> {
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

/// `field.Invalid`: `Invalid value: <value>: <message>`.
pub(super) fn invalid(field: String, value: &str, message: &str) -> Cause {
    Cause {
        reason: "FieldValueInvalid".into(),
        message: format!("Invalid value: {value}: {message}"),
        field,
    }
}
