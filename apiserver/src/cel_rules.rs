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

use std::collections::HashMap;

use kube::core::cel as kcel;
use serde_json::Value;

/// What lives at and below one node of a compiled schema, computed once per CRD version.
#[derive(Debug, Default)]
pub struct RuleMap {
    /// Some rule at or below this node.
    rules: bool,
    /// Some transition rule at or below this node.
    transition: bool,
    /// Rules (or `allOf`/`oneOf`/`anyOf` branches) on this node itself: kube-cel takes the
    /// whole subtree from here.
    here: bool,
    properties: HashMap<String, RuleMap>,
    items: Option<Box<RuleMap>>,
    additional: Option<Box<RuleMap>>,
}

impl RuleMap {
    pub fn new(compiled: &kcel::CompiledSchema) -> RuleMap {
        RuleMap::at(compiled, 0)
    }

    fn at(node: &kcel::CompiledSchema, depth: usize) -> RuleMap {
        let branches = node.all_of.iter().chain(&node.one_of).chain(&node.any_of);
        let mut map = RuleMap {
            here: !node.validations.is_empty() || branches.clone().next().is_some(),
            ..RuleMap::default()
        };
        if depth > MAX_DEPTH {
            // kube-cel reports too-deep schemas itself: hand it the node.
            map.here = true;
        }
        map.transition = node.validations.iter().any(|v| match v {
            Ok(rule) => rule.is_transition_rule,
            Err(_) => true,
        }) || branches
            .clone()
            .any(|b| RuleMap::at(b, depth + 1).transition);
        if !map.here || !map.transition {
            map.properties = node
                .properties
                .iter()
                .map(|(name, child)| (name.clone(), RuleMap::at(child, depth + 1)))
                .filter(|(_, child)| child.rules)
                .collect();
            map.items = node
                .items
                .as_deref()
                .map(|child| Box::new(RuleMap::at(child, depth + 1)));
            if !node.preserve_unknown_fields {
                map.additional = node
                    .additional_properties
                    .as_deref()
                    .map(|child| Box::new(RuleMap::at(child, depth + 1)));
            }
        }
        let below = map
            .properties
            .values()
            .chain(map.items.as_deref())
            .chain(map.additional.as_deref());
        map.transition |= below.clone().any(|c| c.transition);
        map.rules = map.here || below.clone().any(|c| c.rules);
        map
    }
}

const MAX_DEPTH: usize = 64;

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
    if map.here {
        if let Err(found) = kcel::validate_compiled(node, value, old) {
            errors.extend(found.into_vec().into_iter().map(|mut e| {
                e.field_path = join(path, &e.field_path);
                e
            }));
        }
        return;
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
        // As kube-cel and the real server for lists that are not list-type map: by index.
        let old = old.and_then(Value::as_array);
        for (i, v) in list.iter().enumerate() {
            let old = old.and_then(|o| o.get(i));
            walk(n, child, v, old, &format!("{path}[{i}]"), errors);
        }
    }
}

/// `spec` + `replicas` → `spec.replicas`; `spec` + `[0].name` → `spec[0].name`.
fn join(path: &str, rest: &str) -> String {
    match (path.is_empty(), rest.is_empty()) {
        (true, _) => rest.to_string(),
        (false, true) => path.to_string(),
        (false, false) if rest.starts_with('[') || rest.starts_with('.') => format!("{path}{rest}"),
        (false, false) => format!("{path}.{rest}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "properties": {
                        "min": {"type": "integer"},
                        "max": {"type": "integer"},
                        "ports": {"type": "array", "items": {
                            "type": "object",
                            "properties": {"port": {"type": "integer",
                                "x-kubernetes-validations": [{"rule": "self > 0", "message": "must be positive"}]}}
                        }}
                    },
                    "x-kubernetes-validations": [{"rule": "self.min <= self.max", "message": "min above max"}]
                },
                "status": {
                    "type": "object",
                    "properties": {"count": {"type": "integer",
                        "x-kubernetes-validations": [{"rule": "self >= 0", "message": "negative"}]}}
                },
                "id": {"type": "string",
                       "x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "is immutable"}]},
                "free": {"type": "object", "properties": {"x": {"type": "string"}}}
            }
        })
    }

    fn run(obj: Value, old: Option<Value>) -> Vec<(String, String)> {
        let compiled = kcel::compile_schema(&schema());
        let map = RuleMap::new(&compiled);
        let mut found: Vec<_> = validate(&compiled, &map, &obj, old.as_ref())
            .into_iter()
            .map(|e| (e.field_path, e.message))
            .collect();
        found.sort();
        found
    }

    #[test]
    fn create_evaluates_every_rule_with_its_path() {
        let found = run(
            json!({"spec": {"min": 3, "max": 1, "ports": [{"port": 1}, {"port": -1}]},
                   "status": {"count": -1}}),
            None,
        );
        assert_eq!(
            found,
            vec![
                ("spec".into(), "min above max".into()),
                ("spec.ports[1].port".into(), "must be positive".into()),
                ("status.count".into(), "negative".into()),
            ]
        );
    }

    #[test]
    fn an_unchanged_subtree_is_ratcheted_and_a_changed_one_is_not() {
        // Stored before the rules existed: spec breaks two rules.
        let old =
            json!({"spec": {"min": 3, "max": 1, "ports": [{"port": -1}]}, "status": {"count": 1}});
        let status_only =
            json!({"spec": {"min": 3, "max": 1, "ports": [{"port": -1}]}, "status": {"count": -2}});
        assert_eq!(
            run(status_only, Some(old.clone())),
            vec![("status.count".into(), "negative".into())]
        );
        let spec_changed =
            json!({"spec": {"min": 4, "max": 1, "ports": [{"port": -1}]}, "status": {"count": 1}});
        assert_eq!(
            run(spec_changed, Some(old)),
            vec![
                ("spec".into(), "min above max".into()),
                ("spec.ports[0].port".into(), "must be positive".into()),
            ]
        );
    }

    #[test]
    fn transition_rules_run_on_every_update() {
        // Never ratcheted (the CRD validation ratcheting docs): they run on unchanged values too.
        let old = json!({"id": "a", "spec": {"min": 1, "max": 2}});
        assert_eq!(run(old.clone(), Some(old.clone())), vec![]);
        let found = run(json!({"id": "b", "spec": {"min": 1, "max": 2}}), Some(old));
        assert_eq!(found, vec![("id".into(), "is immutable".into())]);
    }

    #[test]
    fn subtrees_without_rules_are_not_in_the_map() {
        let compiled = kcel::compile_schema(&schema());
        let map = RuleMap::new(&compiled);
        assert!(map.rules && !map.here);
        assert!(map.transition, "id's rule reads oldSelf");
        assert!(!map.properties["spec"].transition);
        assert!(!map.properties.contains_key("free"));
        assert!(map.properties["spec"].here);
        assert!(!map.properties["status"].transition);
    }
}
