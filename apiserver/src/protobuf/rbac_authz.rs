//! Protobuf request bodies of the kinds authorization serves: kubectl's typed commands
//! (`create role|clusterrole|rolebinding|clusterrolebinding|serviceaccount`, `auth can-i`)
//! send them. Each maps to the JSON object the same request would carry.

use super::object_meta::object_meta;
use k8s_pb::api::authorization::v1 as authz;
use k8s_pb::api::core::v1 as core;
use k8s_pb::api::rbac::v1 as rbac;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use prost::Message;
use serde_json::{Map, Value, json};

fn put(m: &mut Map<String, Value>, key: &str, v: Value) {
    let empty = match &v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::String(s) => s.is_empty(),
        _ => false,
    };
    if !empty {
        m.insert(key.into(), v);
    }
}

fn opt(s: &Option<String>) -> Value {
    s.clone().map_or(Value::Null, Value::String)
}

fn rules(rs: &[rbac::PolicyRule]) -> Value {
    Value::Array(
        rs.iter()
            .map(|r| {
                let mut m = Map::new();
                put(&mut m, "apiGroups", json!(r.api_groups));
                put(&mut m, "nonResourceURLs", json!(r.non_resource_ur_ls));
                put(&mut m, "resourceNames", json!(r.resource_names));
                put(&mut m, "resources", json!(r.resources));
                m.insert("verbs".into(), json!(r.verbs));
                Value::Object(m)
            })
            .collect(),
    )
}

fn label_selector(s: &meta::LabelSelector) -> Value {
    let mut m = Map::new();
    put(&mut m, "matchLabels", json!(s.match_labels));
    let exprs: Vec<Value> = s
        .match_expressions
        .iter()
        .map(|e| {
            let mut x = Map::new();
            put(&mut x, "key", opt(&e.key));
            put(&mut x, "operator", opt(&e.operator));
            put(&mut x, "values", json!(e.values));
            Value::Object(x)
        })
        .collect();
    put(&mut m, "matchExpressions", Value::Array(exprs));
    Value::Object(m)
}

fn binding(
    out: &mut Map<String, Value>,
    subjects: &[rbac::Subject],
    role_ref: &Option<rbac::RoleRef>,
) {
    let subjects: Vec<Value> = subjects
        .iter()
        .map(|s| {
            let mut m = Map::new();
            put(&mut m, "kind", opt(&s.kind));
            put(&mut m, "apiGroup", opt(&s.api_group));
            put(&mut m, "name", opt(&s.name));
            put(&mut m, "namespace", opt(&s.namespace));
            Value::Object(m)
        })
        .collect();
    put(out, "subjects", Value::Array(subjects));
    if let Some(r) = role_ref {
        out.insert(
            "roleRef".into(),
            json!({"apiGroup": opt(&r.api_group), "kind": opt(&r.kind), "name": opt(&r.name)}),
        );
    }
}

fn resource_attributes(r: &authz::ResourceAttributes) -> Value {
    let mut m = Map::new();
    for (k, v) in [
        ("namespace", &r.namespace),
        ("verb", &r.verb),
        ("group", &r.group),
        ("version", &r.version),
        ("resource", &r.resource),
        ("subresource", &r.subresource),
        ("name", &r.name),
    ] {
        put(&mut m, k, opt(v));
    }
    Value::Object(m)
}

fn access_spec(
    res: &Option<authz::ResourceAttributes>,
    non: &Option<authz::NonResourceAttributes>,
) -> Map<String, Value> {
    let mut spec = Map::new();
    if let Some(r) = res {
        spec.insert("resourceAttributes".into(), resource_attributes(r));
    }
    if let Some(n) = non {
        spec.insert(
            "nonResourceAttributes".into(),
            json!({"path": opt(&n.path), "verb": opt(&n.verb)}),
        );
    }
    spec
}

fn subject_spec(s: &authz::SubjectAccessReviewSpec) -> Value {
    let mut spec = access_spec(&s.resource_attributes, &s.non_resource_attributes);
    put(&mut spec, "user", opt(&s.user));
    put(&mut spec, "groups", json!(s.groups));
    put(&mut spec, "uid", opt(&s.uid));
    Value::Object(spec)
}

/// The fields (beyond apiVersion and kind) of a protobuf body of one of these kinds;
/// `None` for other kinds.
pub fn decode(
    api_version: &str,
    kind: &str,
    raw: &[u8],
) -> Option<Result<Map<String, Value>, prost::DecodeError>> {
    let mut out = Map::new();
    let meta = |m: Option<meta::ObjectMeta>, out: &mut Map<String, Value>| {
        out.insert("metadata".into(), object_meta(m.unwrap_or_default()));
    };
    let result = (|| -> Result<bool, prost::DecodeError> {
        match (api_version, kind) {
            ("v1", "ServiceAccount") => {
                let sa = core::ServiceAccount::decode(raw)?;
                meta(sa.metadata, &mut out);
                if let Some(a) = sa.automount_service_account_token {
                    out.insert("automountServiceAccountToken".into(), json!(a));
                }
            }
            ("rbac.authorization.k8s.io/v1", "Role") => {
                let r = rbac::Role::decode(raw)?;
                meta(r.metadata, &mut out);
                out.insert("rules".into(), rules(&r.rules));
            }
            ("rbac.authorization.k8s.io/v1", "ClusterRole") => {
                let r = rbac::ClusterRole::decode(raw)?;
                meta(r.metadata, &mut out);
                out.insert("rules".into(), rules(&r.rules));
                if let Some(a) = r.aggregation_rule {
                    let sel: Vec<Value> = a
                        .cluster_role_selectors
                        .iter()
                        .map(label_selector)
                        .collect();
                    out.insert(
                        "aggregationRule".into(),
                        json!({"clusterRoleSelectors": sel}),
                    );
                }
            }
            ("rbac.authorization.k8s.io/v1", "RoleBinding") => {
                let b = rbac::RoleBinding::decode(raw)?;
                meta(b.metadata, &mut out);
                binding(&mut out, &b.subjects, &b.role_ref);
            }
            ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding") => {
                let b = rbac::ClusterRoleBinding::decode(raw)?;
                meta(b.metadata, &mut out);
                binding(&mut out, &b.subjects, &b.role_ref);
            }
            ("authorization.k8s.io/v1", "SelfSubjectAccessReview") => {
                let r = authz::SelfSubjectAccessReview::decode(raw)?;
                meta(r.metadata, &mut out);
                let spec = r.spec.unwrap_or_default();
                let spec = access_spec(&spec.resource_attributes, &spec.non_resource_attributes);
                out.insert("spec".into(), Value::Object(spec));
            }
            ("authorization.k8s.io/v1", "SelfSubjectRulesReview") => {
                let r = authz::SelfSubjectRulesReview::decode(raw)?;
                meta(r.metadata, &mut out);
                let ns = r.spec.and_then(|s| s.namespace);
                out.insert("spec".into(), json!({"namespace": ns.unwrap_or_default()}));
            }
            ("authorization.k8s.io/v1", "SubjectAccessReview") => {
                let r = authz::SubjectAccessReview::decode(raw)?;
                meta(r.metadata, &mut out);
                out.insert("spec".into(), subject_spec(&r.spec.unwrap_or_default()));
            }
            ("authorization.k8s.io/v1", "LocalSubjectAccessReview") => {
                let r = authz::LocalSubjectAccessReview::decode(raw)?;
                meta(r.metadata, &mut out);
                out.insert("spec".into(), subject_spec(&r.spec.unwrap_or_default()));
            }
            _ => return Ok(false),
        }
        Ok(true)
    })();
    match result {
        Ok(false) => None,
        Ok(true) => Some(Ok(out)),
        Err(e) => Some(Err(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_binding_as_kubectl_create_rolebinding_sends_it() {
        let b = rbac::RoleBinding {
            metadata: Some(meta::ObjectMeta {
                name: Some("gus-view".into()),
                ..Default::default()
            }),
            subjects: vec![rbac::Subject {
                kind: Some("User".into()),
                api_group: Some("rbac.authorization.k8s.io".into()),
                name: Some("gus".into()),
                namespace: None,
            }],
            role_ref: Some(rbac::RoleRef {
                api_group: Some("rbac.authorization.k8s.io".into()),
                kind: Some("ClusterRole".into()),
                name: Some("view".into()),
            }),
        };
        let got = decode(
            "rbac.authorization.k8s.io/v1",
            "RoleBinding",
            &b.encode_to_vec(),
        )
        .expect("a kind it knows")
        .expect("decodes");
        assert_eq!(got["roleRef"]["name"], "view");
        assert_eq!(
            got["subjects"][0],
            json!({"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "gus"})
        );
        assert_eq!(got["metadata"]["name"], "gus-view");
    }

    #[test]
    fn a_self_subject_access_review_as_kubectl_auth_can_i_sends_it() {
        let r = authz::SelfSubjectAccessReview {
            spec: Some(authz::SelfSubjectAccessReviewSpec {
                resource_attributes: Some(authz::ResourceAttributes {
                    namespace: Some("x".into()),
                    verb: Some("get".into()),
                    resource: Some("configmaps".into()),
                    ..Default::default()
                }),
                non_resource_attributes: None,
            }),
            ..Default::default()
        };
        let got = decode(
            "authorization.k8s.io/v1",
            "SelfSubjectAccessReview",
            &r.encode_to_vec(),
        )
        .expect("a kind it knows")
        .expect("decodes");
        assert_eq!(
            got["spec"]["resourceAttributes"],
            json!({"namespace": "x", "verb": "get", "resource": "configmaps"})
        );
        assert!(decode("v1", "Pod", &[]).is_none());
    }
}
