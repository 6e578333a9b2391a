//! Which fields an object sets, as structured-merge-diff's `ToFieldSet` walks it with the
//! schema: leaves, atomic lists and maps as one field, list items by key or value.

use super::fieldset::{FieldPath, FieldSet};
use super::schema::{ListType, Shape, item_token};
use serde_json::{Map, Value};

/// Every owned field of `v`, with `prefix` prepended. A node that is a member of the set and
/// also has owned children is recorded as `prefix + "."`.
fn walk(v: &Value, shape: &Shape<'_>, prefix: &mut FieldPath, out: &mut FieldSet) {
    match v {
        Value::Object(m) if !m.is_empty() && !shape.map_atomic() => {
            for (k, child) in m {
                let (child_shape, declared) = shape.field(k);
                prefix.push(format!("f:{k}"));
                walk(child, &child_shape, prefix, out);
                if !declared {
                    mark(prefix, out);
                }
                prefix.pop();
            }
        }
        Value::Array(items) => {
            let list_type = shape.list_type();
            if list_type == ListType::Atomic {
                insert_leaf(prefix, out);
                return;
            }
            let item_shape = shape.item();
            for item in items {
                let Some(token) = item_token(&list_type, item) else {
                    continue;
                };
                prefix.push(token);
                if matches!(list_type, ListType::Map(_)) {
                    walk(item, &item_shape, prefix, out);
                }
                mark(prefix, out);
                prefix.pop();
            }
        }
        _ => insert_leaf(prefix, out),
    }
}

fn insert_leaf(prefix: &FieldPath, out: &mut FieldSet) {
    if !prefix.is_empty() {
        out.insert(prefix.clone());
    }
}

/// Make `prefix` itself a member: as a leaf, or as `.` when it has owned children.
fn mark(prefix: &mut FieldPath, out: &mut FieldSet) {
    if out.contains(prefix) {
        return;
    }
    let has_children = out
        .range(prefix.clone()..)
        .next()
        .is_some_and(|p| p.len() > prefix.len() && p.starts_with(prefix));
    if has_children {
        prefix.push(".".into());
        out.insert(prefix.clone());
        prefix.pop();
    } else {
        insert_leaf(prefix, out);
    }
}

/// The part of an object whose fields are owned: everything but apiVersion/kind and the
/// metadata bookkeeping; `status` only (subresource status) or without status (main
/// resource with a status subresource).
pub(crate) fn ownable(obj: &Value, subresource: Option<&str>, status_subresource: bool) -> Value {
    let mut out = Map::new();
    let Some(m) = obj.as_object() else {
        return Value::Object(out);
    };
    for (k, v) in m {
        match k.as_str() {
            "apiVersion" | "kind" => {}
            "metadata" => {
                if subresource.is_some() {
                    continue;
                }
                let mut md = Map::new();
                if let Some(mm) = v.as_object() {
                    // Everything the field manager's metadata stripper does not strip.
                    for f in [
                        "generateName",
                        "labels",
                        "annotations",
                        "finalizers",
                        "ownerReferences",
                    ] {
                        if let Some(x) = mm.get(f)
                            && !x.is_null()
                        {
                            md.insert(f.to_string(), x.clone());
                        }
                    }
                }
                if !md.is_empty() {
                    out.insert(k.clone(), Value::Object(md));
                }
            }
            "status" => {
                if subresource == Some("status") || (subresource.is_none() && !status_subresource) {
                    out.insert(k.clone(), v.clone());
                }
            }
            _ => {
                if subresource.is_none() {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
    }
    Value::Object(out)
}

/// The granular maps and lists of `v` (not the root), each as `path + "."`: what
/// structured-merge-diff's compare adds as a node of its own when it appears in an update.
fn containers(v: &Value, shape: &Shape<'_>, prefix: &mut FieldPath, out: &mut FieldSet) {
    match v {
        Value::Object(m) if !m.is_empty() && !shape.map_atomic() => {
            if !prefix.is_empty() {
                prefix.push(".".into());
                out.insert(prefix.clone());
                prefix.pop();
            }
            for (k, child) in m {
                prefix.push(format!("f:{k}"));
                containers(child, &shape.field(k).0, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let list_type = shape.list_type();
            if list_type == ListType::Atomic {
                return;
            }
            prefix.push(".".into());
            out.insert(prefix.clone());
            prefix.pop();
            if matches!(list_type, ListType::Map(_)) {
                let item_shape = shape.item();
                for item in items {
                    let Some(token) = item_token(&list_type, item) else {
                        continue;
                    };
                    prefix.push(token);
                    containers(item, &item_shape, prefix, out);
                    prefix.pop();
                }
            }
        }
        _ => {}
    }
}

pub(crate) fn container_set(obj: &Value, shape: &Shape<'_>) -> FieldSet {
    let mut set = FieldSet::new();
    containers(obj, shape, &mut Vec::new(), &mut set);
    set
}

pub(crate) fn owned_set(obj: &Value, shape: &Shape<'_>) -> FieldSet {
    let mut set = FieldSet::new();
    walk(obj, shape, &mut Vec::new(), &mut set);
    set
}

/// structured-merge-diff refuses an applied map-list item without one of its keys:
/// `.spec.items: element 0: associative list with keys has an element that omits key field
/// "name" (and doesn't have default value)`.
pub(crate) fn missing_key(v: &Value, shape: &Shape<'_>, at: &str) -> Option<String> {
    match v {
        Value::Object(m) if !shape.map_atomic() => m
            .iter()
            .find_map(|(k, child)| missing_key(child, &shape.field(k).0, &format!("{at}.{k}"))),
        Value::Array(items) => {
            let ListType::Map(keys) = shape.list_type() else {
                return None;
            };
            let item_shape = shape.item();
            items.iter().enumerate().find_map(|(i, item)| {
                let absent = keys.iter().find(|k| {
                    item.get(k.as_str()).is_none() && !item_shape.field(k).0.has_default()
                });
                match absent {
                    Some(k) => Some(format!(
                        "{at}: element {i}: associative list with keys has an element that omits key field {k:?} (and doesn't have default value)"
                    )),
                    None => {
                        let token = item_token(&ListType::Map(keys.clone()), item)?;
                        let inner = super::fieldset::display_path(&[token]);
                        missing_key(item, &item_shape, &format!("{at}{inner}"))
                    }
                }
            })
        }
        _ => None,
    }
}
