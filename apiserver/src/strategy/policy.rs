//! admissionregistration kinds: generation tracked; a committed write to an admission
//! policy or binding recompiles the policies.

use super::Strategy;
use crate::request::Target;
use crate::shared::Shared;
use serde_json::Value;

pub struct AdmissionRegistration;

impl Strategy for AdmissionRegistration {
    fn tracks_generation(&self) -> bool {
        true
    }

    fn after_commit(&self, shared: &Shared, target: &Target, _obj: &Value, _deleted: bool) {
        crate::policy::committed(shared, &target.served.info);
    }
}
