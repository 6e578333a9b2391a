//! Which CEL rules run, and on what (ratcheting of unchanged subtrees).

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
    let map = RuleMap::new(&compiled, &schema());
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
    // spec changed, so its own rule runs; its unchanged `ports` list is ratcheted.
    let spec_changed =
        json!({"spec": {"min": 4, "max": 1, "ports": [{"port": -1}]}, "status": {"count": 1}});
    assert_eq!(
        run(spec_changed, Some(old.clone())),
        vec![("spec".into(), "min above max".into())]
    );
    // A changed list that is not `x-kubernetes-list-type: map` has no correlatable
    // items (KEP-4008): every item's rules run, the unchanged first one's too (and
    // spec changed with it, so its rule runs again).
    let list_changed = json!({"spec": {"min": 3, "max": 1, "ports": [{"port": -1}, {"port": 2}]},
                              "status": {"count": 1}});
    assert_eq!(
        run(list_changed, Some(old)),
        vec![
            ("spec".into(), "min above max".into()),
            ("spec.ports[0].port".into(), "must be positive".into()),
        ]
    );
}

#[test]
fn only_the_fields_a_rule_names_are_handed_over() {
    let schema = json!({"type": "object", "properties": {
        "spec": {"type": "object"}, "metadata": {"type": "object"}, "status": {"type": "object"}},
        "x-kubernetes-validations": [{"rule": "size(self.metadata.name) < 5 && has(self.spec.x)"}]});
    assert_eq!(
        fields_read(&schema, false),
        Some(vec!["metadata".to_string(), "spec".to_string()])
    );
    let whole = |rule: &str| {
        let mut s = schema.clone();
        s["x-kubernetes-validations"][0]["rule"] = json!(rule);
        fields_read(&s, false)
    };
    assert_eq!(whole("self == oldSelf"), None);
    assert_eq!(whole("size(self) > 1"), None);
    assert_eq!(whole("self.all(k, k != 'x')"), None);
    assert_eq!(
        whole("has(self.spec) || oldSelf.status.x"),
        Some(vec!["spec".into(), "status".into()])
    );
    // And the rule sees what it names: status is left out, and its rules still run.
    let compiled = kcel::compile_schema(&schema);
    let map = RuleMap::new(&compiled, &schema);
    let obj = json!({"metadata": {"name": "toolong"}, "spec": {"x": 1}, "status": {"y": 2}});
    let found = validate(&compiled, &map, &obj, None);
    assert_eq!(found.len(), 1, "{found:?}");
}

#[test]
fn the_root_sees_only_the_name_and_generate_name_of_metadata() {
    // apiextensions: "only metadata.name and metadata.generateName are accessible".
    let schema = json!({"type": "object", "properties": {"spec": {"type": "object"}},
        "x-kubernetes-validations": [
            {"rule": "!has(self.metadata.labels)", "message": "labels seen"},
            {"rule": "self.metadata.name.startsWith('a') && !has(self.metadata.generateName)",
             "message": "name"}]});
    let compiled = kcel::compile_schema(&schema);
    let map = RuleMap::new(&compiled, &schema);
    assert_eq!(map.reads, Some(vec!["metadata".to_string()]));
    let run = |obj: Value| -> Vec<String> {
        let found = validate(&compiled, &map, &obj, None);
        found.into_iter().map(|e| e.message).collect()
    };
    assert_eq!(
        run(json!({"metadata": {"name": "ab", "labels": {"x": "y"}}})),
        Vec::<String>::new()
    );
    assert_eq!(run(json!({"metadata": {"name": "b"}})), vec!["name"]);
}

#[test]
fn map_list_items_are_correlated_by_their_keys() {
    let schema = json!({"type": "object", "properties": {"ports": {
        "type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
        "items": {"type": "object", "required": ["name"], "properties": {
            "name": {"type": "string"},
            "port": {"type": "integer",
                     "x-kubernetes-validations": [{"rule": "self > 0", "message": "must be positive"}]}}}}}});
    let compiled = kcel::compile_schema(&schema);
    let map = RuleMap::new(&compiled, &schema);
    let old = json!({"ports": [{"name": "a", "port": -1}]});
    // `a` moved to index 1, unchanged: ratcheted; `b` is new and fails.
    let new = json!({"ports": [{"name": "b", "port": -2}, {"name": "a", "port": -1}]});
    let found: Vec<_> = validate(&compiled, &map, &new, Some(&old))
        .into_iter()
        .map(|e| e.field_path)
        .collect();
    assert_eq!(found, vec!["ports[0].port"]);
}

#[test]
fn a_rule_sees_the_typed_values_below_it() {
    // The rule's own node is compiled without the rules below it; what it reads must
    // still convert as the schema says: date-times as timestamps, map keys unescaped,
    // field names escaped (`namespace` is a CEL reserved word: `__namespace__`).
    let schema = json!({
        "type": "object",
        "x-kubernetes-validations": [
            {"rule": "self.spec.at < timestamp('2030-01-01T00:00:00Z')", "message": "too late"},
            {"rule": "!('x-y' in self.spec.labels) || self.spec.labels['x-y'] == 'ok'", "message": "bad label"},
            {"rule": "self.spec.ref.all(r, r.__namespace__ != 'kube-system')", "message": "no kube-system"}
        ],
        "properties": {"spec": {"type": "object", "properties": {
            "at": {"type": "string", "format": "date-time"},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "ref": {"type": "array", "items": {"type": "object", "properties": {
                "namespace": {"type": "string",
                    "x-kubernetes-validations": [{"rule": "self != ''", "message": "empty"}]}}}}
        }}}
    });
    let compiled = kcel::compile_schema(&schema);
    let map = RuleMap::new(&compiled, &schema);
    let run = |obj: Value| -> Vec<String> {
        validate(&compiled, &map, &obj, None)
            .into_iter()
            .map(|e| format!("{}: {}", e.field_path, e.message))
            .collect()
    };
    let good = json!({"spec": {"at": "2029-01-01T00:00:00Z", "labels": {"x-y": "ok"},
                               "ref": [{"namespace": "a"}]}});
    assert_eq!(run(good), Vec::<String>::new());
    let mut found = run(json!({"spec": {"at": "2031-01-01T00:00:00Z",
        "labels": {"x-y": "no"}, "ref": [{"namespace": "kube-system"}, {"namespace": ""}]}}));
    found.sort();
    assert_eq!(
        found,
        vec![
            ": bad label",
            ": no kube-system",
            ": too late",
            "spec.ref[1].namespace: empty"
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
    let map = RuleMap::new(&compiled, &schema());
    assert!(map.rules && map.here.is_none());
    assert!(map.transition, "id's rule reads oldSelf");
    assert!(!map.properties["spec"].transition);
    assert!(!map.properties.contains_key("free"));
    assert!(map.properties["spec"].here.is_some());
    assert!(!map.properties["status"].transition);
}
