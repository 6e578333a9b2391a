//! The kinds served: the built-in ones, and every served version of each installed
//! CustomResourceDefinition (with its schema compiled once for admission).

use crate::admission::CompiledSchema;
use crate::error::{ApiError, Cause};
use crate::resource::{PrinterColumn, ResourceInfo};
use crate::store::str_list;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Every verb of a fully served kind.
pub(crate) const VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

pub(crate) fn verbs_all() -> Vec<String> {
    VERBS.iter().map(|s| s.to_string()).collect()
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn builtin(
    group: &str,
    version: &str,
    kind: &str,
    plural: &str,
    namespaced: bool,
    short: &[&str],
    status: bool,
    verbs: Vec<String>,
) -> ResourceInfo {
    ResourceInfo {
        group: group.into(),
        version: version.into(),
        kind: kind.into(),
        list_kind: format!("{kind}List"),
        plural: plural.into(),
        singular: kind.to_lowercase(),
        namespaced,
        short_names: short.iter().map(|s| s.to_string()).collect(),
        categories: Vec::new(),
        verbs,
        status_subresource: status,
        printer_columns: Vec::new(),
        schema: None,
        custom: false,
    }
}

/// The built-in kinds this server serves.
pub fn builtins() -> Vec<ResourceInfo> {
    let mut crd = builtin(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
        &["crd", "crds"],
        true,
        verbs_all(),
    );
    crd.categories = vec!["api-extensions".into()];
    vec![
        builtin(
            "",
            "v1",
            "Namespace",
            "namespaces",
            false,
            &["ns"],
            true,
            verbs_all(),
        ),
        builtin(
            "",
            "v1",
            "ConfigMap",
            "configmaps",
            true,
            &["cm"],
            false,
            verbs_all(),
        ),
        // Served for the Secrets that hold credentials (a notification sink's key); stored
        // as given, like a ConfigMap: no encryption at rest in a server held in memory.
        builtin("", "v1", "Secret", "secrets", true, &[], false, verbs_all()),
        builtin(
            "",
            "v1",
            "Event",
            "events",
            true,
            &["ev"],
            false,
            verbs_all(),
        ),
        builtin(
            "events.k8s.io",
            "v1",
            "Event",
            "events",
            true,
            &["ev"],
            false,
            verbs_all(),
        ),
        builtin(
            "coordination.k8s.io",
            "v1",
            "Lease",
            "leases",
            true,
            &[],
            false,
            verbs_all(),
        ),
        crd,
        builtin(
            "authentication.k8s.io",
            "v1",
            "SelfSubjectReview",
            "selfsubjectreviews",
            false,
            &[],
            false,
            vec!["create".into()],
        ),
        builtin(
            "authentication.k8s.io",
            "v1",
            "TokenReview",
            "tokenreviews",
            false,
            &[],
            false,
            vec!["create".into()],
        ),
    ]
}

/// A kind as served, with its compiled schema when it is a custom resource.
#[derive(Clone)]
pub struct Served {
    pub info: ResourceInfo,
    pub schema: Option<Arc<CompiledSchema>>,
    /// A CRD version's `selectableFields`, as field labels (`spec.color`).
    pub selectable_fields: Vec<String>,
}

#[derive(Clone, Default)]
pub struct Registry {
    inner: Arc<RwLock<Inner>>,
}

#[derive(Default)]
struct Inner {
    builtins: Vec<ResourceInfo>,
    /// CRD name → its served versions.
    custom: HashMap<String, Vec<Served>>,
}

impl Registry {
    pub fn new() -> Self {
        let r = Registry::default();
        r.inner.write().unwrap_or_else(|e| e.into_inner()).builtins = builtins()
            .into_iter()
            .chain(crate::authz::kinds())
            .chain(crate::policy::resources())
            .collect();
        r
    }

    /// Every served resource, built-ins first (for discovery and openapi).
    pub fn all(&self) -> Vec<ResourceInfo> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let mut v = inner.builtins.clone();
        let mut names: Vec<&String> = inner.custom.keys().collect();
        names.sort();
        for n in names {
            v.extend(inner.custom[n].iter().map(|s| s.info.clone()));
        }
        v
    }

    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<Served> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = inner
            .builtins
            .iter()
            .find(|i| i.group == group && i.version == version && i.plural == plural)
        {
            return Some(Served {
                info: i.clone(),
                schema: None,
                selectable_fields: Vec::new(),
            });
        }
        inner
            .custom
            .values()
            .flatten()
            .find(|s| s.info.group == group && s.info.version == version && s.info.plural == plural)
            .cloned()
    }

    /// The served resource of a kind (as a policy's `paramKind` names it).
    pub fn find_kind(&self, group: &str, version: &str, kind: &str) -> Option<ResourceInfo> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let matches = |i: &ResourceInfo| i.group == group && i.version == version && i.kind == kind;
        inner
            .builtins
            .iter()
            .find(|i| matches(i))
            .cloned()
            .or_else(|| {
                let mut names: Vec<&String> = inner.custom.keys().collect();
                names.sort();
                names
                    .into_iter()
                    .flat_map(|n| inner.custom[n].iter())
                    .map(|s| &s.info)
                    .find(|i| matches(i))
                    .cloned()
            })
    }

    pub fn register(&self, crd_name: &str, served: Vec<Served>) {
        self.inner
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .custom
            .insert(crd_name.to_string(), served);
    }

    pub fn unregister(&self, crd_name: &str) -> Option<Vec<Served>> {
        self.inner
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .custom
            .remove(crd_name)
    }
}

fn invalid_crd(name: &str, field: &str, message: &str) -> ApiError {
    ApiError::invalid(
        "CustomResourceDefinition",
        "apiextensions.k8s.io",
        "customresourcedefinitions",
        name,
        vec![Cause {
            reason: "FieldValueInvalid".into(),
            message: message.into(),
            field: field.into(),
        }],
    )
}

/// The served versions of a CRD as ResourceInfos, schemas compiled; 422 when unusable.
pub fn crd_to_served(crd: &Value) -> Result<Vec<Served>, ApiError> {
    let name = crd
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let spec = crd
        .get("spec")
        .ok_or_else(|| invalid_crd(name, "spec", "Required value"))?;
    let group = spec
        .get("group")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let names = spec.get("names").cloned().unwrap_or(Value::Null);
    let plural = names
        .get("plural")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let kind = names
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if group.is_empty() {
        return Err(invalid_crd(name, "spec.group", "Required value"));
    }
    if plural.is_empty() || kind.is_empty() {
        return Err(invalid_crd(
            name,
            "spec.names",
            "plural and kind are required",
        ));
    }
    if name != format!("{plural}.{group}") {
        return Err(invalid_crd(
            name,
            "metadata.name",
            "must be spec.names.plural+\".\"+spec.group",
        ));
    }
    let namespaced = spec.get("scope").and_then(Value::as_str) != Some("Cluster");
    let mut out = Vec::new();
    let versions = spec
        .get("versions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if versions.is_empty() {
        return Err(invalid_crd(name, "spec.versions", "Required value"));
    }
    for (i, v) in versions.iter().enumerate() {
        if v.get("served").and_then(Value::as_bool) == Some(false) {
            continue;
        }
        let version = v.get("name").and_then(Value::as_str).unwrap_or_default();
        let schema_v = v.pointer("/schema/openAPIV3Schema").cloned();
        let compiled = match &schema_v {
            Some(s) => Some(Arc::new(CompiledSchema::new(s).map_err(|m| {
                invalid_crd(
                    name,
                    &format!("spec.versions[{i}].schema.openAPIV3Schema"),
                    &m,
                )
            })?)),
            None => None,
        };
        let printer_columns = v
            .get("additionalPrinterColumns")
            .and_then(Value::as_array)
            .map(|cols| {
                cols.iter()
                    .map(|c| PrinterColumn {
                        name: c
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .into(),
                        type_: c
                            .get("type")
                            .and_then(Value::as_str)
                            .unwrap_or("string")
                            .into(),
                        format: c.get("format").and_then(Value::as_str).map(String::from),
                        description: c
                            .get("description")
                            .and_then(Value::as_str)
                            .map(String::from),
                        priority: c.get("priority").and_then(Value::as_i64).unwrap_or(0) as i32,
                        json_path: c
                            .get("jsonPath")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .into(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let info = ResourceInfo {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            list_kind: names
                .get("listKind")
                .and_then(Value::as_str)
                .map(String::from)
                .unwrap_or_else(|| format!("{kind}List")),
            plural: plural.into(),
            singular: names
                .get("singular")
                .and_then(Value::as_str)
                .map(String::from)
                .unwrap_or_else(|| kind.to_lowercase()),
            namespaced,
            short_names: str_list(names.get("shortNames")),
            categories: str_list(names.get("categories")),
            // In the order apiextensions-apiserver's discovery controller lists them.
            verbs: [
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "create",
                "update",
                "watch",
            ]
            .map(String::from)
            .to_vec(),
            status_subresource: v.pointer("/subresources/status").is_some(),
            printer_columns,
            schema: schema_v.map(Arc::new),
            custom: true,
        };
        let selectable_fields = v
            .get("selectableFields")
            .and_then(Value::as_array)
            .map(|fs| {
                fs.iter()
                    .filter_map(|f| f.get("jsonPath").and_then(Value::as_str))
                    .map(|p| p.trim_start_matches('.').to_string())
                    .collect()
            })
            .unwrap_or_default();
        out.push(Served {
            info,
            schema: compiled,
            selectable_fields,
        });
    }
    Ok(out)
}
