//! `authentication.k8s.io/v1` SelfSubjectReview ("who am I?") and TokenReview: "who is
//! this bearer token?", asked by servers that
//! authenticate their own callers with Kubernetes tokens (kube-rbac-proxy, controller-runtime's
//! metrics filter). Create-only, nothing stored, as k8s.io/kubernetes
//! `pkg/registry/authentication/tokenreview`: the answer comes back in `status`.

use crate::auth::{Authenticator, User};
use crate::error::ApiError;
use crate::request::Target;
use crate::shared::Reply;
use serde_json::{Value, json};

pub const GROUP: &str = "authentication.k8s.io";
pub const KIND: &str = "TokenReview";
const SELF_KIND: &str = "SelfSubjectReview";

/// Whether a create on this target is a SelfSubjectReview.
pub fn is_self_subject_review(target: &Target) -> bool {
    let info = &target.served.info;
    info.group == GROUP && info.kind == SELF_KIND
}

/// Answer a SelfSubjectReview: 201 with the caller as the server authenticated it.
pub fn answer_self(user: &User, target: &Target) -> Reply {
    let review = json!({
        "kind": SELF_KIND,
        "apiVersion": target.served.info.api_version(),
        "metadata": {"creationTimestamp": crate::object_meta::now_rfc3339()},
        "status": {"userInfo": {"username": user.name, "groups": user.groups}},
    });
    Reply::json(201, review)
}

/// Whether a create on this target is a TokenReview.
pub fn is_token_review(target: &Target) -> bool {
    let info = &target.served.info;
    info.group == GROUP && info.kind == KIND
}

/// Answer a TokenReview: 201 with `status.authenticated` and, for a known token,
/// `status.user` (`username`, `groups` with `system:authenticated`, as the request
/// authenticator gives them). An unknown token is `authenticated: false` with an empty user
/// and no error, as kube-apiserver answers a token no authenticator recognises (its
/// `status.error` carries an authenticator's failure, such as an expired service-account
/// token, which static tokens cannot have). Audiences are not checked: static tokens are
/// audience-agnostic; `status.audiences` echoes the requested ones for a known token.
pub fn answer(auth: &Authenticator, target: &Target, review: Value) -> Result<Reply, ApiError> {
    if !review.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request must be an object",
        ));
    }
    let spec = review.get("spec").cloned().unwrap_or_else(|| json!({}));
    let token = spec
        .get("token")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if token.is_empty() {
        return Err(ApiError::bad_request(format!(
            "token is required for TokenReview in {GROUP}"
        )));
    }
    let status = match auth.authenticate(Some(&format!("Bearer {token}"))) {
        Ok(user) => {
            let mut status = json!({
                "authenticated": true,
                "user": {"username": user.name, "groups": user.groups},
            });
            if let Some(audiences) = spec
                .get("audiences")
                .filter(|a| a.as_array().is_some_and(|a| !a.is_empty()))
            {
                status["audiences"] = audiences.clone();
            }
            status
        }
        Err(_) => json!({"user": {}}),
    };
    let metadata = review.get("metadata").cloned().unwrap_or_else(|| json!({}));
    Ok(crate::authz::review::answered(
        target, review, metadata, spec, status,
    ))
}
