//! The CustomResourceDefinitions generated from the API types: what `charter crds` prints
//! and what `crds/` holds.

use crate::api::{ApprovalPolicy, NotificationSubscription, Service, ServiceApproval};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

/// Every CRD: Service first, then ServiceApproval, then ApprovalPolicy, then NotificationSubscription.
pub fn all() -> Vec<CustomResourceDefinition> {
    vec![
        Service::crd(),
        ServiceApproval::crd(),
        ApprovalPolicy::crd(),
        NotificationSubscription::crd(),
    ]
    .into_iter()
    .map(whole_sentences)
    .map(snapshot_is_a_record)
    .collect()
}

/// A Service's `status.snapshot` is a copy of content that passed the spec's rules when it
/// was admitted as the spec: the status keeps the snapshot's structure (types, lengths,
/// patterns) but not the spec's CEL rules. Judging the record again would refuse the
/// operator's status write for a revision approved before a rule was tightened (the Service
/// would stay stuck), and cost every activation the rules' evaluation once more (on the
/// embedded server a fifth of its CPU while 10,000 Services converged: CEL's `matches`
/// compiles its pattern on every call).
fn snapshot_is_a_record(crd: CustomResourceDefinition) -> CustomResourceDefinition {
    fn strip(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                map.remove("x-kubernetes-validations");
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    if crd.spec.names.kind != "Service" {
        return crd;
    }
    as_json(crd, |value| {
        for version in value
            .pointer_mut("/spec/versions")
            .and_then(serde_json::Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if let Some(snapshot) =
                version.pointer_mut("/schema/openAPIV3Schema/properties/status/properties/snapshot")
            {
                strip(snapshot);
            }
        }
    })
}

/// Doc comments wrap lines where the source wraps them; `kubectl explain` wraps on its own, so
/// a description keeps only its paragraph breaks.
fn whole_sentences(crd: CustomResourceDefinition) -> CustomResourceDefinition {
    fn unwrap(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, v) in map.iter_mut() {
                    match v {
                        serde_json::Value::String(text) if key == "description" => {
                            *text = text
                                .split("\n\n")
                                .map(|p| p.split('\n').map(str::trim).collect::<Vec<_>>().join(" "))
                                .collect::<Vec<_>>()
                                .join("\n\n");
                        }
                        _ => unwrap(v),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(unwrap),
            _ => {}
        }
    }
    as_json(crd, unwrap)
}

/// `crd` changed by `edit` as JSON (the edits here remove or rewrite what the types allow).
fn as_json(
    crd: CustomResourceDefinition,
    edit: impl FnOnce(&mut serde_json::Value),
) -> CustomResourceDefinition {
    let mut value = serde_json::to_value(&crd).expect("a CRD always serialises");
    edit(&mut value);
    serde_json::from_value(value).expect("an edited CRD still reads as one")
}

/// The CRDs as one multi-document YAML stream, exactly the content of `crds/charter.yaml`.
pub fn yaml() -> String {
    all()
        .iter()
        .map(|crd| serde_saphyr::to_string(crd).expect("a CRD always serialises"))
        .map(|doc| format!("---\n{doc}"))
        .collect()
}
