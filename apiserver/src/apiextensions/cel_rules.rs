//! Evaluating a CRD's `x-kubernetes-validations` where they can tell something, as the real
//! server does with validation ratcheting (KEP-4008, on by default since 1.30, GA in 1.33):
//! on update, a value equal to the stored one cannot fail a rule it passed before, and an error
//! on an unchanged value is not reported. So a subtree that did not change is not evaluated
//! (unless a transition rule, one reading `oldSelf`, lives in it: those always run), and a
//! subtree without any rule is never walked. A status write on a Service thus evaluates the
//! rules under `status` only, not the dozens under `spec`.
//!
//! kube-cel evaluates a rule-bearing node and everything below it (`validate_compiled`); this
//! module only decides which nodes to hand it, and puts the node's path in front of the paths
//! it reports.

use std::{borrow::Cow, collections::HashMap};

use kube::core::cel as kcel;
use serde_json::{Map, Value};

/// What lives at and below one node of a compiled schema, computed once per CRD version.
#[derive(Debug, Default)]
pub struct RuleMap {
    /// Some rule at or below this node.
    rules: bool,
    /// Some transition rule at or below this node.
    transition: bool,
    /// A transition rule on this node itself (or in its `allOf`/`oneOf`/`anyOf` branches).
    transition_here: bool,
    /// The node's own rules (and branches), compiled from a copy of its schema without
    /// the rules below it: kube-cel evaluates every rule under the node it is handed, so
    /// handing it the full node would evaluate the unchanged subtrees ratcheting skips.
    /// `None` when the node has no rules of its own.
    here: Option<kcel::CompiledSchema>,
    /// The fields of this object the node's own rules read, when the rules name them all
    /// (`self.spec.x`, `oldSelf.metadata`): only those are handed to kube-cel, which
    /// converts everything it is handed. `None`: the rules may read any of it.
    reads: Option<Vec<String>>,
    /// Deeper than kube-cel walks: it is handed the full node, which it reports.
    too_deep: bool,
    properties: HashMap<String, RuleMap>,
    items: Option<Box<RuleMap>>,
    additional: Option<Box<RuleMap>>,
    /// `x-kubernetes-list-map-keys` of a `x-kubernetes-list-type: map` list: its items are
    /// correlated with the stored ones by these keys. Items of other lists are not
    /// correlated at all (KEP-4008), so their rules always run when the list changed.
    map_keys: Option<Vec<String>>,
}

impl RuleMap {
    /// `schema` is the JSON `compiled` was compiled from.
    pub fn new(compiled: &kcel::CompiledSchema, schema: &Value) -> RuleMap {
        RuleMap::at(compiled, Some(schema), 0)
    }

    fn at(node: &kcel::CompiledSchema, schema: Option<&Value>, depth: usize) -> RuleMap {
        let branches = node.all_of.iter().chain(&node.one_of).chain(&node.any_of);
        let has_own = !node.validations.is_empty() || branches.clone().next().is_some();
        let mut map = RuleMap {
            too_deep: depth > MAX_DEPTH,
            ..RuleMap::default()
        };
        // Without its schema (inside `allOf`/`oneOf`/`anyOf` branches, only asked whether
        // a transition rule lives there) a node is never evaluated: nothing to compile.
        if let Some(schema) = schema.filter(|_| has_own && !map.too_deep) {
            map.here = Some(kcel::compile_schema(&own_rules_only(schema)));
            map.reads = fields_read(schema, depth == 0);
        }
        map.transition_here = node.validations.iter().any(|v| match v {
            Ok(rule) => rule.is_transition_rule,
            Err(_) => true,
        }) || branches
            .clone()
            .any(|b| RuleMap::at(b, None, depth + 1).transition);
        if schema.and_then(|s| s.get("x-kubernetes-list-type")) == Some(&Value::from("map")) {
            let keys = schema.and_then(|s| s.get("x-kubernetes-list-map-keys"));
            let keys = keys.and_then(Value::as_array).into_iter().flatten();
            map.map_keys = Some(keys.filter_map(Value::as_str).map(String::from).collect());
        }
        if !map.too_deep {
            let child = |key: &str| schema.and_then(|s| s.get(key));
            map.properties = node
                .properties
                .iter()
                .map(|(name, c)| {
                    let s = child("properties").and_then(|p| p.get(name));
                    (name.clone(), RuleMap::at(c, s, depth + 1))
                })
                .filter(|(_, c)| c.rules)
                .collect();
            map.items = node
                .items
                .as_deref()
                .map(|c| Box::new(RuleMap::at(c, child("items"), depth + 1)));
            if !node.preserve_unknown_fields {
                map.additional = node
                    .additional_properties
                    .as_deref()
                    .map(|c| Box::new(RuleMap::at(c, child("additionalProperties"), depth + 1)));
            }
        }
        let below = map
            .properties
            .values()
            .chain(map.items.as_deref())
            .chain(map.additional.as_deref());
        map.transition = map.transition_here || below.clone().any(|c| c.transition);
        map.rules = has_own || map.too_deep || below.clone().any(|c| c.rules);
        map
    }
}

const MAX_DEPTH: usize = 64;

/// A copy of a schema node keeping its own rules and what kube-cel needs to convert its
/// value (field names, maps, formats, embedded resources), without the rules below it. A
/// subtree whose conversion needs no schema at all (no map, no typed format, no embedded
/// resource) is left out (or, under a map, cut to its `type`): kube-cel converts it as a
/// plain value with its parent and does not walk it again.
fn own_rules_only(schema: &Value) -> Value {
    copy_for_conversion(schema, true)
}

/// A descendant of a rule-bearing node, for converting values only: no rules, no branches.
fn conversion_only(schema: &Value) -> Value {
    if plain(schema) {
        let mut cut = Map::new();
        if let Some(t) = schema.get("type") {
            cut.insert("type".into(), t.clone());
        }
        return Value::Object(cut);
    }
    copy_for_conversion(schema, false)
}

/// A copy of a schema node whose descendants are `conversion_only`; its own rules and
/// branches kept only if `own_rules`. In an object that is not a map, a field without a
/// schema converts as a plain value: plain fields are left out, so kube-cel does not walk
/// (and convert) them a second time.
fn copy_for_conversion(schema: &Value, own_rules: bool) -> Value {
    let Some(node) = schema.as_object() else {
        return schema.clone();
    };
    let is_map = node.contains_key("additionalProperties");
    let mut copy = Map::new();
    for (key, value) in node {
        let rule_key = matches!(
            key.as_str(),
            "x-kubernetes-validations" | "allOf" | "oneOf" | "anyOf" | "not"
        );
        let converted = match key.as_str() {
            _ if rule_key && !own_rules => continue,
            "properties" => {
                let props = value.as_object().into_iter().flatten();
                let kept = props
                    .filter(|(_, v)| is_map || !plain(v))
                    .map(|(k, v)| (k.clone(), conversion_only(v)));
                Value::Object(kept.collect())
            }
            "items" | "additionalProperties" if value.is_object() => conversion_only(value),
            _ => value.clone(),
        };
        copy.insert(key.clone(), converted);
    }
    Value::Object(copy)
}

/// Whether kube-cel converts values of this subtree the same with or without its schema:
/// every key a field name, no typed string format (date-time, duration, byte), no
/// embedded resource, no int-or-string.
fn plain(schema: &Value) -> bool {
    let Some(node) = schema.as_object() else {
        return false;
    };
    let typed_format = matches!(
        node.get("format").and_then(Value::as_str),
        Some("date-time" | "duration" | "byte")
    );
    let special = typed_format
        || node.contains_key("additionalProperties")
        || node.contains_key("x-kubernetes-embedded-resource")
        || node.contains_key("x-kubernetes-int-or-string")
        || node.contains_key("x-kubernetes-preserve-unknown-fields");
    !special
        && node
            .get("properties")
            .and_then(Value::as_object)
            .is_none_or(|p| p.values().all(plain))
        && node.get("items").is_none_or(plain)
}

/// The CEL rules' failures for `obj` (`old`: the stored object, on update).
pub fn validate(
    compiled: &kcel::CompiledSchema,
    map: &RuleMap,
    obj: &Value,
    old: Option<&Value>,
) -> Vec<kcel::ValidationError> {
    let mut errors = Vec::new();
    walk(compiled, map, obj, old, "", &mut errors);
    errors
}

fn walk(
    node: &kcel::CompiledSchema,
    map: &RuleMap,
    value: &Value,
    old: Option<&Value>,
    path: &str,
    errors: &mut Vec<kcel::ValidationError>,
) {
    if !map.rules || (!map.transition && old == Some(value)) {
        return;
    }
    let mut report = |found: Result<(), kcel::ValidationErrors>| {
        if let Err(found) = found {
            errors.extend(found.into_vec().into_iter().map(|mut e| {
                e.field_path = join(path, &e.field_path);
                e
            }));
        }
    };
    if map.too_deep {
        report(kcel::validate_compiled(node, value, old));
        return;
    }
    if let Some(here) = map
        .here
        .as_ref()
        .filter(|_| map.transition_here || old != Some(value))
    {
        // The old value only where a rule here reads it: converting it costs as much again.
        let old_here = old.filter(|_| map.transition_here);
        let (reads, root) = (map.reads.as_deref(), path.is_empty());
        let old_here = old_here.map(|o| only(o, reads, root));
        report(kcel::validate_compiled(
            here,
            &only(value, reads, root),
            old_here.as_deref(),
        ));
    }
    if let Some(object) = value.as_object() {
        for (name, child) in &map.properties {
            if let (Some(v), Some(n)) = (object.get(name), node.properties.get(name)) {
                let old = old.and_then(|o| o.get(name));
                walk(n, child, v, old, &join(path, name), errors);
            }
        }
        if let (Some(child), Some(n)) = (&map.additional, &node.additional_properties) {
            for (key, v) in object
                .iter()
                .filter(|(k, _)| !node.properties.contains_key(*k))
            {
                let old = old.and_then(|o| o.get(key));
                walk(n, child, v, old, &join(path, key), errors);
            }
        }
    }
    if let (Some(child), Some(n), Some(list)) = (&map.items, &node.items, value.as_array()) {
        let old = old.and_then(Value::as_array);
        for (i, v) in list.iter().enumerate() {
            let old = match (&map.map_keys, old) {
                (Some(keys), Some(old)) => old.iter().find(|o| same_keys(keys, o, v)),
                _ => None,
            };
            walk(n, child, v, old, &format!("{path}[{i}]"), errors);
        }
    }
}

/// The fields of an object node its own rules read, if every `self` and `oldSelf` in them
/// is followed by `.<declared field>`; `None` otherwise (also for a map, or branches). At
/// the root, `apiVersion`, `kind` and `metadata` are declared implicitly.
fn fields_read(schema: &Value, root: bool) -> Option<Vec<String>> {
    let empty = Map::new();
    let props = schema
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let declared = |f: &str| props.contains_key(f) || (root && ROOT_FIELDS.contains(&f));
    if schema.get("additionalProperties").is_some()
        || ["allOf", "oneOf", "anyOf"]
            .iter()
            .any(|k| schema.get(*k).is_some())
    {
        return None;
    }
    let rules = schema.get("x-kubernetes-validations")?.as_array()?;
    let texts = rules.iter().flat_map(|r| {
        ["rule", "messageExpression"]
            .into_iter()
            .filter_map(|k| r.get(k).and_then(Value::as_str))
    });
    let mut fields = Vec::new();
    for text in texts {
        for var in ["self", "oldSelf"] {
            for (at, _) in text.match_indices(var) {
                let before = text[..at].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue; // part of a longer name
                }
                let rest = &text[at + var.len()..];
                if rest.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let field: String = rest
                    .strip_prefix('.')?
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !declared(&field) {
                    return None; // an escaped name, or a macro over the object itself
                }
                if !fields.contains(&field) {
                    fields.push(field);
                }
            }
        }
    }
    Some(fields)
}

const ROOT_FIELDS: [&str; 3] = ["apiVersion", "kind", "metadata"];

/// `value` with only `fields` (when the node's rules read only those). At the root, rules see
/// only `metadata.name` and `metadata.generateName`, as the real server's (its CEL type of
/// ObjectMeta declares no other field).
fn only<'a>(value: &'a Value, fields: Option<&[String]>, root: bool) -> Cow<'a, Value> {
    let Some(object) = value.as_object() else {
        return Cow::Borrowed(value);
    };
    if fields.is_none() && !(root && object.contains_key("metadata")) {
        return Cow::Borrowed(value);
    }
    let wanted = |k: &str| fields.is_none_or(|f| f.iter().any(|x| x == k));
    let view = object.iter().filter(|(k, _)| wanted(k)).map(|(k, v)| {
        if root && k == "metadata" {
            let names = ["name", "generateName"];
            let kept = names
                .iter()
                .filter_map(|n| v.get(*n).map(|x| (n.to_string(), x.clone())));
            (k.clone(), Value::Object(kept.collect()))
        } else {
            (k.clone(), v.clone())
        }
    });
    Cow::Owned(Value::Object(view.collect()))
}

/// Whether two items of a map list have the same key fields.
fn same_keys(keys: &[String], a: &Value, b: &Value) -> bool {
    keys.iter().all(|k| a.get(k) == b.get(k))
}

/// `spec` + `replicas` → `spec.replicas`; `spec` + `[0].name` → `spec[0].name`.
fn join(path: &str, rest: &str) -> String {
    match (path.is_empty(), rest.is_empty()) {
        // A root rule's `fieldPath: .spec.x` is reported normalised, as `spec.x`.
        (true, _) => rest.strip_prefix('.').unwrap_or(rest).to_string(),
        (false, true) => path.to_string(),
        (false, false) if rest.starts_with('[') || rest.starts_with('.') => format!("{path}{rest}"),
        (false, false) => format!("{path}.{rest}"),
    }
}

#[cfg(test)]
#[path = "cel_rules_tests.rs"]
mod tests;
