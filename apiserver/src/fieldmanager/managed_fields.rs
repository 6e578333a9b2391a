//! `metadata.managedFields` entries: read, written back, and printed in conflict messages.

use super::fieldset::{FieldSet, fields_v1_to_set, set_to_fields_v1};
use serde_json::{Map, Value, json};

/// One managedFields entry, decoded.
pub(crate) struct Entry {
    pub(crate) raw: Map<String, Value>,
    pub(crate) manager: String,
    pub(crate) operation: String,
    pub(crate) subresource: String,
    pub(crate) set: FieldSet,
    pub(crate) changed: bool,
}

pub(crate) fn read_entries(obj: &Value) -> Vec<Entry> {
    let Some(list) = obj
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|e| {
            let raw = e.as_object()?.clone();
            let s = |k: &str| raw.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let mut set = FieldSet::new();
            if let Some(f) = raw.get("fieldsV1") {
                fields_v1_to_set(f, &mut Vec::new(), &mut set);
            }
            Some(Entry {
                manager: s("manager"),
                operation: s("operation"),
                subresource: s("subresource"),
                raw,
                set,
                changed: false,
            })
        })
        .collect()
}

pub(crate) fn write_entries(obj: &mut Value, entries: Vec<Entry>, now: &str, api_version: &str) {
    let list: Vec<Value> = entries
        .into_iter()
        .filter(|e| !e.set.is_empty())
        .map(|e| {
            let mut raw = e.raw;
            if e.changed || !raw.contains_key("time") {
                raw.insert("time".into(), json!(now));
            }
            if e.changed || !raw.contains_key("apiVersion") {
                raw.insert("apiVersion".into(), json!(api_version));
            }
            raw.insert("fieldsType".into(), json!("FieldsV1"));
            raw.insert("fieldsV1".into(), set_to_fields_v1(&e.set));
            Value::Object(raw)
        })
        .collect();
    if !obj.is_object() {
        *obj = Value::Object(Map::new());
    }
    let Some(m) = obj.as_object_mut() else { return };
    let md = m.entry("metadata").or_insert(Value::Object(Map::new()));
    if !md.is_object() {
        *md = Value::Object(Map::new());
    }
    if let Some(md) = md.as_object_mut() {
        if list.is_empty() {
            md.remove("managedFields");
        } else {
            md.insert("managedFields".into(), Value::Array(list));
        }
    }
}

pub(crate) fn new_entry(manager: &str, operation: &str, subresource: Option<&str>) -> Entry {
    let mut raw = Map::new();
    raw.insert("manager".into(), json!(manager));
    raw.insert("operation".into(), json!(operation));
    if let Some(s) = subresource {
        raw.insert("subresource".into(), json!(s));
    }
    Entry {
        raw,
        manager: manager.to_string(),
        operation: operation.to_string(),
        subresource: subresource.unwrap_or("").to_string(),
        set: FieldSet::new(),
        changed: true,
    }
}

pub(crate) fn print_manager(e: &Entry) -> String {
    let mut s = format!("{:?}", e.manager);
    if !e.subresource.is_empty() {
        s.push_str(&format!(" with subresource {:?}", e.subresource));
    }
    if e.operation == "Update" {
        let api = e
            .raw
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        match e.raw.get("time").and_then(Value::as_str) {
            Some(t) => {
                // Go prints `time.RFC3339`: whole seconds, UTC.
                let t = chrono::DateTime::parse_from_rfc3339(t)
                    .map(|d| {
                        d.with_timezone(&chrono::Utc)
                            .format("%Y-%m-%dT%H:%M:%SZ")
                            .to_string()
                    })
                    .unwrap_or_else(|_| t.to_string());
                s.push_str(&format!(" using {api} at {t}"))
            }
            None => s.push_str(&format!(" using {api}")),
        }
    }
    s
}
