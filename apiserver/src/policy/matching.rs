//! Which requests a policy's `matchConstraints` (or a binding's `matchResources`) select:
//! namespace and object selectors, excluded rules, resource rules with operations,
//! subresources (`services/status`, `*/status`), resource names and scope — as
//! k8s.io/apiserver's `policy/matching` and `webhook/predicates` decide it.

use crate::store::str_list;
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
        }
    }
}

/// What is being admitted, as matching and CEL see it.
pub struct Attributes<'a> {
    pub operation: Operation,
    pub group: &'a str,
    pub version: &'a str,
    /// The plural, e.g. `services`.
    pub resource: &'a str,
    /// `""` or e.g. `status`.
    pub subresource: &'a str,
    /// `""` for cluster-scoped objects.
    pub namespace: &'a str,
    pub name: &'a str,
    /// Null on DELETE.
    pub object: &'a Value,
    /// Null on CREATE.
    pub old_object: &'a Value,
    /// The request's namespace (null for cluster-scoped requests).
    pub namespace_object: &'a Value,
}

impl Attributes<'_> {
    fn is_namespace(&self) -> bool {
        self.group.is_empty() && self.resource == "namespaces"
    }
}

/// A `metav1.LabelSelector`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Selector {
    labels: Vec<(String, String)>,
    expressions: Vec<(String, String, Vec<String>)>,
}

impl Selector {
    /// Parse; `Err` names what is wrong (an unknown operator).
    pub fn parse(v: &Value) -> Result<Selector, String> {
        let labels = v
            .get("matchLabels")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let mut expressions = Vec::new();
        for e in v
            .get("matchExpressions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = e.get("key").and_then(Value::as_str).unwrap_or_default();
            let op = e
                .get("operator")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !matches!(op, "In" | "NotIn" | "Exists" | "DoesNotExist") {
                return Err(format!("{op:?} is not a valid label selector operator"));
            }
            expressions.push((key.to_string(), op.to_string(), str_list(e.get("values"))));
        }
        Ok(Selector {
            labels,
            expressions,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.expressions.is_empty()
    }

    /// Whether an object (its `metadata.labels`) is selected.
    pub fn matches_object(&self, obj: &Value) -> bool {
        let get = |k: &str| {
            obj.pointer("/metadata/labels")
                .and_then(|l| l.get(k))
                .and_then(Value::as_str)
        };
        self.labels.iter().all(|(k, v)| get(k) == Some(v.as_str()))
            && self
                .expressions
                .iter()
                .all(|(k, op, vs)| match op.as_str() {
                    "In" => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
                    "NotIn" => get(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
                    "Exists" => get(k).is_some(),
                    _ => get(k).is_none(),
                })
    }
}

/// One `NamedRuleWithOperations`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rule {
    groups: Vec<String>,
    versions: Vec<String>,
    resources: Vec<String>,
    operations: Vec<String>,
    scope: Option<String>,
    names: Vec<String>,
}

fn exact_or_wildcard(items: &[String], want: &str) -> bool {
    items.iter().any(|i| i == "*" || i == want)
}

impl Rule {
    fn parse(v: &Value) -> Rule {
        Rule {
            groups: str_list(v.get("apiGroups")),
            versions: str_list(v.get("apiVersions")),
            resources: str_list(v.get("resources")),
            operations: str_list(v.get("operations")),
            scope: v.get("scope").and_then(Value::as_str).map(String::from),
            names: str_list(v.get("resourceNames")),
        }
    }

    fn matches(&self, a: &Attributes<'_>) -> bool {
        let scope = match self.scope.as_deref() {
            None | Some("*") => true,
            Some("Namespaced") => !a.is_namespace() && !a.namespace.is_empty(),
            Some("Cluster") => a.is_namespace() || a.namespace.is_empty(),
            Some(_) => false,
        };
        let operation = self
            .operations
            .iter()
            .any(|o| o == "*" || o == a.operation.as_str());
        let resource = self.resources.iter().any(|r| {
            let (res, sub) = r.split_once('/').unwrap_or((r, ""));
            (res == "*" || res == a.resource) && (sub == "*" || sub == a.subresource)
        });
        scope
            && operation
            && exact_or_wildcard(&self.groups, a.group)
            && exact_or_wildcard(&self.versions, a.version)
            && resource
            && (self.names.is_empty() || self.names.iter().any(|n| n == a.name))
    }
}

/// `matchConstraints` of a policy or `matchResources` of a binding.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MatchResources {
    namespace_selector: Option<Selector>,
    object_selector: Option<Selector>,
    /// `None` when absent: a binding then narrows nothing by resource.
    rules: Option<Vec<Rule>>,
    exclude: Vec<Rule>,
}

impl MatchResources {
    pub fn parse(v: &Value) -> Result<MatchResources, String> {
        let selector = |k: &str| v.get(k).map(Selector::parse).transpose();
        Ok(MatchResources {
            namespace_selector: selector("namespaceSelector")?,
            object_selector: selector("objectSelector")?,
            rules: v
                .get("resourceRules")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(Rule::parse).collect()),
            exclude: v
                .get("excludeResourceRules")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(Rule::parse).collect())
                .unwrap_or_default(),
        })
    }

    /// Whether the resource (without operation, selectors or names) could ever match:
    /// lets the handlers skip reading params for policies about other kinds.
    pub fn may_concern(&self, group: &str, version: &str, resource: &str) -> bool {
        self.rules.as_ref().is_none_or(|rules| {
            rules.iter().any(|r| {
                exact_or_wildcard(&r.groups, group)
                    && exact_or_wildcard(&r.versions, version)
                    && r.resources.iter().any(|x| {
                        let res = x.split_once('/').map_or(x.as_str(), |(res, _)| res);
                        res == "*" || res == resource
                    })
            })
        })
    }

    pub fn matches(&self, a: &Attributes<'_>, is_binding: bool) -> bool {
        let namespace_ok = match &self.namespace_selector {
            _ if a.namespace.is_empty() && !a.is_namespace() => true,
            None => true,
            Some(s) if s.is_empty() => true,
            // A namespace being written is matched on its own labels.
            Some(s) if a.is_namespace() => {
                let own = if a.object.is_null() {
                    a.old_object
                } else {
                    a.object
                };
                s.matches_object(own)
            }
            Some(s) => s.matches_object(a.namespace_object),
        };
        let object_ok = match &self.object_selector {
            None => true,
            Some(s) if s.is_empty() => true,
            Some(s) => {
                (!a.object.is_null() && s.matches_object(a.object))
                    || (!a.old_object.is_null() && s.matches_object(a.old_object))
            }
        };
        if !namespace_ok || !object_ok || self.exclude.iter().any(|r| r.matches(a)) {
            return false;
        }
        match &self.rules {
            None => is_binding,
            Some(rules) => rules.iter().any(|r| r.matches(a)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs<'a>(op: Operation, sub: &'a str, obj: &'a Value, ns: &'a Value) -> Attributes<'a> {
        Attributes {
            operation: op,
            group: "catalog.charter.dev",
            version: "v1alpha1",
            resource: "services",
            subresource: sub,
            namespace: "team-a",
            name: "ledger",
            object: obj,
            old_object: &Value::Null,
            namespace_object: ns,
        }
    }

    fn rules(resources: &[&str], ops: &[&str]) -> MatchResources {
        MatchResources::parse(&json!({"resourceRules": [{
            "apiGroups": ["catalog.charter.dev"], "apiVersions": ["*"],
            "resources": resources, "operations": ops,
        }]}))
        .expect("parses")
    }

    #[test]
    fn subresources_match_only_when_named() {
        let o = json!({});
        let ns = json!({});
        let main = rules(&["services"], &["UPDATE"]);
        let status = rules(&["services/status"], &["UPDATE"]);
        let any_status = rules(&["*/status"], &["*"]);
        assert!(main.matches(&attrs(Operation::Update, "", &o, &ns), false));
        assert!(!main.matches(&attrs(Operation::Update, "status", &o, &ns), false));
        assert!(status.matches(&attrs(Operation::Update, "status", &o, &ns), false));
        assert!(!status.matches(&attrs(Operation::Update, "", &o, &ns), false));
        assert!(any_status.matches(&attrs(Operation::Update, "status", &o, &ns), false));
        assert!(!main.matches(&attrs(Operation::Create, "", &o, &ns), false));
    }

    #[test]
    fn selectors_and_exclusions_narrow() {
        let o = json!({"metadata": {"labels": {"tier": "gold"}}});
        let ns = json!({"metadata": {"labels": {"env": "prod"}}});
        let m = MatchResources::parse(&json!({
            "namespaceSelector": {"matchLabels": {"env": "prod"}},
            "objectSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["gold"]}]},
        }))
        .expect("parses");
        assert!(m.matches(&attrs(Operation::Create, "", &o, &ns), true));
        assert!(!m.matches(&attrs(Operation::Create, "", &o, &json!({})), true));
        assert!(!m.matches(&attrs(Operation::Create, "", &json!({}), &ns), true));
        let excluded = MatchResources::parse(&json!({"excludeResourceRules": [{
            "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"], "operations": ["*"],
            "resourceNames": ["ledger"],
        }]}))
        .expect("parses");
        assert!(!excluded.matches(&attrs(Operation::Create, "", &o, &ns), true));
        assert!(
            Selector::parse(&json!({"matchExpressions": [{"key": "a", "operator": "Near"}]}))
                .is_err()
        );
    }
}
