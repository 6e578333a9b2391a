//! The apiextensions.k8s.io family: CustomResourceDefinitions (validated, their status set
//! by the server, their served versions registered once committed) and the custom
//! resources they define (apiextensions' custom-resource strategy).

use crate::apiextensions::CompiledSchema;
use crate::error::{ApiError, Cause};
use crate::object_meta::now_rfc3339;
use crate::registry::Served;
use crate::resource::{PrinterColumn, ResourceInfo, Strategy, Table};
use crate::shared::Shared;
use crate::store::str_list;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::sync::Arc;

const GROUP: &str = "apiextensions.k8s.io";

pub(super) fn kinds() -> Vec<ResourceInfo> {
    vec![
        ResourceInfo::builtin(
            (GROUP, "v1"),
            "CustomResourceDefinition",
            "customresourcedefinitions",
            false,
            &Crd,
        )
        .short_names(&["crd", "crds"])
        .categories(&["api-extensions"])
        .with_status(),
    ]
}

/// CustomResourceDefinitions (apiextensions' CRD strategy): generation tracked, updates
/// conditional, status (NamesAccepted, Established, storedVersions) set by the server.
#[derive(Debug)]
struct Crd;

impl Strategy for Crd {
    fn tracks_generation(&self) -> bool {
        true
    }

    fn allow_unconditional_update(&self) -> bool {
        false
    }

    fn canonicalize(
        &self,
        subresource: Option<&str>,
        obj: &mut Value,
        old: Option<&Value>,
    ) -> Result<(), ApiError> {
        if subresource.is_none() {
            prepare_crd(obj, old)?;
        }
        Ok(())
    }

    /// The real server's default table convertor: NAME and CREATED AT (RFC 3339).
    fn table(&self, objects: &[Value], _now: DateTime<Utc>) -> Option<Table> {
        let defs = vec![
            crate::table::name_column(),
            crate::table::created_at_column(),
        ];
        let rows = objects
            .iter()
            .map(|o| {
                let created = o
                    .pointer("/metadata/creationTimestamp")
                    .and_then(Value::as_str)
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| {
                        json!(
                            t.with_timezone(&Utc)
                                .format("%Y-%m-%dT%H:%M:%SZ")
                                .to_string()
                        )
                    })
                    .unwrap_or(Value::Null);
                vec![crate::table::name_cell(o), created]
            })
            .collect();
        Some((defs, rows))
    }
}

/// Custom resources: generation tracked, updates conditional, status reset on create when
/// the status subresource is enabled (and otherwise counted by the generation).
#[derive(Debug)]
struct CustomResource;

impl Strategy for CustomResource {
    fn tracks_generation(&self) -> bool {
        true
    }

    // apiextensions' PrepareForUpdate compares everything but metadata, and but status
    // only when the status subresource is enabled.
    fn status_counts_for_generation(&self, info: &ResourceInfo) -> bool {
        !info.status_subresource
    }

    fn allow_unconditional_update(&self) -> bool {
        false
    }

    fn prepare_for_create(&self, info: &ResourceInfo, obj: &mut Value) {
        if info.status_subresource
            && let Some(o) = obj.as_object_mut()
        {
            o.remove("status");
        }
    }
}

/// The observer of committed writes: a CRD written or deleted (un)registers the versions
/// it serves (a deleted CRD's objects go with it).
pub(crate) fn committed(shared: &Shared, info: &ResourceInfo, crd: &Value, deleted: bool) {
    if info.custom || info.group != GROUP {
        return;
    }
    let name = crate::store::meta_str(crd, "name").unwrap_or_default();
    if deleted {
        if let Some(versions) = shared.registry.unregister(name)
            && let Some(v) = versions.first()
        {
            shared.store.drop_bucket(&v.info.bucket());
        }
    } else if let Ok(served) = crd_to_served(crd) {
        shared.registry.register(name, served);
    }
}

fn invalid_crd(name: &str, causes: Vec<Cause>) -> ApiError {
    ApiError::invalid(
        "CustomResourceDefinition",
        GROUP,
        "customresourcedefinitions",
        name,
        causes,
    )
}

fn invalid_field(name: &str, field: &str, message: &str) -> ApiError {
    invalid_crd(
        name,
        vec![Cause {
            reason: "FieldValueInvalid".into(),
            message: message.into(),
            field: field.into(),
        }],
    )
}

/// A CRD's served versions, and its status (Established, NamesAccepted) set on `crd`.
fn prepare_crd(crd: &mut Value, old: Option<&Value>) -> Result<Vec<Served>, ApiError> {
    let causes = crate::apiextensions::crd_validation::validate(crd);
    if !causes.is_empty() {
        let name = crate::store::meta_str(crd, "name").unwrap_or_default();
        return Err(invalid_crd(name, causes));
    }
    let served = crd_to_served(crd)?;
    let now = now_rfc3339();
    let prior = |t: &str| {
        old.and_then(|o| o.pointer("/status/conditions"))
            .and_then(Value::as_array)
            .and_then(|cs| {
                cs.iter()
                    .find(|c| c.get("type").and_then(Value::as_str) == Some(t))
            })
            .and_then(|c| c.get("lastTransitionTime"))
            .cloned()
            .unwrap_or_else(|| json!(now))
    };
    let stored: Vec<Value> = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .map(|vs| {
            vs.iter()
                .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
                .filter_map(|v| v.get("name").cloned())
                .collect()
        })
        .unwrap_or_default();
    crd["status"] = json!({
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": prior("NamesAccepted")},
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": prior("Established")},
        ],
        "acceptedNames": crd.pointer("/spec/names").cloned().unwrap_or(json!({})),
        "storedVersions": stored,
    });
    Ok(served)
}

fn printer_column(c: &Value) -> PrinterColumn {
    let text = |k: &str| c.get(k).and_then(Value::as_str);
    PrinterColumn {
        name: text("name").unwrap_or_default().into(),
        type_: text("type").unwrap_or("string").into(),
        format: text("format").map(String::from),
        description: text("description").map(String::from),
        priority: c.get("priority").and_then(Value::as_i64).unwrap_or(0) as i32,
        json_path: text("jsonPath").unwrap_or_default().into(),
    }
}

/// The served versions of a CRD as ResourceInfos, schemas compiled; 422 when unusable.
fn crd_to_served(crd: &Value) -> Result<Vec<Served>, ApiError> {
    let name = crd
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let spec = crd
        .get("spec")
        .ok_or_else(|| invalid_field(name, "spec", "Required value"))?;
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(String::from);
    let group = text(spec, "group").unwrap_or_default();
    let names = spec.get("names").cloned().unwrap_or(Value::Null);
    let plural = text(&names, "plural").unwrap_or_default();
    let kind = text(&names, "kind").unwrap_or_default();
    if group.is_empty() {
        return Err(invalid_field(name, "spec.group", "Required value"));
    }
    if plural.is_empty() || kind.is_empty() {
        return Err(invalid_field(
            name,
            "spec.names",
            "plural and kind are required",
        ));
    }
    if name != format!("{plural}.{group}") {
        return Err(invalid_field(
            name,
            "metadata.name",
            "must be spec.names.plural+\".\"+spec.group",
        ));
    }
    let namespaced = spec.get("scope").and_then(Value::as_str) != Some("Cluster");
    let versions = spec
        .get("versions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if versions.is_empty() {
        return Err(invalid_field(name, "spec.versions", "Required value"));
    }
    let mut out = Vec::new();
    for (i, v) in versions.iter().enumerate() {
        if v.get("served").and_then(Value::as_bool) == Some(false) {
            continue;
        }
        let schema_v = v.pointer("/schema/openAPIV3Schema").cloned();
        let compiled = match &schema_v {
            Some(s) => Some(Arc::new(CompiledSchema::new(s).map_err(|m| {
                invalid_field(
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
            .map(|cols| cols.iter().map(printer_column).collect())
            .unwrap_or_default();
        let info = ResourceInfo {
            group: group.clone(),
            version: text(v, "name").unwrap_or_default(),
            kind: kind.clone(),
            list_kind: text(&names, "listKind").unwrap_or_else(|| format!("{kind}List")),
            plural: plural.clone(),
            singular: text(&names, "singular").unwrap_or_else(|| kind.to_lowercase()),
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
            strategy: &CustomResource,
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
