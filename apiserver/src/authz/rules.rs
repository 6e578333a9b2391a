//! RBAC's PolicyRule and how one rule matches a request, as k8s.io/kubernetes
//! `pkg/apis/rbac/v1/evaluation_helpers.go` and `RuleAllows` define it.

use super::request_info::Attributes;
use serde_json::{Value, json};

/// One `rules[]` entry of a Role or ClusterRole.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyRule {
    pub verbs: Vec<String>,
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub resource_names: Vec<String>,
    pub non_resource_urls: Vec<String>,
}

/// The strings of a JSON array field (absent or mistyped items are skipped).
pub(crate) fn strings(v: &Value, key: &str) -> Vec<String> {
    crate::store::str_list(v.get(key))
}

impl PolicyRule {
    pub fn from_json(v: &Value) -> Self {
        PolicyRule {
            verbs: strings(v, "verbs"),
            api_groups: strings(v, "apiGroups"),
            resources: strings(v, "resources"),
            resource_names: strings(v, "resourceNames"),
            non_resource_urls: strings(v, "nonResourceURLs"),
        }
    }

    /// The `rules` of a stored Role or ClusterRole (none when absent or malformed).
    pub fn list_of(role: &Value) -> Vec<PolicyRule> {
        role.get("rules")
            .and_then(Value::as_array)
            .map(|rs| rs.iter().map(PolicyRule::from_json).collect())
            .unwrap_or_default()
    }

    /// Whether this rule allows the request.
    pub fn allows(&self, a: &Attributes) -> bool {
        if !self.verb_matches(&a.verb) {
            return false;
        }
        match &a.resource {
            Some(r) => {
                self.group_matches(&r.group)
                    && self.resource_matches(&r.resource, &r.subresource)
                    && self.name_matches(&r.name)
            }
            None => self.url_matches(&a.path),
        }
    }

    fn verb_matches(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == "*" || v == verb)
    }

    fn group_matches(&self, group: &str) -> bool {
        self.api_groups.iter().any(|g| g == "*" || g == group)
    }

    /// `*`, the exact `resource[/subresource]`, or `*/subresource`.
    fn resource_matches(&self, resource: &str, subresource: &str) -> bool {
        let combined = if subresource.is_empty() {
            resource.to_string()
        } else {
            format!("{resource}/{subresource}")
        };
        self.resources.iter().any(|r| {
            r == "*"
                || *r == combined
                || (!subresource.is_empty() && r.strip_prefix("*/") == Some(subresource))
        })
    }

    /// A rule naming resources never matches a request without a name (a list, a
    /// create) unless one of its names is empty: the real server compares strings.
    fn name_matches(&self, name: &str) -> bool {
        self.resource_names.is_empty() || self.resource_names.iter().any(|n| n == name)
    }

    /// `*`, the exact path, or a prefix when the rule ends with `*`.
    fn url_matches(&self, path: &str) -> bool {
        self.non_resource_urls.iter().any(|u| {
            u == "*" || u == path || (u.ends_with('*') && path.starts_with(u.trim_end_matches('*')))
        })
    }

    /// The rule as stored (empty lists left out, as the real API serializes them).
    pub fn to_json(&self) -> Value {
        let mut m = serde_json::Map::new();
        let mut put = |k: &str, v: &Vec<String>| {
            if !v.is_empty() {
                m.insert(k.into(), json!(v));
            }
        };
        put("apiGroups", &self.api_groups);
        put("nonResourceURLs", &self.non_resource_urls);
        put("resourceNames", &self.resource_names);
        put("resources", &self.resources);
        m.insert("verbs".into(), json!(self.verbs));
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::User;
    use crate::authz::request_info::ResourceAttributes;

    fn rule(v: Value) -> PolicyRule {
        PolicyRule::from_json(&v)
    }

    fn res(verb: &str, group: &str, resource: &str, sub: &str, name: &str) -> Attributes {
        Attributes {
            user: User::new("u", &[]),
            verb: verb.into(),
            path: String::new(),
            resource: Some(ResourceAttributes {
                group: group.into(),
                resource: resource.into(),
                subresource: sub.into(),
                name: name.into(),
                namespace: "ns".into(),
            }),
        }
    }

    fn url(verb: &str, path: &str) -> Attributes {
        Attributes {
            user: User::new("u", &[]),
            verb: verb.into(),
            path: path.into(),
            resource: None,
        }
    }

    #[test]
    fn subresources_are_separate_resources_unless_the_rule_says_star_slash() {
        let main = rule(json!({"apiGroups": ["g"], "resources": ["services"], "verbs": ["patch"]}));
        assert!(main.allows(&res("patch", "g", "services", "", "x")));
        assert!(!main.allows(&res("patch", "g", "services", "status", "x")));
        let status =
            rule(json!({"apiGroups": ["g"], "resources": ["*/status"], "verbs": ["patch"]}));
        assert!(status.allows(&res("patch", "g", "services", "status", "x")));
        assert!(!status.allows(&res("patch", "g", "services", "", "x")));
        let all = rule(json!({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}));
        assert!(all.allows(&res("delete", "other", "things", "status", "")));
    }

    #[test]
    fn resource_names_need_a_name_on_the_request() {
        let r = rule(
            json!({"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["a"], "verbs": ["get", "list"]}),
        );
        assert!(r.allows(&res("get", "", "configmaps", "", "a")));
        assert!(!r.allows(&res("get", "", "configmaps", "", "b")));
        assert!(!r.allows(&res("list", "", "configmaps", "", "")));
    }

    #[test]
    fn non_resource_urls_match_exactly_or_by_star_prefix() {
        let r = rule(json!({"nonResourceURLs": ["/apis/*", "/version"], "verbs": ["get"]}));
        assert!(r.allows(&url("get", "/apis/g/v1")));
        assert!(r.allows(&url("get", "/version")));
        assert!(!r.allows(&url("get", "/version/x")));
        assert!(!r.allows(&url("get", "/apis")));
        assert!(!r.allows(&url("post", "/version")));
        // A resource rule never grants a path.
        let res_rule = rule(json!({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}));
        assert!(!res_rule.allows(&url("get", "/version")));
    }
}
