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

/// The CRD schema (with its CEL rules) of `kind`, compiled as the API server admits objects.
fn admission_for(kind: &str) -> charter_apiserver::admission::CompiledSchema {
    let crd = charter::crds::all()
        .into_iter()
        .find(|c| c.spec.names.kind == kind)
        .expect("CRD exists");
    let schema = serde_json::to_value(
        &crd.spec.versions[0]
            .schema
            .as_ref()
            .expect("schema")
            .open_api_v3_schema,
    )
    .expect("schema serialises");
    charter_apiserver::admission::CompiledSchema::new(&schema).expect("schema compiles")
}

fn admit(kind: &str, object: &Value) -> Vec<String> {
    let schema = admission_for(kind);
    let mut object = object.clone();
    let mut problems: Vec<String> = schema
        .prune_and_default(&mut object)
        .into_iter()
        .map(|p| format!("unknown field {p}"))
        .collect();
    problems.extend(
        schema
            .validate(&object, None)
            .into_iter()
            .map(|c| format!("{}: {}", c.field, c.message)),
    );
    problems
}

#[test]
fn examples_pass_the_crd_schema_and_its_rules() {
    let objects: Vec<Value> = examples()
        .into_iter()
        .filter(|o| o["apiVersion"] == "catalog.charter.dev/v1alpha1")
        .collect();
    assert!(objects.len() >= 8);
    for object in objects {
        let kind = object["kind"].as_str().expect("kind");
        let problems = admit(kind, &object);
        assert!(
            problems.is_empty(),
            "{kind} {} is refused: {problems:?}",
            object["metadata"]["name"]
        );
    }
}

#[test]
fn the_schema_refuses_what_the_examples_must_not_do() {
    let ledger = examples()
        .into_iter()
        .find(|o| o["metadata"]["name"] == "ledger")
        .expect("ledger example");
    let cases: Vec<(&str, Value)> = vec![
        ("quorum larger than the approvers", {
            let mut o = ledger.clone();
            o["spec"]["requiredApprovals"] = 3.into();
            o
        }),
        ("duplicate category", {
            let mut o = ledger.clone();
            o["spec"]["categories"] = serde_json::json!([{"name": "Finance"}, {"name": "Finance"}]);
            o
        }),
        ("depends on itself", {
            let mut o = ledger.clone();
            o["spec"]["model"]["dependsOn"] = serde_json::json!([{"name": "ledger"}]);
            o
        }),
        ("availability not a percentage", {
            let mut o = ledger.clone();
            o["spec"]["serviceLevel"]["availability"] = "high".into();
            o
        }),
        ("no owner", {
            let mut o = ledger.clone();
            o["spec"].as_object_mut().expect("spec").remove("owner");
            o
        }),
        ("unknown phase", {
            let mut o = ledger.clone();
            o["spec"]["lifecycle"]["desiredPhase"] = "Live".into();
            o
        }),
    ];
    for (what, object) in cases {
        assert!(
            !admit("Service", &object).is_empty(),
            "a Service with {what} is admitted"
        );
    }
}

#[test]
fn an_approval_spec_cannot_change_after_create() {
    let approval = examples()
        .into_iter()
        .find(|o| o["kind"] == "ServiceApproval")
        .expect("an approval");
    let schema = admission_for("ServiceApproval");
    let mut changed = approval.clone();
    changed["spec"]["decision"] = "Rejected".into();
    if approval["spec"]["decision"] == "Rejected" {
        changed["spec"]["decision"] = "Approved".into();
    }
    assert!(
        schema.validate(&approval, Some(&approval)).is_empty(),
        "an unchanged update is fine"
    );
    assert!(
        !schema.validate(&changed, Some(&approval)).is_empty(),
        "a changed decision is refused"
    );
}

#[test]
fn the_notification_example_subscribes_with_credentials_from_the_operators_namespace() {
    use charter::api::NotificationSubscription;
    let objects = charter::manifests::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/notifications"),
    )
    .expect("examples/notifications loads");
    let secrets: Vec<&Value> = objects.iter().filter(|o| o["kind"] == "Secret").collect();
    let subscriptions: Vec<NotificationSubscription> = objects
        .iter()
        .filter(|o| o["kind"] == "NotificationSubscription")
        .map(|o| serde_json::from_value(o.clone()).expect("a NotificationSubscription"))
        .collect();
    assert_eq!(subscriptions.len(), 2);
    for subscription in &subscriptions {
        let credentials = subscription
            .spec
            .sink
            .credentials
            .as_ref()
            .expect("credentials");
        let secret = secrets
            .iter()
            .find(|s| s["metadata"]["name"] == credentials.secret_name.as_str())
            .expect("the Secret named is in the example");
        assert_eq!(secret["metadata"]["namespace"], charter::deploy::NAMESPACE);
        let own = subscription
            .metadata
            .namespace
            .as_deref()
            .unwrap_or_default();
        let granted =
            secret["metadata"]["annotations"]["notifications.catalog.charter.dev/namespaces"]
                .as_str()
                .unwrap_or_default();
        assert!(
            own == charter::deploy::NAMESPACE || granted.split(',').any(|ns| ns.trim() == own),
            "the Secret is granted to {own}"
        );
        assert!(secret["data"][&credentials.key].is_string());
    }
}
