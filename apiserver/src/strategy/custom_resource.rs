//! Custom resources (apiextensions' custom-resource strategy): generation tracked,
//! updates conditional, status reset on create when the status subresource is enabled
//! (and otherwise counted by the generation).

use super::Strategy;
use crate::request::Target;
use serde_json::Value;

pub struct CustomResource;

impl Strategy for CustomResource {
    fn tracks_generation(&self) -> bool {
        true
    }

    // apiextensions' PrepareForUpdate compares everything but metadata, and but status
    // only when the status subresource is enabled.
    fn status_counts_for_generation(&self, target: &Target) -> bool {
        !target.served.info.status_subresource
    }

    fn allow_unconditional_update(&self) -> bool {
        false
    }

    fn prepare_for_create(&self, target: &Target, obj: &mut Value) {
        if target.served.info.status_subresource
            && let Some(o) = obj.as_object_mut()
        {
            o.remove("status");
        }
    }
}
