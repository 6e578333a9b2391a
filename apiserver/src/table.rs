//! `meta.k8s.io/v1` Table responses built from printer columns, as `kubectl get` asks for.

use crate::resource::{PrinterColumn, ResourceInfo, Table};
use chrono::{DateTime, Utc};
use jsonpath_rust::JsonPath;
use serde_json::{Map, Value, json};

/// The content type of a Table response.
pub const TABLE_CONTENT_TYPE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io";

const NAME_DESCRIPTION: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const AGE_DESCRIPTION: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/// True when the Accept header asks for `as=Table;v=v1;g=meta.k8s.io`.
pub fn wants_table(accept: &str) -> bool {
    accept.split(',').any(|entry| {
        let mut parts = entry.split(';');
        let media = parts.next().unwrap_or("").trim();
        if !(media.eq_ignore_ascii_case("application/json") || media == "*/*") {
            return false;
        }
        let (mut as_, mut g, mut v) = (None, None, None);
        for p in parts {
            let Some((k, val)) = p.split_once('=') else {
                continue;
            };
            let val = val.trim();
            match k.trim() {
                "as" => as_ = Some(val),
                "g" => g = Some(val),
                "v" => v = Some(val),
                _ => {}
            }
        }
        as_ == Some("Table") && g == Some("meta.k8s.io") && v == Some("v1")
    })
}

/// Kubernetes' `duration.HumanDuration` (k8s.io/apimachinery/pkg/util/duration), as the
/// real server prints ages: "10s", "5m", "3m20s", "2d3h", "400d", "2y10d".
pub fn human_duration(d: chrono::Duration) -> String {
    let seconds = d.num_seconds();
    if seconds < -1 {
        return "<invalid>".into();
    } else if seconds < 0 {
        return "0s".into();
    } else if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    } else if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    } else if hours < 48 {
        return format!("{hours}h");
    } else if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    } else if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    } else if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{dy}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// An RFC 3339 timestamp as an age relative to `now`; `<unknown>` when absent or unparsable.
pub(crate) fn age(timestamp: Option<&Value>, now: DateTime<Utc>) -> Value {
    match timestamp
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
    {
        Some(t) => json!(human_duration(
            now.signed_duration_since(t.with_timezone(&Utc))
        )),
        None => json!("<unknown>"),
    }
}

/// Translate a kubectl-style JSONPath (`.status.phase`, `{.metadata.annotations.a\.b}`,
/// `.status.conditions[?(@.type=="Ready")].status`) to the RFC 9535 syntax jsonpath-rust reads.
pub fn to_rfc9535(path: &str) -> String {
    let mut p = path.trim();
    if let Some(inner) = p.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
        p = inner.trim();
    }
    let p = p.strip_prefix('$').unwrap_or(p);
    let chars: Vec<char> = p.chars().collect();
    let mut out = String::from("$");
    let mut i = 0;
    let read_name = |i: &mut usize, out: &mut String| {
        let mut name = String::new();
        while *i < chars.len() {
            let c = chars[*i];
            if c == '\\' && *i + 1 < chars.len() {
                name.push(chars[*i + 1]);
                *i += 2;
                continue;
            }
            if c == '.' || c == '[' {
                break;
            }
            name.push(c);
            *i += 1;
        }
        if name == "*" {
            out.push_str("[*]");
        } else if !name.is_empty() {
            let escaped = name.replace('\\', "\\\\").replace('\'', "\\'");
            out.push_str(&format!("['{escaped}']"));
        }
    };
    while i < chars.len() {
        match chars[i] {
            '.' => {
                if i + 1 < chars.len() && chars[i + 1] == '.' {
                    out.push_str("..");
                    i += 2;
                    if i < chars.len() && chars[i] == '[' {
                        continue;
                    }
                } else {
                    i += 1;
                }
                read_name(&mut i, &mut out);
            }
            '[' => {
                let start = i;
                let mut depth = 0;
                let mut quote: Option<char> = None;
                while i < chars.len() {
                    let c = chars[i];
                    match quote {
                        Some(q) => {
                            if c == '\\' {
                                i += 1;
                            } else if c == q {
                                quote = None;
                            }
                        }
                        None => match c {
                            '\'' | '"' => quote = Some(c),
                            '[' => depth += 1,
                            ']' => {
                                depth -= 1;
                                if depth == 0 {
                                    i += 1;
                                    break;
                                }
                            }
                            _ => {}
                        },
                    }
                    i += 1;
                }
                out.extend(&chars[start..i.min(chars.len())]);
            }
            _ => read_name(&mut i, &mut out),
        }
    }
    out
}

/// The first value a kubectl-style JSONPath finds in `object`, if any.
pub fn find_first(object: &Value, path: &str) -> Option<Value> {
    let rfc = to_rfc9535(path);
    object.query(&rfc).ok()?.into_iter().next().cloned()
}

/// The cell of a printer column, as the real server's CRD table convertor builds it.
fn cell(column: &PrinterColumn, object: &Value, now: DateTime<Utc>) -> Value {
    let Some(value) = find_first(object, &column.json_path) else {
        return Value::Null;
    };
    if value.is_null() {
        return Value::Null;
    }
    match column.type_.as_str() {
        "string" => match value {
            Value::String(s) => json!(s),
            other => json!(other.to_string()),
        },
        "integer" => match &value {
            Value::Number(n) => n
                .as_i64()
                .map(Value::from)
                .or_else(|| n.as_f64().map(|f| json!(f as i64)))
                .unwrap_or(Value::Null),
            _ => Value::Null,
        },
        "number" => match &value {
            Value::Number(_) => value,
            _ => Value::Null,
        },
        "boolean" => match &value {
            Value::Bool(_) => value,
            _ => Value::Null,
        },
        "date" => match value
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        {
            Some(t) => json!(human_duration(
                now.signed_duration_since(t.with_timezone(&Utc))
            )),
            None => Value::Null,
        },
        _ => Value::Null,
    }
}

fn column_definition(
    name: &str,
    type_: &str,
    format: &str,
    description: &str,
    priority: i32,
) -> Value {
    json!({"name": name, "type": type_, "format": format, "description": description, "priority": priority})
}

/// A column a kind's printer shows by default (priority 0, no format).
pub(crate) fn column(name: &str, type_: &str, description: &str) -> Value {
    column_definition(name, type_, "", description, 0)
}

pub(crate) fn name_column() -> Value {
    column_definition("Name", "string", "name", NAME_DESCRIPTION, 0)
}

/// The creation time column of the default table convertor (printed as a date, not an age).
pub(crate) fn created_at_column() -> Value {
    column("Created At", "date", AGE_DESCRIPTION)
}

pub(crate) fn name_cell(o: &Value) -> Value {
    json!(str_at(o, "/metadata/name").unwrap_or(""))
}

/// A cell of a kind's own column.
pub(crate) type CellFn = fn(&Value, DateTime<Utc>) -> Value;

pub(crate) fn str_at<'a>(object: &'a Value, pointer: &str) -> Option<&'a str> {
    object.pointer(pointer).and_then(Value::as_str)
}

pub(crate) fn count_keys(object: &Value, key: &str) -> usize {
    object
        .get(key)
        .and_then(Value::as_object)
        .map(Map::len)
        .unwrap_or(0)
}

/// NAME, the given columns, AGE: the shape of most built-in printers (and, without
/// columns, of a kind that has none).
pub(crate) fn with_columns(
    objects: &[Value],
    now: DateTime<Utc>,
    extra: &[(Value, CellFn)],
) -> Table {
    let mut defs = vec![name_column()];
    defs.extend(extra.iter().map(|(d, _)| d.clone()));
    defs.push(column_definition("Age", "date", "", AGE_DESCRIPTION, 0));
    let rows = objects
        .iter()
        .map(|o| {
            let mut row = vec![name_cell(o)];
            row.extend(extra.iter().map(|(_, f)| f(o, now)));
            row.push(age(o.pointer("/metadata/creationTimestamp"), now));
            row
        })
        .collect();
    (defs, rows)
}

#[cfg(test)]
/// A Table of `objects` (full JSON objects), with the given list metadata
/// (`resourceVersion`, `continue`). Dates are printed as ages relative to `now`.
/// Each row carries the object's metadata as PartialObjectMetadata (`includeObject=Metadata`).
pub fn to_table(
    info: &ResourceInfo,
    objects: &[Value],
    list_metadata: Value,
    now: DateTime<Utc>,
) -> Value {
    to_table_including(info, objects, list_metadata, now, None)
}

/// As [`to_table`], honouring the request's `includeObject` query parameter: `Object` puts
/// the full object in each row (kubectl asks for it with `--sort-by`), `None` omits it,
/// anything else (or absent) gives PartialObjectMetadata.
pub fn to_table_including(
    info: &ResourceInfo,
    objects: &[Value],
    list_metadata: Value,
    now: DateTime<Utc>,
    include_object: Option<&str>,
) -> Value {
    let (defs, cells) = if let Some(own) = info.strategy.table(objects, now) {
        own
    } else if !info.printer_columns.is_empty() {
        let mut defs = vec![name_column()];
        for c in &info.printer_columns {
            defs.push(column_definition(
                &c.name,
                &c.type_,
                c.format.as_deref().unwrap_or(""),
                c.description.as_deref().unwrap_or(""),
                c.priority,
            ));
        }
        let rows = objects
            .iter()
            .map(|o| {
                let mut row = vec![name_cell(o)];
                row.extend(info.printer_columns.iter().map(|c| cell(c, o, now)));
                row
            })
            .collect();
        (defs, rows)
    } else {
        with_columns(objects, now, &[])
    };

    let rows: Vec<Value> = objects
        .iter()
        .zip(cells)
        .map(|(o, cells)| match include_object {
            Some("Object") => json!({"cells": cells, "object": o}),
            Some("None") => json!({"cells": cells}),
            _ => {
                let metadata = o.get("metadata").cloned().unwrap_or_else(|| json!({}));
                json!({
                    "cells": cells,
                    "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": metadata},
                })
            }
        })
        .collect();
    let metadata = if list_metadata.is_object() {
        list_metadata
    } else {
        json!({})
    };
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": defs,
        "rows": rows,
    })
}

#[cfg(test)]
mod tests;
