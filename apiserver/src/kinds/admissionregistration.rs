//! The admissionregistration.k8s.io family: ValidatingAdmissionPolicy and
//! MutatingAdmissionPolicy with their bindings (cluster-scoped, generation tracked, exempt
//! from admission policies), validated by compiling them (`crate::policy::objects`).

use crate::error::Cause;
use crate::policy::objects::{self, PolicyKind};
use crate::resource::{ResourceInfo, Strategy};
use serde_json::Value;

pub(super) fn kinds() -> Vec<ResourceInfo> {
    [
        &VALIDATING_POLICY,
        &VALIDATING_BINDING,
        &MUTATING_POLICY,
        &MUTATING_BINDING,
    ]
    .into_iter()
    .map(|strategy| {
        let (kind, plural) = strategy.0.names();
        let info =
            ResourceInfo::builtin((crate::policy::GROUP, "v1"), kind, plural, false, strategy)
                .categories(&["api-extensions"]);
        // The validating policy reports its type checking in status.
        match strategy.0 {
            PolicyKind::ValidatingPolicy => info.with_status(),
            _ => info,
        }
    })
    .collect()
}

#[derive(Debug)]
struct AdmissionRegistration(PolicyKind);

static VALIDATING_POLICY: AdmissionRegistration =
    AdmissionRegistration(PolicyKind::ValidatingPolicy);
static VALIDATING_BINDING: AdmissionRegistration =
    AdmissionRegistration(PolicyKind::ValidatingBinding);
static MUTATING_POLICY: AdmissionRegistration = AdmissionRegistration(PolicyKind::MutatingPolicy);
static MUTATING_BINDING: AdmissionRegistration = AdmissionRegistration(PolicyKind::MutatingBinding);

impl Strategy for AdmissionRegistration {
    fn tracks_generation(&self) -> bool {
        true
    }

    fn validate(&self, _info: &ResourceInfo, obj: &Value) -> Vec<Cause> {
        objects::causes(self.0, obj)
    }

    fn exempt_from_policies(&self) -> bool {
        true
    }
}
