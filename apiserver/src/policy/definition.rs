//! What validating and mutating policies and their bindings share, compiled from their
//! JSON once: match constraints, `paramKind`, `matchConditions`, `variables`,
//! `failurePolicy`; bindings' `matchResources` and `paramRef`. Problems are collected as
//! field causes worded as the real server's validation (a policy with any is refused).

use super::cel_eval::Expr;
use super::matching::{MatchResources, Selector};
use crate::error::Cause;
use serde_json::Value;

/// Field errors, in the real server's words.
#[derive(Default)]
pub struct Causes(pub Vec<Cause>);

impl Causes {
    fn push(&mut self, reason: &str, field: &str, message: String) {
        self.0.push(Cause {
            reason: reason.into(),
            message,
            field: field.into(),
        });
    }
    pub fn required(&mut self, field: &str, detail: &str) {
        let message = if detail.is_empty() {
            "Required value".to_string()
        } else {
            format!("Required value: {detail}")
        };
        self.push("FieldValueRequired", field, message);
    }
    pub fn invalid(&mut self, field: &str, value: &str, detail: &str) {
        let v = serde_json::to_string(value).unwrap_or_default();
        self.push(
            "FieldValueInvalid",
            field,
            format!("Invalid value: {v}: {detail}"),
        );
    }
    pub fn unsupported(&mut self, field: &str, value: &str, supported: &[&str]) {
        let list: Vec<String> = supported.iter().map(|s| format!("\"{s}\"")).collect();
        self.push(
            "FieldValueNotSupported",
            field,
            format!(
                "Unsupported value: \"{value}\": supported values: {}",
                list.join(", ")
            ),
        );
    }
    pub fn forbidden(&mut self, field: &str, detail: &str) {
        self.push("FieldValueForbidden", field, format!("Forbidden: {detail}"));
    }

    /// Compile an expression at `field`; `None` (and a cause) when it does not compile.
    pub fn expr(&mut self, field: &str, source: Option<&str>) -> Option<Expr> {
        match source.filter(|s| !s.trim().is_empty()) {
            None => {
                self.required(field, "");
                None
            }
            Some(s) => Expr::compile(s)
                .map_err(|e| self.invalid(field, s, &e))
                .ok(),
        }
    }

    /// A value that must be one of `supported` (or absent, meaning `default`).
    pub fn one_of(&mut self, field: &str, v: Option<&Value>, supported: &[&str]) -> String {
        let s = v.and_then(Value::as_str).unwrap_or(supported[0]);
        if !supported.contains(&s) {
            self.unsupported(field, s, supported);
        }
        s.to_string()
    }
}

pub fn str_at<'a>(v: &'a Value, ptr: &str) -> Option<&'a str> {
    v.pointer(ptr).and_then(Value::as_str)
}

fn items(v: &Value, ptr: &str) -> Vec<Value> {
    v.pointer(ptr)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn is_cel_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `spec` of a policy, in what both families share.
pub struct Definition {
    pub name: String,
    /// `(apiVersion, kind)`
    pub param_kind: Option<(String, String)>,
    pub constraints: MatchResources,
    pub conditions: Vec<(String, Expr)>,
    pub variables: Vec<(String, Expr)>,
    /// `failurePolicy: Fail` (the default).
    pub fail: bool,
}

impl Definition {
    pub fn compile(policy: &Value, c: &mut Causes) -> Definition {
        let name = str_at(policy, "/metadata/name")
            .unwrap_or_default()
            .to_string();
        let param_kind = policy.pointer("/spec/paramKind").map(|pk| {
            let api_version = str_at(pk, "/apiVersion").unwrap_or_default();
            let kind = str_at(pk, "/kind").unwrap_or_default();
            if api_version.is_empty() {
                c.required("spec.paramKind.apiVersion", "");
            }
            if kind.is_empty() {
                c.required("spec.paramKind.kind", "");
            }
            (api_version.to_string(), kind.to_string())
        });
        let constraints = match policy.pointer("/spec/matchConstraints") {
            None => {
                c.required("spec.matchConstraints", "");
                MatchResources::default()
            }
            Some(m) => {
                if items(m, "/resourceRules").is_empty() {
                    c.required("spec.matchConstraints.resourceRules", "");
                }
                check_rules(m, "spec.matchConstraints", c);
                MatchResources::parse(m).unwrap_or_else(|e| {
                    c.invalid("spec.matchConstraints", "", &e);
                    MatchResources::default()
                })
            }
        };
        let fail = c.one_of(
            "spec.failurePolicy",
            policy.pointer("/spec/failurePolicy"),
            &["Fail", "Ignore"],
        ) == "Fail";
        let mut conditions: Vec<(String, Expr)> = Vec::new();
        for (i, mc) in items(policy, "/spec/matchConditions").iter().enumerate() {
            let field = format!("spec.matchConditions[{i}]");
            let n = str_at(mc, "/name").unwrap_or_default();
            if n.is_empty() {
                c.required(&format!("{field}.name"), "");
            } else if conditions.iter().any(|(x, _)| x == n) {
                c.push(
                    "FieldValueDuplicate",
                    &format!("{field}.name"),
                    format!("Duplicate value: \"{n}\""),
                );
            }
            if let Some(e) = c.expr(&format!("{field}.expression"), str_at(mc, "/expression")) {
                conditions.push((n.to_string(), e));
            }
        }
        let mut variables: Vec<(String, Expr)> = Vec::new();
        for (i, v) in items(policy, "/spec/variables").iter().enumerate() {
            let field = format!("spec.variables[{i}]");
            let n = str_at(v, "/name").unwrap_or_default();
            if n.is_empty() {
                c.required(&format!("{field}.name"), "");
            } else if !is_cel_identifier(n) {
                c.invalid(
                    &format!("{field}.name"),
                    n,
                    "name is not a valid CEL identifier",
                );
            }
            if let Some(e) = c.expr(&format!("{field}.expression"), str_at(v, "/expression")) {
                variables.push((n.to_string(), e));
            }
        }
        Definition {
            name,
            param_kind,
            constraints,
            conditions,
            variables,
            fail,
        }
    }
}

fn check_rules(m: &Value, field: &str, c: &mut Causes) {
    for key in ["resourceRules", "excludeResourceRules"] {
        for (i, r) in items(m, &format!("/{key}")).iter().enumerate() {
            for (j, op) in items(r, "/operations").iter().enumerate() {
                c.one_of(
                    &format!("{field}.{key}[{i}].operations[{j}]"),
                    Some(op),
                    &["CREATE", "UPDATE", "DELETE", "CONNECT", "*"],
                );
            }
            if let Some(s) = r.get("scope") {
                c.one_of(
                    &format!("{field}.{key}[{i}].scope"),
                    Some(s),
                    &["*", "Cluster", "Namespaced"],
                );
            }
        }
    }
}

/// `paramRef` of a binding.
pub struct ParamRef {
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub selector: Option<Selector>,
    /// `parameterNotFoundAction: Deny`
    pub deny_if_missing: bool,
}

/// A binding of either family.
pub struct Binding {
    pub name: String,
    /// A ValidatingAdmissionPolicyBinding (else mutating).
    pub validating: bool,
    pub policy_name: String,
    pub matches: Option<MatchResources>,
    pub param_ref: Option<ParamRef>,
    /// `validationActions` (validating bindings only).
    pub actions: Vec<String>,
}

impl Binding {
    pub fn compile(binding: &Value, validating: bool, c: &mut Causes) -> Binding {
        let name = str_at(binding, "/metadata/name")
            .unwrap_or_default()
            .to_string();
        let policy_name = str_at(binding, "/spec/policyName")
            .unwrap_or_default()
            .to_string();
        if policy_name.is_empty() {
            c.required("spec.policyName", "");
        }
        let matches = binding.pointer("/spec/matchResources").map(|m| {
            check_rules(m, "spec.matchResources", c);
            MatchResources::parse(m).unwrap_or_else(|e| {
                c.invalid("spec.matchResources", "", &e);
                MatchResources::default()
            })
        });
        let param_ref = binding.pointer("/spec/paramRef").map(|p| {
            let selector = p.get("selector").map(|s| {
                Selector::parse(s).unwrap_or_else(|e| {
                    c.invalid("spec.paramRef.selector", "", &e);
                    Selector::default()
                })
            });
            let name = str_at(p, "/name")
                .filter(|n| !n.is_empty())
                .map(String::from);
            match (&name, &selector) {
                (Some(_), Some(_)) => c.forbidden(
                    "spec.paramRef.name",
                    "name and selector are mutually exclusive",
                ),
                (None, None) => c.required("spec.paramRef", "one of name or selector must be set"),
                _ => {}
            }
            let action = str_at(p, "/parameterNotFoundAction");
            if action.is_none() {
                c.required("spec.paramRef.parameterNotFoundAction", "");
            }
            let action = c.one_of(
                "spec.paramRef.parameterNotFoundAction",
                p.get("parameterNotFoundAction"),
                &["Deny", "Allow"],
            );
            ParamRef {
                name,
                namespace: str_at(p, "/namespace")
                    .filter(|n| !n.is_empty())
                    .map(String::from),
                selector,
                deny_if_missing: action == "Deny",
            }
        });
        let mut actions = Vec::new();
        if validating {
            for (i, a) in items(binding, "/spec/validationActions").iter().enumerate() {
                let a = c.one_of(
                    &format!("spec.validationActions[{i}]"),
                    Some(a),
                    &["Deny", "Warn", "Audit"],
                );
                if actions.contains(&a) {
                    c.push(
                        "FieldValueDuplicate",
                        &format!("spec.validationActions[{i}]"),
                        format!("Duplicate value: \"{a}\""),
                    );
                }
                actions.push(a);
            }
            if actions.is_empty() {
                c.required(
                    "spec.validationActions",
                    "at least one validation action is required",
                );
            } else if actions.iter().any(|a| a == "Deny") && actions.iter().any(|a| a == "Warn") {
                c.invalid(
                    "spec.validationActions",
                    &actions.join(", "),
                    "must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)",
                );
            }
        }
        Binding {
            name,
            validating,
            policy_name,
            matches,
            param_ref,
            actions,
        }
    }
}
