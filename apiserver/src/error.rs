//! The one error type of the API server: every failure becomes a `Status` body with the
//! HTTP code, reason and message the real kube-apiserver would send.

use serde_json::{Value, json};

/// One field-level cause of an `Invalid` (422) or `BadRequest` error.
#[derive(Clone, Debug, PartialEq)]
pub struct Cause {
    /// e.g. `FieldValueRequired`, `FieldValueInvalid`, `FieldValueNotSupported`.
    pub reason: String,
    pub message: String,
    /// The field path as the real server prints it, e.g. `spec.owner`, `spec.categories[1].name`.
    pub field: String,
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{code} {reason}: {message}")]
pub struct ApiError {
    pub code: u16,
    /// `NotFound`, `AlreadyExists`, `Conflict`, `Invalid`, `BadRequest`, `Gone`/`Expired`, ...
    pub reason: String,
    pub message: String,
    /// `details.name`
    pub name: Option<String>,
    /// `details.group`
    pub group: Option<String>,
    /// `details.kind` (the resource plural, as the real server puts it)
    pub kind: Option<String>,
    pub causes: Vec<Cause>,
    /// Seconds for `Retry-After` (429/5xx faults).
    pub retry_after: Option<u64>,
    /// A path no handler serves: the real server's mux answers `404 page not found` as
    /// text, not a `Status`.
    pub no_route: bool,
}

impl ApiError {
    pub fn new(code: u16, reason: &str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason: reason.to_string(),
            message: message.into(),
            name: None,
            group: None,
            kind: None,
            causes: Vec::new(),
            retry_after: None,
            no_route: false,
        }
    }

    /// A path that names no served group, version, resource or subresource.
    pub fn no_route() -> Self {
        let mut e = Self::new(404, "NotFound", "404 page not found");
        e.no_route = true;
        e
    }

    /// Attach `details{name, group, kind}`.
    pub fn with_details(mut self, group: &str, plural: &str, name: &str) -> Self {
        self.group = Some(group.to_string());
        self.kind = Some(plural.to_string());
        self.name = Some(name.to_string());
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message)
    }

    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got {content_type})"
            ),
        )
    }

    /// A patch content type the route does not consume: go-restful's own 415.
    pub fn unknown_patch_type() -> Self {
        let mut e = Self::new(415, "UnsupportedMediaType", "415: Unsupported Media Type");
        e.name = Some(String::new());
        e
    }

    /// A patch type the resource does not take (strategic merge on a custom resource).
    pub fn unsupported_patch_type() -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
        )
    }

    /// 422 Invalid as the real server words it:
    /// `Service.catalog.charter.dev "x" is invalid: [spec.owner: Required value, ...]`.
    pub fn invalid(kind: &str, group: &str, plural: &str, name: &str, causes: Vec<Cause>) -> Self {
        let qualified = if group.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{group}")
        };
        let parts: Vec<String> = causes
            .iter()
            .map(|c| {
                if c.field.is_empty() {
                    c.message.clone()
                } else {
                    format!("{}: {}", c.field, c.message)
                }
            })
            .collect();
        let list = if parts.len() == 1 {
            parts[0].clone()
        } else {
            format!("[{}]", parts.join(", "))
        };
        let mut e = Self::new(
            422,
            "Invalid",
            format!("{qualified} \"{name}\" is invalid: {list}"),
        )
        .with_details(group, plural, name);
        e.kind = Some(kind.to_string());
        e.causes = causes;
        e
    }

    /// The `Status` object sent as the response body.
    pub fn to_status(&self) -> Value {
        // StatusDetails and StatusCause fields are all `omitempty` in the real server.
        let mut details = serde_json::Map::new();
        let present = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.is_empty());
        if present(&self.name) {
            details.insert("name".into(), json!(self.name));
        }
        if present(&self.group) {
            details.insert("group".into(), json!(self.group));
        }
        if present(&self.kind) {
            details.insert("kind".into(), json!(self.kind));
        }
        if !self.causes.is_empty() {
            let causes: Vec<Value> = self
                .causes
                .iter()
                .map(|c| {
                    let mut cause = serde_json::Map::new();
                    for (key, value) in [
                        ("reason", &c.reason),
                        ("message", &c.message),
                        ("field", &c.field),
                    ] {
                        if !value.is_empty() {
                            cause.insert(key.into(), json!(value));
                        }
                    }
                    Value::Object(cause)
                })
                .collect();
            details.insert("causes".into(), Value::Array(causes));
        }
        if let Some(r) = self.retry_after {
            details.insert("retryAfterSeconds".into(), json!(r));
        }
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        // A Status made with details (even all empty, as `NewGenericServerResponse` makes them)
        // carries `details: {}`.
        let has_details = self.name.is_some() || self.group.is_some() || self.kind.is_some();
        if has_details || !details.is_empty() {
            status["details"] = Value::Object(details);
        }
        // StatusReasonUnknown is "" and omitted, as by the real server.
        if self.reason.is_empty()
            && let Some(o) = status.as_object_mut()
        {
            o.remove("reason");
        }
        status
    }
}
