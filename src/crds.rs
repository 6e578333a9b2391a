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
    .collect()
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
    let mut value = serde_json::to_value(&crd).expect("a CRD always serialises");
    unwrap(&mut value);
    serde_json::from_value(value).expect("only descriptions changed")
}

/// The CRDs as one multi-document YAML stream, exactly the content of `crds/charter.yaml`.
pub fn yaml() -> String {
    all()
        .iter()
        .map(|crd| serde_saphyr::to_string(crd).expect("a CRD always serialises"))
        .map(|doc| format!("---\n{doc}"))
        .collect()
}
