//! What every handler shares (`Shared`: store, registry, auth, policies) and what a
//! non-streaming handler answers (`Reply`). Server, handlers and authz all import it, so
//! none of them imports another's front door.

use crate::auth::Authenticator;
use crate::faults::Faults;
use crate::registry::Registry;
use crate::request::json_response;
use crate::store::Store;
use axum::response::Response;
use serde_json::Value;
use std::time::Duration;

/// Everything the handlers share.
pub struct Shared {
    pub store: Store,
    pub registry: Registry,
    pub auth: Authenticator,
    pub faults: Faults,
    pub bookmark_interval: Duration,
    pub authz: crate::authz::Authz,
    /// Admission policies, compiled (rebuilt after writes to the policy kinds).
    pub policies: crate::policy::Policies,
    /// Wakes the namespace controller: a namespace changed or namespaced content went.
    pub namespace_changes: tokio::sync::Notify,
}

/// What a non-streaming handler answers.
pub struct Reply {
    pub code: u16,
    pub body: Value,
    pub content_type: String,
    pub warnings: Vec<String>,
}

impl Reply {
    pub fn json(code: u16, body: Value) -> Self {
        Reply {
            code,
            body,
            content_type: "application/json".into(),
            warnings: Vec::new(),
        }
    }

    pub fn into_response(self) -> Response {
        json_response(self.code, &self.body, &self.content_type, &self.warnings)
    }
}
