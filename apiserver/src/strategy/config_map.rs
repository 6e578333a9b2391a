//! ConfigMaps: keys, the 1 MiB total, and immutability (k8s `ValidateConfigMap`,
//! `ValidateConfigMapUpdate`).

use super::Strategy;
use crate::builtin_kinds;
use crate::error::Cause;
use serde_json::Value;

pub struct ConfigMap;

impl Strategy for ConfigMap {
    fn validate(&self, obj: &Value) -> Vec<Cause> {
        builtin_kinds::config_map_causes(obj)
    }

    fn validate_update(&self, obj: &Value, old: &Value) -> Vec<Cause> {
        let mut causes = builtin_kinds::config_map_update_causes(old, obj);
        causes.extend(builtin_kinds::config_map_causes(obj));
        causes
    }
}
