//! Strategic merge patch, simplified: maps merge recursively, `null` deletes a key, `$patch:
//! replace` / `$patch: delete` directives on maps are honoured, `$deleteFromPrimitiveList/<f>`
//! removes values, and lists are replaced, except `metadata.finalizers` (merged as a set) and
//! `metadata.ownerReferences` (merged by `uid`). That covers ConfigMap, Lease, Namespace and
//! Event, the built-in kinds served here.

use super::parse_body;
use crate::error::ApiError;
use serde_json::{Map, Value};

pub(super) fn apply(current: &Value, body: &[u8]) -> Result<Value, ApiError> {
    let patch = parse_body(body)?;
    if !patch.is_object() {
        return Err(ApiError::bad_request(
            "error decoding patch: a strategic merge patch must be a JSON object",
        ));
    }
    let mut doc = current.clone();
    strategic_merge(&mut doc, &patch, &mut Vec::new());
    Ok(doc)
}

/// Merge-by-key lists known to strategic merge: (parent path, field, key; `None` = primitive set).
fn smp_list_key(path: &[String], field: &str) -> Option<Option<&'static str>> {
    let at_metadata = path.len() == 1 && path[0] == "metadata";
    match (at_metadata, field) {
        (true, "finalizers") => Some(None),
        (true, "ownerReferences") => Some(Some("uid")),
        _ => None,
    }
}

fn strategic_merge(target: &mut Value, patch: &Value, path: &mut Vec<String>) {
    let Some(pmap) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if pmap.get("$patch").and_then(Value::as_str) == Some("replace") {
        let mut m = pmap.clone();
        m.remove("$patch");
        *target = Value::Object(m);
        return;
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Some(tmap) = target.as_object_mut() else {
        return;
    };
    for (k, v) in pmap {
        if let Some(field) = k.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(list)), Some(del)) = (tmap.get_mut(field), v.as_array()) {
                list.retain(|x| !del.contains(x));
            }
            continue;
        }
        if k.starts_with('$') {
            continue;
        }
        match v {
            Value::Null => {
                tmap.remove(k);
            }
            Value::Object(o) => {
                if o.get("$patch").and_then(Value::as_str) == Some("delete") {
                    tmap.remove(k);
                    continue;
                }
                let child = tmap.entry(k.clone()).or_insert(Value::Object(Map::new()));
                path.push(k.clone());
                strategic_merge(child, v, path);
                path.pop();
            }
            Value::Array(items) => match smp_list_key(path, k) {
                Some(None) => {
                    let entry = tmap.entry(k.clone()).or_insert(Value::Array(Vec::new()));
                    if !entry.is_array() {
                        *entry = Value::Array(Vec::new());
                    }
                    if let Value::Array(list) = entry {
                        for item in items {
                            if !list.contains(item) {
                                list.push(item.clone());
                            }
                        }
                    }
                }
                Some(Some(key)) => {
                    let entry = tmap.entry(k.clone()).or_insert(Value::Array(Vec::new()));
                    if !entry.is_array() {
                        *entry = Value::Array(Vec::new());
                    }
                    if let Value::Array(list) = entry {
                        for item in items {
                            let id = item.get(key);
                            let delete =
                                item.get("$patch").and_then(Value::as_str) == Some("delete");
                            let pos =
                                id.and_then(|id| list.iter().position(|x| x.get(key) == Some(id)));
                            match (pos, delete) {
                                (Some(i), true) => {
                                    list.remove(i);
                                }
                                (None, true) => {}
                                (Some(i), false) => {
                                    path.push(k.clone());
                                    strategic_merge(&mut list[i], item, path);
                                    path.pop();
                                }
                                (None, false) => list.push(item.clone()),
                            }
                        }
                    }
                }
                None => {
                    tmap.insert(k.clone(), v.clone());
                }
            },
            _ => {
                tmap.insert(k.clone(), v.clone());
            }
        }
    }
}
