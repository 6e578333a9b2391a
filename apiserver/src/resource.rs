//! What the server knows about one kind of resource it serves: names, scope, verbs,
//! printer columns and (for custom resources) the schema. Built-in kinds and every
//! served CRD version become one `ResourceInfo`; discovery, OpenAPI, Table responses,
//! routing and admission all read from it.

use std::sync::Arc;

use serde_json::Value;

/// One printer column, as in a CRD's `additionalPrinterColumns`.
#[derive(Clone, Debug, PartialEq)]
pub struct PrinterColumn {
    pub name: String,
    /// `string`, `integer`, `number`, `boolean` or `date`.
    pub type_: String,
    pub format: Option<String>,
    pub description: Option<String>,
    pub priority: i32,
    /// kubectl-style JSONPath, e.g. `.status.phase`.
    pub json_path: String,
}

/// A resource (kind + version) the server serves.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceInfo {
    /// API group; empty string for the core group.
    pub group: String,
    pub version: String,
    pub kind: String,
    pub list_kind: String,
    /// Lower-case plural used in URLs, e.g. `services`.
    pub plural: String,
    pub singular: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub verbs: Vec<String>,
    /// Whether a `/status` subresource is served.
    pub status_subresource: bool,
    /// Printer columns beyond NAME (AGE is appended as the real server does when none is given).
    pub printer_columns: Vec<PrinterColumn>,
    /// The `openAPIV3Schema` of a custom resource version; `None` for built-in kinds. Shared:
    /// every request resolves its kind's `ResourceInfo`, and a deep copy per request cost
    /// more than the write itself.
    pub schema: Option<Arc<Value>>,
    /// True for kinds defined by a CustomResourceDefinition.
    pub custom: bool,
}

impl ResourceInfo {
    /// A namespaced kind for unit tests: `example.com/v1` when `custom`, else a built-in
    /// group (`coordination.k8s.io/v1`); plural `<kind>s`.
    #[cfg(test)]
    pub(crate) fn for_tests(kind: &str, custom: bool, status_subresource: bool) -> Self {
        ResourceInfo {
            group: if custom {
                "example.com"
            } else {
                "coordination.k8s.io"
            }
            .into(),
            version: "v1".into(),
            kind: kind.into(),
            list_kind: format!("{kind}List"),
            plural: format!("{}s", kind.to_lowercase()),
            singular: kind.to_lowercase(),
            namespaced: true,
            short_names: vec![],
            categories: vec![],
            verbs: vec![],
            status_subresource,
            printer_columns: vec![],
            schema: None,
            custom,
        }
    }

    /// `group/version`, or just `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `plural.group` (or just `plural` for the core group), as used in error messages.
    pub fn qualified_name(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}
