//! The compiled schema: pruning, defaults, schema and CEL violations as kube words them.

use super::*;
use crate::apiextensions::list_types::{is_date, is_date_time};
use serde_json::json;

fn schema() -> Value {
    json!({
        "type": "object",
        "x-kubernetes-validations": [
            {"rule": "self.metadata.name.startsWith('svc-')", "message": "name must start with svc-"}
        ],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": {
                "type": "object",
                "required": ["owner"],
                "x-kubernetes-validations": [
                    {"rule": "self.replicas <= 10", "message": "too many replicas"}
                ],
                "properties": {
                    "owner": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 8},
                    "tier": {"type": "string", "enum": ["A", "B"]},
                    "replicas": {"type": "integer", "default": 1, "minimum": 0},
                    "port": {"x-kubernetes-int-or-string": true},
                    "note": {"type": "string", "nullable": true},
                    "tags": {"type": "array", "maxItems": 2, "x-kubernetes-list-type": "set",
                             "items": {"type": "string"}},
                    "items": {"type": "array", "items": {"type": "object",
                              "properties": {"name": {"type": "string"}}}},
                    "config": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                    "immutable": {"type": "string",
                                  "x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "is immutable"}]}
                }
            },
            "status": {"type": "object", "properties": {"phase": {"type": "string"}}}
        }
    })
}

fn obj(spec: Value) -> Value {
    json!({"apiVersion": "example.com/v1", "kind": "Svc", "metadata": {"name": "svc-a"}, "spec": spec})
}

fn compiled() -> CompiledSchema {
    CompiledSchema::new(&schema()).unwrap()
}

fn admit(
    c: &CompiledSchema,
    mut o: Value,
    old: Option<&Value>,
) -> (Value, Vec<String>, Vec<Cause>) {
    let pruned = c.prune_and_default(&mut o);
    let causes = c.validate(&o, old);
    (o, pruned, causes)
}

#[test]
fn send_and_sync() {
    fn assert<T: Send + Sync>() {}
    assert::<CompiledSchema>();
}

#[test]
fn valid_object_passes() {
    let (_, pruned, causes) = admit(
        &compiled(),
        obj(json!({"owner": "ann", "port": "http", "note": null})),
        None,
    );
    assert!(pruned.is_empty());
    assert!(causes.is_empty(), "{causes:?}");
    let (_, _, causes) = admit(&compiled(), obj(json!({"owner": "ann", "port": 80})), None);
    assert!(causes.is_empty(), "{causes:?}");
}

#[test]
fn required_missing() {
    let (_, _, causes) = admit(&compiled(), obj(json!({"tier": "A", "replicas": 11})), None);
    assert_eq!(causes.len(), 2, "{causes:?}");
    assert_eq!(
        causes[0],
        Cause {
            reason: "FieldValueRequired".into(),
            message: "Required value".into(),
            field: "spec.owner".into()
        }
    );
    // The CEL rule on spec (replicas <= 10) is not evaluated, as the real server does.
    assert_eq!(causes[1].field, "<nil>");
    assert!(
        causes[1]
            .message
            .contains("some validation rules were not checked")
    );
    // Without any CEL rule in the schema there is no such note.
    let plain = CompiledSchema::new(
        &json!({"type": "object", "properties": {"spec": {"type": "object",
        "required": ["owner"], "properties": {"owner": {"type": "string"}}}}}),
    )
    .unwrap();
    let causes = plain.validate(&json!({"spec": {}}), None);
    assert_eq!(causes.len(), 1, "{causes:?}");
}

#[test]
fn enum_unsupported() {
    let (_, _, causes) = admit(
        &compiled(),
        obj(json!({"owner": "ann", "tier": "Foo"})),
        None,
    );
    assert_eq!(causes.len(), 2);
    assert_eq!(causes[0].reason, "FieldValueNotSupported");
    assert_eq!(causes[0].field, "spec.tier");
    assert_eq!(
        causes[0].message,
        r#"Unsupported value: "Foo": supported values: "A", "B""#
    );
}

#[test]
fn type_pattern_and_length() {
    let (_, _, causes) = admit(&compiled(), obj(json!({"owner": 5})), None);
    assert_eq!(causes[0].reason, "FieldValueTypeInvalid");
    assert_eq!(
        causes[0].message,
        r#"Invalid value: "integer": spec.owner in body must be of type string: "integer""#
    );
    let (_, _, causes) = admit(&compiled(), obj(json!({"owner": "Ann"})), None);
    assert_eq!(causes.len(), 1);
    assert_eq!(causes[0].reason, "FieldValueInvalid");
    assert_eq!(
        causes[0].message,
        r#"Invalid value: "Ann": spec.owner in body should match '^[a-z]+$'"#
    );
    let (_, _, causes) = admit(&compiled(), obj(json!({"owner": "abcdefghij"})), None);
    assert_eq!(causes.len(), 2);
    assert_eq!(causes[0].reason, "FieldValueTooLong");
    assert_eq!(causes[0].field, "spec.owner");
}

#[test]
fn max_items_and_set() {
    let (_, _, causes) = admit(
        &compiled(),
        obj(json!({"owner": "a", "tags": ["x", "y", "z"]})),
        None,
    );
    assert_eq!(causes.len(), 2, "{causes:?}");
    assert_eq!(causes[0].reason, "FieldValueTooMany");
    assert_eq!(causes[0].field, "spec.tags");
    let (_, _, causes) = admit(
        &compiled(),
        obj(json!({"owner": "a", "tags": ["x", "x"]})),
        None,
    );
    assert_eq!(causes[0].reason, "FieldValueDuplicate");
    assert_eq!(causes[0].field, "spec.tags[1]");
}

#[test]
fn default_applied() {
    let (o, _, causes) = admit(&compiled(), obj(json!({"owner": "a"})), None);
    assert!(causes.is_empty());
    assert_eq!(o["spec"]["replicas"], 1);
    // null of a non-nullable field is dropped, then defaulted.
    let (o, _, _) = admit(
        &compiled(),
        obj(json!({"owner": "a", "replicas": null})),
        None,
    );
    assert_eq!(o["spec"]["replicas"], 1);
}

#[test]
fn unknown_fields_pruned_and_reported() {
    let (o, pruned, causes) = admit(
        &compiled(),
        obj(
            json!({"owner": "a", "foo": 1, "items": [{"name": "n", "bar": 2}], "config": {"any": {"thing": 1}}}),
        ),
        None,
    );
    assert!(causes.is_empty(), "{causes:?}");
    assert_eq!(
        pruned,
        vec!["spec.foo".to_string(), "spec.items[0].bar".to_string()]
    );
    assert!(o["spec"].get("foo").is_none());
    assert_eq!(o["spec"]["items"], json!([{"name": "n"}]));
    assert_eq!(
        o["spec"]["config"],
        json!({"any": {"thing": 1}}),
        "preserve-unknown-fields keeps it"
    );
    assert_eq!(o["metadata"]["name"], "svc-a");
    let mut top = obj(json!({"owner": "a"}));
    top["extra"] = json!(true);
    let pruned = compiled().prune_and_default(&mut top);
    assert_eq!(pruned, vec!["extra".to_string()]);
}

#[test]
fn cel_rule_fails_with_message() {
    let (_, _, causes) = admit(
        &compiled(),
        obj(json!({"owner": "a", "replicas": 11})),
        None,
    );
    assert_eq!(causes.len(), 1, "{causes:?}");
    assert_eq!(causes[0].reason, "FieldValueInvalid");
    assert_eq!(causes[0].field, "spec");
    assert_eq!(causes[0].message, r#"Invalid value: too many replicas"#);
}

#[test]
fn transition_rule_only_on_update() {
    let c = compiled();
    let (created, _, causes) = admit(&c, obj(json!({"owner": "a", "immutable": "x"})), None);
    assert!(causes.is_empty(), "{causes:?}");
    let (_, _, causes) = admit(
        &c,
        obj(json!({"owner": "a", "immutable": "y"})),
        Some(&created),
    );
    assert_eq!(causes.len(), 1, "{causes:?}");
    assert_eq!(causes[0].field, "spec.immutable");
    assert!(causes[0].message.ends_with("is immutable"));
    let (_, _, causes) = admit(
        &c,
        obj(json!({"owner": "a", "immutable": "x"})),
        Some(&created),
    );
    assert!(causes.is_empty(), "{causes:?}");
}

#[test]
fn root_rule_on_metadata_name() {
    let mut o = obj(json!({"owner": "a"}));
    o["metadata"]["name"] = json!("other");
    let (_, _, causes) = admit(&compiled(), o, None);
    assert_eq!(causes.len(), 1, "{causes:?}");
    assert_eq!(causes[0].field, "");
    assert!(causes[0].message.ends_with("name must start with svc-"));
}

#[test]
fn bad_rule_is_a_cause() {
    let s = json!({"type": "object", "properties": {"spec": {"type": "object",
        "x-kubernetes-validations": [{"rule": "self.x ==== 1"}]}}});
    let c = CompiledSchema::new(&s).unwrap();
    let causes = c.validate(&json!({"spec": {"x": 1}}), None);
    assert_eq!(causes.len(), 1);
    assert!(
        causes[0].message.contains("compilation failed"),
        "{causes:?}"
    );
    // A rule without a message reports the rule.
    let s = json!({"type": "object", "properties": {"spec": {"type": "object",
        "x-kubernetes-validations": [{"rule": "self.x == 2"}]}}});
    let causes = CompiledSchema::new(&s)
        .unwrap()
        .validate(&json!({"spec": {"x": 1}}), None);
    assert_eq!(
        causes[0].message,
        r#"Invalid value: failed rule: self.x == 2"#
    );
}

#[test]
fn date_and_date_time_as_kube_openapi_strfmt() {
    for ok in ["2026-02-28", "2024-02-29"] {
        assert!(is_date(ok), "{ok}");
    }
    for bad in [
        "2026-02-30",
        "2025-02-29",
        "2026-2-28",
        "26-02-28",
        "2026-13-01",
        "next week",
    ] {
        assert!(!is_date(bad), "{bad}");
    }
    for ok in [
        "2026-01-01T10:00:00Z",
        "2026-01-01t10:00:00z",
        "2026-01-01T10:00:00.123456Z",
        "2026-01-01T23:59:59+02:00",
        "2026-01-01T10:00:00-05:30",
    ] {
        assert!(is_date_time(ok), "{ok}");
    }
    for bad in [
        "next week",
        "2026-01-01",
        "2026-01-01T10:00:00",
        "2026-01-01T24:00:00Z",
        "2026-01-01T10:60:00Z",
        "2026-02-30T10:00:00Z",
        "2026-01-01T10:00:00+0200",
        "2026-01-01 10:00:00Z",
    ] {
        assert!(!is_date_time(bad), "{bad}");
    }
}

#[test]
fn a_bad_date_time_is_refused_as_kube_words_it() {
    let c = CompiledSchema::new(&json!({
        "type": "object",
        "properties": {"spec": {"type": "object", "properties": {
            "expiresAt": {"type": "string", "format": "date-time"}
        }}}
    }))
    .unwrap();
    let causes = c.validate(&json!({"spec": {"expiresAt": "next week"}}), None);
    assert_eq!(causes.len(), 1);
    assert_eq!(causes[0].field, "spec.expiresAt");
    assert_eq!(
        causes[0].message,
        "Invalid value: \"next week\": spec.expiresAt in body must be of type date-time: \"next week\""
    );
    assert!(
        c.validate(
            &json!({"spec": {"expiresAt": "2026-01-01T00:00:00Z"}}),
            None
        )
        .is_empty()
    );
}

#[test]
fn embedded_resource_keeps_type_meta() {
    let s = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
        "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                     "properties": {"spec": {"type": "object"}}}}}}});
    let c = CompiledSchema::new(&s).unwrap();
    let mut o = json!({"spec": {"template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {}, "junk": 1}}});
    let pruned = c.prune_and_default(&mut o);
    assert_eq!(pruned, vec!["spec.template.junk".to_string()]);
    assert_eq!(o["spec"]["template"]["kind"], "Pod");
}
