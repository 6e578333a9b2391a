//! ValidatingAdmissionPolicy: `validations` (with `message`, `messageExpression`,
//! `reason`), `matchConditions`, `failurePolicy`, and the bindings' `validationActions`,
//! decided and worded as k8s.io/apiserver's `policy/validating` dispatcher does.

use super::cel_eval::{Activation, Expr, Inputs};
use super::definition::{Causes, Definition, str_at};
use super::params::Resolved;
use super::{Invocation, Request, Snapshot, invocations};
use crate::error::{ApiError, Cause};
use serde_json::Value;

/// Longest message a `messageExpression` may produce (the real server's limit).
const MAX_MESSAGE_BYTES: usize = 5 * 1024;

pub struct Validation {
    expr: Expr,
    message: Option<String>,
    message_expr: Option<Expr>,
    reason: Option<String>,
}

pub struct Validations(Vec<Validation>);

pub fn compile(policy: &Value, c: &mut Causes) -> (Definition, Validations) {
    let def = Definition::compile(policy, c);
    let list = policy
        .pointer("/spec/validations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let audits = policy
        .pointer("/spec/auditAnnotations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if list.is_empty() && audits.is_empty() {
        c.required(
            "spec.validations",
            "validations or auditAnnotations must contain at least one item",
        );
    }
    // Audit annotations are not recorded (there is no audit log), but must compile.
    for (i, a) in audits.iter().enumerate() {
        c.expr(
            &format!("spec.auditAnnotations[{i}].valueExpression"),
            str_at(a, "/valueExpression"),
        );
    }
    let mut out = Vec::new();
    for (i, v) in list.iter().enumerate() {
        let field = format!("spec.validations[{i}]");
        let expr = c.expr(&format!("{field}.expression"), str_at(v, "/expression"));
        let message_expr = str_at(v, "/messageExpression")
            .and_then(|m| c.expr(&format!("{field}.messageExpression"), Some(m)));
        let reason = v.get("reason").map(|r| {
            c.one_of(
                &format!("{field}.reason"),
                Some(r),
                &[
                    "Unauthorized",
                    "Forbidden",
                    "Invalid",
                    "RequestEntityTooLarge",
                ],
            )
        });
        if let Some(expr) = expr {
            out.push(Validation {
                expr,
                message: str_at(v, "/message").map(String::from),
                message_expr,
                reason,
            });
        }
    }
    (def, Validations(out))
}

/// One failed validation (or evaluation error under `failurePolicy: Fail`).
struct Decision {
    message: String,
    reason: Option<String>,
}

fn join_errors(errors: Vec<String>) -> String {
    match errors.len() {
        1 => errors.into_iter().next().unwrap_or_default(),
        _ => format!("[{}]", errors.join(", ")),
    }
}

fn failed_message(act: &Activation<'_, '_>, v: &Validation) -> String {
    let from_expression = v
        .message_expr
        .as_ref()
        .and_then(|m| act.eval(m).ok())
        .and_then(|r| match r {
            kube::core::cel::cel::Value::String(s) => Some(s.trim().to_string()),
            _ => None,
        })
        .filter(|m| !m.is_empty() && !m.contains('\n') && m.len() <= MAX_MESSAGE_BYTES);
    from_expression
        .or_else(|| {
            v.message
                .as_deref()
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .map(String::from)
        })
        .unwrap_or_else(|| format!("failed expression: {}", v.expr.source.trim()))
}

fn evaluate(def: &Definition, body: &Validations, inputs: &Inputs<'_>) -> Vec<Decision> {
    let on_error = |message: String| {
        if def.fail {
            vec![Decision {
                message,
                reason: None,
            }]
        } else {
            Vec::new()
        }
    };
    let act = match Activation::new(inputs, &def.variables) {
        Ok(a) => a,
        Err(e) => return on_error(e),
    };
    let mut errors = Vec::new();
    for (_, cond) in &def.conditions {
        match act.eval_bool(cond) {
            Ok(true) => {}
            Ok(false) => return Vec::new(),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return on_error(join_errors(errors));
    }
    let mut out = Vec::new();
    for v in &body.0 {
        match act.eval_bool(&v.expr) {
            Ok(true) => {}
            Ok(false) => out.push(Decision {
                message: failed_message(&act, v),
                reason: v.reason.clone(),
            }),
            Err(e) => out.extend(on_error(e)),
        }
    }
    out
}

/// Run every validating policy over a request: the warnings to send, or the first denial.
pub fn validate(
    snap: &Snapshot,
    req: &Request,
    object: &Value,
    old_object: &Value,
    params: &Resolved,
) -> Result<Vec<String>, ApiError> {
    if req.exempt() || snap.validating.is_empty() {
        return Ok(Vec::new());
    }
    let attrs = req.attributes(object, old_object);
    let request = req.to_cel();
    let mut warnings = Vec::new();
    let mut denied: Option<(String, Option<String>, Decision)> = None;
    for p in &snap.validating {
        for inv in invocations(&p.def, &p.bindings, &attrs, params) {
            let (binding, params) = match inv {
                Invocation::ConfigError { binding, message } => {
                    if p.def.fail && denied.is_none() {
                        let b = binding.map(|b| b.name.clone());
                        let d = Decision {
                            message,
                            reason: None,
                        };
                        denied = Some((p.def.name.clone(), b, d));
                    }
                    continue;
                }
                Invocation::Run { binding, params } => (binding, params),
            };
            let inputs = req.inputs(&request, object, old_object, &params);
            for d in evaluate(&p.def, &p.body, &inputs) {
                if binding.actions.iter().any(|a| a == "Warn") {
                    warnings.push(format!(
                        "Validation failed for ValidatingAdmissionPolicy '{}' with binding '{}': {}",
                        p.def.name, binding.name, d.message
                    ));
                }
                // `Audit` would annotate the audit event; this server keeps no audit log.
                if binding.actions.iter().any(|a| a == "Deny") && denied.is_none() {
                    denied = Some((p.def.name.clone(), Some(binding.name.clone()), d));
                }
            }
        }
    }
    match denied {
        None => Ok(warnings),
        Some((policy, binding, d)) => Err(denial(req, &policy, binding.as_deref(), d)),
    }
}

fn denial(req: &Request, policy: &str, binding: Option<&str>, d: Decision) -> ApiError {
    let message = match binding {
        Some(b) => format!(
            "ValidatingAdmissionPolicy '{policy}' with binding '{b}' denied request: {}",
            d.message
        ),
        None => format!(
            "ValidatingAdmissionPolicy '{policy}' denied request: {}",
            d.message
        ),
    };
    // The message always says "is forbidden" (admission.NewForbidden); reason and code
    // follow the validation's `reason`, Invalid (422) by default.
    let reason = d.reason.unwrap_or_else(|| "Invalid".into());
    let code = match reason.as_str() {
        "Forbidden" => 403,
        "Unauthorized" => 401,
        "RequestEntityTooLarge" => 413,
        _ => 422,
    };
    let mut e = super::forbidden(req, &message);
    e.code = code;
    e.reason = reason;
    e.causes = vec![Cause {
        reason: String::new(),
        message,
        field: String::new(),
    }];
    e
}
