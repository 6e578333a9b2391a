//! Field sets and their FieldsV1 encoding (structured-merge-diff `fieldpath`): paths of
//! `f:<field>`, `k:{"name":"x"}` (an item of a map list), `v:"x"` (an item of a set) and
//! `.` (the node itself, when it also has owned children).

use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// A path of FieldsV1 tokens: `f:spec`, `k:{"name":"x"}`, `v:"x"`, `.`.
pub(crate) type FieldPath = Vec<String>;
pub(crate) type FieldSet = BTreeSet<FieldPath>;

/// A list-item token, `k:{...}` or `v:<json>`, parsed to match items with.
enum Item {
    Key(Map<String, Value>),
    Value(Value),
}

impl Item {
    fn parse(token: &str) -> Option<Item> {
        if let Some(k) = token.strip_prefix("k:") {
            return serde_json::from_str(k).ok().map(Item::Key);
        }
        token
            .strip_prefix("v:")
            .and_then(|v| serde_json::from_str(v).ok())
            .map(Item::Value)
    }

    fn matches(&self, item: &Value) -> bool {
        match self {
            Item::Key(key) => key
                .iter()
                .all(|(k, v)| item.get(k).unwrap_or(&Value::Null) == v),
            Item::Value(v) => item == v,
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
    let item = Item::parse(token)?;
    v.as_array()?.iter().find(|i| item.matches(i))
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
        } else {
            let Some(item) = Item::parse(t) else { return };
            cur.as_array_mut()
                .and_then(|a| a.iter_mut().find(|i| item.matches(i)))
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
    } else if let Some(item) = Item::parse(last)
        && let Some(a) = cur.as_array_mut()
    {
        a.retain(|i| !item.matches(i));
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

/// The path as structured-merge-diff prints it in conflicts: `.spec.list[name="a"].x`
/// for a map-list item, `.metadata.finalizers[="x"]` for a set item.
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
        } else if let Some(v) = t.strip_prefix("v:") {
            s.push_str(&format!("[={v}]"));
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
    let (an, bn) = (node(a), node(b));
    // A `.` path owns the node, not what is inside it; a leaf owns all of it.
    an == bn
        || (an.len() == a.len() && bn.starts_with(an))
        || (bn.len() == b.len() && an.starts_with(bn))
}

/// Whether `q` is `p` or lies inside it.
pub(crate) fn within(q: &[String], p: &[String]) -> bool {
    node(q).starts_with(node(p))
}
