//! RBAC kinds: a committed write or delete rebuilds the authorizer's snapshot (and
//! re-aggregates ClusterRoles).

use super::Strategy;
use crate::request::Target;
use crate::shared::Shared;
use serde_json::Value;

pub struct Rbac;

impl Strategy for Rbac {
    fn after_commit(&self, shared: &Shared, target: &Target, _obj: &Value, _deleted: bool) {
        crate::authz::committed(shared, target);
    }
}
