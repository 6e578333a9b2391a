//! Authorization, as kube-apiserver does it: the `system:masters` superuser group first,
//! then RBAC over the stored Roles, ClusterRoles and bindings, asked for every request
//! (resources and non-resource paths alike) after impersonation. RBAC is held as a
//! compiled snapshot (`snapshot`), rebuilt when the server tells this module of a
//! committed RBAC write; the bootstrap policy, ClusterRole aggregation and the
//! authorization reviews live in the modules below. Its own writes go through the generic
//! store, as the server itself.

mod aggregation;
mod bootstrap;
pub(crate) mod impersonate;
pub(crate) mod rbac;
pub(crate) mod request_info;
pub(crate) mod review;
pub(crate) mod rules;
pub(crate) mod snapshot;

pub(crate) use request_info::{Attributes, ResourceAttributes};

use crate::auth::User;
use crate::error::ApiError;
use crate::generic_store::{self, Updated};
use crate::request::{RequestContext, Target};
use crate::resource::ResourceInfo;
use crate::shared::Shared;
use serde_json::{Value, json};
use std::cell::Cell;
use std::collections::HashMap;

/// The API group of Roles, ClusterRoles and their bindings.
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// Authorize one HTTP request for `user`; 403 Forbidden worded as the real server's.
pub fn check_request(
    shared: &Shared,
    user: &User,
    method: &str,
    path: &str,
    query: &HashMap<String, String>,
) -> Result<(), ApiError> {
    let attrs = request_info::from_request(user.clone(), method, path, query);
    let decision = shared.authz.authorize(&attrs);
    if decision.allowed {
        Ok(())
    } else {
        Err(request_info::forbidden(&attrs, &decision.reason))
    }
}

thread_local! {
    /// Set while this thread aggregates: the aggregator's own writes are observed too, and
    /// the rebuild after the aggregation covers them.
    static AGGREGATING: Cell<bool> = const { Cell::new(false) };
}

/// The observer of committed writes: a change to any RBAC object re-aggregates
/// ClusterRoles and rebuilds the snapshot before the writer gets its answer.
pub fn committed(shared: &Shared, info: &ResourceInfo, _obj: &Value, _deleted: bool) {
    if info.group != RBAC_GROUP || AGGREGATING.replace(true) {
        return;
    }
    aggregate(shared);
    AGGREGATING.set(false);
    shared.authz.rebuild(&shared.store);
}

fn target(shared: &Shared, plural: &str) -> Result<Target, ApiError> {
    let served = shared
        .registry
        .find(RBAC_GROUP, "v1", plural)
        .ok_or_else(|| ApiError::internal(format!("{plural} are not served")))?;
    Ok(Target {
        served,
        namespace: None,
        name: None,
        subresource: None,
    })
}

/// Store the rules of aggregated ClusterRoles that changed, as the aggregation controller.
fn aggregate(shared: &Shared) {
    let Ok(target) = target(shared, "clusterroles") else {
        return;
    };
    let cluster_roles = shared.store.list_values(&target.bucket(), None);
    let ctx = RequestContext::internal_as(aggregation::MANAGER);
    for (name, rules) in aggregation::aggregate(&cluster_roles) {
        let rules = json!(
            rules
                .iter()
                .map(rules::PolicyRule::to_json)
                .collect::<Vec<_>>()
        );
        // A role deleted meanwhile is simply not written.
        let _ = generic_store::update(shared, &ctx, &target, &name, false, |cur| {
            let mut object = cur.cloned().unwrap_or_default();
            object["rules"] = rules.clone();
            Ok(Updated {
                object,
                record: true,
            })
        });
    }
}

/// Create the bootstrap policy (objects that exist are left as they are).
pub fn bootstrap(shared: &Shared) -> Result<(), ApiError> {
    let ctx = RequestContext::internal_as("kube-apiserver");
    for obj in bootstrap::objects() {
        let plural = match obj.get("kind").and_then(Value::as_str) {
            Some("ClusterRole") => "clusterroles",
            _ => "clusterrolebindings",
        };
        match generic_store::create(shared, &ctx, &target(shared, plural)?, obj) {
            Err(e) if e.code != 409 => return Err(e),
            _ => {}
        }
    }
    Ok(())
}
