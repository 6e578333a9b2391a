//! Namespaces (k8s namespace strategy and REST): created Active with the `kubernetes`
//! finalizer in `spec.finalizers`, which only the finalize step changes; the first DELETE
//! marks the namespace Terminating and the namespace controller empties it.

use super::field_errors::unmarshal_error;
use crate::error::ApiError;
use crate::object_meta::{NameRule, now_rfc3339};
use crate::resource::{ResourceInfo, Strategy, Table, open_object};
use crate::store::{Bucket, Outcome, Store};
use crate::table;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

/// The finalizer the namespace controller removes once the namespace is empty.
pub const FINALIZER: &str = "kubernetes";

/// The label every namespace carries with its own name.
const NAME_LABEL: &str = "kubernetes.io/metadata.name";

#[derive(Debug)]
pub(super) struct Namespace;

impl Strategy for Namespace {
    /// SetDefaults_Namespace, at decoding: the `kubernetes.io/metadata.name` label is the
    /// name (so the field manager records it as the request's).
    fn decode_served(&self, _info: &ResourceInfo, mut obj: Value) -> Result<Value, ApiError> {
        let name = crate::store::meta_str(&obj, "name")
            .unwrap_or_default()
            .to_string();
        if !name.is_empty() && obj.get("metadata").is_some_and(Value::is_object) {
            if !obj["metadata"].get("labels").is_some_and(Value::is_object) {
                obj["metadata"]["labels"] = json!({});
            }
            obj["metadata"]["labels"][NAME_LABEL] = json!(name);
        }
        Ok(obj)
    }

    fn type_error(&self, obj: &Value) -> Option<String> {
        match obj.pointer("/spec/finalizers") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => items
                .iter()
                .find(|i| !(i.is_string() || i.is_null()))
                .map(|i| {
                    unmarshal_error(i, "NamespaceSpec", "spec.finalizers", "v1.FinalizerName")
                }),
            Some(other) => Some(unmarshal_error(
                other,
                "NamespaceSpec",
                "spec.finalizers",
                "[]v1.FinalizerName",
            )),
        }
    }

    fn prepare_for_create(&self, _info: &ResourceInfo, obj: &mut Value) {
        obj["status"] = json!({"phase": "Active"});
        if !obj.get("spec").is_some_and(Value::is_object) {
            obj["spec"] = json!({});
        }
        obj["spec"]["finalizers"] = json!([FINALIZER]);
    }

    fn prepare_for_update(&self, _info: &ResourceInfo, old: &Value, new: &mut Value) {
        let kept = old
            .pointer("/spec/finalizers")
            .cloned()
            .unwrap_or(Value::Null);
        if !new.get("spec").is_some_and(Value::is_object) {
            new["spec"] = json!({});
        }
        match kept {
            Value::Null => {
                if let Some(s) = new["spec"].as_object_mut() {
                    s.remove("finalizers");
                }
            }
            f => new["spec"]["finalizers"] = f,
        }
    }

    fn before_delete(&self, cur: &Value) -> Option<Outcome> {
        if cur.pointer("/metadata/deletionTimestamp").is_none() {
            let mut next = cur.clone();
            next["metadata"]["deletionTimestamp"] = json!(now_rfc3339());
            next["status"]["phase"] = json!("Terminating");
            return Some(Outcome::Write(next));
        }
        // Deleted only once its spec finalizers are gone.
        (!spec_finalizers(cur).is_empty()).then(|| Outcome::Unchanged(cur.clone()))
    }

    /// `finalize`: only `spec.finalizers` changes, and the namespace controller's
    /// conditions in `status` (its one write per pass, as the deleter's).
    fn update_subresource(&self, subresource: &str, old: &Value, new: &Value) -> Option<Value> {
        if subresource != "finalize" {
            return None;
        }
        let mut out = old.clone();
        if !out.get("spec").is_some_and(Value::is_object) {
            out["spec"] = json!({});
        }
        match (new.pointer("/spec/finalizers"), out["spec"].as_object_mut()) {
            (Some(f), Some(spec)) => spec.insert("finalizers".into(), f.clone()),
            (None, Some(spec)) => spec.remove("finalizers"),
            _ => None,
        };
        out["status"] = new.get("status").cloned().unwrap_or_else(|| json!({}));
        Some(out)
    }

    /// A deleting namespace goes once its spec finalizers are gone too.
    fn finalized(&self, obj: &Value) -> bool {
        spec_finalizers(obj).is_empty()
    }

    fn name_rule(&self) -> NameRule {
        NameRule::Dns1123Label
    }

    fn field_label_supported(&self, label: &str, _selectable: &[String]) -> bool {
        matches!(label, "metadata.name" | "name" | "status.phase")
    }

    fn table(&self, objects: &[Value], now: DateTime<Utc>) -> Option<Table> {
        let status = table::column("Status", "string", "The status of the namespace");
        Some(table::with_columns(
            objects,
            now,
            &[(status, |o, _| {
                let deleting = o
                    .pointer("/metadata/deletionTimestamp")
                    .is_some_and(Value::is_string);
                let fallback = if deleting { "Terminating" } else { "Active" };
                json!(table::str_at(o, "/status/phase").unwrap_or(fallback))
            })],
        ))
    }

    fn openapi_properties(&self, _info: &ResourceInfo, props: &mut Map<String, Value>) -> String {
        props.insert(
            "spec".into(),
            open_object("Spec defines the behavior of the Namespace."),
        );
        props.insert(
            "status".into(),
            open_object("Status describes the current status of a Namespace."),
        );
        "Namespace provides a scope for Names. Use of multiple namespaces is optional.".into()
    }
}

pub fn spec_finalizers(ns: &Value) -> Vec<String> {
    crate::store::str_list(ns.pointer("/spec/finalizers"))
}

/// Where namespaces are stored.
pub fn bucket() -> Bucket {
    (String::new(), "namespaces".into())
}

/// The stored namespace `name`, if any.
pub fn get(store: &Store, name: &str) -> Option<Value> {
    store.get(&bucket(), "", name)
}

/// Whether a namespace object is being terminated.
pub fn is_terminating(ns: &Value) -> bool {
    ns.pointer("/status/phase").and_then(Value::as_str) == Some("Terminating")
        || ns.pointer("/metadata/deletionTimestamp").is_some()
}
