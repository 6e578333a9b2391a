//! What Draft 4 does not check: list-type `set`/`map` uniqueness, and the `date` and
//! `date-time` formats as kube-openapi's strfmt reads them.

use super::schema_errors::{cause, show};
use super::walk::{At, MAX_DEPTH, field_schemas};
use crate::error::Cause;
use serde_json::{Map, Value};

/// `x-kubernetes-list-type: set` and `map` (with `x-kubernetes-list-map-keys`) uniqueness.
pub(super) fn list_types_and_formats(
    v: &Value,
    schema: &Value,
    at: At<'_>,
    causes: &mut Vec<Cause>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Object(m) => {
            let (props, additional) = field_schemas(schema);
            let additional = additional.filter(|a| a.is_object());
            for (k, child) in m {
                if let Some(cs) = props.and_then(|p| p.get(k)).or(additional) {
                    list_types_and_formats(child, cs, At::Field(&at, k), causes, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            match schema.get("x-kubernetes-list-type").and_then(Value::as_str) {
                Some("set") => {
                    for (i, item) in items.iter().enumerate() {
                        if items[..i].contains(item) {
                            causes.push(cause(
                                "FieldValueDuplicate",
                                At::Item(&at, i).spell(),
                                format!("Duplicate value: {}", show(item)),
                            ));
                        }
                    }
                }
                Some("map") => {
                    let keys: Vec<&str> = schema
                        .get("x-kubernetes-list-map-keys")
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    let null = Value::Null;
                    let same_key = |a: &Value, b: &Value| {
                        keys.iter()
                            .all(|k| a.get(*k).unwrap_or(&null) == b.get(*k).unwrap_or(&null))
                    };
                    let key_of = |item: &Value| -> Map<String, Value> {
                        keys.iter()
                            .map(|k| (k.to_string(), item.get(*k).cloned().unwrap_or(Value::Null)))
                            .collect()
                    };
                    for (i, item) in items.iter().enumerate() {
                        if !keys.is_empty() && items[..i].iter().any(|o| same_key(o, item)) {
                            causes.push(cause(
                                "FieldValueDuplicate",
                                At::Item(&at, i).spell(),
                                format!("Duplicate value: {}", Value::Object(key_of(item))),
                            ));
                        }
                    }
                }
                _ => {}
            }
            if let Some(is) = schema.get("items").filter(|i| i.is_object()) {
                for (i, item) in items.iter().enumerate() {
                    list_types_and_formats(item, is, At::Item(&at, i), causes, depth + 1);
                }
            }
        }
        Value::String(text) => {
            let format = schema.get("format").and_then(Value::as_str);
            if let Some(format @ ("date-time" | "date")) = format {
                let valid = if format == "date" {
                    is_date(text)
                } else {
                    is_date_time(text)
                };
                if !valid {
                    let path = at.spell();
                    let body = if path.is_empty() {
                        "body".into()
                    } else {
                        format!("{path} in body")
                    };
                    causes.push(cause(
                        "FieldValueInvalid",
                        path,
                        format!(
                            "Invalid value: {}: {body} must be of type {format}: {}",
                            show(v),
                            show(v)
                        ),
                    ));
                }
            }
        }
        _ => {}
    }
}

/// kube-openapi's strfmt `IsDate`: Go's `time.Parse("2006-01-02", s)` (two-digit month and
/// day, the day within its month).
pub(super) fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 10
        || b[4] != b'-'
        || b[7] != b'-'
        || !digits(0..4)
        || !digits(5..7)
        || !digits(8..10)
    {
        return false;
    }
    let n = |r: std::ops::Range<usize>| s[r].parse::<i32>().unwrap_or(0);
    chrono::NaiveDate::from_ymd_opt(n(0..4), n(5..7) as u32, n(8..10) as u32).is_some()
}

/// kube-openapi's strfmt `IsDateTime`: a date, `T` (either case), then
/// `hh:mm:ss[.fraction]` and `Z` or `±hh:mm`, hours ≤ 23, minutes and seconds ≤ 59.
pub(super) fn is_date_time(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    let mut parts = lower.split('t');
    let (Some(date), Some(time)) = (parts.next(), parts.next()) else {
        return false;
    };
    if s.len() < 4 || !is_date(date) {
        return false;
    }
    let b = time.as_bytes();
    let two = |i: usize| b.get(i..i + 2).filter(|d| d.iter().all(u8::is_ascii_digit));
    let (Some(h), Some(m), Some(sec)) = (two(0), two(3), two(6)) else {
        return false;
    };
    if b.get(2) != Some(&b':') || b.get(5) != Some(&b':') {
        return false;
    }
    let rest = &time[8..];
    let zone = |z: &str| {
        let b = z.as_bytes();
        z == "z"
            || (b.len() == 6
                && matches!(b[0], b'+' | b'-')
                && b[3] == b':'
                && b[1..3].iter().chain(&b[4..6]).all(u8::is_ascii_digit))
    };
    // `(.[0-9]+)?`: Go's `.` is any one character, then digits; or no fraction at all.
    let fraction = || {
        let mut chars = rest.chars();
        chars.next()?;
        let after = chars.as_str();
        let tail = after.trim_start_matches(|c: char| c.is_ascii_digit());
        (tail.len() < after.len()).then_some(tail)
    };
    let zone_ok = zone(rest) || fraction().is_some_and(zone);
    zone_ok && h <= b"23".as_slice() && m <= b"59".as_slice() && sec <= b"59".as_slice()
}
