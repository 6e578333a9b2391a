//! The authorizer's state: the current RBAC snapshot, rebuilt from the store after every
//! committed RBAC write and read without the store's lock, and the authorizer chain over it.

use super::rbac::{Decision, Objects, Rbac};
use super::request_info::Attributes;
use crate::auth::MASTERS;
use crate::store::{Bucket, Store};
use std::sync::{Arc, Mutex, RwLock};

/// The authorizer's state in `Shared`: the current RBAC snapshot.
#[derive(Default)]
pub struct Authz {
    snapshot: RwLock<Arc<Rbac>>,
    /// Rebuilds run one at a time, each reading the store after taking it: the last
    /// snapshot installed has seen the last committed RBAC write.
    rebuild: Mutex<()>,
}

impl Authz {
    /// The current RBAC snapshot.
    pub fn current(&self) -> Arc<Rbac> {
        self.snapshot
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The authorizer chain: `system:masters` may do everything (with no reason, as the
    /// real privileged-group authorizer); everyone else gets what RBAC allows.
    pub fn authorize(&self, a: &Attributes) -> Decision {
        if a.user.in_group(MASTERS) {
            return Decision {
                allowed: true,
                reason: String::new(),
            };
        }
        self.current().authorize(a)
    }

    /// Rebuild the snapshot from the RBAC objects in `store`.
    pub fn rebuild(&self, store: &Store) {
        let _one_at_a_time = self.rebuild.lock().unwrap_or_else(|e| e.into_inner());
        let list = |plural: &str| {
            let bucket: Bucket = (super::RBAC_GROUP.into(), plural.into());
            store.list_values(&bucket, None)
        };
        let objects = Objects {
            roles: list("roles"),
            cluster_roles: list("clusterroles"),
            role_bindings: list("rolebindings"),
            cluster_role_bindings: list("clusterrolebindings"),
        };
        let rbac = Arc::new(Rbac::build(&objects));
        *self.snapshot.write().unwrap_or_else(|e| e.into_inner()) = rbac;
    }
}
