//! Separation of duties against everyone who may edit a Service, tried as an attacker would:
//! the real kubectl against `charter sandbox --apply examples/`, as the demo users. Each attack
//! is refused by the server, or accepted and harmless: the catalog keeps serving what the right
//! people approved. Skips (with a note) where kubectl is not installed, and fails there under
//! `CI=true`.

use std::path::Path;

use testkit::sandbox::Sandbox;
use testkit::{Ground, on_both_grounds};

const CATALOG_NAMESPACE: &str = charter::deploy::CATALOG_NAMESPACE;

fn examples(ground: &Ground) -> Sandbox {
    let sandbox = Sandbox::start_on(
        ground,
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"),
    );
    for (service, namespace) in [
        ("ledger", "payments"),
        ("identity", "platform"),
        ("message-bus", "platform"),
    ] {
        sandbox.wait_ready(service, namespace, 60);
    }
    sandbox
}

/// The catalog entry of `namespace/name`, once the catalog has one.
fn entry(sandbox: &Sandbox, namespace: &str, name: &str) -> String {
    let key = format!(r"jsonpath={{.data.{namespace}_{name}\.json}}");
    sandbox.wait_until(
        &[
            "get",
            "configmap",
            "charter-catalog",
            "-n",
            CATALOG_NAMESPACE,
            "-o",
            &key,
        ],
        "a catalog entry",
        |text| text.starts_with('{'),
    )
}

fn jsonpath(sandbox: &Sandbox, what: &str, namespace: &str, path: &str) -> String {
    sandbox.kubectl_ok(&[
        "get",
        what,
        "-n",
        namespace,
        "-o",
        &format!("jsonpath={path}"),
    ])
}

/// Waits until the operator has judged the approval, and returns its status reason.
fn judged(sandbox: &Sandbox, namespace: &str, approval: &str) -> String {
    sandbox
        .wait_until(
            &[
                "get",
                "csa",
                approval,
                "-n",
                namespace,
                "-o",
                "jsonpath={.status.reason}",
            ],
            "a status reason",
            |text| !text.trim().is_empty(),
        )
        .trim()
        .to_owned()
}

fn approval(
    sandbox: &Sandbox,
    user: &str,
    name: &str,
    namespace: &str,
    service: &str,
    approver: &str,
) {
    decision(
        sandbox,
        user,
        name,
        (namespace, service),
        approver,
        "Approved",
    );
}

/// `user` records `approver`'s decision on the Service's current revision.
fn decision(
    sandbox: &Sandbox,
    user: &str,
    name: &str,
    (namespace, service): (&str, &str),
    approver: &str,
    decision: &str,
) {
    // The revision of the Service as it is now: once the operator has seen its last change.
    let observed = sandbox.wait_until(
        &[
            "get",
            "csvc",
            service,
            "-n",
            namespace,
            "-o",
            "jsonpath={.metadata.generation}={.status.observedGeneration} {.status.revision}",
        ],
        "the operator to observe the last change",
        |text| {
            text.split(' ')
                .next()
                .and_then(|g| g.split_once('='))
                .is_some_and(|(a, b)| a == b)
        },
    );
    let revision = observed
        .split(' ')
        .nth(1)
        .unwrap_or_default()
        .trim()
        .to_owned();
    let file = sandbox.manifest(
        &format!("{name}.yaml"),
        &format!(
            "apiVersion: catalog.charter.dev/v1alpha1\nkind: ServiceApproval\nmetadata: {{name: {name}, namespace: {namespace}}}\nspec: {{serviceName: {service}, revision: \"{revision}\", decision: {decision}, approver: {approver}}}\n"
        ),
    );
    sandbox.kubectl_ok(&["--context", user, "create", "-f", &file]);
}

on_both_grounds!(an_editor_cannot_take_over_launder_or_revive_a_service);
/// Who owns a Service and who may approve it are the owner's to say: an editor who is not the
/// owner is refused at the server, whatever he writes.
fn an_editor_cannot_take_over_launder_or_revive_a_service(ground: Ground) {
    if testkit::kubectl::probe().is_none() {
        return;
    }
    let sandbox = examples(&ground);
    let ledger = entry(&sandbox, "payments", "ledger");
    let bus = entry(&sandbox, "platform", "message-bus");

    // Owner laundering: gus creates a Service in omar's name (to approve it himself).
    let laundered = sandbox.manifest(
        "laundered.yaml",
        "apiVersion: catalog.charter.dev/v1alpha1\nkind: Service\nmetadata: {name: laundered, namespace: platform}\nspec: {owner: omar, description: x, serviceLevel: {availability: \"99\"}, lifecycle: {desiredPhase: Active}}\n",
    );
    sandbox.refused(
        "gus",
        &["create", "-f", &laundered],
        "a Service is created by its owner: gus may not create one owned by omar",
    );
    // Take-over: gus names himself the approver of dana's published ledger.
    let only_owner = "only the owner (dana) changes spec.owner";
    for patch in [
        r#"{"spec":{"approvers":["gus"]}}"#,
        r#"{"spec":{"owner":"gus"}}"#,
        r#"{"spec":{"requiredApprovals":1,"approvers":["erin"]}}"#,
        r#"{"spec":{"lifecycle":{"desiredPhase":"Retired"}}}"#,
        r#"{"spec":{"categories":[{"name":"Gus"}]}}"#,
    ] {
        sandbox.refused(
            "gus",
            &[
                "patch", "csvc", "ledger", "-n", "payments", "--type", "merge", "-p", patch,
            ],
            only_owner,
        );
    }
    // Owner fields by anyone: the contact shown beside the approval.
    sandbox.refused(
        "gus",
        &[
            "patch",
            "csvc",
            "message-bus",
            "-n",
            "platform",
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"contact":{"team":"gus","email":"gus@evil.example"}}}"#,
        ],
        "only the owner (priya) changes",
    );
    // Reactivation of omar's retired service.
    sandbox.refused(
        "gus",
        &[
            "patch",
            "csvc",
            "legacy-ftp",
            "-n",
            "platform",
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"lifecycle":{"desiredPhase":"Active"}}}"#,
        ],
        "only the owner (omar) changes",
    );
    // The recorded identities cannot be forged.
    for key in ["revised-by", "created-by", "phase-requested-by"] {
        sandbox.refused(
            "gus",
            &[
                "annotate",
                "--overwrite",
                "csvc",
                "ledger",
                "-n",
                "payments",
                &format!("catalog.charter.dev/{key}=erin"),
            ],
            "it is set by the server and cannot be changed or removed",
        );
    }
    // Deletion: unpublishes dana's ledger and frees its name for gus to create in his own.
    // RBAC lets an editor delete Services; the owner policy does not.
    sandbox.refused(
        "gus",
        &["delete", "csvc", "ledger", "-n", "payments"],
        "only the owner (dana) deletes a Service; gus may not",
    );
    assert_eq!(
        jsonpath(&sandbox, "csvc/legacy-ftp", "platform", "{.status.phase}"),
        "Retired"
    );
    assert_eq!(
        entry(&sandbox, "payments", "ledger"),
        ledger,
        "the catalog is unchanged"
    );
    assert_eq!(
        entry(&sandbox, "platform", "message-bus"),
        bus,
        "the catalog is unchanged"
    );
}

on_both_grounds!(no_one_publishes_alone);
/// What an editor may do (propose content) he cannot approve; what an owner may do (change the
/// approvers) does not lower the bar the approved revision set; a delegate records decisions
/// only for listed approvers; a Service created again starts without approvals.
fn no_one_publishes_alone(ground: Ground) {
    if testkit::kubectl::probe().is_none() {
        return;
    }
    let sandbox = examples(&ground);
    let ledger = entry(&sandbox, "payments", "ledger");
    let served = jsonpath(
        &sandbox,
        "csvc/ledger",
        "payments",
        "{.status.publishedRevision}",
    );

    // gus rewrites dana's ledger (a proposal: allowed) and approves his own text.
    sandbox.kubectl_ok(&[
        "--context", "gus", "patch", "csvc", "ledger", "-n", "payments", "--type", "merge", "-p",
        r#"{"spec":{"description":"Send payments to gus","request":{"url":"https://gus.example/request"}}}"#,
    ]);
    assert_eq!(
        jsonpath(
            &sandbox,
            "csvc/ledger",
            "payments",
            r"{.metadata.annotations.catalog\.charter\.dev/revised-by}"
        ),
        "gus",
        "the server records the author"
    );
    approval(
        &sandbox,
        "gus",
        "gus-approves-gus",
        "payments",
        "ledger",
        "gus",
    );
    assert_eq!(
        judged(&sandbox, "payments", "gus-approves-gus"),
        "SelfApproval"
    );
    // ledger lists erin and frank: gus is neither, and the author besides. erin's word counts.
    decision(
        &sandbox,
        "erin",
        "erin-on-gus",
        ("payments", "ledger"),
        "erin",
        "Rejected",
    );
    assert_eq!(judged(&sandbox, "payments", "erin-on-gus"), "Counted");
    // The catalog serves what was approved.
    assert_eq!(
        jsonpath(
            &sandbox,
            "csvc/ledger",
            "payments",
            "{.status.publishedRevision}"
        ),
        served
    );
    assert_eq!(
        entry(&sandbox, "payments", "ledger"),
        ledger,
        "the catalog is unchanged"
    );

    // priya lowers identity's bar (2 of lee and sam) alone, hands it to omar and approves.
    let identity = entry(&sandbox, "platform", "identity");
    sandbox.kubectl_ok(&[
        "--context", "priya", "patch", "csvc", "identity", "-n", "platform", "--type", "json", "-p",
        r#"[{"op":"remove","path":"/spec/approvers"},{"op":"remove","path":"/spec/requiredApprovals"},{"op":"replace","path":"/spec/owner","value":"omar"}]"#,
    ]);
    approval(
        &sandbox,
        "priya",
        "priya-lowers",
        "platform",
        "identity",
        "priya",
    );
    assert_eq!(judged(&sandbox, "platform", "priya-lowers"), "SelfApproval");
    approval(
        &sandbox,
        "gus",
        "gus-on-identity",
        "platform",
        "identity",
        "gus",
    );
    assert_eq!(judged(&sandbox, "platform", "gus-on-identity"), "Counted");
    let progress = sandbox.wait_until(
        &[
            "get",
            "csvc",
            "identity",
            "-n",
            "platform",
            "-o",
            "jsonpath={.status.approvals.progress}",
        ],
        "1/1,0/2",
        |text| text.trim() == "1/1,0/2",
    );
    assert_eq!(
        progress.trim(),
        "1/1,0/2",
        "the approved bar still needs lee and sam"
    );
    let (_, describe) = sandbox.kubectl(&["describe", "csvc", "identity", "-n", "platform"]);
    assert!(
        describe.contains("2 more approvals from lee, sam"),
        "{describe}"
    );
    assert_eq!(
        entry(&sandbox, "platform", "identity"),
        identity,
        "the catalog is unchanged"
    );

    // admin, an approval delegate, records a decision for someone fx-rates does not list.
    approval(
        &sandbox, "admin", "invented", "payments", "fx-rates", "mallory",
    );
    assert_eq!(
        judged(&sandbox, "payments", "invented"),
        "DelegateNotAllowed"
    );

    // ledger deleted and created again with the same content: erin's old approval stays behind.
    let manifest = sandbox.kubectl_ok(&["get", "csvc", "ledger", "-n", "payments", "-o", "json"]);
    let mut object: serde_json::Value = serde_json::from_str(&manifest).expect("json");
    object["metadata"] = serde_json::json!({"name": "ledger", "namespace": "payments"});
    object.as_object_mut().unwrap().remove("status");
    let file = sandbox.manifest("ledger-again.json", &object.to_string());
    sandbox.kubectl_ok(&["delete", "csvc", "ledger", "-n", "payments", "--wait=true"]);
    sandbox.kubectl_ok(&["--context", "dana", "create", "-f", &file]);
    sandbox.wait_until(
        &[
            "get",
            "csa",
            "ledger-erin",
            "-n",
            "payments",
            "-o",
            "jsonpath={.status.reason}",
        ],
        "ServiceRecreated",
        |text| text.trim() == "ServiceRecreated",
    );
    assert_eq!(
        jsonpath(&sandbox, "csvc/ledger", "payments", "{.status.phase}"),
        "Approval"
    );
    let keys = jsonpath(
        &sandbox,
        "configmap/charter-catalog",
        CATALOG_NAMESPACE,
        "{.data}",
    );
    assert!(
        !keys.contains("payments_ledger.json"),
        "not republished: {keys}"
    );
}

/// Deletion is the owner's, but Kubernetes' garbage collector still deletes a Service whose
/// owning object is gone (the owner policy lets kube-controller-manager's collector through).
/// kube-apiserver's ground only: the embedded server has no garbage collector. The namespace
/// controller's deletions are tried on both grounds by tests/operator_process.rs.
#[test]
fn the_garbage_collector_deletes_a_service_whose_owning_object_is_gone() {
    if testkit::kubectl::probe().is_none() {
        return;
    }
    let Some(ground) = Ground::real() else {
        return;
    };
    if !ground.runs_controllers() {
        return;
    }
    let sandbox = Sandbox::launch_on(&ground, &["--api-only"]);
    sandbox.kubectl_ok(&["create", "configmap", "parent", "-n", "default"]);
    let uid = jsonpath(&sandbox, "configmap/parent", "default", "{.metadata.uid}");
    let tied = sandbox.manifest(
        "tied.yaml",
        &format!(
            "apiVersion: catalog.charter.dev/v1alpha1\nkind: Service\nmetadata: {{name: tied, namespace: default, ownerReferences: [{{apiVersion: v1, kind: ConfigMap, name: parent, uid: \"{uid}\"}}]}}\nspec: {{owner: dana, description: x, serviceLevel: {{availability: \"99\"}}}}\n"
        ),
    );
    sandbox.kubectl_ok(&["create", "-f", &tied]);
    sandbox.kubectl_ok(&["delete", "configmap", "parent", "-n", "default"]);
    sandbox.wait_until(
        &["get", "csvc", "tied", "-n", "default", "-o", "name"],
        "the garbage collector to delete the Service",
        |text| text.contains("NotFound"),
    );
}
