//! The manifests in `examples/` are what they claim to be: they parse as Charter's types,
//! and the approvals that claim to approve the current revision do.

use charter::api::{Decision, Service, ServiceApproval, revision_of};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

fn examples() -> Vec<Value> {
    charter::manifests::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"))
        .expect("examples load")
}

fn of_kind<T: serde::de::DeserializeOwned>(kind: &str) -> Vec<T> {
    examples()
        .into_iter()
        .filter(|o| o["kind"] == kind && o["apiVersion"] == "catalog.charter.dev/v1alpha1")
        .map(|o| {
            serde_json::from_value(o)
                .unwrap_or_else(|e| panic!("a {kind} in examples/ does not parse: {e}"))
        })
        .collect()
}

#[test]
fn examples_cover_two_namespaces_five_services_and_three_approvals() {
    let services: Vec<Service> = of_kind("Service");
    let approvals: Vec<ServiceApproval> = of_kind("ServiceApproval");
    let namespaces: std::collections::BTreeSet<_> = services
        .iter()
        .filter_map(|s| s.metadata.namespace.clone())
        .collect();
    assert!(namespaces.len() >= 2, "namespaces: {namespaces:?}");
    assert!(services.len() >= 5);
    assert!(approvals.len() >= 3);
    assert!(
        approvals
            .iter()
            .any(|a| a.spec.decision == Decision::Rejected)
    );
}

#[test]
fn example_approvals_name_real_services_and_their_revisions() {
    let services: Vec<Service> = of_kind("Service");
    let revisions: BTreeMap<(String, String), String> = services
        .iter()
        .map(|s| {
            (
                (
                    s.metadata.namespace.clone().unwrap_or_default(),
                    s.metadata.name.clone().unwrap_or_default(),
                ),
                revision_of(&s.spec.content),
            )
        })
        .collect();
    let mut stale = 0;
    for approval in of_kind::<ServiceApproval>("ServiceApproval") {
        let key = (
            approval.metadata.namespace.clone().unwrap_or_default(),
            approval.spec.service_name.clone(),
        );
        let current = revisions
            .get(&key)
            .unwrap_or_else(|| panic!("approval for unknown service {key:?}"));
        let is_stale = approval
            .metadata
            .labels
            .as_ref()
            .is_some_and(|l| l.get("example.charter.dev/stale").is_some());
        if is_stale {
            stale += 1;
            assert_ne!(
                &approval.spec.revision, current,
                "{:?} is labelled stale",
                approval.metadata.name
            );
        } else {
            assert_eq!(
                &approval.spec.revision, current,
                "{:?} should approve the current revision of {key:?}",
                approval.metadata.name
            );
        }
    }
    assert!(stale >= 1, "examples include a stale approval");
}
