//! Schema and CEL violations as kube-apiserver words them: the field path, the value as
//! Go prints it, and the reason.

use super::walk::{join, schema_at, value_at};
use crate::error::Cause;
use kube::core::cel as kcel;
use serde_json::{Map, Value};

/// A JSON pointer into `obj` as the real server prints field paths: `spec.items[0].name`.
pub(super) fn pointer_to_path(obj: &Value, pointer: &str) -> String {
    let mut out = String::new();
    let mut cur = Some(obj);
    for raw in pointer.split('/').skip(1) {
        let seg = raw.replace("~1", "/").replace("~0", "~");
        match cur {
            Some(Value::Array(a)) => {
                out.push_str(&format!("[{seg}]"));
                cur = seg.parse::<usize>().ok().and_then(|i| a.get(i));
            }
            other => {
                out = join(&out, &seg);
                cur = other.and_then(|o| o.get(&seg));
            }
        }
    }
    out
}

/// A value as Go's `field.Invalid` prints it.
pub(super) fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// A schema bound as Go's `%v` prints a float64: `32`, not `32.0`.
pub(super) fn go_number(v: &Value) -> String {
    match v.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e21 => format!("{}", f as i64),
        _ => v.to_string(),
    }
}

pub(super) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

pub(super) fn cause(reason: &str, field: String, message: String) -> Cause {
    Cause {
        reason: reason.into(),
        message,
        field,
    }
}

pub(super) fn schema_error_cause(obj: &Value, err: &jsonschema::ValidationError<'_>) -> Cause {
    use jsonschema::error::ValidationErrorKind as K;
    let path = pointer_to_path(obj, err.instance_path().as_str());
    let inst: &Value = err.instance();
    let body = if path.is_empty() {
        "body".to_string()
    } else {
        format!("{path} in body")
    };
    let invalid = |detail: String| {
        cause(
            "FieldValueInvalid",
            path.clone(),
            format!("Invalid value: {}: {detail}", show(inst)),
        )
    };
    match err.kind() {
        K::Required { property } => {
            let name = property
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| property.to_string());
            cause(
                "FieldValueRequired",
                join(&path, &name),
                "Required value".into(),
            )
        }
        K::Enum { options } => {
            // Each supported value quoted, a non-string by its JSON text (`"null"`).
            let values: Vec<String> = options
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|v| match v {
                            Value::String(s) => format!("{s:?}"),
                            other => format!("{:?}", other.to_string()),
                        })
                        .collect()
                })
                .unwrap_or_default();
            cause(
                "FieldValueNotSupported",
                path.clone(),
                format!(
                    "Unsupported value: {}: supported values: {}",
                    show(inst),
                    values.join(", ")
                ),
            )
        }
        K::Type { kind } => {
            let expected = match kind {
                jsonschema::error::TypeKind::Single(t) => t.to_string(),
                jsonschema::error::TypeKind::Multiple(ts) => {
                    let names: Vec<String> = ts.iter().map(|t| t.to_string()).collect();
                    names.join("/")
                }
            };
            let actual = type_name(inst);
            cause(
                "FieldValueTypeInvalid",
                path.clone(),
                format!(
                    "Invalid value: \"{actual}\": {body} must be of type {expected}: \"{actual}\""
                ),
            )
        }
        K::Pattern { pattern } => invalid(format!("{body} should match '{pattern}'")),
        K::MaxLength { limit } => cause(
            "FieldValueTooLong",
            path.clone(),
            format!("Too long: may not be more than {limit} bytes"),
        ),
        K::MinLength { limit } => invalid(format!("{body} should be at least {limit} chars long")),
        K::MaxItems { limit } => {
            let n = inst.as_array().map_or(0, Vec::len);
            cause(
                "FieldValueTooMany",
                path.clone(),
                format!("Too many: {n}: must have at most {limit} items"),
            )
        }
        K::MinItems { limit } => invalid(format!("{body} should have at least {limit} items")),
        K::MaxProperties { limit } => {
            let n = inst.as_object().map_or(0, Map::len);
            cause(
                "FieldValueTooMany",
                path.clone(),
                format!("Too many: {n}: must have at most {limit} items"),
            )
        }
        K::MinProperties { limit } => {
            invalid(format!("{body} should have at least {limit} properties"))
        }
        K::Minimum { limit } => invalid(format!(
            "{body} should be greater than or equal to {}",
            go_number(limit)
        )),
        K::Maximum { limit } => invalid(format!(
            "{body} should be less than or equal to {}",
            go_number(limit)
        )),
        K::ExclusiveMinimum { limit } => invalid(format!(
            "{body} should be greater than {}",
            go_number(limit)
        )),
        K::ExclusiveMaximum { limit } => {
            invalid(format!("{body} should be less than {}", go_number(limit)))
        }
        K::MultipleOf { multiple_of } => {
            invalid(format!("{body} should be a multiple of {multiple_of}"))
        }
        K::UniqueItems => invalid(format!("{body} shouldn't contain duplicates")),
        K::AdditionalProperties { unexpected } => invalid(format!(
            "{body} must not have additional properties: {}",
            unexpected.join(", ")
        )),
        K::AnyOf { .. } => invalid(format!("{body} must validate at least one schema (anyOf)")),
        K::OneOfNotValid { .. } | K::OneOfMultipleValid { .. } => invalid(format!(
            "{body} must validate one and only one schema (oneOf)"
        )),
        K::Not { .. } => invalid(format!("{body} must not validate the schema (not)")),
        _ => invalid(format!("{body} {err}")),
    }
}

/// A CEL rule's violation, as apiextensions' CEL validator words it.
pub(super) fn cel_cause(obj: &Value, schema: &Value, e: &kcel::ValidationError) -> Cause {
    // As apiextensions' CEL validator: the value is printed unless the rule lives on an
    // object or array (`field.OmitValueType`); a rule on an object reporting on a child
    // through `fieldPath` omits it too.
    let value = value_at(obj, &e.field_path);
    let rule_here = schema_at(schema, &e.field_path)
        .and_then(|n| n.get("x-kubernetes-validations"))
        .and_then(Value::as_array)
        .is_some_and(|rules| {
            rules
                .iter()
                .any(|r| r.get("rule").and_then(Value::as_str) == Some(e.rule.as_str()))
        });
    let shown = value
        .filter(|v| rule_here && !v.is_object() && !v.is_array())
        .map(show);
    let message = match e.kind {
        kcel::ErrorKind::ValidationFailure => e.message.clone(),
        kcel::ErrorKind::CompilationFailure | kcel::ErrorKind::InvalidRule => {
            format!("compilation failed: {}", e.message)
        }
        _ => e.message.clone(),
    };
    let reason = e
        .reason
        .clone()
        .unwrap_or_else(|| "FieldValueInvalid".to_string());
    let message = match reason.as_str() {
        "FieldValueForbidden" => format!("Forbidden: {message}"),
        "FieldValueRequired" => format!("Required value: {message}"),
        "FieldValueDuplicate" => match &shown {
            Some(v) => format!("Duplicate value: {v}"),
            None => "Duplicate value".to_string(),
        },
        _ => match &shown {
            Some(v) => format!("Invalid value: {v}: {message}"),
            None => format!("Invalid value: {message}"),
        },
    };
    Cause {
        reason,
        message,
        field: e.field_path.clone(),
    }
}
