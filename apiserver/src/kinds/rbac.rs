//! The rbac.authorization.k8s.io family: Roles, ClusterRoles and their bindings, named as
//! path segments (`system:…` is fine), defaulted and validated as k8s
//! `pkg/apis/rbac/validation` does (`super::rbac_validation`).

use super::rbac_validation::{binding_causes, default_subjects, role_ref_causes, rule_causes};
use crate::authz::RBAC_GROUP;
use crate::error::Cause;
use crate::object_meta::NameRule;
use crate::resource::{ResourceInfo, Strategy};
use serde_json::Value;

pub(super) fn kinds() -> Vec<ResourceInfo> {
    let gv = (RBAC_GROUP, "v1");
    vec![
        ResourceInfo::builtin(gv, "ClusterRole", "clusterroles", false, &ROLE),
        ResourceInfo::builtin(
            gv,
            "ClusterRoleBinding",
            "clusterrolebindings",
            false,
            &BINDING,
        ),
        ResourceInfo::builtin(gv, "Role", "roles", true, &ROLE),
        ResourceInfo::builtin(gv, "RoleBinding", "rolebindings", true, &BINDING),
    ]
}

/// Roles and ClusterRoles: their rules.
#[derive(Debug)]
struct Role;

/// RoleBindings and ClusterRoleBindings: roleRef (immutable) and subjects.
#[derive(Debug)]
struct Binding;

static ROLE: Role = Role;
static BINDING: Binding = Binding;

impl Strategy for Role {
    fn name_rule(&self) -> NameRule {
        NameRule::PathSegment
    }

    fn validate(&self, info: &ResourceInfo, obj: &Value) -> Vec<Cause> {
        rule_causes(obj.get("rules"), info.namespaced)
    }
}

impl Strategy for Binding {
    fn name_rule(&self) -> NameRule {
        NameRule::PathSegment
    }

    fn default_admitted(&self, obj: &mut Value) {
        default_subjects(obj);
    }

    fn validate(&self, info: &ResourceInfo, obj: &Value) -> Vec<Cause> {
        binding_causes(obj, info.namespaced)
    }

    fn validate_update(&self, info: &ResourceInfo, obj: &Value, old: &Value) -> Vec<Cause> {
        let mut causes = self.validate(info, obj);
        causes.extend(role_ref_causes(obj, old));
        causes
    }
}
