//! The core (`""`, v1) family: Namespaces, ConfigMaps, Secrets, core Events (stored and
//! ruled as events.k8s.io Events) and ServiceAccounts.

use super::config_map::ConfigMap;
use super::events::Event;
use super::namespace::Namespace;
use crate::resource::{Plain, ResourceInfo};

const CORE: (&str, &str) = ("", "v1");

pub(super) fn kinds() -> Vec<ResourceInfo> {
    vec![
        ResourceInfo::builtin(CORE, "Namespace", "namespaces", false, &Namespace)
            .short_names(&["ns"])
            .with_status(),
        ResourceInfo::builtin(CORE, "ConfigMap", "configmaps", true, &ConfigMap)
            .short_names(&["cm"]),
        // Served for the Secrets that hold credentials (a notification sink's key); stored
        // as given, like a ConfigMap: no encryption at rest in a server held in memory.
        ResourceInfo::builtin(CORE, "Secret", "secrets", true, &Secret),
        ResourceInfo::builtin(CORE, "Event", "events", true, &Event).short_names(&["ev"]),
        ResourceInfo::builtin(CORE, "ServiceAccount", "serviceaccounts", true, &Plain)
            .short_names(&["sa"]),
    ]
}

/// Secrets: their type and key count as columns, their data as OpenAPI properties.
#[derive(Debug)]
struct Secret;

impl crate::resource::Strategy for Secret {
    fn table(
        &self,
        objects: &[serde_json::Value],
        now: chrono::DateTime<chrono::Utc>,
    ) -> Option<crate::resource::Table> {
        use crate::table::{column, count_keys, str_at, with_columns};
        use serde_json::json;
        let kind = column("Type", "string", "The type of the secret");
        let data = column("Data", "string", "The number of keys in the secret");
        Some(with_columns(
            objects,
            now,
            &[
                (kind, |o, _| json!(str_at(o, "/type").unwrap_or("Opaque"))),
                (data, |o, _| {
                    json!(count_keys(o, "data") + count_keys(o, "stringData"))
                }),
            ],
        ))
    }

    fn openapi_properties(
        &self,
        _info: &ResourceInfo,
        props: &mut serde_json::Map<String, serde_json::Value>,
    ) -> String {
        use serde_json::json;
        props.insert(
            "data".into(),
            json!({"type": "object", "additionalProperties": {"type": "string", "format": "byte"}, "description": "Data contains the secret data."}),
        );
        props.insert(
            "stringData".into(),
            crate::openapi::string_map(
                "stringData allows specifying non-binary secret data in string form.",
            ),
        );
        props.insert("type".into(), json!({"type": "string", "description": "Used to facilitate programmatic handling of secret data."}));
        props.insert("immutable".into(), json!({"type": "boolean", "description": "Immutable, if set to true, ensures that data stored in the Secret cannot be updated."}));
        "Secret holds secret data of a certain type.".into()
    }
}
