//! What every handler shares (`Shared`: store, registry, auth, the authorization and policy
//! snapshots, the observers of committed writes) and what a non-streaming handler answers
//! (`Reply`). Server, handlers and authz all import it, so none of them imports another's
//! front door.

use crate::auth::Authenticator;
use crate::authz::snapshot::Authz;
use crate::faults::Faults;
use crate::policy::Policies;
use crate::registry::Registry;
use crate::request::json_response;
use crate::resource::ResourceInfo;
use crate::store::Store;
use axum::response::Response;
use serde_json::Value;
use std::time::Duration;

/// Told of every committed (not dry-run) write or delete that changed something: the object
/// as stored (its final state when deleted) and whether it is gone. The server wires them in at start.
pub type Observer = fn(&Shared, &ResourceInfo, &Value, bool);

/// Everything the handlers share.
pub struct Shared {
    pub store: Store,
    pub registry: Registry,
    pub auth: Authenticator,
    pub faults: Faults,
    pub bookmark_interval: Duration,
    pub authz: Authz,
    /// Admission policies, compiled (rebuilt after writes to the policy kinds).
    pub policies: Policies,
    /// Wakes the namespace controller: a namespace changed or namespaced content went.
    pub namespace_changes: tokio::sync::Notify,
    pub observers: Vec<Observer>,
}

impl Shared {
    /// After a committed write or delete: every observer hears of it before the writer
    /// gets its answer.
    pub fn committed(&self, info: &ResourceInfo, obj: &Value, deleted: bool) {
        for observe in &self.observers {
            observe(self, info, obj, deleted);
        }
    }
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
