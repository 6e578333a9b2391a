//! `authorization.k8s.io/v1` reviews: SelfSubjectAccessReview, SubjectAccessReview,
//! LocalSubjectAccessReview and SelfSubjectRulesReview. Create-only, nothing stored: the
//! answer comes back in `status` (k8s.io/kubernetes `pkg/registry/authorization`).

use super::request_info::{Attributes, ResourceAttributes};
use super::rules::PolicyRule;
use crate::auth::User;
use crate::error::{ApiError, Cause};
use crate::request::{RequestContext, Target};
use crate::shared::{Reply, Shared};
use serde_json::{Value, json};

const GROUP: &str = "authorization.k8s.io";

/// Whether a create on this target is a review this module answers.
pub fn is_review(target: &Target) -> bool {
    let info = &target.served.info;
    info.group == GROUP
        && matches!(
            info.kind.as_str(),
            "SelfSubjectAccessReview"
                | "SubjectAccessReview"
                | "LocalSubjectAccessReview"
                | "SelfSubjectRulesReview"
        )
}

fn s(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn invalid(field: &str, value: &str, detail: &str) -> Cause {
    Cause {
        reason: "FieldValueInvalid".into(),
        message: format!("Invalid value: {value}: {detail}"),
        field: field.into(),
    }
}

/// The request a review asks about, checking the spec as the real validation does.
fn spec_attributes(
    target: &Target,
    spec: &Value,
    user: User,
    local_namespace: Option<&str>,
) -> Result<Attributes, ApiError> {
    let res = spec.get("resourceAttributes").filter(|v| !v.is_null());
    let non = spec.get("nonResourceAttributes").filter(|v| !v.is_null());
    let mut causes = Vec::new();
    match (res, non) {
        (Some(_), Some(_)) => causes.push(invalid(
            "spec.nonResourceAttributes",
            "\"object\"",
            "cannot be specified in combination with resourceAttributes",
        )),
        (None, None) => causes.push(invalid(
            "spec.resourceAttributes",
            "\"null\"",
            "exactly one of nonResourceAttributes or resourceAttributes must be specified",
        )),
        _ => {}
    }
    if let Some(ns) = local_namespace {
        if let Some(r) = res
            && s(r, "namespace") != ns
        {
            causes.push(invalid(
                "spec.resourceAttributes.namespace",
                &super::request_info::quote(&s(r, "namespace")),
                "must match metadata.namespace",
            ));
        }
        if non.is_some() {
            causes.push(invalid(
                "spec.nonResourceAttributes",
                "\"object\"",
                "disallowed on this kind of request",
            ));
        }
    }
    if target.served.info.kind == "SubjectAccessReview"
        || target.served.info.kind == "LocalSubjectAccessReview"
    {
        let no_groups = spec
            .get("groups")
            .and_then(Value::as_array)
            .is_none_or(|g| g.is_empty());
        if user.name.is_empty() && no_groups {
            causes.push(invalid(
                "spec.user",
                "\"\"",
                "at least one of user or group must be specified",
            ));
        }
    }
    if !causes.is_empty() {
        let info = &target.served.info;
        return Err(ApiError::invalid(
            &info.kind,
            &info.group,
            &info.plural,
            "",
            causes,
        ));
    }
    Ok(match (res, non) {
        (Some(r), _) => Attributes {
            user,
            verb: s(r, "verb"),
            path: String::new(),
            resource: Some(ResourceAttributes {
                group: s(r, "group"),
                resource: s(r, "resource"),
                subresource: s(r, "subresource"),
                name: s(r, "name"),
                namespace: s(r, "namespace"),
            }),
        },
        (_, n) => {
            let n = n.cloned().unwrap_or_default();
            Attributes {
                user,
                verb: s(&n, "verb"),
                path: s(&n, "path"),
                resource: None,
            }
        }
    })
}

/// The user a SubjectAccessReview asks about: exactly its spec (no groups added).
fn spec_user(spec: &Value) -> User {
    let groups = spec
        .get("groups")
        .and_then(Value::as_array)
        .map(|g| {
            g.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    User {
        name: s(spec, "user"),
        groups,
        uid: spec.get("uid").and_then(Value::as_str).map(String::from),
    }
}

fn rules_status(shared: &Shared, user: &User, namespace: &str) -> Value {
    let (rules, errors) = shared.authz.current().rules_for(user, namespace);
    let resource_rules: Vec<Value> = rules
        .iter()
        .filter(|r| !r.resources.is_empty())
        .map(|r| {
            PolicyRule {
                non_resource_urls: Vec::new(),
                ..r.clone()
            }
            .to_json()
        })
        .collect();
    let non_resource_rules: Vec<Value> = rules
        .iter()
        .filter(|r| !r.non_resource_urls.is_empty())
        .map(|r| json!({"verbs": r.verbs, "nonResourceURLs": r.non_resource_urls}))
        .collect();
    let mut status = json!({
        "resourceRules": resource_rules,
        "nonResourceRules": non_resource_rules,
        "incomplete": false,
    });
    if !errors.is_empty() {
        status["evaluationError"] = json!(super::rbac::aggregate(&errors));
    }
    status
}

/// Answer a review: 201 with the review and its `status`.
pub fn answer(
    shared: &Shared,
    ctx: &RequestContext,
    target: &Target,
    review: Value,
) -> Result<Reply, ApiError> {
    if !review.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request must be an object",
        ));
    }
    let info = &target.served.info;
    let spec = review.get("spec").cloned().unwrap_or_else(|| json!({}));
    let mut metadata = review.get("metadata").cloned().unwrap_or_else(|| json!({}));
    let status = match info.kind.as_str() {
        "SelfSubjectRulesReview" => rules_status(shared, &ctx.user, &s(&spec, "namespace")),
        kind => {
            let local = (kind == "LocalSubjectAccessReview").then(|| target.ns());
            if let Some(ns) = local {
                match crate::store::meta_str(&review, "namespace") {
                    Some(body_ns) if !body_ns.is_empty() && body_ns != ns => {
                        return Err(ApiError::bad_request(
                            "the namespace of the provided object does not match the namespace sent on the request",
                        ));
                    }
                    _ => metadata["namespace"] = json!(ns),
                }
            }
            let user = if kind.starts_with("Self") {
                ctx.user.clone()
            } else {
                spec_user(&spec)
            };
            let attrs = spec_attributes(target, &spec, user, local)?;
            let decision = shared.authz.authorize(&attrs);
            let mut status = json!({"allowed": decision.allowed});
            if !decision.reason.is_empty() {
                status["reason"] = json!(decision.reason);
            }
            status
        }
    };
    Ok(answered(target, review, metadata, spec, status))
}

/// A review as the review registries return it (authorization's here, authentication's
/// TokenReview): the request's body with its kind, metadata and spec, and the server's
/// `status`; 201, nothing stored.
pub fn answered(
    target: &Target,
    mut review: Value,
    metadata: Value,
    spec: Value,
    status: Value,
) -> Reply {
    let info = &target.served.info;
    if let Some(m) = review.as_object_mut() {
        m.insert("apiVersion".into(), json!(info.api_version()));
        m.insert("kind".into(), json!(info.kind));
        m.insert("metadata".into(), metadata);
        m.insert("spec".into(), spec);
        m.insert("status".into(), status);
    }
    Reply::json(201, review)
}
