//! CustomResourceDefinitions (apiextensions' CRD strategy): validated, their status
//! (NamesAccepted, Established, storedVersions) set by the server, generation tracked,
//! updates conditional; a committed write (un)registers the versions it serves.

use super::{Strategy, now_rfc3339};
use crate::error::ApiError;
use crate::registry::{self, Served};
use crate::request::Target;
use crate::shared::Shared;
use serde_json::{Value, json};

pub struct Crd;

impl Strategy for Crd {
    fn tracks_generation(&self) -> bool {
        true
    }

    fn allow_unconditional_update(&self) -> bool {
        false
    }

    fn canonicalize(
        &self,
        target: &Target,
        obj: &mut Value,
        old: Option<&Value>,
    ) -> Result<(), ApiError> {
        if target.subresource.is_none() {
            prepare_crd(obj, old)?;
        }
        Ok(())
    }

    fn after_commit(&self, shared: &Shared, _target: &Target, obj: &Value, deleted: bool) {
        let name = crate::store::meta_str(obj, "name").unwrap_or_default();
        if deleted {
            if let Some(versions) = shared.registry.unregister(name)
                && let Some(v) = versions.first()
            {
                shared
                    .store
                    .drop_bucket(&(v.info.group.clone(), v.info.plural.clone()));
            }
        } else if let Ok(served) = registry::crd_to_served(obj) {
            shared.registry.register(name, served);
        }
    }
}

/// A CRD's served versions, and its status (Established, NamesAccepted) set on `crd`.
pub fn prepare_crd(crd: &mut Value, old: Option<&Value>) -> Result<Vec<Served>, ApiError> {
    let causes = crate::crd_validation::validate(crd);
    if !causes.is_empty() {
        let name = crate::store::meta_str(crd, "name").unwrap_or_default();
        return Err(ApiError::invalid(
            "CustomResourceDefinition",
            "apiextensions.k8s.io",
            "customresourcedefinitions",
            name,
            causes,
        ));
    }
    let served = registry::crd_to_served(crd)?;
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
