//! Field sets and their FieldsV1 encoding (structured-merge-diff `fieldpath`): paths of
//! `f:<field>`, `k:{"name":"x"}` (a keyed list item) and `.` (the item itself).

use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// A path of FieldsV1 tokens: `f:spec`, `k:{"name":"x"}`, `.` (the keyed item itself).
pub(crate) type FieldPath = Vec<String>;
pub(crate) type FieldSet = BTreeSet<FieldPath>;

pub(crate) fn is_keyed_list(items: &[Value]) -> bool {
    !items.is_empty()
        && items
            .iter()
            .all(|i| i.get("name").is_some_and(|n| !n.is_null()))
}

pub(crate) fn key_token(item: &Value) -> String {
    let name = item.get("name").cloned().unwrap_or(Value::Null);
    format!("k:{}", json!({ "name": name }))
}

/// Every owned leaf of `v` (an object), with `prefix` prepended.
pub(crate) fn leaf_paths(v: &Value, prefix: &mut FieldPath, out: &mut FieldSet) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, child) in m {
                prefix.push(format!("f:{k}"));
                leaf_paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) if is_keyed_list(items) => {
            for item in items {
                prefix.push(key_token(item));
                prefix.push(".".into());
                out.insert(prefix.clone());
                prefix.pop();
                leaf_paths(item, prefix, out);
                prefix.pop();
            }
        }
        _ => {
            if !prefix.is_empty() {
                out.insert(prefix.clone());
            }
        }
    }
}

pub(crate) fn get_token<'a>(v: &'a Value, token: &str) -> Option<&'a Value> {
    if token == "." {
        return Some(v);
    }
    if let Some(f) = token.strip_prefix("f:") {
        return v.as_object()?.get(f);
    }
    if let Some(k) = token.strip_prefix("k:") {
        let key: Map<String, Value> = serde_json::from_str(k).ok()?;
        return v
            .as_array()?
            .iter()
            .find(|item| key.iter().all(|(kk, kv)| item.get(kk) == Some(kv)));
    }
    None
}

pub(crate) fn get_path<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(v, |cur, t| get_token(cur, t))
}

/// Remove the node at `path` from `v` (no-op when absent).
pub(crate) fn remove_path(v: &mut Value, path: &[String]) {
    let path: Vec<&String> = path.iter().filter(|t| t.as_str() != ".").collect();
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = v;
    for t in parents {
        let next = if let Some(f) = t.strip_prefix("f:") {
            cur.as_object_mut().and_then(|m| m.get_mut(f))
        } else if let Some(k) = t.strip_prefix("k:") {
            let Ok(key) = serde_json::from_str::<Map<String, Value>>(k) else {
                return;
            };
            cur.as_array_mut().and_then(|a| {
                a.iter_mut()
                    .find(|item| key.iter().all(|(kk, kv)| item.get(kk) == Some(kv)))
            })
        } else {
            None
        };
        match next {
            Some(n) => cur = n,
            None => return,
        }
    }
    if let Some(f) = last.strip_prefix("f:") {
        if let Some(m) = cur.as_object_mut() {
            m.remove(f);
        }
    } else if let Some(k) = last.strip_prefix("k:")
        && let Ok(key) = serde_json::from_str::<Map<String, Value>>(k)
        && let Some(a) = cur.as_array_mut()
    {
        a.retain(|item| !key.iter().all(|(kk, kv)| item.get(kk) == Some(kv)));
    }
}

/// Remove the maps (and keyed lists) along `path`, deepest first, that are left empty.
pub(crate) fn prune_empty_ancestors(v: &mut Value, path: &[String]) {
    let fields: Vec<&String> = path.iter().filter(|t| t.as_str() != ".").collect();
    for len in (1..fields.len()).rev() {
        let prefix = &fields[..len];
        if !prefix.iter().all(|t| t.starts_with("f:")) {
            continue;
        }
        let pointer: String = prefix
            .iter()
            .map(|t| format!("/{}", t[2..].replace('~', "~0").replace('/', "~1")))
            .collect();
        let empty = match v.pointer(&pointer) {
            Some(Value::Object(m)) => m.is_empty(),
            Some(Value::Array(a)) => a.is_empty(),
            _ => false,
        };
        if !empty {
            return;
        }
        let owned: Vec<String> = prefix.iter().map(|t| t.to_string()).collect();
        remove_path(v, &owned);
    }
}

pub(crate) fn set_to_fields_v1(set: &FieldSet) -> Value {
    let mut root = Value::Object(Map::new());
    for path in set {
        let mut cur = &mut root;
        for t in path {
            let Some(m) = cur.as_object_mut() else { break };
            cur = m.entry(t.clone()).or_insert(Value::Object(Map::new()));
        }
    }
    root
}

pub(crate) fn fields_v1_to_set(v: &Value, prefix: &mut FieldPath, out: &mut FieldSet) {
    match v.as_object() {
        Some(m) if !m.is_empty() => {
            for (k, child) in m {
                prefix.push(k.clone());
                fields_v1_to_set(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {
            if !prefix.is_empty() {
                out.insert(prefix.clone());
            }
        }
    }
}

/// The path as the real server prints it in conflicts: `.spec.containers[name="x"].image`.
pub(crate) fn display_path(path: &[String]) -> String {
    let mut s = String::new();
    for t in path {
        if let Some(f) = t.strip_prefix("f:") {
            s.push('.');
            s.push_str(f);
        } else if let Some(k) = t.strip_prefix("k:") {
            let inner = serde_json::from_str::<Map<String, Value>>(k)
                .map(|m| {
                    m.iter()
                        .map(|(kk, kv)| format!("{kk}={kv}"))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_else(|_| k.to_string());
            s.push_str(&format!("[{inner}]"));
        }
    }
    s
}

/// Strip trailing `.` so item paths compare as node paths.
pub(crate) fn node(path: &[String]) -> &[String] {
    match path.split_last() {
        Some((last, rest)) if last == "." => rest,
        _ => path,
    }
}

pub(crate) fn overlaps(a: &[String], b: &[String]) -> bool {
    let (a, b) = (node(a), node(b));
    a.starts_with(b) || b.starts_with(a)
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
                    for f in ["labels", "annotations", "finalizers", "ownerReferences"] {
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

pub(crate) fn owned_set(obj: &Value) -> FieldSet {
    let mut set = FieldSet::new();
    leaf_paths(obj, &mut Vec::new(), &mut set);
    set
}
