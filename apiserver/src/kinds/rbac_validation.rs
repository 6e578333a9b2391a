//! Defaulting and validation of RBAC objects, the cheap part of k8s.io/kubernetes
//! `pkg/apis/rbac/validation`: rule shapes, roleRef and subject kinds, and the
//! immutable `roleRef` of a binding. Worded as the real server words them.

use crate::authz::RBAC_GROUP as GROUP;
use crate::authz::request_info::quote;
use crate::authz::rules::strings as strs;
use crate::error::Cause;
use serde_json::Value;

fn str_at<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn cause(reason: &str, field: String, message: String) -> Cause {
    Cause {
        reason: reason.into(),
        message,
        field,
    }
}

fn required(field: String, detail: &str) -> Cause {
    let message = if detail.is_empty() {
        "Required value".to_string()
    } else {
        format!("Required value: {detail}")
    };
    cause("FieldValueRequired", field, message)
}

fn not_supported(field: String, value: &str, supported: &[&str]) -> Cause {
    let list: Vec<String> = supported.iter().map(|s| quote(s)).collect();
    cause(
        "FieldValueNotSupported",
        field,
        format!(
            "Unsupported value: {}: supported values: {}",
            quote(value),
            list.join(", ")
        ),
    )
}

/// Go's `%#v` of a `[]string`, as the real server prints an invalid list value.
fn go_strings(v: &[String]) -> String {
    let items: Vec<String> = v.iter().map(|s| quote(s)).collect();
    format!("[]string{{{}}}", items.join(", "))
}

fn role_ref(binding: &Value) -> (String, String, String) {
    let r = binding.get("roleRef").cloned().unwrap_or_default();
    (
        str_at(&r, "apiGroup").into(),
        str_at(&r, "kind").into(),
        str_at(&r, "name").into(),
    )
}

/// Fill in what the real server defaults: a User or Group subject's apiGroup.
pub(super) fn default_subjects(obj: &mut Value) {
    let subjects = obj.get_mut("subjects").and_then(Value::as_array_mut);
    for s in subjects.into_iter().flatten() {
        let kind = str_at(s, "kind").to_string();
        if let Some(m) = s.as_object_mut()
            && m.get("apiGroup")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .is_empty()
            && (kind == "User" || kind == "Group")
        {
            m.insert("apiGroup".into(), Value::String(GROUP.into()));
        }
    }
}

pub(super) fn rule_causes(rules: Option<&Value>, namespaced: bool) -> Vec<Cause> {
    let mut out = Vec::new();
    for (i, r) in rules
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let at = |f: &str| format!("rules[{i}].{f}");
        if strs(r, "verbs").is_empty() {
            out.push(required(
                at("verbs"),
                "verbs must contain at least one value",
            ));
        }
        let urls = strs(r, "nonResourceURLs");
        if !urls.is_empty() {
            let invalid = |detail: &str| {
                cause(
                    "FieldValueInvalid",
                    at("nonResourceURLs"),
                    format!("Invalid value: {}: {detail}", go_strings(&urls)),
                )
            };
            if namespaced {
                out.push(invalid(
                    "namespaced rules cannot apply to non-resource URLs",
                ));
            }
            let resourceful = ["apiGroups", "resources", "resourceNames"];
            if resourceful.iter().any(|k| !strs(r, k).is_empty()) {
                out.push(invalid(
                    "rules cannot apply to both regular resources and non-resource URLs",
                ));
            }
            continue;
        }
        if strs(r, "apiGroups").is_empty() {
            out.push(required(
                at("apiGroups"),
                "resource rules must supply at least one api group",
            ));
        }
        if strs(r, "resources").is_empty() {
            out.push(required(
                at("resources"),
                "resource rules must supply at least one resource",
            ));
        }
    }
    out
}

pub(super) fn binding_causes(obj: &Value, namespaced: bool) -> Vec<Cause> {
    let mut out = Vec::new();
    let (group, kind, name) = role_ref(obj);
    if group != GROUP {
        out.push(not_supported("roleRef.apiGroup".into(), &group, &[GROUP]));
    }
    let kinds: &[&str] = if namespaced {
        &["Role", "ClusterRole"]
    } else {
        &["ClusterRole"]
    };
    if !kinds.contains(&kind.as_str()) {
        out.push(not_supported("roleRef.kind".into(), &kind, kinds));
    }
    if name.is_empty() {
        out.push(required("roleRef.name".into(), ""));
    }
    let subjects = obj.get("subjects").and_then(Value::as_array);
    for (i, s) in subjects.into_iter().flatten().enumerate() {
        let at = |f: &str| format!("subjects[{i}].{f}");
        if str_at(s, "name").is_empty() {
            out.push(required(at("name"), ""));
        }
        let api_group = str_at(s, "apiGroup");
        match str_at(s, "kind") {
            "ServiceAccount" => {
                if !api_group.is_empty() {
                    out.push(not_supported(at("apiGroup"), api_group, &[""]));
                }
                if !namespaced && str_at(s, "namespace").is_empty() {
                    out.push(required(at("namespace"), ""));
                }
            }
            "User" | "Group" => {
                if api_group != GROUP {
                    out.push(not_supported(at("apiGroup"), api_group, &[GROUP]));
                }
            }
            other => out.push(not_supported(
                at("kind"),
                other,
                &["ServiceAccount", "User", "Group"],
            )),
        }
    }
    out
}

/// A binding's `roleRef` cannot change.
pub(super) fn role_ref_causes(obj: &Value, old: &Value) -> Vec<Cause> {
    if role_ref(old) == role_ref(obj) {
        return Vec::new();
    }
    let (g, k, n) = role_ref(obj);
    vec![cause(
        "FieldValueInvalid",
        "roleRef".into(),
        format!(
            "Invalid value: rbac.RoleRef{{APIGroup:{}, Kind:{}, Name:{}}}: cannot change roleRef",
            quote(&g),
            quote(&k),
            quote(&n)
        ),
    )]
}
