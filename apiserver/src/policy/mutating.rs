//! MutatingAdmissionPolicy: `mutations` as `ApplyConfiguration` (an `Object{...}` merged
//! into the object, as server-side apply merges) or `JSONPatch` (a list of
//! `JSONPatch{op, path, value}`), in order, with `matchConditions` and `failurePolicy`
//! decided as k8s.io/apiserver's `policy/mutating` dispatcher does. `reinvocationPolicy:
//! IfNeeded` is accepted and treated as `Never`: each policy runs once per request.

use super::cel_eval::{Activation, Expr, cel_to_json};
use super::definition::{Causes, Definition, str_at};
use super::params::Resolved;
use super::{Invocation, Request, Snapshot, invocations};
use crate::error::{ApiError, Cause};
use kube::core::cel::cel::Value as Cel;
use serde_json::Value;

pub enum Mutation {
    Apply(Expr),
    JsonPatch(Expr),
}

pub struct Mutations(Vec<Mutation>);

pub fn compile(policy: &Value, c: &mut Causes) -> (Definition, Mutations) {
    let def = Definition::compile(policy, c);
    c.one_of(
        "spec.reinvocationPolicy",
        policy.pointer("/spec/reinvocationPolicy"),
        &["Never", "IfNeeded"],
    );
    let list = policy
        .pointer("/spec/mutations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if list.is_empty() {
        c.required("spec.mutations", "mutations must contain at least one item");
    }
    let mut out = Vec::new();
    for (i, m) in list.iter().enumerate() {
        let field = format!("spec.mutations[{i}]");
        let Some(pt) = m.get("patchType") else {
            c.required(&format!("{field}.patchType"), "");
            continue;
        };
        let pt = c.one_of(
            &format!("{field}.patchType"),
            Some(pt),
            &["ApplyConfiguration", "JSONPatch"],
        );
        let compiled = match pt.as_str() {
            "ApplyConfiguration" => c
                .expr(
                    &format!("{field}.applyConfiguration.expression"),
                    str_at(m, "/applyConfiguration/expression"),
                )
                .map(Mutation::Apply),
            "JSONPatch" => c
                .expr(
                    &format!("{field}.jsonPatch.expression"),
                    str_at(m, "/jsonPatch/expression"),
                )
                .map(Mutation::JsonPatch),
            _ => None,
        };
        out.extend(compiled);
    }
    (def, Mutations(out))
}

/// The object after one mutation.
fn apply(
    m: &Mutation,
    act: &Activation<'_, '_>,
    object: &Value,
    info: &crate::resource::ResourceInfo,
) -> Result<Value, String> {
    match m {
        Mutation::Apply(e) => {
            let patch = match act.eval(e)? {
                v @ Cel::Map(_) => cel_to_json(&v)?,
                other => {
                    return Err(format!(
                        "unsupported return type from ApplyConfiguration expression: {:?}",
                        other.type_of()
                    ));
                }
            };
            let mut out = object.clone();
            crate::fieldmanager::apply_merge(&mut out, &patch, info);
            Ok(out)
        }
        Mutation::JsonPatch(e) => {
            let ops = match act.eval(e)? {
                v @ Cel::List(_) => cel_to_json(&v)?,
                _ => {
                    return Err(
                        "type mismatch: JSONPatchType.expression should evaluate to array".into(),
                    );
                }
            };
            let patch: json_patch::Patch = serde_json::from_value(ops).map_err(|e| {
                format!("type mismatch: JSONPatchType.expression should evaluate to array of JSONPatch: {e}")
            })?;
            let mut out = object.clone();
            match json_patch::patch(&mut out, &patch) {
                Ok(()) => Ok(out),
                // A failed `test` means the patch is not applied, not an error.
                Err(e) if matches!(e.kind, json_patch::PatchErrorKind::TestFailed) => {
                    Ok(object.clone())
                }
                Err(e) => Err(format!("JSONPath: {e}")),
            }
        }
    }
}

/// A failure that denies the request when its policy's `failurePolicy` is `Fail`.
struct PolicyError {
    policy: String,
    binding: Option<String>,
    message: String,
    /// Set for evaluation errors (matchConditions, mutations): `Invalid`.
    reason: Option<&'static str>,
}

/// Run every mutating policy over `object` (not on DELETE: there is nothing to mutate).
pub fn mutate(
    snap: &Snapshot,
    req: &Request,
    object: &mut Value,
    old_object: &Value,
    params: &Resolved,
) -> Result<(), ApiError> {
    if req.exempt() || snap.mutating.is_empty() || object.is_null() {
        return Ok(());
    }
    let request = req.to_cel();
    let mut errors: Vec<PolicyError> = Vec::new();
    for p in &snap.mutating {
        // Matching reads the object as it is before this policy runs.
        let invocations = invocations(
            &p.def,
            &p.bindings,
            &req.attributes(object, old_object),
            params,
        );
        let mut fail = |binding: Option<&str>, message: String, reason| {
            if p.def.fail {
                errors.push(PolicyError {
                    policy: p.def.name.clone(),
                    binding: binding.map(String::from),
                    message,
                    reason,
                });
            }
        };
        for inv in invocations {
            let (binding, params) = match inv {
                Invocation::ConfigError { binding, message } => {
                    fail(binding.map(|b| b.name.as_str()), message, None);
                    continue;
                }
                Invocation::Run { binding, params } => (binding, params),
            };
            let inputs = req.inputs(&request, object, old_object, &params);
            let conditions = Activation::new(&inputs, &p.def.variables).map(|act| {
                let mut errors = Vec::new();
                let mut matched = true;
                for (_, cond) in &p.def.conditions {
                    match act.eval_bool(cond) {
                        Ok(true) => {}
                        Ok(false) => matched = false,
                        Err(e) => errors.push(e),
                    }
                }
                (matched, errors)
            });
            let mut condition_errors = match conditions {
                Ok((false, _)) => continue,
                Ok((true, errors)) => errors,
                Err(e) => {
                    fail(Some(&binding.name), e, Some("Invalid"));
                    continue;
                }
            };
            if !condition_errors.is_empty() {
                let message = match condition_errors.len() {
                    1 => condition_errors.remove(0),
                    _ => format!("[{}]", condition_errors.join(", ")),
                };
                fail(Some(&binding.name), message, Some("Invalid"));
                continue;
            }
            for m in &p.body.0 {
                // Each mutation sees the object as the previous one left it.
                let inputs = req.inputs(&request, object, old_object, &params);
                let result = Activation::new(&inputs, &p.def.variables)
                    .and_then(|act| apply(m, &act, object, &req.info));
                match result {
                    Ok(next) => *object = next,
                    Err(e) => fail(Some(&binding.name), e, Some("Invalid")),
                }
            }
        }
    }
    match errors.first() {
        None => Ok(()),
        Some(first) => Err(denial(req, first, &errors)),
    }
}

fn message_of(e: &PolicyError) -> String {
    match &e.binding {
        Some(b) => format!(
            "policy '{}' with binding '{b}' denied request: {}",
            e.policy, e.message
        ),
        None => format!("policy {:?} denied request: {}", e.policy, e.message),
    }
}

/// As the generic dispatcher words it: a Forbidden (403) error whose message is the first
/// failure's, reason replaced by that failure's (the code stays 403), every failure a cause.
fn denial(req: &Request, first: &PolicyError, all: &[PolicyError]) -> ApiError {
    let mut e = super::forbidden(req, "admission request denied by policy");
    e.message = message_of(first);
    if let Some(r) = first.reason {
        e.reason = r.into();
    }
    e.causes = all
        .iter()
        .map(|x| Cause {
            reason: String::new(),
            message: message_of(x),
            field: String::new(),
        })
        .collect();
    e
}
