//! A CRD's own validation, as apiextensions-apiserver's `ValidateCustomResourceDefinition`
//! (staging/src/k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation/validation.go):
//! exactly one storage version, a schema for every version, a structural schema (a `type`
//! at the root and on every specified property), CEL rules that compile. The CEL cost
//! budget is not estimated (see README).

use kube::core::cel as kcel;
use serde_json::Value;

use crate::error::Cause;

fn required(field: String, detail: &str) -> Cause {
    Cause {
        reason: "FieldValueRequired".into(),
        message: format!("Required value: {detail}"),
        field,
    }
}

/// Every cause that makes `crd` invalid; empty when it is valid.
pub fn validate(crd: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    let versions = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let storage = versions
        .iter()
        .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .count();
    if storage != 1 {
        causes.push(Cause {
            reason: "FieldValueInvalid".into(),
            message: format!(
                "Invalid value: {}: must have exactly one version marked as storage version",
                serde_json::to_string(&versions).unwrap_or_default()
            ),
            field: "spec.versions".into(),
        });
    }
    let preserve = crd
        .pointer("/spec/preserveUnknownFields")
        .and_then(Value::as_bool)
        == Some(true);
    for (i, v) in versions.iter().enumerate() {
        let path = format!("spec.versions[{i}].schema.openAPIV3Schema");
        let Some(schema) = v.pointer("/schema/openAPIV3Schema") else {
            if !preserve {
                causes.push(required(path, "schemas are required"));
            }
            continue;
        };
        if schema
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .is_empty()
        {
            causes.push(required(
                format!("{path}.type"),
                "must not be empty at the root",
            ));
        }
        structural(schema, &path, &mut causes);
        cel(&kcel::compile_schema(schema), schema, &path, &mut causes);
    }
    causes
}

/// `type` required on every specified property (items, additionalProperties) unless
/// `x-kubernetes-int-or-string` or `x-kubernetes-preserve-unknown-fields` stands in for it.
fn structural(node: &Value, path: &str, causes: &mut Vec<Cause>) {
    let child = |s: &Value, p: String, causes: &mut Vec<Cause>| {
        let typed = !s
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .is_empty();
        let exempt = s.get("x-kubernetes-int-or-string").and_then(Value::as_bool) == Some(true)
            || s.get("x-kubernetes-preserve-unknown-fields")
                .and_then(Value::as_bool)
                == Some(true);
        if !typed && !exempt {
            causes.push(required(
                format!("{p}.type"),
                "must not be empty for specified object fields",
            ));
        }
        structural(s, &p, causes);
    };
    if let Some(props) = node.get("properties").and_then(Value::as_object) {
        for (k, s) in props {
            child(s, format!("{path}.properties[{k}]"), causes);
        }
    }
    if let Some(items) = node.get("items").filter(|i| i.is_object()) {
        child(items, format!("{path}.items"), causes);
    }
    if let Some(ap) = node.get("additionalProperties").filter(|i| i.is_object()) {
        child(ap, format!("{path}.additionalProperties"), causes);
    }
}

/// `compilation failed: ...` under `<path>.x-kubernetes-validations[i].rule`.
fn cel(compiled: &kcel::CompiledSchema, node: &Value, path: &str, causes: &mut Vec<Cause>) {
    let rules = node
        .get("x-kubernetes-validations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (i, r) in compiled.validations.iter().enumerate() {
        if let Ok(compiled_rule) = r
            && super::cel_cost::certainly_over_budget(
                &compiled_rule.program.expression().expr,
                node,
            )
        {
            causes.push(Cause {
                reason: "FieldValueForbidden".into(),
                message: format!("Forbidden: {}", super::cel_cost::OVER_BUDGET),
                field: format!("{path}.x-kubernetes-validations[{i}].rule"),
            });
        }
        if let Err(e) = r {
            let rule = rules
                .get(i)
                .and_then(|r| r.get("rule"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            causes.push(Cause {
                reason: "FieldValueInvalid".into(),
                message: format!("Invalid value: {rule:?}: compilation failed: {e}"),
                field: format!("{path}.x-kubernetes-validations[{i}].rule"),
            });
        }
    }
    for (k, c) in &compiled.properties {
        if let Some(s) = node.pointer(&format!(
            "/properties/{}",
            k.replace('~', "~0").replace('/', "~1")
        )) {
            cel(c, s, &format!("{path}.properties[{k}]"), causes);
        }
    }
    if let (Some(c), Some(s)) = (&compiled.items, node.get("items")) {
        cel(c, s, &format!("{path}.items"), causes);
    }
    if let (Some(c), Some(s)) = (
        &compiled.additional_properties,
        node.get("additionalProperties"),
    ) {
        cel(c, s, &format!("{path}.additionalProperties"), causes);
    }
}
