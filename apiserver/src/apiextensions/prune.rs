//! Pruning unknown fields (honouring `x-kubernetes-preserve-unknown-fields` and
//! `x-kubernetes-embedded-resource`), dropping nulls of non-nullable fields, and applying
//! the schema's defaults.

use super::walk::{At, MAX_DEPTH, field_schemas, flag};
use serde_json::Value;

/// Prune unknown fields, drop nulls of non-nullable fields, apply defaults.
pub(super) fn prune_node(
    v: &mut Value,
    schema: &Value,
    at: At<'_>,
    root: bool,
    pruned: &mut Vec<String>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Object(m) => {
            let (props, additional) = field_schemas(schema);
            let preserve = flag(schema, "x-kubernetes-preserve-unknown-fields");
            let embedded = flag(schema, "x-kubernetes-embedded-resource");
            m.retain(|k, child| {
                if (root || embedded) && matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
                    // Type and object metadata are the server's business, never pruned here.
                    return true;
                }
                let child_schema = props
                    .and_then(|p| p.get(k))
                    .or(additional.filter(|a| a.is_object()));
                match child_schema {
                    Some(cs) => {
                        if child.is_null() && !flag(cs, "nullable") {
                            // The real server drops nulls of non-nullable fields (then defaults).
                            return false;
                        }
                        prune_node(child, cs, At::Field(&at, k), false, pruned, depth + 1);
                        true
                    }
                    None => {
                        let keep = preserve || additional.and_then(Value::as_bool) == Some(true);
                        if !keep {
                            pruned.push(At::Field(&at, k).spell());
                        }
                        keep
                    }
                }
            });
            if let Some(props) = props {
                for (k, ps) in props {
                    if m.contains_key(k) {
                        continue;
                    }
                    if let Some(d) = ps.get("default") {
                        let mut d = d.clone();
                        let mut ignored = Vec::new();
                        prune_node(
                            &mut d,
                            ps,
                            At::Field(&at, k),
                            false,
                            &mut ignored,
                            depth + 1,
                        );
                        m.insert(k.clone(), d);
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(is) = schema.get("items").filter(|i| i.is_object()) {
                for (i, item) in items.iter_mut().enumerate() {
                    prune_node(item, is, At::Item(&at, i), false, pruned, depth + 1);
                }
            }
        }
        _ => {}
    }
}
