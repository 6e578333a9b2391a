//! Walking an object beside its schema: where a node is (`At`, spelled only when needed),
//! the depth bound, and the value or schema node at a kube-cel field path.

use serde_json::{Map, Value};

pub(super) const MAX_DEPTH: usize = 64;

pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

pub(super) fn flag(schema: &Value, key: &str) -> bool {
    schema.get(key).and_then(Value::as_bool) == Some(true)
}

/// Where a node is, as a chain of steps up to the root: spelled out only for a pruned field,
/// so walking an object allocates nothing for the fields it keeps.
#[derive(Clone, Copy)]
pub(super) enum At<'a> {
    Root,
    Field(&'a At<'a>, &'a str),
    Item(&'a At<'a>, usize),
}

impl At<'_> {
    pub(super) fn spell(&self) -> String {
        match self {
            At::Root => String::new(),
            At::Field(parent, key) => join(&parent.spell(), key),
            At::Item(parent, i) => format!("{}[{i}]", parent.spell()),
        }
    }
}

/// The value at a kube-cel field path (`spec.items[0].name`), best effort.
pub(super) fn value_at<'a>(obj: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = obj;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (name, rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            cur = cur.get(name)?;
        }
        for idx in rest.split('[').filter(|s| !s.is_empty()) {
            let i: usize = idx.trim_end_matches(']').parse().ok()?;
            cur = cur.get(i)?;
        }
    }
    Some(cur)
}

/// The schema node at a dotted field path (`spec.items[0].name`).
pub(super) fn schema_at<'a>(schema: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = schema;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (name, rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            cur = cur
                .pointer(&format!("/properties/{name}"))
                .or_else(|| cur.get("additionalProperties"))?;
        }
        for _ in rest.split('[').filter(|s| !s.is_empty()) {
            cur = cur.get("items")?;
        }
    }
    Some(cur)
}

/// An object schema's `properties` and `additionalProperties`: where its fields' schemas are.
pub(super) fn field_schemas(schema: &Value) -> (Option<&Map<String, Value>>, Option<&Value>) {
    (
        schema.get("properties").and_then(Value::as_object),
        schema.get("additionalProperties"),
    )
}
