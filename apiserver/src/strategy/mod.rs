//! Per-kind write rules, as kube-apiserver's registry strategies (`RESTCreateStrategy`,
//! `RESTUpdateStrategy`, `RESTDeleteStrategy`): one `Strategy` per kind family, chosen by
//! the resolved `Target`, which the generic store (`crate::generic_store`) drives.

mod config_map;
mod crd;
mod custom_resource;
mod event;
mod lease;
mod managed_fields;
pub mod namespace;
mod policy;
mod preconditions;
mod prepare;
mod rbac;
mod schema_admission;
mod served_shape;
mod update_outcome;

use crate::error::{ApiError, Cause};
use crate::request::Target;
use crate::shared::Shared;
use serde_json::Value;

pub use crate::builtin_kinds::field_label_supported;
pub use crd::prepare_crd;
pub use managed_fields::record_update;
pub use preconditions::{
    check_delete_preconditions, check_resource_version, check_uid, conflict, not_found_for,
    refuse_resource_version_on_create, require_resource_version,
};
pub use prepare::{invalid_unless_empty, prepare_create, prepare_update, validate};
pub use schema_admission::{admit, decode as decode_body};
pub use served_shape::{from_served, to_served};
pub use update_outcome::{finalizers, finish_update, finish_update_counting, generation};

pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A kind family's rules. The defaults are those of a plain built-in kind: no generation,
/// unconditional updates allowed, no validation beyond ObjectMeta, no hooks.
pub trait Strategy: Sync {
    /// Whether create sets `metadata.generation` and updates bump it.
    fn tracks_generation(&self) -> bool {
        false
    }

    /// Whether a status change bumps the generation (it lives outside a status
    /// subresource, so it is part of what the generation counts).
    fn status_counts_for_generation(&self, _target: &Target) -> bool {
        false
    }

    /// `AllowUnconditionalUpdate`: whether a PUT may omit `metadata.resourceVersion`.
    fn allow_unconditional_update(&self) -> bool {
        true
    }

    /// `AllowCreateOnUpdate`: whether a PUT of a missing object creates it.
    fn allow_create_on_update(&self) -> bool {
        false
    }

    /// The apiVersion an object of this target is stored under.
    fn stored_api_version(&self, target: &Target) -> String {
        target.served.info.api_version()
    }

    /// The stored shape of a body the client sent in the served shape.
    fn decode_served(&self, _target: &Target, obj: Value) -> Result<Value, ApiError> {
        Ok(obj)
    }

    /// The served shape of a stored object.
    fn to_served<'a>(&self, target: &Target, stored: &'a Value) -> std::borrow::Cow<'a, Value> {
        served_shape::as_requested_version(target, stored)
    }

    /// `PrepareForCreate`, after the generic stamping (identity, timestamps, generation).
    fn prepare_for_create(&self, _target: &Target, _obj: &mut Value) {}

    /// `PrepareForUpdate` of a main-resource write, after the generic rules.
    fn prepare_for_update(&self, _target: &Target, _old: &Value, _new: &mut Value) {}

    /// The kind's own DELETE (as the namespace REST's): `Some` keeps the object (marked
    /// or unchanged) instead of the generic finalizers rule.
    fn before_delete(&self, _cur: &Value) -> Option<crate::store::Outcome> {
        None
    }

    /// `Validate`: the kind's own rules on a new object.
    fn validate(&self, _obj: &Value) -> Vec<Cause> {
        Vec::new()
    }

    /// `ValidateUpdate`: the kind's own rules on an updated object.
    fn validate_update(&self, obj: &Value, _old: &Value) -> Vec<Cause> {
        self.validate(obj)
    }

    /// `Canonicalize`, after admission: what the server itself sets (a CRD's status).
    fn canonicalize(
        &self,
        _target: &Target,
        _obj: &mut Value,
        _old: Option<&Value>,
    ) -> Result<(), ApiError> {
        Ok(())
    }

    /// After any committed (not dry-run) create, update, patch or delete.
    fn after_commit(&self, _shared: &Shared, _target: &Target, _obj: &Value, _deleted: bool) {}
}

/// A built-in kind without rules of its own (ServiceAccount, ...).
struct Plain;

impl Strategy for Plain {}

/// The strategy of the resolved target's kind.
pub fn for_target(target: &Target) -> &'static dyn Strategy {
    let info = &target.served.info;
    if info.custom {
        return &custom_resource::CustomResource;
    }
    match (info.group.as_str(), info.plural.as_str()) {
        ("apiextensions.k8s.io", "customresourcedefinitions") => &crd::Crd,
        ("", "configmaps") => &config_map::ConfigMap,
        ("coordination.k8s.io", "leases") => &lease::Lease,
        ("", "namespaces") => &namespace::Namespace,
        ("", "events") | ("events.k8s.io", "events") => &event::Event,
        (crate::authz::RBAC_GROUP, _) => &rbac::Rbac,
        ("admissionregistration.k8s.io", _) => &policy::AdmissionRegistration,
        _ => &Plain,
    }
}
