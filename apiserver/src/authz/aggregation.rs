//! The ClusterRole aggregation step, as kube-controller-manager's clusterrole-aggregation
//! controller does it: an aggregated ClusterRole's stored `rules` are the rules of every
//! other ClusterRole its `aggregationRule.clusterRoleSelectors` pick (selector order,
//! then name order, without repeats). Chains (admin ⊇ edit ⊇ view) settle in one call.

use super::rules::PolicyRule;
use crate::store::meta_str;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The field manager the real controller writes aggregated rules with.
pub const MANAGER: &str = "clusterrole-aggregation-controller";

/// Whether a metav1.LabelSelector (`matchLabels`, `matchExpressions`) selects an object
/// with these labels; an error for an operator it does not know.
pub fn selects(selector: &Value, labels: &BTreeMap<String, String>) -> Result<bool, String> {
    let label = |k: &str| labels.get(k).map(String::as_str);
    if let Some(m) = selector.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in m {
            if label(k) != v.as_str() {
                return Ok(false);
            }
        }
    }
    let exprs = selector.get("matchExpressions").and_then(Value::as_array);
    for e in exprs.into_iter().flatten() {
        let key = e.get("key").and_then(Value::as_str).unwrap_or_default();
        let values: Vec<&str> = e
            .get("values")
            .and_then(Value::as_array)
            .map(|vs| vs.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let got = label(key);
        let ok = match e
            .get("operator")
            .and_then(Value::as_str)
            .unwrap_or_default()
        {
            "In" => got.is_some_and(|g| values.contains(&g)),
            "NotIn" => got.is_none_or(|g| !values.contains(&g)),
            "Exists" => got.is_some(),
            "DoesNotExist" => got.is_none(),
            other => return Err(format!("{other:?} is not a valid label selector operator")),
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

struct Role {
    labels: BTreeMap<String, String>,
    rules: Vec<PolicyRule>,
    selectors: Option<Vec<Value>>,
}

fn labels_of(o: &Value) -> BTreeMap<String, String> {
    o.pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// The rules `name`'s selectors gather from the other roles; `None` when a selector is
/// invalid (the real controller then leaves the role as it is).
fn gathered(
    name: &str,
    selectors: &[Value],
    roles: &BTreeMap<String, Role>,
) -> Option<Vec<PolicyRule>> {
    let mut out: Vec<PolicyRule> = Vec::new();
    for selector in selectors {
        for (other, role) in roles {
            if other == name || !selects(selector, &role.labels).ok()? {
                continue;
            }
            for r in &role.rules {
                if !out.contains(r) {
                    out.push(r.clone());
                }
            }
        }
    }
    Some(out)
}

/// The aggregated ClusterRoles whose rules must change, with their new rules, given all
/// stored ClusterRoles.
pub fn aggregate(cluster_roles: &[Arc<Value>]) -> Vec<(String, Vec<PolicyRule>)> {
    let mut roles: BTreeMap<String, Role> = cluster_roles
        .iter()
        .filter_map(|o| {
            let name = meta_str(o, "name")?.to_string();
            let selectors = o
                .pointer("/aggregationRule/clusterRoleSelectors")
                .and_then(Value::as_array)
                .cloned();
            let role = Role {
                labels: labels_of(o),
                rules: PolicyRule::list_of(o),
                selectors,
            };
            Some((name, role))
        })
        .collect();
    let mut changed: BTreeMap<String, Vec<PolicyRule>> = BTreeMap::new();
    // Each pass settles one more link of a chain; a cycle stops at the bound.
    for _ in 0..=roles.len() {
        let mut any = false;
        let names: Vec<String> = roles.keys().cloned().collect();
        for name in names {
            let Some(selectors) = roles.get(&name).and_then(|r| r.selectors.clone()) else {
                continue;
            };
            let Some(rules) = gathered(&name, &selectors, &roles) else {
                continue;
            };
            if let Some(role) = roles.get_mut(&name)
                && role.rules != rules
            {
                role.rules = rules.clone();
                changed.insert(name, rules);
                any = true;
            }
        }
        if !any {
            break;
        }
    }
    changed.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn role(name: &str, labels: Value, rules: Value, agg: Option<&str>) -> Arc<Value> {
        let mut o = json!({"metadata": {"name": name, "labels": labels}, "rules": rules});
        if let Some(l) = agg {
            o["aggregationRule"] = json!({"clusterRoleSelectors": [{"matchLabels": {l: "true"}}]});
        }
        Arc::new(o)
    }

    #[test]
    fn chains_settle_and_labels_decide() {
        let get = json!([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]);
        let put = json!([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["update"]}]);
        let roles = vec![
            role("admin", json!({}), json!(null), Some("to-admin")),
            role(
                "edit",
                json!({"to-admin": "true"}),
                json!(null),
                Some("to-edit"),
            ),
            role("a-view", json!({"to-edit": "true"}), get.clone(), None),
            role(
                "b-edit",
                json!({"to-edit": "true", "to-admin": "true"}),
                put,
                None,
            ),
        ];
        let changed = aggregate(&roles);
        let names: Vec<&str> = changed.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["admin", "edit"]);
        let admin = &changed[0].1;
        assert_eq!(admin.len(), 2, "{admin:?}");
        assert_eq!(
            admin[0].verbs,
            ["update"],
            "b-edit first: selected directly by name order"
        );
    }

    #[test]
    fn match_expressions_follow_label_selector_semantics() {
        let labels: BTreeMap<String, String> = [("a".to_string(), "1".to_string())].into();
        let sel = |e: Value| json!({"matchExpressions": [e]});
        assert_eq!(
            selects(
                &sel(json!({"key": "a", "operator": "In", "values": ["1"]})),
                &labels
            ),
            Ok(true)
        );
        assert_eq!(
            selects(
                &sel(json!({"key": "b", "operator": "NotIn", "values": ["1"]})),
                &labels
            ),
            Ok(true)
        );
        assert_eq!(
            selects(
                &sel(json!({"key": "a", "operator": "DoesNotExist"})),
                &labels
            ),
            Ok(false)
        );
        assert!(selects(&sel(json!({"key": "a", "operator": "Near"})), &labels).is_err());
        assert_eq!(selects(&json!({}), &labels), Ok(true));
    }
}
