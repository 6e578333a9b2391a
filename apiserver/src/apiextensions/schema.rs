//! A CRD version's schema, compiled once: admission for custom resources, in the real server's order: prune unknown fields,
//! apply schema defaults, validate against the CRD's `openAPIV3Schema`, then evaluate its
//! `x-kubernetes-validations` CEL rules (transition rules with `oldSelf` on update).
//!
//! Schema validation runs `jsonschema` in Draft 4 mode over a copy of the schema in which
//! `nullable` and `x-kubernetes-int-or-string` are rewritten into plain `type`s; list-type
//! `set`/`map` uniqueness is checked here. Errors are worded as kube-apiserver words them.
//! CEL rules go through kube's re-exported kube-cel (`kube::core::cel`).

use super::cel_rules;
use super::list_types::list_types_and_formats;
use super::prune::prune_node;
use super::schema_errors::{cause, cel_cause, schema_error_cause};
use super::walk::{At, flag};
use crate::error::Cause;
use kube::core::cel as kcel;
use serde_json::{Map, Value};

/// One CRD version's `openAPIV3Schema`, compiled once when the CRD is installed.
pub struct CompiledSchema {
    /// The schema as given (pruning, defaulting, list types, CEL).
    schema: Value,
    /// The schema rewritten for Draft 4, compiled.
    validator: jsonschema::Validator,
    /// The CEL rules, compiled once.
    cel: kcel::CompiledSchema,
    /// Where the rules are, so that unchanged subtrees are ratcheted (`cel_rules`).
    rule_map: cel_rules::RuleMap,
    /// Whether any `x-kubernetes-validations` rule exists (the real server has no CEL
    /// validator otherwise).
    has_rules: bool,
}

impl CompiledSchema {
    /// Compile; an error message when the schema itself is unusable (the CRD is then refused).
    pub fn new(schema: &Value) -> Result<Self, String> {
        if !schema.is_object() {
            return Err("openAPIV3Schema must be an object".into());
        }
        let draft4 = to_draft4(schema);
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .should_validate_formats(false)
            .build(&draft4)
            .map_err(|e| format!("invalid openAPIV3Schema: {e}"))?;
        let cel = kcel::compile_schema(schema);
        let rule_map = cel_rules::RuleMap::new(&cel, schema);
        let has_rules = has_rules(schema);
        Ok(CompiledSchema {
            schema: schema.clone(),
            validator,
            cel,
            rule_map,
            has_rules,
        })
    }

    /// Remove fields the schema does not know (honouring `x-kubernetes-preserve-unknown-fields`
    /// and `x-kubernetes-embedded-resource`; `apiVersion`, `kind`, `metadata` are kept at the
    /// root) and apply `default`s. Returns the paths of the pruned fields, e.g. `spec.foo`,
    /// so the caller can refuse them under `fieldValidation=Strict` or warn.
    pub fn prune_and_default(&self, obj: &mut Value) -> Vec<String> {
        let mut pruned = Vec::new();
        prune_node(obj, &self.schema, At::Root, true, &mut pruned, 0);
        pruned
    }

    /// Validate against the schema and the CEL rules. `old` is the stored object on update
    /// (transition rules run only then). Empty when valid.
    pub fn validate(&self, obj: &Value, old: Option<&Value>) -> Vec<Cause> {
        let mut causes = Vec::new();
        for err in self.validator.iter_errors(obj) {
            causes.push(schema_error_cause(obj, &err));
        }
        // As the real server: type, required, enum and size violations block the CEL rules.
        let blocking = causes.iter().any(|c| {
            matches!(
                c.reason.as_str(),
                "FieldValueNotSupported"
                    | "FieldValueRequired"
                    | "FieldValueTooLong"
                    | "FieldValueTooMany"
                    | "FieldValueTypeInvalid"
            )
        });
        list_types_and_formats(obj, &self.schema, At::Root, &mut causes, 0);
        if blocking && self.has_rules {
            causes.push(cause(
                "FieldValueInvalid",
                "<nil>".into(),
                // The real server reports it on a nil field path, printed `<nil>`.
                "Invalid value: null: some validation rules were not checked because the object was invalid; \
                 correct the existing errors to complete validation"
                    .into(),
            ));
            return causes;
        }
        for e in cel_rules::validate(&self.cel, &self.rule_map, obj, old) {
            causes.push(cel_cause(obj, &self.schema, &e));
        }
        causes
    }
}

fn has_rules(schema: &Value) -> bool {
    match schema {
        Value::Object(m) => {
            m.get("x-kubernetes-validations")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty())
                || m.iter()
                    .any(|(k, v)| k != "default" && k != "example" && k != "enum" && has_rules(v))
        }
        Value::Array(a) => a.iter().any(has_rules),
        _ => false,
    }
}

/// Rewrite the Kubernetes extensions into plain Draft 4.
fn to_draft4(schema: &Value) -> Value {
    let Some(m) = schema.as_object() else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (k, v) in m {
        let nv = match k.as_str() {
            "properties" | "patternProperties" | "definitions" => match v.as_object() {
                Some(props) => Value::Object(
                    props
                        .iter()
                        .map(|(pk, pv)| (pk.clone(), to_draft4(pv)))
                        .collect(),
                ),
                None => v.clone(),
            },
            "items" | "additionalProperties" | "not" | "additionalItems" => to_draft4(v),
            "allOf" | "anyOf" | "oneOf" => match v.as_array() {
                Some(a) => Value::Array(a.iter().map(to_draft4).collect()),
                None => v.clone(),
            },
            "default" | "example" | "x-kubernetes-validations" | "format" => continue,
            _ => v.clone(),
        };
        out.insert(k.clone(), nv);
    }
    if flag(schema, "x-kubernetes-int-or-string") {
        out.insert("type".into(), serde_json::json!(["integer", "string"]));
    }
    if flag(schema, "nullable") {
        match out.get_mut("type") {
            Some(Value::String(t)) => {
                let t = t.clone();
                out.insert("type".into(), serde_json::json!([t, "null"]));
            }
            Some(Value::Array(ts)) => ts.push(Value::String("null".into())),
            _ => {}
        }
        if let Some(Value::Array(e)) = out.get_mut("enum")
            && !e.contains(&Value::Null)
        {
            e.push(Value::Null);
        }
    }
    Value::Object(out)
}

#[cfg(test)]
#[path = "schema_tests.rs"]
mod tests;
