//! The coordination.k8s.io family: Leases, their spec's types and durations
//! (k8s `ValidateLeaseSpec`), the holder column and the spec's OpenAPI properties.

use super::field_errors::{check_int32, check_micro_time, check_string, invalid, unmarshal_error};
use crate::error::Cause;
use crate::resource::{ResourceInfo, Strategy, Table};
use crate::table;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

pub(super) fn kinds() -> Vec<ResourceInfo> {
    vec![ResourceInfo::builtin(
        ("coordination.k8s.io", "v1"),
        "Lease",
        "leases",
        true,
        &Lease,
    )]
}

#[derive(Debug)]
struct Lease;

impl Strategy for Lease {
    fn type_error(&self, obj: &Value) -> Option<String> {
        type_error(obj).err()
    }

    /// `ValidateLeaseSpec`.
    fn validate(&self, _info: &ResourceInfo, obj: &Value) -> Vec<Cause> {
        let mut causes = Vec::new();
        let int = |f: &str| obj.pointer(&format!("/spec/{f}")).and_then(Value::as_i64);
        if let Some(d) = int("leaseDurationSeconds").filter(|d| *d <= 0) {
            causes.push(invalid(
                "spec.leaseDurationSeconds".into(),
                &d.to_string(),
                "must be greater than 0",
            ));
        }
        if let Some(t) = int("leaseTransitions").filter(|t| *t < 0) {
            causes.push(invalid(
                "spec.leaseTransitions".into(),
                &t.to_string(),
                "must be greater than or equal to 0",
            ));
        }
        causes
    }

    fn table(&self, objects: &[Value], now: DateTime<Utc>) -> Option<Table> {
        let holder = table::column("Holder", "string", "The holder of the lease");
        Some(table::with_columns(
            objects,
            now,
            &[(holder, |o, _| {
                json!(table::str_at(o, "/spec/holderIdentity").unwrap_or(""))
            })],
        ))
    }

    fn openapi_properties(&self, _info: &ResourceInfo, props: &mut Map<String, Value>) -> String {
        let spec = json!({
            "type": "object",
            "description": "LeaseSpec is a specification of a Lease.",
            "properties": {
                "acquireTime": {"type": "string", "format": "date-time", "description": "acquireTime is a time when the current lease was acquired."},
                "holderIdentity": {"type": "string", "description": "holderIdentity contains the identity of the holder of a current lease."},
                "leaseDurationSeconds": {"type": "integer", "format": "int32", "description": "leaseDurationSeconds is a duration that candidates for a lease need to wait to force acquire it."},
                "leaseTransitions": {"type": "integer", "format": "int32", "description": "leaseTransitions is the number of transitions of a lease between holders."},
                "preferredHolder": {"type": "string", "description": "PreferredHolder signals to a lease holder that the lease has a more optimal holder and should be given up."},
                "renewTime": {"type": "string", "format": "date-time", "description": "renewTime is a time when the current holder of a lease has last updated the lease."},
                "strategy": {"type": "string", "description": "Strategy indicates the strategy for picking the leader for coordinated leader election."},
            }
        });
        props.insert("spec".into(), spec);
        "Lease defines a lease concept.".into()
    }
}

fn type_error(obj: &Value) -> Result<(), String> {
    let Some(spec) = obj.get("spec").filter(|s| !s.is_null()) else {
        return Ok(());
    };
    if !spec.is_object() {
        return Err(unmarshal_error(spec, "Lease", "spec", "v1.LeaseSpec"));
    }
    for f in ["holderIdentity", "strategy", "preferredHolder"] {
        check_string(spec.get(f), "LeaseSpec", &format!("spec.{f}"))?;
    }
    for f in ["leaseDurationSeconds", "leaseTransitions"] {
        check_int32(spec.get(f), "LeaseSpec", &format!("spec.{f}"))?;
    }
    check_micro_time(spec.get("acquireTime"))?;
    check_micro_time(spec.get("renewTime"))
}
