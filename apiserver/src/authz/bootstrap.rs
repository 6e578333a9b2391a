//! The bootstrap RBAC policy created at start, a subset of kube-apiserver's
//! (`plugin/pkg/auth/authorizer/rbac/bootstrappolicy`): cluster-admin for `system:masters`,
//! the aggregated admin/edit/view roles with their aggregate-to-* bases cut down to the
//! kinds this server serves, and what every authenticated user gets (basic-user,
//! discovery, public-info-viewer), and system:auth-delegator for servers that delegate.

use serde_json::{Value, json};

/// Every verb of a served kind (the one list, `crate::resource::VERBS`).
const RW: [&str; 8] = crate::resource::VERBS;
const READ: [&str; 3] = ["get", "list", "watch"];
const WRITE: [&str; 5] = ["create", "delete", "deletecollection", "patch", "update"];

fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> Value {
    json!({"apiGroups": groups, "resources": resources, "verbs": verbs})
}

fn metadata(name: &str, aggregate_to: Option<&str>) -> Value {
    let mut labels = json!({"kubernetes.io/bootstrapping": "rbac-defaults"});
    if let Some(to) = aggregate_to {
        labels[format!("rbac.authorization.k8s.io/aggregate-to-{to}")] = json!("true");
    }
    json!({
        "name": name,
        "labels": labels,
        "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
    })
}

fn cluster_role(name: &str, aggregate_to: Option<&str>, rules: Vec<Value>) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": metadata(name, aggregate_to),
        "rules": rules,
    })
}

/// An aggregated role: its rules come from the roles labelled `aggregate-to-<from>`.
fn aggregated(name: &str, aggregate_to: Option<&str>, from: &str) -> Value {
    let mut role = cluster_role(name, aggregate_to, Vec::new());
    role["aggregationRule"] = json!({"clusterRoleSelectors": [
        {"matchLabels": {format!("rbac.authorization.k8s.io/aggregate-to-{from}"): "true"}}
    ]});
    role
}

fn binding(role: &str, groups: &[&str]) -> Value {
    let subjects: Vec<Value> = groups
        .iter()
        .map(|g| json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": g}))
        .collect();
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": metadata(role, None),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": subjects,
    })
}

/// The bootstrap ClusterRoles, then their ClusterRoleBindings.
pub fn objects() -> Vec<Value> {
    let discovery_urls = [
        "/api",
        "/api/*",
        "/apis",
        "/apis/*",
        "/healthz",
        "/livez",
        "/openapi",
        "/openapi/*",
        "/readyz",
        "/version",
        "/version/",
    ];
    let public_urls = ["/healthz", "/livez", "/readyz", "/version", "/version/"];
    vec![
        cluster_role(
            "cluster-admin",
            None,
            vec![
                rule(&["*"], &["*"], &["*"]),
                json!({"nonResourceURLs": ["*"], "verbs": ["*"]}),
            ],
        ),
        aggregated("admin", None, "admin"),
        aggregated("edit", Some("admin"), "edit"),
        aggregated("view", Some("edit"), "view"),
        cluster_role(
            "system:aggregate-to-admin",
            Some("admin"),
            vec![
                rule(
                    &["authorization.k8s.io"],
                    &["localsubjectaccessreviews"],
                    &["create"],
                ),
                rule(
                    &["rbac.authorization.k8s.io"],
                    &["rolebindings", "roles"],
                    &RW,
                ),
            ],
        ),
        cluster_role(
            "system:aggregate-to-edit",
            Some("edit"),
            vec![
                rule(&[""], &["serviceaccounts"], &["impersonate"]),
                rule(&[""], &["configmaps", "events", "serviceaccounts"], &WRITE),
                rule(&["coordination.k8s.io"], &["leases"], &RW),
            ],
        ),
        cluster_role(
            "system:aggregate-to-view",
            Some("view"),
            vec![
                rule(&[""], &["configmaps", "serviceaccounts"], &READ),
                rule(&[""], &["events", "namespaces/status"], &READ),
                rule(&[""], &["namespaces"], &READ),
            ],
        ),
        cluster_role(
            "system:basic-user",
            None,
            vec![
                rule(
                    &["authorization.k8s.io"],
                    &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                    &["create"],
                ),
                rule(
                    &["authentication.k8s.io"],
                    &["selfsubjectreviews"],
                    &["create"],
                ),
            ],
        ),
        // What a server needs to authenticate and authorize its own callers with this one
        // (kube-rbac-proxy, metrics endpoints): bound by name, never by default.
        cluster_role(
            "system:auth-delegator",
            None,
            vec![
                rule(&["authentication.k8s.io"], &["tokenreviews"], &["create"]),
                rule(
                    &["authorization.k8s.io"],
                    &["subjectaccessreviews"],
                    &["create"],
                ),
            ],
        ),
        cluster_role(
            "system:discovery",
            None,
            vec![json!({"nonResourceURLs": discovery_urls, "verbs": ["get"]})],
        ),
        cluster_role(
            "system:public-info-viewer",
            None,
            vec![json!({"nonResourceURLs": public_urls, "verbs": ["get"]})],
        ),
        binding("cluster-admin", &["system:masters"]),
        binding("system:basic-user", &["system:authenticated"]),
        binding("system:discovery", &["system:authenticated"]),
        binding(
            "system:public-info-viewer",
            &["system:authenticated", "system:unauthenticated"],
        ),
    ]
}
