//! A stored object as the store keeps it: its JSON, written once when committed, plus the
//! few fields every reader asks before anything else (namespace, name, apiVersion, kind).
//!
//! A `serde_json::Value` costs about ten times its JSON: every JSON object is a B-tree whose
//! first node alone takes 640 bytes, and managedFields are objects nested in objects. Kept as
//! `Value`s, a converged Service with its approval and Event took ~80 KB of the server's
//! heap; kept as JSON, a few KB. Readers that need the tree parse it (an update reads the
//! object it replaces, a selector or a conversion reads the served shape); readers that serve
//! it as stored (a watch event, a list item, a get) splice the bytes without parsing.

use serde_json::Value;

#[derive(Debug)]
pub struct Frozen {
    /// The object as `serde_json` writes its `Value`: keys sorted, no whitespace.
    json: Box<str>,
    namespace: Box<str>,
    name: Box<str>,
    api_version: Box<str>,
    kind: Box<str>,
}

impl Frozen {
    pub fn new(value: &Value) -> Frozen {
        let meta = |field: &str| -> Box<str> {
            value
                .get("metadata")
                .and_then(|m| m.get(field))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .into()
        };
        let top = |field: &str| -> Box<str> {
            value
                .get(field)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .into()
        };
        Frozen {
            // Writing a Value to a String cannot fail: its keys are strings.
            json: serde_json::to_string(value).unwrap_or_default().into(),
            namespace: meta("namespace"),
            name: meta("name"),
            api_version: top("apiVersion"),
            kind: top("kind"),
        }
    }

    /// The object as a tree, for a reader that changes or inspects it.
    pub fn value(&self) -> Value {
        // The bytes were written from a Value, so they read back as one.
        serde_json::from_str(&self.json).unwrap_or(Value::Null)
    }

    /// Just the object's `metadata.labels`, read without building the rest of it (a label
    /// selector needs no more), as `{"metadata": {"labels": …}}`.
    pub fn labels_only(&self) -> Value {
        #[derive(serde::Deserialize)]
        struct Labelled {
            #[serde(default)]
            metadata: Meta,
        }
        #[derive(serde::Deserialize, Default)]
        struct Meta {
            #[serde(default)]
            labels: Value,
        }
        let labels = serde_json::from_str::<Labelled>(&self.json)
            .map(|l| l.metadata.labels)
            .unwrap_or_default();
        serde_json::json!({"metadata": {"labels": labels}})
    }

    /// The object's JSON, to serve as it is.
    pub fn json(&self) -> &str {
        &self.json
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// Roughly what it takes in memory, allocations included: what the history's bound counts.
    pub fn weight(&self) -> usize {
        std::mem::size_of::<Frozen>()
            + self.json.len()
            + self.namespace.len()
            + self.name.len()
            + self.api_version.len()
            + self.kind.len()
            + 5 * 16
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_object_reads_back_as_the_value_it_was_frozen_from() {
        let obj = json!({
            "kind": "ConfigMap", "apiVersion": "v1",
            "metadata": {"name": "cm", "namespace": "ns", "labels": {"b": "2", "a": "1"}},
            "data": {"k": "v", "n": "1"},
        });
        let frozen = Frozen::new(&obj);
        assert_eq!(frozen.value(), obj);
        assert_eq!(
            frozen.json(),
            serde_json::to_string(&obj).unwrap_or_default()
        );
        assert_eq!(
            (
                frozen.namespace(),
                frozen.name(),
                frozen.api_version(),
                frozen.kind()
            ),
            ("ns", "cm", "v1", "ConfigMap")
        );
    }

    #[test]
    fn its_labels_are_read_alone() {
        let obj = json!({
            "metadata": {"name": "cm", "labels": {"a": "1"}, "annotations": {"x": "y"}},
            "data": {"big": "x".repeat(1000)},
        });
        assert_eq!(
            Frozen::new(&obj).labels_only(),
            json!({"metadata": {"labels": {"a": "1"}}})
        );
        assert_eq!(
            Frozen::new(&json!({"metadata": {"name": "n"}})).labels_only(),
            json!({"metadata": {"labels": null}})
        );
    }

    #[test]
    fn a_cluster_scoped_object_has_an_empty_namespace() {
        let frozen = Frozen::new(&json!({"metadata": {"name": "n"}}));
        assert_eq!((frozen.namespace(), frozen.name()), ("", "n"));
    }
}
