//! End to end, as a new user would: the built `charter sandbox` process driven by the real
//! kubectl and `charter approve`. Skips (with a note) where kubectl is not installed, and
//! fails there under `CI=true`.

use std::path::Path;

use testkit::sandbox::Sandbox;
use testkit::{Ground, on_both_grounds};

on_both_grounds!(a_new_user_applies_approves_and_reads_the_catalog);
fn a_new_user_applies_approves_and_reads_the_catalog(ground: Ground) {
    if testkit::kubectl::probe().is_none() {
        return;
    }
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let sandbox = Sandbox::start_on(&ground, &examples);

    // The examples converge: identity has its quorum of two.
    sandbox.wait_ready("identity", "platform", 60);
    let listing = sandbox.kubectl_ok(&["get", "csvc", "-A"]);
    assert!(
        listing.contains("PHASE") && listing.contains("APPROVALS"),
        "printer columns shown:\n{listing}"
    );
    assert!(
        listing
            .lines()
            .any(|l| l.contains("identity") && l.contains("Active") && l.contains("2/2")),
        "{listing}"
    );
    assert!(
        listing
            .lines()
            .any(|l| l.contains("card-vault") && l.contains("Planning")),
        "the rejected one is back in Planning:\n{listing}"
    );

    // A service of the user's own, through Approval to Active.
    let manifest = sandbox.dir.path().join("billing.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: catalog.charter.dev/v1alpha1\nkind: Service\nmetadata:\n  name: billing\n  namespace: payments\nspec:\n  lifecycle:\n    desiredPhase: Active\n  description: Invoices customers monthly.\n  owner: gus\n  approvers: [frank]\n  categories:\n    - name: Finance\n  serviceLevel:\n    availability: \"99.5\"\n",
    )
    .expect("manifest written");
    sandbox.kubectl_ok(&["apply", "-f", manifest.to_str().expect("utf-8 path")]);
    sandbox.wait_for(
        &[
            "get",
            "csvc",
            "billing",
            "-n",
            "payments",
            "-o",
            "jsonpath={.status.phase}",
        ],
        "Approval",
    );

    // The owner's own approval will not count: refused unless forced, and then it does not count;
    // frank's does.
    let (ok, text) = sandbox.charter(&["approve", "billing", "-n", "payments", "--context", "gus"]);
    assert!(
        !ok && text.contains("owns the Service") && text.contains("--force"),
        "{text}"
    );
    let (ok, text) = sandbox.charter(&[
        "approve",
        "billing",
        "-n",
        "payments",
        "--context",
        "gus",
        "--force",
    ]);
    assert!(ok && text.contains("warning"), "{text}");
    let (ok, text) = sandbox.charter(&[
        "approve",
        "billing",
        "-n",
        "payments",
        "--context",
        "frank",
        "--comment",
        "fine",
    ]);
    assert!(ok, "{text}");
    let (ok, text) =
        sandbox.charter(&["approve", "billing", "-n", "payments", "--context", "frank"]);
    assert!(
        !ok && text.contains("already"),
        "a second decision on the same revision is refused: {text}"
    );

    // For a pull request: the revision computed offline, and a changed mind as a manifest with a
    // deterministic name, printed and not created.
    let (ok, revisions) =
        sandbox.charter(&["revision", "-f", manifest.to_str().expect("utf-8 path")]);
    let revision = revisions
        .trim()
        .strip_prefix("payments/billing\t")
        .unwrap_or_else(|| panic!("{ok} {revisions}"))
        .to_owned();
    let (ok, yaml) = sandbox.charter(&[
        "reject",
        "billing",
        "-n",
        "payments",
        "--context",
        "frank",
        "--dry-run",
        "-o",
        "yaml",
    ]);
    let name = format!("billing-{revision}-frank-rejected");
    assert!(
        ok && yaml.contains(&format!("name: {name}"))
            && yaml.contains("decision: Rejected")
            && yaml.contains(&revision),
        "{yaml}"
    );
    let (exists, _) = sandbox.kubectl(&["get", "csa", &name, "-n", "payments"]);
    assert!(!exists, "a dry run creates nothing");
    sandbox.wait_ready("billing", "payments", 60);
    let counted = sandbox.kubectl_ok(&[
        "get",
        "csa",
        "-n",
        "payments",
        "-o",
        "custom-columns=APPROVER:.spec.approver,REASON:.status.reason",
        "--no-headers",
    ]);
    assert!(
        counted
            .lines()
            .any(|l| l.starts_with("gus") && l.contains("SelfApproval")),
        "{counted}"
    );

    let entry = sandbox.wait_until(
        &[
            "get",
            "configmap",
            "charter-catalog",
            "-n",
            "charter-catalog",
            "-o",
            "jsonpath={.data.payments_billing\\.json}",
        ],
        "the billing entry",
        |text| text.contains("Invoices customers monthly."),
    );
    assert!(
        entry.contains("frank"),
        "the catalog entry names its approver:\n{entry}"
    );
}

on_both_grounds!(nobody_approves_in_anothers_name_or_forges_a_status);
fn nobody_approves_in_anothers_name_or_forges_a_status(ground: Ground) {
    if testkit::kubectl::probe().is_none() {
        return;
    }
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let sandbox = Sandbox::start_on(&ground, &examples);
    sandbox.wait_ready("ledger", "payments", 60);
    let revision = sandbox.kubectl_ok(&[
        "get",
        "csvc",
        "card-vault",
        "-n",
        "payments",
        "-o",
        "jsonpath={.status.revision}",
    ]);

    // gus guesses the admin's or the operator's token: the tokens are random for each run, and
    // the kubeconfig holding them is readable by its owner only.
    for guess in ["admin-token", "charter-system-charter-token"] {
        let (ok, text) = sandbox.kubectl(&["--token", guess, "get", "namespaces"]);
        assert!(!ok && text.contains("Unauthorized"), "{guess}: {text}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&sandbox.kubeconfig)
            .expect("the kubeconfig")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the kubeconfig is private");
    }

    // gus approves card-vault in erin's name: refused by the admission policy.
    let forged = sandbox.manifest("forged.yaml",
        &format!(
            "apiVersion: catalog.charter.dev/v1alpha1\nkind: ServiceApproval\nmetadata:\n  name: forged\n  namespace: payments\nspec:\n  serviceName: card-vault\n  revision: \"{revision}\"\n  decision: Approved\n  approver: erin\n"
        ),
    );
    let (ok, text) = sandbox.kubectl(&["--context", "gus", "apply", "-f", &forged]);
    assert!(!ok, "a forged approval is refused: {text}");
    assert!(
        text.contains("Error from server (Forbidden)")
            && text.contains("ValidatingAdmissionPolicy 'charter-approval-approver' with binding 'charter-approval-approver' denied request")
            && text.contains("gus may not record a decision in the name of erin"),
        "{text}"
    );
    // The same approval in erin's own name is accepted.
    let (ok, text) = sandbox.kubectl(&["--context", "erin", "apply", "-f", &forged]);
    assert!(ok, "erin records her own decision: {text}");

    // gus writes a status that claims an approval: refused by RBAC.
    let patch = format!(r#"{{"status":{{"approvedRevision":"{revision}","phase":"Active"}}}}"#);
    let (ok, text) = sandbox.kubectl(&[
        "--context",
        "gus",
        "patch",
        "csvc",
        "fx-rates",
        "-n",
        "payments",
        "--subresource=status",
        "--type",
        "merge",
        "-p",
        &patch,
    ]);
    assert!(!ok, "{text}");
    assert!(
        text.contains(r#"services.catalog.charter.dev "fx-rates" is forbidden: User "gus" cannot patch resource "services/status" in API group "catalog.charter.dev" in the namespace "payments""#),
        "{text}"
    );
    // Even the cluster admin cannot: the status-writer policy holds beside RBAC.
    let (ok, text) = sandbox.kubectl(&[
        "patch",
        "csvc",
        "fx-rates",
        "-n",
        "payments",
        "--subresource=status",
        "--type",
        "merge",
        "-p",
        &patch,
    ]);
    assert!(
        !ok && text.contains("only the Charter operator writes status"),
        "{text}"
    );
    assert_eq!(
        sandbox
            .kubectl_ok(&[
                "get",
                "csvc",
                "fx-rates",
                "-n",
                "payments",
                "-o",
                "jsonpath={.status.phase}"
            ])
            .trim(),
        "Planning"
    );

    // What each kind of user may do, as `kubectl auth can-i` tells it.
    for (user, verb, resource, want) in [
        ("gus", "create", "services.catalog.charter.dev", "yes"),
        (
            "gus",
            "patch",
            "services.catalog.charter.dev --subresource=status",
            "no",
        ),
        (
            "erin",
            "create",
            "serviceapprovals.catalog.charter.dev",
            "yes",
        ),
        (
            "erin",
            "delete",
            "serviceapprovals.catalog.charter.dev",
            "no",
        ),
        (
            "erin",
            "update",
            "serviceapprovals.catalog.charter.dev",
            "no",
        ),
        ("erin", "create", "configmaps", "no"),
    ] {
        let mut args = vec!["--context", user, "auth", "can-i", verb, "-n", "payments"];
        args.extend(resource.split(' '));
        let (_, text) = sandbox.kubectl(&args);
        assert_eq!(text.trim(), want, "{user} {verb} {resource}");
    }
    // Any user reads the catalog, from any namespace.
    let (_, text) = sandbox.kubectl(&[
        "--context",
        "sam",
        "auth",
        "can-i",
        "get",
        "configmaps/charter-catalog",
        "-n",
        "charter-catalog",
    ]);
    assert_eq!(text.trim(), "yes");
    // ... and nothing of the operator's configuration (the approval delegates).
    let (_, text) = sandbox.kubectl(&[
        "--context",
        "sam",
        "auth",
        "can-i",
        "get",
        "configmaps/charter-admission",
        "-n",
        "charter-system",
    ]);
    assert_eq!(text.trim(), "no");

    // The server records who created a Service, and nobody changes it afterwards.
    let creator = sandbox.kubectl_ok(&[
        "get",
        "csvc",
        "ledger",
        "-n",
        "payments",
        "-o",
        r"jsonpath={.metadata.annotations.catalog\.charter\.dev/created-by}",
    ]);
    assert_eq!(creator.trim(), "admin");
    let (ok, text) = sandbox.kubectl(&[
        "--context",
        "dana",
        "annotate",
        "--overwrite",
        "csvc",
        "ledger",
        "-n",
        "payments",
        "catalog.charter.dev/created-by=dana",
    ]);
    assert!(
        !ok && text.contains("cannot be changed or removed"),
        "{text}"
    );
}

on_both_grounds!(a_consumer_reads_the_catalog_from_their_own_namespace);
/// A consumer in a namespace of their own reads the catalog where it lives, and reads (as a pod
/// there would mount) the copy the operator keeps in their namespace once it opts in.
fn a_consumer_reads_the_catalog_from_their_own_namespace(ground: Ground) {
    if testkit::kubectl::probe().is_none() {
        return;
    }
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let sandbox = Sandbox::start_on(&ground, &examples);
    let source = [
        "get",
        "configmap",
        "charter-catalog",
        "-n",
        "charter-catalog",
    ];
    let listing = "jsonpath={.data.services\\.json}";
    // Any authenticated user reads the catalog in charter-catalog.
    let served = sandbox.wait_until(
        &[
            "--context",
            "lee",
            source[0],
            source[1],
            source[2],
            source[3],
            source[4],
            "-o",
            listing,
        ],
        "the ledger listed",
        |text| text.contains("\"key\":\"payments_ledger.json\""),
    );

    sandbox.kubectl_ok(&["create", "namespace", "storefront"]);
    sandbox.kubectl_ok(&[
        "label",
        "namespace",
        "storefront",
        "catalog.charter.dev/mirror=true",
    ]);
    // The namespace's admin lets its team read ConfigMaps there, as a `view` grant would.
    let grant = sandbox.manifest("grant.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: team-reads-config, namespace: storefront}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: charter-catalog-reader}\nsubjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: lee}]\n",
    );
    sandbox.kubectl_ok(&["apply", "-f", &grant]);

    let copy = [
        "--context",
        "lee",
        "get",
        "configmap",
        "charter-catalog",
        "-n",
        "storefront",
        "-o",
    ];
    let mine = sandbox.wait_until(&[&copy[..], &[listing]].concat(), "the copy", |text| {
        text == served
    });
    assert!(mine.contains("payments_ledger.json"), "{mine}");
    let whole = "jsonpath={.data}";
    assert_eq!(
        sandbox.kubectl_ok(&[&copy[..], &[whole]].concat()),
        sandbox.kubectl_ok(&[&source[..], &["-o", whole]].concat()),
        "the copy is the catalog, byte for byte"
    );
    let (ok, text) = sandbox.kubectl(&[
        "--context",
        "lee",
        "delete",
        "configmap",
        "charter-catalog",
        "-n",
        "storefront",
    ]);
    assert!(
        !ok && text.contains("Forbidden"),
        "readers read only: {text}"
    );

    sandbox.kubectl_ok(&[
        "label",
        "namespace",
        "storefront",
        "catalog.charter.dev/mirror-",
    ]);
    sandbox.wait_until(&[&copy[..], &[listing]].concat(), "the copy gone", |text| {
        text.contains("NotFound")
    });
}
