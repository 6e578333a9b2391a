//! `charter revision -f FILE`: the revision of every Service in a manifest, computed offline
//! exactly as the operator computes it, so that an approval can be written in a pull request.

use std::path::Path;

use serde_json::Value;

use crate::api::{ServiceSpec, revision_of};
use crate::manifests::{self, ManifestError};

#[derive(Debug, thiserror::Error)]
pub enum RevisionError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error("Service {name}: spec is not a valid Service spec: {message}")]
    InvalidSpec { name: String, message: String },
    #[error(
        "{path}: no Service (apiVersion catalog.charter.dev/v1alpha1, kind Service) in it, so no revision to print"
    )]
    NoService { path: String },
}

/// One Service found in a manifest: `namespace/name` (or `name` when the manifest leaves the
/// namespace to the context) and its revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub service: String,
    pub revision: String,
}

/// The revision of every `catalog.charter.dev` Service in `path` (a file or a directory); a
/// path without any is an error, so a typo in a pipeline does not pass silently.
pub fn of_path(path: &Path) -> Result<Vec<Found>, RevisionError> {
    let found = of_objects(&manifests::load(path)?)?;
    if found.is_empty() {
        return Err(RevisionError::NoService {
            path: path.display().to_string(),
        });
    }
    Ok(found)
}

/// The revision of every `catalog.charter.dev` Service among `objects`, in manifest order.
pub fn of_objects(objects: &[Value]) -> Result<Vec<Found>, RevisionError> {
    objects
        .iter()
        .filter(|o| is_charter_service(o))
        .map(|o| {
            let meta = &o["metadata"];
            let name = meta["name"].as_str().unwrap_or_default();
            let service = match meta["namespace"].as_str() {
                Some(ns) => format!("{ns}/{name}"),
                None => name.to_owned(),
            };
            let spec: ServiceSpec = serde_json::from_value(o["spec"].clone()).map_err(|e| {
                RevisionError::InvalidSpec {
                    name: service.clone(),
                    message: e.to_string(),
                }
            })?;
            Ok(Found {
                service,
                revision: revision_of(&spec.content),
            })
        })
        .collect()
}

fn is_charter_service(o: &Value) -> bool {
    o["kind"] == "Service"
        && o["apiVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("catalog.charter.dev/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn service(namespace: Option<&str>, description: &str) -> Value {
        let mut o = json!({
            "apiVersion": "catalog.charter.dev/v1alpha1",
            "kind": "Service",
            "metadata": {"name": "ledger"},
            "spec": {"owner": "dana", "description": description,
                     "lifecycle": {"desiredPhase": "Active"}},
        });
        if let Some(ns) = namespace {
            o["metadata"]["namespace"] = json!(ns);
        }
        o
    }

    #[test]
    fn the_revision_of_a_manifest_is_the_one_the_operator_computes_and_ignores_the_lifecycle() {
        let mut planning = service(Some("finance"), "the general ledger");
        planning["spec"]["lifecycle"]["desiredPhase"] = json!("Planning");
        let core_service =
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ledger"}});
        let found = of_objects(&[
            service(Some("finance"), "the general ledger"),
            core_service,
            planning,
            service(None, "the general ledger, v2"),
        ])
        .unwrap();
        let spec: ServiceSpec =
            serde_json::from_value(service(None, "the general ledger")["spec"].clone()).unwrap();
        let expected = revision_of(&spec.content);
        let services: Vec<&str> = found.iter().map(|f| f.service.as_str()).collect();
        assert_eq!(services, ["finance/ledger", "finance/ledger", "ledger"]);
        assert_eq!(found[0].revision, expected);
        assert_eq!(
            found[1].revision, expected,
            "the lifecycle is not approved content"
        );
        assert_ne!(found[2].revision, expected, "the content is");
    }

    #[test]
    fn a_file_without_a_service_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("core.yaml");
        std::fs::write(
            &path,
            "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n",
        )
        .unwrap();
        let err = of_path(&path).unwrap_err().to_string();
        assert!(err.contains("core.yaml: no Service"), "{err}");
        std::fs::write(&path, serde_json::to_string(&service(None, "x")).unwrap()).unwrap();
        assert_eq!(of_path(&path).unwrap().len(), 1);
    }

    #[test]
    fn a_service_whose_spec_is_not_a_service_spec_is_an_error_naming_it() {
        let mut broken = service(Some("finance"), "x");
        broken["spec"]["owner"] = json!(["not", "a", "name"]);
        let err = of_objects(&[broken]).unwrap_err();
        assert!(err.to_string().contains("finance/ledger"), "{err}");
    }
}
