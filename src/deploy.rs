//! The parts of `deploy/` the embedded API server serves (the operator's ServiceAccount and
//! RBAC, the user roles, the admission policies and their parameters), compiled in from the
//! very files `kubectl apply -k deploy/` installs, so that `charter sandbox` and the tests
//! enforce what a cluster gets.

use serde_json::{Value, json};

/// The namespace `deploy/` installs the operator into.
pub const NAMESPACE: &str = "charter-system";
/// The namespace of the catalog: its ConfigMaps and nothing else, so that RBAC can let every
/// authenticated user read it without reading the operator's configuration.
pub const CATALOG_NAMESPACE: &str = "charter-catalog";
/// The operator's ServiceAccount in [`NAMESPACE`].
pub const SERVICE_ACCOUNT: &str = "charter";
/// The ConfigMap holding the admission policies' parameters.
pub const ADMISSION_PARAMS: &str = "charter-admission";

const FILES: &[(&str, &str)] = &[
    (
        "deploy/operator/serviceaccount.yaml",
        include_str!("../deploy/operator/serviceaccount.yaml"),
    ),
    (
        "deploy/operator/rbac.yaml",
        include_str!("../deploy/operator/rbac.yaml"),
    ),
    (
        "deploy/roles/users.yaml",
        include_str!("../deploy/roles/users.yaml"),
    ),
    (
        "deploy/policies/params.yaml",
        include_str!("../deploy/policies/params.yaml"),
    ),
    (
        "deploy/policies/approval-approver.yaml",
        include_str!("../deploy/policies/approval-approver.yaml"),
    ),
    (
        "deploy/policies/status-writer.yaml",
        include_str!("../deploy/policies/status-writer.yaml"),
    ),
    (
        "deploy/policies/catalog-mirror.yaml",
        include_str!("../deploy/policies/catalog-mirror.yaml"),
    ),
    (
        "deploy/policies/service-identity.yaml",
        include_str!("../deploy/policies/service-identity.yaml"),
    ),
    (
        "deploy/policies/service-owner.yaml",
        include_str!("../deploy/policies/service-owner.yaml"),
    ),
];

/// `deploy/namespace.yaml`: the namespaces everything else lives in, the operator's and the
/// catalog's (the embedded server is started with them; on a real control plane they are
/// applied first, as kustomize orders them).
pub fn namespaces() -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(include_str!("../deploy/namespace.yaml"))
        .unwrap_or_else(|e| panic!("deploy/namespace.yaml is compiled in and parses: {e}"))
        .into_iter()
        .filter(|o| !o.is_null())
        .collect()
}

/// The user name the operator's ServiceAccount authenticates as.
pub fn operator_user() -> String {
    format!("system:serviceaccount:{NAMESPACE}:{SERVICE_ACCOUNT}")
}

/// The objects, in the order they are applied. `approval_delegates` replaces the (empty)
/// delegate list of the shipped parameters, as an installer edits that ConfigMap.
pub fn security_objects(approval_delegates: &[&str]) -> Vec<Value> {
    let mut objects: Vec<Value> = FILES
        .iter()
        .flat_map(|(path, text)| {
            serde_saphyr::from_multiple::<Value>(text)
                .unwrap_or_else(|e| panic!("{path} is compiled in and parses: {e}"))
        })
        .filter(|o| !o.is_null())
        .collect();
    if !approval_delegates.is_empty() {
        for o in &mut objects {
            if o["kind"] == "ConfigMap" && o["metadata"]["name"] == ADMISSION_PARAMS {
                o["data"]["approvalDelegates"] = json!(approval_delegates.join(","));
            }
        }
    }
    objects
}

/// The first Kubernetes minor that serves MutatingAdmissionPolicy as `v1` (GA, on by default).
pub const MUTATING_POLICY_V1_MINOR: u32 = 36;

/// `objects` as they install on a kube-apiserver of `version` (`v1.35.4`): from 1.36 as
/// `deploy/` has them; before, with the MutatingAdmissionPolicies and their bindings at
/// `admissionregistration.k8s.io/v1beta1`, exactly as `deploy-kubernetes-1.35/` (a kustomize
/// overlay of `deploy/`) renders them. An unreadable version is taken as the newest.
pub fn for_version(mut objects: Vec<Value>, version: &str) -> Vec<Value> {
    let mut parts = version.trim_start_matches('v').split(['.', '-', '+']);
    let minor = match (
        parts.next(),
        parts.next().and_then(|m| m.parse::<u32>().ok()),
    ) {
        (Some("1"), Some(minor)) => minor,
        _ => return objects,
    };
    if minor >= MUTATING_POLICY_V1_MINOR {
        return objects;
    }
    for o in &mut objects {
        let mutating = matches!(
            o["kind"].as_str(),
            Some("MutatingAdmissionPolicy" | "MutatingAdmissionPolicyBinding")
        );
        if mutating && o["apiVersion"] == "admissionregistration.k8s.io/v1" {
            o["apiVersion"] = json!("admissionregistration.k8s.io/v1beta1");
        }
    }
    objects
}

/// ClusterRoleBindings giving everyone in `group` the owner, approver and viewer roles (the
/// sandbox's demo users, the tests' users).
pub fn user_bindings(group: &str) -> Vec<Value> {
    ["charter-owner", "charter-approver", "charter-viewer"]
        .iter()
        .map(|role| {
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": {"name": format!("{role}s")},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}],
            })
        })
        .collect()
}

/// A ClusterRoleBinding of `deploy/`'s charter-platform-admin role (writing ApprovalPolicies)
/// to `group`, as an installer binds it to their platform team.
pub fn platform_admin_binding(group: &str) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "charter-platform-admins"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "charter-platform-admin"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_compiled_in_file_parses_into_objects() {
        let objects = security_objects(&[]);
        assert!(objects.iter().all(|o| o["kind"].is_string()));
        let kinds: Vec<&str> = objects.iter().filter_map(|o| o["kind"].as_str()).collect();
        for kind in [
            "ServiceAccount",
            "ClusterRole",
            "Role",
            "ValidatingAdmissionPolicy",
            "MutatingAdmissionPolicy",
        ] {
            assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
        }
    }

    #[test]
    fn the_namespaces_are_the_ones_everything_names() {
        let listed = namespaces();
        let names: Vec<&str> = listed
            .iter()
            .filter_map(|o| o["metadata"]["name"].as_str())
            .collect();
        assert_eq!(names, [NAMESPACE, CATALOG_NAMESPACE]);
    }

    #[test]
    fn before_1_36_the_mutating_policies_are_beta() {
        let api = |version: &str| {
            for_version(security_objects(&[]), version)
                .iter()
                .filter(|o| {
                    o["kind"]
                        .as_str()
                        .is_some_and(|k| k.starts_with("Mutating"))
                })
                .map(|o| o["apiVersion"].as_str().unwrap_or("").to_string())
                .collect::<Vec<_>>()
        };
        let only = |api: &str| vec![format!("admissionregistration.k8s.io/{api}"); 8];
        assert_eq!(api("v1.37.2"), only("v1"));
        assert_eq!(api("v1.36.0"), only("v1"));
        assert_eq!(api("v1.35.4"), only("v1beta1"));
        assert_eq!(api("v1.34.1"), only("v1beta1"));
        assert_eq!(api("unknown"), only("v1"));
    }

    #[test]
    fn delegates_replace_the_shipped_empty_list() {
        let params = |objects: Vec<Value>| {
            objects
                .into_iter()
                .find(|o| o["metadata"]["name"] == ADMISSION_PARAMS)
                .expect("params")
        };
        assert_eq!(
            params(security_objects(&[]))["data"]["approvalDelegates"],
            ""
        );
        assert_eq!(
            params(security_objects(&["admin", "ci"]))["data"]["approvalDelegates"],
            "admin,ci"
        );
        assert_eq!(
            params(security_objects(&[]))["data"]["operator"],
            operator_user()
        );
    }
}
