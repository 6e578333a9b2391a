//! The platform's ApprovalPolicy end to end, as the people concerned meet it: the built
//! `charter sandbox --apply examples/` driven by the real kubectl as each demo user (dana and
//! gus own, erin and frank approve, lee and sam are SRE leads, pat is a platform admin, admin
//! stands in for a GitOps delegate). Skips (with a note) where kubectl is not installed, and
//! fails there under `CI=true`.

use std::path::Path;

use testkit::sandbox::Sandbox;
use testkit::{Ground, on_both_grounds};

const CATALOG_NAMESPACE: &str = charter::deploy::CATALOG_NAMESPACE;
const NEEDS_SRE_LEAD: &str =
    "1 more approval from group sre-leads (ApprovalPolicy critical-and-high)";

fn get(sandbox: &Sandbox, what: &str, path: &str) -> String {
    sandbox.kubectl_ok(&[
        "get",
        what,
        "-n",
        "payments",
        "-o",
        &format!("jsonpath={path}"),
    ])
}

/// The current revision of fraud-check, once the operator has observed its last change.
fn revision(sandbox: &Sandbox) -> String {
    let observed = sandbox.wait_until(
        &[
            "get",
            "csvc",
            "fraud-check",
            "-n",
            "payments",
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
    observed
        .split(' ')
        .nth(1)
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// `user` creates `name`, `approver`'s approval of fraud-check's current revision, with a
/// justification and a groups annotation of the creator's own invention.
fn approve(sandbox: &Sandbox, user: &str, name: &str, approver: &str) -> String {
    let revision = revision(sandbox);
    let file = sandbox.manifest(
        &format!("{name}.yaml"),
        &format!(
            "apiVersion: catalog.charter.dev/v1alpha1\nkind: ServiceApproval\nmetadata:\n  name: {name}\n  namespace: payments\n  annotations:\n    catalog.charter.dev/recorded-groups: sre-leads\nspec: {{serviceName: fraud-check, revision: \"{revision}\", decision: Approved, approver: {approver}, comment: \"checked the fraud model's SLA\"}}\n"
        ),
    );
    sandbox.kubectl_ok(&["--context", user, "create", "-f", &file]);
    revision
}

fn needs(sandbox: &Sandbox, want: &str) {
    sandbox.wait_until(
        &[
            "get",
            "csvc",
            "fraud-check",
            "-n",
            "payments",
            "-o",
            "jsonpath={.status.approvals.needs}",
        ],
        want,
        |text| text.trim() == want,
    );
}

fn catalog_entry(sandbox: &Sandbox) -> String {
    sandbox.kubectl_ok(&[
        "get",
        "configmap",
        "charter-catalog",
        "-n",
        CATALOG_NAMESPACE,
        "-o",
        r"jsonpath={.data.payments_fraud-check\.json}",
    ])
}

/// The catalog entry of fraud-check once it serves `revision`.
fn serves(sandbox: &Sandbox, revision: &str) -> String {
    sandbox.wait_until(
        &[
            "get",
            "configmap",
            "charter-catalog",
            "-n",
            CATALOG_NAMESPACE,
            "-o",
            r"jsonpath={.data.payments_fraud-check\.json}",
        ],
        &format!("the catalog serving revision {revision}"),
        |text| text.contains(&format!("\"revision\": \"{revision}\"")),
    )
}

on_both_grounds!(the_platforms_bar_holds_for_owners_approvers_and_delegates);
fn the_platforms_bar_holds_for_owners_approvers_and_delegates(ground: Ground) {
    if testkit::kubectl::probe().is_none() {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sandbox = Sandbox::start_on(&ground, &root.join("examples"));
    let policy = root.join("examples/policies/critical-and-high.yaml");
    let policy = policy.to_str().expect("utf-8 path");

    // The policy cannot be written by owners or approvers; a platform admin writes it.
    for user in ["dana", "erin", "lee"] {
        sandbox.refused(user, &["apply", "-f", policy], "forbidden");
    }
    sandbox.kubectl_ok(&["--context", "pat", "apply", "-f", policy]);
    for user in ["dana", "lee"] {
        sandbox.refused(
            user,
            &["delete", "approvalpolicy", "critical-and-high"],
            "forbidden",
        );
        sandbox.refused(
            user,
            &[
                "patch",
                "cap",
                "critical-and-high",
                "--type=merge",
                "-p",
                r#"{"spec":{"minApprovals":1}}"#,
            ],
            "forbidden",
        );
    }
    // A cluster admin may change it too (as may anyone granted charter-platform-admin).
    sandbox.kubectl_ok(&[
        "--context",
        "admin",
        "annotate",
        "approvalpolicy",
        "critical-and-high",
        "example.com/owner=platform-team",
    ]);
    let listed = sandbox.kubectl_ok(&["--context", "dana", "get", "cap"]);
    assert!(listed.contains("critical-and-high"), "{listed}");

    // gus's new Critical service asks for one approval of its own.
    let service = sandbox.manifest(
        "fraud-check.yaml",
        "apiVersion: catalog.charter.dev/v1alpha1\nkind: Service\nmetadata:\n  name: fraud-check\n  namespace: payments\nspec:\n  lifecycle:\n    desiredPhase: Active\n  description: Scores every card payment for fraud.\n  owner: gus\n  approvers: [erin, frank, lee, sam]\n  requiredApprovals: 1\n  tier: Critical\n  categories:\n    - name: Risk\n  serviceLevel:\n    availability: \"99.95\"\n",
    );
    sandbox.kubectl_ok(&["--context", "gus", "apply", "-f", &service]);

    // erin approves, and tries to say she is an SRE lead: the server records her real groups.
    approve(&sandbox, "erin", "erin-1", "erin");
    let recorded = get(
        &sandbox,
        "csa/erin-1",
        r"{.metadata.annotations.catalog\.charter\.dev/recorded-groups}",
    );
    assert!(
        recorded.contains("charter:users") && !recorded.contains("sre-leads"),
        "recorded groups: {recorded}"
    );
    needs(&sandbox, NEEDS_SRE_LEAD);
    let listing = sandbox.kubectl_ok(&["get", "csvc", "fraud-check", "-n", "payments"]);
    assert!(
        listing.contains("NEEDS") && listing.contains("from group sre-leads"),
        "kubectl get csvc says what is missing:\n{listing}"
    );
    let approved = get(
        &sandbox,
        "csvc/fraud-check",
        r#"{.status.conditions[?(@.type=="Approved")].message}"#,
    );
    assert!(approved.contains(NEEDS_SRE_LEAD), "{approved}");
    assert_eq!(
        get(&sandbox, "csvc/fraud-check", "{.status.phase}"),
        "Approval"
    );
    assert!(
        catalog_entry(&sandbox).is_empty(),
        "one approval does not publish a Critical service"
    );
    // Nobody rewrites the record afterwards, not even an admin.
    sandbox.refused(
        "admin",
        &[
            "annotate",
            "csa",
            "erin-1",
            "-n",
            "payments",
            "--overwrite",
            "catalog.charter.dev/recorded-groups=sre-leads",
        ],
        "cannot be changed or removed",
    );

    // lee, an SRE lead, completes it.
    let critical = approve(&sandbox, "lee", "lee-1", "lee");
    let entry = serves(&sandbox, &critical);
    assert!(entry.contains("\"approvalPolicies\""), "{entry}");
    assert!(entry.contains("critical-and-high"), "{entry}");
    assert_eq!(
        get(&sandbox, "csa/lee-1", "{.status.judgedUnder[0].name}"),
        "critical-and-high"
    );

    // gus lowers the tier in a new revision; frank approves it and a delegate records lee's
    // approval: two approvals, but no SRE lead vouched for by the server.
    sandbox.kubectl_ok(&[
        "--context",
        "gus",
        "patch",
        "csvc",
        "fraud-check",
        "-n",
        "payments",
        "--type=merge",
        "-p",
        r#"{"spec":{"tier":"Low"}}"#,
    ]);
    let low = approve(&sandbox, "frank", "frank-1", "frank");
    assert_ne!(low, critical);
    approve(&sandbox, "admin", "lee-by-delegate", "lee");
    // The delegate's record counts toward the quorum, not toward the group.
    sandbox.wait_for(
        &[
            "get",
            "csa",
            "lee-by-delegate",
            "-n",
            "payments",
            "-o",
            "jsonpath={.status.reason}",
        ],
        "Counted",
    );
    needs(&sandbox, NEEDS_SRE_LEAD);
    let entry = catalog_entry(&sandbox);
    assert!(
        entry.contains(&format!("\"revision\": \"{critical}\"")),
        "the catalog keeps the Critical revision:\n{entry}"
    );

    // sam approves in his own name: the Low revision was approved under the Critical bar.
    approve(&sandbox, "sam", "sam-1", "sam");
    serves(&sandbox, &low);

    // A review: the tool warns the owner off, and refuses an approval without the required
    // justification; erin records one, and it shows.
    let (ok, text) = sandbox.charter(&[
        "review",
        "fraud-check",
        "-n",
        "payments",
        "--context",
        "gus",
    ]);
    assert!(!ok && text.contains("owns the Service"), "{text}");
    // The Critical ledger of the examples is still under the policy.
    let (ok, text) =
        sandbox.charter(&["approve", "ledger", "-n", "payments", "--context", "frank"]);
    assert!(!ok && text.contains("requires a justification"), "{text}");
    let (ok, text) = sandbox.charter(&[
        "review",
        "fraud-check",
        "-n",
        "payments",
        "--context",
        "erin",
        "--comment",
        "runbook and alerts checked",
    ]);
    assert!(ok, "{text}");
    sandbox.wait_for(
        &[
            "get",
            "csvc",
            "fraud-check",
            "-n",
            "payments",
            "-o",
            "jsonpath={.status.lastReview.by} {.status.lastReview.revision} {.status.lastReview.outcome}",
        ],
        &format!("erin {low} Confirmed"),
    );
    sandbox.wait_until(
        &[
            "get",
            "configmap",
            "charter-catalog",
            "-n",
            CATALOG_NAMESPACE,
            "-o",
            r"jsonpath={.data.payments_fraud-check\.json}",
        ],
        "the review in the catalog's provenance",
        |text| text.contains("\"lastReview\"") && text.contains("\"by\": \"erin\""),
    );
}
