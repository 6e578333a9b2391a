//! Nothing a user can write stops the operator. An object it cannot read (a date beyond its date
//! type, written before the CRD refused such dates, or in a status) is skipped and reported —
//! a Warning Event on it, a metric — while every other Service converges, on a running operator
//! and across a restart; a Service it cannot read is held out of the catalog until it can. A
//! Service's managedFields, which clients may write, never make it unreadable.

use charter::api::{Phase, Service, ServiceApproval};
use kube::{
    Api, Client, Resource,
    api::{ApiResource, DynamicObject, PostParams},
};
use serde_json::{Value, json};
use testkit::*;

const BEYOND: &str = "9999-12-31T23:59:59Z";

/// A request whose body or answer the typed clients cannot carry (a date beyond their type).
async fn raw(client: &Client, method: &str, path: &str, body: Option<Value>) -> Value {
    let content_type = match method {
        "PATCH" => "application/merge-patch+json",
        _ => "application/json",
    };
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("Content-Type", content_type)
        .body(body.map(|b| b.to_string().into_bytes()).unwrap_or_default())
        .expect("a request");
    client
        .request::<Value>(request)
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

fn path(plural: &str, name: &str) -> String {
    format!("/apis/catalog.charter.dev/v1alpha1/namespaces/{NAMESPACE}/{plural}/{name}")
}

/// Creates, approves and waits for `name` to be published.
async fn activate(fx: &Fixture, ava: &Client, name: &str) {
    fx.create(service(name)).await;
    let revision = fx.revision_in_approval(name).await;
    approve(ava, name, &revision, "ava").await;
    fx.wait_for_phase(name, Phase::Active).await;
    eventually(&format!("{name} in the catalog"), || fx.published(name)).await;
}

/// The value of a metric line starting with `prefix`, 0 when absent.
fn metric(fx: &Fixture, prefix: &str) -> u64 {
    fx.telemetry
        .encode()
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

const UNREADABLE_APPROVALS: &str = "charter_unreadable_objects_total{kind=\"ServiceApproval\"} ";
const UNREADABLE_SERVICES: &str = "charter_unreadable_objects_total{kind=\"Service\"} ";

/// Waits for the Warning Event `Unreadable` on `name`; returns its note.
async fn unreadable_event(fx: &Fixture, name: &str) -> String {
    eventually(&format!("an Unreadable Event on {name}"), || async {
        fx.events(name)
            .await
            .into_iter()
            .find(|(reason, _)| reason == "Unreadable")
            .map(|(_, note)| note)
    })
    .await
}

/// Restarts the operator and waits for it to be ready: its first list succeeded.
async fn restart(fx: &mut Fixture) {
    fx.stop_operator().await;
    fx.start_operator();
    let telemetry = fx.telemetry.clone();
    eventually("the restarted operator to be ready", || {
        std::future::ready(telemetry.ready().then_some(()))
    })
    .await;
}

/// Creates an approval with `expiresAt` beyond the operator's date type, as objects written
/// before the CRD refused such dates are: under a CRD without the refusal, then restored.
async fn approval_beyond_the_date_type(fx: &Fixture, service: &str, revision: &str) -> String {
    let mut loose: Value = serde_json::to_value(&charter::crds::all()[1]).expect("the CRD");
    let expires_at = loose
        .pointer_mut("/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/expiresAt")
        .and_then(Value::as_object_mut)
        .expect("the CRD declares spec.expiresAt");
    expires_at.remove("pattern");
    fx.server
        .install_crd_values(vec![loose])
        .expect("the older CRD is installed");
    let name = format!("{service}-forever");
    let api: Api<DynamicObject> = Api::namespaced_with(
        fx.admin.clone(),
        NAMESPACE,
        &ApiResource::erase::<ServiceApproval>(&()),
    );
    let approval: DynamicObject = serde_json::from_value(json!({
        "apiVersion": ServiceApproval::api_version(&()),
        "kind": ServiceApproval::kind(&()),
        "metadata": {"name": name},
        "spec": {"serviceName": service, "revision": revision, "decision": "Approved",
                 "approver": "ava", "expiresAt": BEYOND},
    }))
    .expect("an approval");
    api.create(&PostParams::default(), &approval)
        .await
        .expect("the older CRD accepts the date");
    fx.server
        .install_crds(&charter::crds::yaml())
        .expect("the CRD is restored");
    name
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_crd_refuses_an_expiry_the_operator_cannot_represent() {
    let fx = Fixture::start_without_operator(false).await;
    let api: Api<DynamicObject> = Api::namespaced_with(
        fx.admin.clone(),
        NAMESPACE,
        &ApiResource::erase::<ServiceApproval>(&()),
    );
    let approval = |name: &str, expires_at: &str| -> DynamicObject {
        serde_json::from_value(json!({
            "apiVersion": ServiceApproval::api_version(&()),
            "kind": ServiceApproval::kind(&()),
            "metadata": {"name": name},
            "spec": {"serviceName": "ledger", "revision": "0123456789", "decision": "Approved",
                     "approver": "ava", "expiresAt": expires_at},
        }))
        .expect("an approval")
    };
    let refused = api
        .create(&PostParams::default(), &approval("forever", BEYOND))
        .await
        .expect_err("a date beyond the operator's date type is refused");
    assert!(
        matches!(&refused, kube::Error::Api(s) if s.code == 422 && s.message.contains("spec.expiresAt")),
        "{refused}"
    );
    api.create(
        &PostParams::default(),
        &approval("long", "9998-12-31T23:59:59Z"),
    )
    .await
    .expect("year 9998 is accepted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_the_operator_cannot_read_is_skipped_and_reported_and_the_others_converge() {
    let mut fx = Fixture::start(false).await;
    let ava = fx.client("ava").await;
    fx.create(service("fx-rates")).await;
    let revision = fx.revision_in_approval("fx-rates").await;
    let poison = approval_beyond_the_date_type(&fx, "fx-rates", &revision).await;

    let note = unreadable_event(&fx, &poison).await;
    assert!(
        note.contains("ServiceApproval") && note.contains("spec.expiresAt"),
        "the Event names the field: {note}"
    );
    activate(&fx, &ava, "ledger").await;
    fx.settled().await;
    assert_eq!(
        fx.phase_of("fx-rates").await,
        Some(Phase::Approval),
        "an approval the operator cannot read does not count"
    );
    assert_eq!(metric(&fx, UNREADABLE_APPROVALS), 1, "reported once");
    assert_eq!(
        fx.events(&poison).await.len(),
        1,
        "one Event for one version"
    );
    assert!(fx.telemetry.ready());

    restart(&mut fx).await;
    activate(&fx, &ava, "payments").await;
    assert!(fx.published("ledger").await.is_some());
    assert_eq!(metric(&fx, UNREADABLE_APPROVALS), 1);
    assert_eq!(fx.phase_of("fx-rates").await, Some(Phase::Approval));

    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_managed_fields_time_beyond_the_date_type_leaves_the_service_readable() {
    let mut fx = Fixture::start(false).await;
    let ava = fx.client("ava").await;
    let dana = fx.client("dana").await;
    activate(&fx, &ava, "ledger").await;

    // The owner writes a managedFields entry of their own, as any client may.
    let ledger_path = path("services", "ledger");
    let mut ledger = raw(&dana, "GET", &ledger_path, None).await;
    let entries = ledger
        .pointer_mut("/metadata/managedFields")
        .and_then(Value::as_array_mut)
        .expect("the Service has managedFields");
    entries.push(json!({
        "manager": "hand-written", "operation": "Update", "time": BEYOND,
        "apiVersion": Service::api_version(&()), "fieldsType": "FieldsV1",
        "fieldsV1": {"f:spec": {"f:owner": {}}},
    }));
    raw(&dana, "PUT", &ledger_path, Some(ledger)).await;
    let stored = raw(&dana, "GET", &ledger_path, None).await;
    assert!(
        stored.to_string().contains(BEYOND),
        "the server keeps the time as written: {stored}"
    );

    activate(&fx, &ava, "fx-rates").await;
    // The operator still reads ledger: a new revision goes through approval to the catalog.
    raw(
        &dana,
        "PATCH",
        &ledger_path,
        Some(json!({"spec": {"description": "Books every payment, twice"}})),
    )
    .await;
    // An Active Service keeps serving its approved revision while the new one waits.
    let revision = eventually("the operator to see ledger's new revision", || async {
        let s = raw(&dana, "GET", &ledger_path, None).await;
        let status = &s["status"];
        (status["observedGeneration"] == s["metadata"]["generation"]
            && status["revision"] != status["approvedRevision"])
            .then(|| status["revision"].as_str().map(String::from))
            .flatten()
    })
    .await;
    approve(&ava, "ledger", &revision, "ava").await;
    eventually("the new revision in the catalog", || async {
        let entry = fx.published("ledger").await?;
        (entry["provenance"]["revision"] == revision.as_str()).then_some(())
    })
    .await;
    assert_eq!(metric(&fx, UNREADABLE_SERVICES), 0);

    restart(&mut fx).await;
    activate(&fx, &ava, "payments").await;
    assert!(fx.published("ledger").await.is_some());
    assert!(fx.published("fx-rates").await.is_some());

    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_the_operator_cannot_read_is_held_out_of_the_catalog_until_it_can() {
    let mut fx = Fixture::start(false).await;
    let ava = fx.client("ava").await;
    activate(&fx, &ava, "ledger").await;
    activate(&fx, &ava, "fx-rates").await;
    let counted = fx
        .approvals()
        .list(&Default::default())
        .await
        .expect("approvals")
        .items
        .into_iter()
        .find(|a| a.spec.service_name == "ledger")
        .and_then(|a| a.metadata.name)
        .expect("ledger's approval");

    // A status the operator cannot read (as another version of it might have written).
    let status_path = format!("{}/status", path("services", "ledger"));
    let operator = fx.operator_client.clone();
    raw(
        &operator,
        "PATCH",
        &status_path,
        Some(json!({"status": {"activatedAt": BEYOND}})),
    )
    .await;

    let note = unreadable_event(&fx, "ledger").await;
    assert!(
        note.contains("status.activatedAt") && note.contains("held out of the catalog"),
        "{note}"
    );
    eventually("ledger to leave the catalog", || async {
        fx.catalog()
            .await
            .filter(|c| !c.contains_key("default_ledger.json"))
            .map(|_| ())
    })
    .await;
    activate(&fx, &ava, "payments").await;
    assert!(fx.published("fx-rates").await.is_some());
    fx.settled().await;
    assert_eq!(
        fx.approval_verdict(&counted).await,
        (true, "Counted".into()),
        "the approvals of a Service that exists are not judged as of an unknown one"
    );
    assert_eq!(metric(&fx, UNREADABLE_SERVICES), 1);

    restart(&mut fx).await;
    activate(&fx, &ava, "billing").await;
    let catalog = fx.catalog().await.expect("the catalog");
    assert!(
        !catalog.contains_key("default_ledger.json"),
        "still held out"
    );
    assert!(catalog.contains_key("default_payments.json"));

    // Readable again: back in the catalog.
    raw(
        &operator,
        "PATCH",
        &status_path,
        Some(json!({"status": {"activatedAt": "2030-01-01T00:00:00Z"}})),
    )
    .await;
    eventually("ledger back in the catalog", || fx.published("ledger")).await;

    fx.shutdown().await;
}
