//! The CustomResourceDefinitions generated from the API types: what `charter crds` prints
//! and what `crds/` holds.

use crate::api::{Service, ServiceApproval};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

/// Both CRDs, Service first.
pub fn all() -> Vec<CustomResourceDefinition> {
    vec![Service::crd(), ServiceApproval::crd()]
}

/// The CRDs as one multi-document YAML stream, exactly the content of `crds/charter.yaml`.
pub fn yaml() -> String {
    all()
        .iter()
        .map(|crd| serde_saphyr::to_string(crd).expect("a CRD always serialises"))
        .map(|doc| format!("---\n{doc}"))
        .collect()
}
