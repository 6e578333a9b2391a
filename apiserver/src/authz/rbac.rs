//! The RBAC authorizer as one compiled, immutable snapshot of the stored Roles,
//! ClusterRoles and bindings: bindings indexed by subject and their roles resolved once,
//! so a request costs the bindings of its user, not a scan of the store. Behaviour follows
//! k8s.io/kubernetes `plugin/pkg/auth/authorizer/rbac` and `pkg/registry/rbac/validation`.

use super::request_info::{Attributes, quote};
use super::rules::PolicyRule;
use crate::auth::{User, service_account_user};
use crate::store::meta_str;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// RBAC's answer: it allows or has no opinion (it never denies). `reason` says which
/// binding allowed, or which roles could not be resolved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub reason: String,
}

#[derive(Clone, Debug)]
struct Subject {
    kind: String,
    name: String,
    /// As written (ServiceAccount subjects of RoleBindings may leave it empty).
    namespace: String,
}

#[derive(Debug)]
struct Binding {
    /// `ClusterRoleBinding` or `RoleBinding`.
    kind: &'static str,
    name: String,
    namespace: String,
    role_kind: String,
    role_name: String,
    subjects: Vec<Subject>,
    /// The role's rules, or why they could not be had (a missing role).
    rules: Result<Arc<[PolicyRule]>, String>,
}

impl Binding {
    /// The first subject that applies to `user`, as RBAC's `appliesTo`.
    fn subject_for(&self, user: &User) -> Option<&Subject> {
        self.subjects.iter().find(|s| match s.kind.as_str() {
            "User" => s.name == user.name,
            "Group" => user.in_group(&s.name),
            "ServiceAccount" => sa_user(s, &self.namespace).is_some_and(|u| u == user.name),
            _ => false,
        })
    }

    /// `ClusterRoleBinding "x" of ClusterRole "y" to User "z"`, as RBAC describes a source.
    fn describe(&self, s: &Subject) -> String {
        let (name, subject_ns) = match self.kind {
            "RoleBinding" => (
                format!("{}/{}", self.name, self.namespace),
                self.namespace.as_str(),
            ),
            _ => (self.name.clone(), ""),
        };
        let subject = match s.kind.as_str() {
            "ServiceAccount" => {
                let ns = if s.namespace.is_empty() {
                    subject_ns
                } else {
                    &s.namespace
                };
                format!("{} {}", s.kind, quote(&format!("{}/{ns}", s.name)))
            }
            _ => format!("{} {}", s.kind, quote(&s.name)),
        };
        format!(
            "{} {} of {} {} to {subject}",
            self.kind,
            quote(&name),
            self.role_kind,
            quote(&self.role_name)
        )
    }
}

/// The user name a ServiceAccount subject stands for; a RoleBinding's own namespace when
/// the subject names none, nothing for a ClusterRoleBinding subject without one.
fn sa_user(s: &Subject, binding_ns: &str) -> Option<String> {
    let ns = if s.namespace.is_empty() {
        binding_ns
    } else {
        &s.namespace
    };
    (!ns.is_empty()).then(|| service_account_user(ns, &s.name))
}

/// Bindings by the user names and groups of their subjects.
#[derive(Debug, Default)]
struct Scope {
    bindings: Vec<Binding>,
    by_user: HashMap<String, Vec<usize>>,
    by_group: HashMap<String, Vec<usize>>,
}

impl Scope {
    fn new(mut bindings: Vec<Binding>) -> Self {
        bindings.sort_by(|a, b| a.name.cmp(&b.name));
        let mut scope = Scope::default();
        for (i, b) in bindings.iter().enumerate() {
            for s in &b.subjects {
                let key = match s.kind.as_str() {
                    "User" => Some((&mut scope.by_user, s.name.clone())),
                    "Group" => Some((&mut scope.by_group, s.name.clone())),
                    "ServiceAccount" => sa_user(s, &b.namespace).map(|u| (&mut scope.by_user, u)),
                    _ => None,
                };
                if let Some((map, k)) = key {
                    map.entry(k).or_default().push(i);
                }
            }
        }
        scope.bindings = bindings;
        scope
    }

    /// The bindings naming `user`, in name order (each once).
    fn for_user(&self, user: &User) -> Vec<&Binding> {
        let mut idx: Vec<usize> = self
            .by_user
            .get(&user.name)
            .into_iter()
            .chain(user.groups.iter().filter_map(|g| self.by_group.get(g)))
            .flatten()
            .copied()
            .collect();
        idx.sort_unstable();
        idx.dedup();
        idx.into_iter()
            .filter_map(|i| self.bindings.get(i))
            .collect()
    }
}

/// A compiled RBAC policy.
#[derive(Debug, Default)]
pub struct Rbac {
    cluster: Scope,
    namespaced: HashMap<String, Scope>,
}

/// The stored RBAC objects a snapshot is compiled from.
#[derive(Default)]
pub struct Objects {
    pub roles: Vec<Arc<Value>>,
    pub cluster_roles: Vec<Arc<Value>>,
    pub role_bindings: Vec<Arc<Value>>,
    pub cluster_role_bindings: Vec<Arc<Value>>,
}

fn str_at<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn subjects(binding: &Value) -> Vec<Subject> {
    binding
        .get("subjects")
        .and_then(Value::as_array)
        .map(|ss| {
            ss.iter()
                .map(|s| Subject {
                    kind: str_at(s, "kind").into(),
                    name: str_at(s, "name").into(),
                    namespace: str_at(s, "namespace").into(),
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Rbac {
    pub fn build(objects: &Objects) -> Self {
        let key = |o: &Value| {
            (
                meta_str(o, "namespace").unwrap_or_default().to_string(),
                meta_str(o, "name").unwrap_or_default().to_string(),
            )
        };
        let roles: HashMap<(String, String), Arc<[PolicyRule]>> = objects
            .roles
            .iter()
            .map(|r| (key(r), PolicyRule::list_of(r).into()))
            .collect();
        let cluster_roles: HashMap<String, Arc<[PolicyRule]>> = objects
            .cluster_roles
            .iter()
            .map(|r| (key(r).1, PolicyRule::list_of(r).into()))
            .collect();
        let binding = |kind: &'static str, o: &Value| {
            let (namespace, name) = key(o);
            let role_ref = o.get("roleRef").cloned().unwrap_or_default();
            let role_kind = str_at(&role_ref, "kind").to_string();
            let role_name = str_at(&role_ref, "name").to_string();
            let rules = match role_kind.as_str() {
                "Role" => roles
                    .get(&(namespace.clone(), role_name.clone()))
                    .cloned()
                    .ok_or_else(|| {
                        format!(
                            "role.rbac.authorization.k8s.io {} not found",
                            quote(&role_name)
                        )
                    }),
                "ClusterRole" => cluster_roles.get(&role_name).cloned().ok_or_else(|| {
                    format!(
                        "clusterrole.rbac.authorization.k8s.io {} not found",
                        quote(&role_name)
                    )
                }),
                other => Err(format!("unsupported role reference kind: {}", quote(other))),
            };
            Binding {
                kind,
                name,
                namespace,
                role_kind,
                role_name,
                subjects: subjects(o),
                rules,
            }
        };
        let cluster = Scope::new(
            objects
                .cluster_role_bindings
                .iter()
                .map(|o| binding("ClusterRoleBinding", o))
                .collect(),
        );
        let mut by_ns: HashMap<String, Vec<Binding>> = HashMap::new();
        for o in &objects.role_bindings {
            let b = binding("RoleBinding", o);
            by_ns.entry(b.namespace.clone()).or_default().push(b);
        }
        Rbac {
            cluster,
            namespaced: by_ns
                .into_iter()
                .map(|(ns, bs)| (ns, Scope::new(bs)))
                .collect(),
        }
    }

    /// The bindings that apply to `user` in `namespace`: cluster-wide ones first, then
    /// the namespace's (none for cluster-scoped and non-resource requests).
    fn applicable<'a>(&'a self, user: &User, namespace: &str) -> Vec<&'a Binding> {
        let mut out = self.cluster.for_user(user);
        if !namespace.is_empty()
            && let Some(scope) = self.namespaced.get(namespace)
        {
            out.extend(scope.for_user(user));
        }
        out
    }

    pub fn authorize(&self, a: &Attributes) -> Decision {
        let mut errors: Vec<String> = Vec::new();
        for b in self.applicable(&a.user, a.namespace()) {
            let Some(subject) = b.subject_for(&a.user) else {
                continue;
            };
            match &b.rules {
                Ok(rules) => {
                    if rules.iter().any(|r| r.allows(a)) {
                        return Decision {
                            allowed: true,
                            reason: format!("RBAC: allowed by {}", b.describe(subject)),
                        };
                    }
                }
                Err(e) => errors.push(e.clone()),
            }
        }
        Decision {
            allowed: false,
            reason: if errors.is_empty() {
                String::new()
            } else {
                format!("RBAC: {}", aggregate(&errors))
            },
        }
    }

    /// Every rule granted to `user` in `namespace`, and the role-resolution errors met
    /// (as RBAC's `RulesFor`, behind SelfSubjectRulesReview).
    pub fn rules_for(&self, user: &User, namespace: &str) -> (Vec<PolicyRule>, Vec<String>) {
        let mut rules = Vec::new();
        let mut errors = Vec::new();
        for b in self.applicable(user, namespace) {
            if b.subject_for(user).is_none() {
                continue;
            }
            match &b.rules {
                Ok(rs) => rules.extend(rs.iter().cloned()),
                Err(e) => errors.push(e.clone()),
            }
        }
        (rules, errors)
    }
}

/// Several errors as k8s.io/apimachinery's aggregate prints them: one alone, else
/// `[a, b]` without repeats.
pub fn aggregate(errors: &[String]) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for e in errors {
        if !seen.contains(&e.as_str()) {
            seen.push(e);
        }
    }
    match seen.as_slice() {
        [one] => one.to_string(),
        many => format!("[{}]", many.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::request_info::from_request;
    use serde_json::json;

    fn objects() -> Objects {
        let arc = |v: Value| Arc::new(v);
        Objects {
            roles: vec![arc(json!({
                "metadata": {"name": "cm-reader", "namespace": "a"},
                "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]
            }))],
            cluster_roles: vec![arc(json!({
                "metadata": {"name": "lease-editor"},
                "rules": [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["*"]}]
            }))],
            role_bindings: vec![
                arc(json!({
                    "metadata": {"name": "read", "namespace": "a"},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "cm-reader"},
                    "subjects": [{"kind": "User", "name": "gus"}, {"kind": "ServiceAccount", "name": "bot"}]
                })),
                arc(json!({
                    "metadata": {"name": "leases", "namespace": "b"},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "lease-editor"},
                    "subjects": [{"kind": "Group", "name": "devs"}]
                })),
                arc(json!({
                    "metadata": {"name": "dangling", "namespace": "b"},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "gone"},
                    "subjects": [{"kind": "User", "name": "gus"}]
                })),
            ],
            cluster_role_bindings: vec![],
        }
    }

    fn ask(rbac: &Rbac, user: User, method: &str, path: &str) -> Decision {
        rbac.authorize(&from_request(user, method, path, &HashMap::new()))
    }

    #[test]
    fn a_role_binding_grants_in_its_namespace_only() {
        let rbac = Rbac::build(&objects());
        let gus = User::new("gus", &["system:authenticated"]);
        let d = ask(
            &rbac,
            gus.clone(),
            "GET",
            "/api/v1/namespaces/a/configmaps/x",
        );
        assert_eq!(
            d.reason,
            r#"RBAC: allowed by RoleBinding "read/a" of Role "cm-reader" to User "gus""#
        );
        assert!(d.allowed);
        assert!(!ask(&rbac, gus.clone(), "GET", "/api/v1/configmaps").allowed);
        let d = ask(&rbac, gus, "GET", "/api/v1/namespaces/b/configmaps/x");
        assert!(!d.allowed);
        assert_eq!(
            d.reason,
            r#"RBAC: role.rbac.authorization.k8s.io "gone" not found"#
        );
    }

    #[test]
    fn a_cluster_role_bound_in_a_namespace_grants_there_to_groups() {
        let rbac = Rbac::build(&objects());
        let dev = User::new("dev", &["devs"]);
        let path = "/apis/coordination.k8s.io/v1/namespaces/b/leases/l";
        assert!(ask(&rbac, dev.clone(), "DELETE", path).allowed);
        assert!(
            !ask(
                &rbac,
                dev,
                "DELETE",
                "/apis/coordination.k8s.io/v1/namespaces/a/leases/l"
            )
            .allowed
        );
    }

    #[test]
    fn a_service_account_subject_defaults_to_the_binding_namespace() {
        let rbac = Rbac::build(&objects());
        let bot = User::new("system:serviceaccount:a:bot", &["system:serviceaccounts"]);
        let d = ask(&rbac, bot, "GET", "/api/v1/namespaces/a/configmaps");
        assert_eq!(
            d.reason,
            r#"RBAC: allowed by RoleBinding "read/a" of Role "cm-reader" to ServiceAccount "bot/a""#
        );
        let other = User::new("system:serviceaccount:b:bot", &[]);
        assert!(!ask(&rbac, other, "GET", "/api/v1/namespaces/a/configmaps").allowed);
    }

    #[test]
    fn errors_aggregate_like_apimachinery() {
        assert_eq!(aggregate(&["a".into()]), "a");
        assert_eq!(aggregate(&["a".into(), "b".into(), "a".into()]), "[a, b]");
    }
}
