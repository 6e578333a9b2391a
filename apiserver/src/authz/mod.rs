//! Authorization, as kube-apiserver does it: the `system:masters` superuser group first,
//! then RBAC over the stored Roles, ClusterRoles and bindings, asked for every request
//! (resources and non-resource paths alike) after impersonation. RBAC is held as a
//! compiled snapshot, rebuilt after every committed RBAC write and read without the store
//! lock; the bootstrap policy, ClusterRole aggregation and the authorization reviews live
//! in the modules below.

mod aggregation;
mod bootstrap;
pub mod impersonate;
pub mod rbac;
pub mod request_info;
pub mod review;
pub mod rules;
mod validation;
pub mod wire;

pub use rbac::Decision;
pub use request_info::{Attributes, ResourceAttributes};
pub use validation::admit;

use crate::auth::{MASTERS, User};
use crate::error::ApiError;
use crate::registry::builtin;
use crate::request::Target;
use crate::resource::ResourceInfo;
use crate::shared::Shared;
use crate::store::{Bucket, Outcome, meta_str};
use crate::strategy;
use rbac::{Objects, Rbac};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

/// The API group of Roles, ClusterRoles and their bindings.
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// The authorizer's state in `Shared`: the current RBAC snapshot.
#[derive(Default)]
pub struct Authz {
    snapshot: RwLock<Arc<Rbac>>,
    /// Rebuilds run one at a time, each reading the store after taking it: the last
    /// snapshot installed has seen the last committed RBAC write.
    rebuild: Mutex<()>,
}

/// The kinds this module serves: RBAC, ServiceAccounts and the authorization reviews.
pub fn kinds() -> Vec<ResourceInfo> {
    let all = crate::registry::verbs_all;
    let create = || vec!["create".to_string()];
    let mut kinds = vec![builtin(
        "",
        "v1",
        "ServiceAccount",
        "serviceaccounts",
        true,
        &["sa"],
        false,
        all(),
    )];
    for (kind, plural, namespaced) in [
        ("ClusterRole", "clusterroles", false),
        ("ClusterRoleBinding", "clusterrolebindings", false),
        ("Role", "roles", true),
        ("RoleBinding", "rolebindings", true),
    ] {
        kinds.push(builtin(
            RBAC_GROUP,
            "v1",
            kind,
            plural,
            namespaced,
            &[],
            false,
            all(),
        ));
    }
    for (kind, plural, namespaced) in [
        (
            "LocalSubjectAccessReview",
            "localsubjectaccessreviews",
            true,
        ),
        ("SelfSubjectAccessReview", "selfsubjectaccessreviews", false),
        ("SelfSubjectRulesReview", "selfsubjectrulesreviews", false),
        ("SubjectAccessReview", "subjectaccessreviews", false),
    ] {
        kinds.push(builtin(
            "authorization.k8s.io",
            "v1",
            kind,
            plural,
            namespaced,
            &[],
            false,
            create(),
        ));
    }
    kinds
}

/// The current RBAC snapshot.
pub fn snapshot(shared: &Shared) -> Arc<Rbac> {
    shared
        .authz
        .snapshot
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

/// The authorizer chain: `system:masters` may do everything (with no reason, as the real
/// privileged-group authorizer); everyone else gets what RBAC allows.
pub fn authorize(shared: &Shared, a: &Attributes) -> Decision {
    if a.user.in_group(MASTERS) {
        return Decision {
            allowed: true,
            reason: String::new(),
        };
    }
    snapshot(shared).authorize(a)
}

/// Authorize one HTTP request for `user`; 403 Forbidden worded as the real server's.
pub fn check_request(
    shared: &Shared,
    user: &User,
    method: &str,
    path: &str,
    query: &HashMap<String, String>,
) -> Result<(), ApiError> {
    let attrs = request_info::from_request(user.clone(), method, path, query);
    let decision = authorize(shared, &attrs);
    if decision.allowed {
        Ok(())
    } else {
        Err(request_info::forbidden(&attrs, &decision.reason))
    }
}

fn bucket(plural: &str) -> Bucket {
    (RBAC_GROUP.into(), plural.into())
}

/// After a committed write: a change to any RBAC object re-aggregates ClusterRoles and
/// rebuilds the snapshot before the writer gets its answer.
pub fn committed(shared: &Shared, target: &Target) {
    if target.served.info.group == RBAC_GROUP {
        refresh(shared);
    }
}

/// Re-aggregate ClusterRoles and rebuild the snapshot from the store.
pub fn refresh(shared: &Shared) {
    let _one_at_a_time = shared
        .authz
        .rebuild
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    aggregate(shared);
    let list = |plural: &str| shared.store.list(&bucket(plural), None).0;
    let objects = Objects {
        roles: list("roles"),
        cluster_roles: list("clusterroles"),
        role_bindings: list("rolebindings"),
        cluster_role_bindings: list("clusterrolebindings"),
    };
    let rbac = Arc::new(Rbac::build(&objects));
    *shared
        .authz
        .snapshot
        .write()
        .unwrap_or_else(|e| e.into_inner()) = rbac;
}

/// Store the rules of aggregated ClusterRoles that changed, as the aggregation controller.
fn aggregate(shared: &Shared) {
    let (cluster_roles, _) = shared.store.list(&bucket("clusterroles"), None);
    for (name, rules) in aggregation::aggregate(&cluster_roles) {
        let rules: Vec<Value> = rules.iter().map(rules::PolicyRule::to_json).collect();
        // A role deleted meanwhile is simply not written.
        let _ = shared
            .store
            .mutate(&bucket("clusterroles"), "", &name, false, |cur, _| {
                let cur = cur.ok_or_else(|| ApiError::new(404, "NotFound", "gone"))?;
                let mut next = cur.clone();
                next["rules"] = json!(rules);
                strategy::record_update(None, Some(cur), &mut next, aggregation::MANAGER, None);
                Ok(strategy::finish_update(cur, next))
            });
    }
}

/// Create the bootstrap policy (objects that exist are left as they are).
pub fn bootstrap(shared: &Shared) -> Result<(), ApiError> {
    for mut obj in bootstrap::objects() {
        let plural = match obj.get("kind").and_then(Value::as_str) {
            Some("ClusterRole") => "clusterroles",
            _ => "clusterrolebindings",
        };
        let served = shared
            .registry
            .find(RBAC_GROUP, "v1", plural)
            .ok_or_else(|| ApiError::internal(format!("{plural} are not served")))?;
        let target = Target {
            served,
            namespace: None,
            name: None,
            subresource: None,
        };
        let name = meta_str(&obj, "name").unwrap_or_default().to_string();
        strategy::prepare_create(&target, &mut obj, &name)?;
        strategy::record_update(None, None, &mut obj, "kube-apiserver", None);
        shared
            .store
            .mutate(&target.bucket(), "", &name, false, |cur, _| {
                Ok(match cur {
                    Some(c) => Outcome::Unchanged(c.clone()),
                    None => Outcome::Write(obj),
                })
            })?;
    }
    refresh(shared);
    Ok(())
}
