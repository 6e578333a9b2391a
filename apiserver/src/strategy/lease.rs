//! Leases: the spec's durations and counts (k8s `ValidateLeaseSpec`).

use super::Strategy;
use crate::builtin_kinds;
use crate::error::Cause;
use serde_json::Value;

pub struct Lease;

impl Strategy for Lease {
    fn validate(&self, obj: &Value) -> Vec<Cause> {
        builtin_kinds::lease_causes(obj)
    }
}
