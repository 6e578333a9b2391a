//! How server-side apply merges each list and map, read from the schema as
//! structured-merge-diff does: a CRD version's `x-kubernetes-list-type`,
//! `x-kubernetes-list-map-keys` and `x-kubernetes-map-type`; for built-in kinds the Go
//! `+listType` / `patchMergeKey` markers of the fields served here. Unknown lists are atomic,
//! unknown maps granular.

use crate::resource::ResourceInfo;
use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ListType {
    /// Owned and replaced as a whole.
    Atomic,
    /// Items are `v:<json>` keys, merged per item.
    Set,
    /// Items keyed `k:{"key":value,...}` by these fields, merged per item.
    Map(Vec<String>),
}

/// A position in an object's schema: the CRD schema node (when typed by one) and the field
/// names from the root, which the built-in markers are keyed by.
#[derive(Clone, Debug)]
pub(crate) struct Shape<'a> {
    crd: Option<&'a Value>,
    path: Vec<String>,
}

impl<'a> Shape<'a> {
    /// The root of `info`'s objects.
    pub(crate) fn of(info: &'a ResourceInfo) -> Self {
        Shape {
            crd: info.schema.as_deref().filter(|_| info.custom),
            path: Vec::new(),
        }
    }

    /// No schema: only the built-in metadata markers apply (how updates record ownership).
    pub(crate) fn untyped() -> Self {
        Shape {
            crd: None,
            path: Vec::new(),
        }
    }

    /// The shape of field `name` of this map, and whether it is a declared property (a
    /// key of a map typed by `additionalProperties` is not).
    pub(crate) fn field(&self, name: &str) -> (Shape<'a>, bool) {
        let mut path = self.path.clone();
        path.push(name.to_string());
        // ObjectMeta is typed by the server, never by the CRD's schema.
        if path == ["metadata"] {
            return (Shape { crd: None, path }, true);
        }
        let Some(node) = self.crd else {
            let declared = !matches!(
                self.path.as_slice(),
                [m, f] if m == "metadata" && (f == "labels" || f == "annotations")
            );
            return (Shape { crd: None, path }, declared);
        };
        if let Some(p) = node.get("properties").and_then(|p| p.get(name)) {
            return (Shape { crd: Some(p), path }, true);
        }
        let additional = node.get("additionalProperties").filter(|a| a.is_object());
        (
            Shape {
                crd: additional,
                path,
            },
            false,
        )
    }

    /// The shape of this list's items.
    pub(crate) fn item(&self) -> Shape<'a> {
        let mut path = self.path.clone();
        path.push("[]".into());
        Shape {
            crd: self.crd.and_then(|n| n.get("items")),
            path,
        }
    }

    pub(crate) fn list_type(&self) -> ListType {
        if let Some(node) = self.crd {
            return match node.get("x-kubernetes-list-type").and_then(Value::as_str) {
                Some("set") => ListType::Set,
                Some("map") => ListType::Map(
                    node.get("x-kubernetes-list-map-keys")
                        .and_then(Value::as_array)
                        .map(|keys| {
                            keys.iter()
                                .filter_map(Value::as_str)
                                .map(String::from)
                                .collect()
                        })
                        .unwrap_or_default(),
                ),
                _ => ListType::Atomic,
            };
        }
        let path: Vec<&str> = self.path.iter().map(String::as_str).collect();
        match path.as_slice() {
            // ObjectMeta: `+listType=set` finalizers, `patchMergeKey:"uid"` ownerReferences.
            ["metadata", "finalizers"] => ListType::Set,
            ["metadata", "ownerReferences"] => ListType::Map(vec!["uid".into()]),
            // Everything else served here is `+listType=atomic` or unmarked (RBAC rules and
            // subjects, Namespace spec.finalizers, ...).
            _ => ListType::Atomic,
        }
    }

    /// Whether the schema defaults this field (a map-list key may then be omitted).
    pub(crate) fn has_default(&self) -> bool {
        self.crd.is_some_and(|n| n.get("default").is_some())
    }

    /// `x-kubernetes-map-type: atomic`: the map is owned and replaced as a whole.
    pub(crate) fn map_atomic(&self) -> bool {
        self.crd
            .and_then(|n| n.get("x-kubernetes-map-type"))
            .and_then(Value::as_str)
            == Some("atomic")
    }
}

/// The FieldsV1 key of a list item: `v:<json>` in a set, `k:{"key":value,...}` (keys sorted,
/// as structured-merge-diff serializes them) in a map list.
pub(crate) fn item_token(list_type: &ListType, item: &Value) -> Option<String> {
    match list_type {
        ListType::Atomic => None,
        ListType::Set => Some(format!("v:{item}")),
        ListType::Map(keys) => {
            let mut keys: Vec<&String> = keys.iter().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .iter()
                .map(|k| {
                    let v = item.get(k.as_str()).unwrap_or(&Value::Null);
                    format!("{}:{v}", Value::String(k.to_string()))
                })
                .collect();
            Some(format!("k:{{{}}}", fields.join(",")))
        }
    }
}
