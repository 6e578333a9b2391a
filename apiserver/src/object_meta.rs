//! ObjectMeta validation every kind shares (apimachinery `ValidateObjectMeta`): the name
//! rule of the kind, label keys and values, the annotations' total size and at most one
//! controller ownerReference, each worded as kube-apiserver words it.

use crate::error::Cause;
use serde_json::Value;

const DNS1123_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const QUALIFIED_NAME_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
/// `TotalAnnotationSizeLimitB`: keys and values together.
const ANNOTATIONS_MAX_BYTES: usize = 256 * 1024;

/// How a kind's names are checked (`ValidateNameFunc`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NameRule {
    /// Namespaces.
    Dns1123Label,
    /// Most kinds: ConfigMaps, Leases, Events, custom resources, ...
    Dns1123Subdomain,
    /// RBAC kinds (`path.ValidatePathSegmentName`): `system:…` names are fine.
    PathSegment,
}

/// Now, as ObjectMeta timestamps are written (RFC 3339, seconds, `Z`).
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `metadata`, made an object (and the object too) if it is not one.
pub fn meta_mut(obj: &mut Value) -> &mut serde_json::Map<String, Value> {
    if !obj.is_object() {
        *obj = serde_json::json!({});
    }
    let root = obj.as_object_mut().expect("object ensured above");
    let m = root
        .entry("metadata")
        .or_insert_with(|| serde_json::json!({}));
    if !m.is_object() {
        *m = serde_json::json!({});
    }
    m.as_object_mut().expect("object ensured above")
}

/// `metadata.generation`, 0 when the kind carries none.
pub fn generation(obj: &Value) -> i64 {
    obj.pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

pub fn finalizers(obj: &Value) -> Vec<String> {
    crate::store::str_list(obj.pointer("/metadata/finalizers"))
}

fn cause(field: &str, value: &str, message: &str) -> Cause {
    Cause {
        reason: "FieldValueInvalid".into(),
        message: format!(
            "Invalid value: {}: {message}",
            serde_json::to_string(value).unwrap_or_default()
        ),
        field: field.into(),
    }
}

fn is_label_chars(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

pub fn is_dns1123_label(s: &str) -> bool {
    is_label_chars(s)
}

pub fn is_dns1123_subdomain(s: &str) -> bool {
    s.split('.').all(is_label_chars)
}

/// `IsQualifiedName`'s name part and `IsValidLabelValue`'s body.
fn is_qualified_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

/// The messages of a name (or generateName prefix) under a kind's rule.
pub fn name_errors(rule: NameRule, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    match rule {
        NameRule::Dns1123Label => {
            if name.len() > 63 {
                out.push("must be no more than 63 characters".into());
            }
            if !is_dns1123_label(name) {
                out.push(DNS1123_LABEL_MSG.into());
            }
        }
        NameRule::Dns1123Subdomain => {
            if name.len() > 253 {
                out.push("must be no more than 253 characters".into());
            }
            if !is_dns1123_subdomain(name) {
                out.push(DNS1123_SUBDOMAIN_MSG.into());
            }
        }
        NameRule::PathSegment => {
            if name == "." || name == ".." {
                out.push(format!("may not be '{name}'"));
            }
            for bad in ["/", "%"] {
                if name.contains(bad) {
                    out.push(format!("may not contain '{bad}'"));
                }
            }
        }
    }
    out
}

fn label_key_errors(key: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if key.matches('/').count() > 1 {
        out.push(format!("{QUALIFIED_NAME_MSG} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"));
        return out;
    }
    if let Some(p) = prefix {
        if p.is_empty() {
            out.push("prefix part must be non-empty".into());
        } else {
            if p.len() > 253 {
                out.push("prefix part must be no more than 253 characters".into());
            }
            if !is_dns1123_subdomain(p) {
                out.push(format!("prefix part {DNS1123_SUBDOMAIN_MSG}"));
            }
        }
    }
    if name.is_empty() {
        out.push("name part must be non-empty".into());
    } else {
        if name.len() > 63 {
            out.push("name part must be no more than 63 bytes".into());
        }
        if !is_qualified_part(name) {
            out.push(QUALIFIED_NAME_MSG.into());
        }
    }
    out
}

/// The fields of `ObjectMeta`; the real decoder drops any other (and names it under
/// `fieldValidation=Strict`).
pub(crate) const OBJECT_META_FIELDS: [&str; 15] = [
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

/// Drop the unknown fields of `metadata`; returns their paths (`metadata.lables`).
pub fn drop_unknown_fields(obj: &mut Value) -> Vec<String> {
    let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
        return Vec::new();
    };
    let unknown: Vec<String> = meta
        .keys()
        .filter(|k| !OBJECT_META_FIELDS.contains(&k.as_str()))
        .cloned()
        .collect();
    for k in &unknown {
        meta.remove(k);
    }
    unknown
        .into_iter()
        .map(|k| format!("metadata.{k}"))
        .collect()
}

/// Every ObjectMeta error of an object about to be stored, as field causes.
pub fn validate(rule: NameRule, obj: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    let meta = obj.get("metadata");
    let field = |k: &str| meta.and_then(|m| m.get(k));
    if let Some(name) = field("name").and_then(Value::as_str) {
        for m in name_errors(rule, name) {
            causes.push(cause("metadata.name", name, &m));
        }
    }
    if let Some(labels) = field("labels").and_then(Value::as_object) {
        for (k, v) in labels {
            for m in label_key_errors(k) {
                causes.push(cause("metadata.labels", k, &m));
            }
            let v = v.as_str().unwrap_or_default();
            if v.len() > 63 {
                causes.push(cause("metadata.labels", v, "must be no more than 63 bytes"));
            }
            if !v.is_empty() && !is_qualified_part(v) {
                causes.push(cause("metadata.labels", v, LABEL_VALUE_MSG));
            }
        }
    }
    if let Some(annotations) = field("annotations").and_then(Value::as_object) {
        for k in annotations.keys() {
            // Annotation keys are qualified names too, checked lower-cased.
            for m in label_key_errors(&k.to_lowercase()) {
                causes.push(cause("metadata.annotations", k, &m));
            }
        }
        let total: usize = annotations
            .iter()
            .map(|(k, v)| k.len() + v.as_str().map_or(0, str::len))
            .sum();
        if total > ANNOTATIONS_MAX_BYTES {
            causes.push(Cause {
                reason: "FieldValueTooLong".into(),
                message: format!("Too long: may not be more than {ANNOTATIONS_MAX_BYTES} bytes"),
                field: "metadata.annotations".into(),
            });
        }
    }
    if let Some(owners) = field("ownerReferences").and_then(Value::as_array) {
        let controllers: Vec<String> = owners
            .iter()
            .filter(|o| o.get("controller").and_then(Value::as_bool) == Some(true))
            .map(|o| {
                format!(
                    "{}/{}",
                    o.get("kind").and_then(Value::as_str).unwrap_or_default(),
                    o.get("name").and_then(Value::as_str).unwrap_or_default()
                )
            })
            .collect();
        if controllers.len() > 1 {
            causes.push(Cause {
                reason: "FieldValueInvalid".into(),
                message: format!(
                    "Invalid value: []v1.OwnerReference{{...}}: Only one reference can have Controller set to true. Found \"true\" in references for {}",
                    controllers.join(" and ")
                ),
                field: "metadata.ownerReferences".into(),
            });
        }
    }
    causes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_follow_the_kinds_rule() {
        let sub = NameRule::Dns1123Subdomain;
        assert!(name_errors(sub, "my.config-1").is_empty());
        assert_eq!(name_errors(sub, "Bad_Name"), [DNS1123_SUBDOMAIN_MSG]);
        assert_eq!(name_errors(sub, &"a".repeat(254)).len(), 1);
        assert!(name_errors(NameRule::Dns1123Label, "has.dot").len() == 1);
        assert!(name_errors(NameRule::PathSegment, "system:aggregate-to-admin").is_empty());
        assert_eq!(
            name_errors(NameRule::PathSegment, "a/b"),
            ["may not contain '/'"]
        );
    }

    #[test]
    fn labels_are_qualified_names_with_short_values() {
        let ok =
            json!({"metadata": {"name": "a", "labels": {"app.kubernetes.io/name": "x", "e": ""}}});
        assert!(validate(NameRule::Dns1123Subdomain, &ok).is_empty());
        let long = "v".repeat(70);
        let bad = json!({"metadata": {"name": "a", "labels": {"k": long, "-k": "v", "Bad_Prefix/k": "v"}}});
        let fields: Vec<String> = validate(NameRule::Dns1123Subdomain, &bad)
            .into_iter()
            .map(|c| c.message)
            .collect();
        assert_eq!(fields.len(), 3, "{fields:?}");
        assert!(
            fields
                .iter()
                .any(|m| m.ends_with("must be no more than 63 bytes")),
            "kube-apiserver 1.35 and 1.37 count a label value's length in bytes: {fields:?}"
        );
    }

    #[test]
    fn at_most_one_owner_is_the_controller() {
        let two = json!({"metadata": {"name": "a", "ownerReferences": [
            {"kind": "A", "name": "x", "controller": true},
            {"kind": "B", "name": "y", "controller": true}]}});
        let c = validate(NameRule::Dns1123Subdomain, &two);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].field, "metadata.ownerReferences");
    }
}
