//! `charter sandbox --control-plane DIR` on the real etcd, kube-apiserver and
//! kube-controller-manager, driven by the real kubectl: the examples converge, the catalog is
//! published, and deploy/'s policies and RBAC refuse what they refuse on a cluster. Needs the
//! binaries (`CHARTER_CONTROL_PLANE="$(scripts/control-plane)"`, or envtest's
//! `KUBEBUILDER_ASSETS`) and kubectl: skips with a note where they are missing, and fails
//! there under `CI=true`.

use std::path::Path;
use std::time::{Duration, Instant};

use testkit::sandbox::Sandbox;

#[test]
fn the_examples_converge_and_a_forged_approval_is_refused_by_kube_apiserver() {
    if testkit::kubectl::probe().is_none() {
        return;
    }
    let Some(binaries) = testkit::control_plane() else {
        return;
    };
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let sandbox = Sandbox::start_with(
        &examples,
        &["--control-plane".as_ref(), binaries.as_os_str()],
    );
    assert!(
        sandbox
            .printed
            .iter()
            .any(|l| l.contains("kube-apiserver v1.")),
        "runs on kube-apiserver: {:?}",
        sandbox.printed
    );
    let data = sandbox
        .printed
        .iter()
        .find_map(|l| l.strip_prefix("data and logs: "))
        .expect("the data directory is printed")
        .to_string();
    assert!(
        Path::new(&data).join("kube-apiserver.log").is_file(),
        "{data}"
    );

    // The server kubectl talks to is kube-apiserver itself, with its release's version.
    let version = sandbox.kubectl_ok(&["get", "--raw", "/version"]);
    let json = &version[version.find('{').unwrap_or(0)..=version.rfind('}').unwrap_or(0)];
    let version: serde_json::Value = serde_json::from_str(json).expect("/version is JSON");
    let git_version = version["gitVersion"].as_str().unwrap_or("");
    assert!(
        git_version.starts_with("v1.") && !git_version.contains("0.0.0"),
        "{version}"
    );

    sandbox.wait_ready("ledger", "payments", 120);
    sandbox.wait_until(
        &[
            "get",
            "configmap",
            "charter-catalog",
            "-n",
            charter::deploy::CATALOG_NAMESPACE,
            "-o",
            "name",
        ],
        "the catalog ConfigMap",
        |text| text.trim() == "configmap/charter-catalog",
    );
    // The real MutatingAdmissionPolicy stamped who created it.
    let annotations = sandbox.kubectl_ok(&[
        "get",
        "csvc",
        "ledger",
        "-n",
        "payments",
        "-o",
        "jsonpath={.metadata.annotations}",
    ]);
    assert!(
        annotations.contains(r#""catalog.charter.dev/created-by":"admin""#),
        "{annotations}"
    );

    // gus records a decision in erin's name: the real ValidatingAdmissionPolicy refuses it.
    let forged = sandbox.manifest(
        "forged.yaml",
        "apiVersion: catalog.charter.dev/v1alpha1\nkind: ServiceApproval\nmetadata: {name: forged, namespace: payments}\nspec: {serviceName: card-vault, revision: \"008700f819\", decision: Approved, approver: erin}\n",
    );
    let (ok, text) = sandbox.kubectl(&["--context", "gus", "apply", "-f", &forged]);
    assert!(!ok, "the forged approval was accepted:\n{text}");
    assert!(
        text.contains("ValidatingAdmissionPolicy 'charter-approval-approver'")
            && text.contains("denied request"),
        "refused for another reason:\n{text}"
    );
    // And RBAC keeps the status to the operator.
    let (ok, text) = sandbox.kubectl(&[
        "--context",
        "gus",
        "patch",
        "csvc",
        "card-vault",
        "-n",
        "payments",
        "--subresource=status",
        "--type",
        "merge",
        "-p",
        r#"{"status":{"approvedRevision":"008700f819","phase":"Active"}}"#,
    ]);
    assert!(
        !ok && text.contains(r#"User "gus" cannot patch resource "services/status""#),
        "{text}"
    );

    // kube-controller-manager type-checks ValidatingAdmissionPolicies against the real CEL
    // environment and the CRDs' schemas (rules naming their versions: deploy/'s name
    // v1alpha1, and v1 for ConfigMaps) and writes the result to status.typeChecking: not one
    // of deploy/'s expressions may read differently there. (Rules on subresources alone, as
    // the status-writer's, are not type-checked; MutatingAdmissionPolicies are not at all.)
    if binaries.join("kube-controller-manager").is_file() {
        let policies: Vec<String> = charter::deploy::security_objects(&[])
            .iter()
            .filter(|o| o["kind"] == "ValidatingAdmissionPolicy")
            .filter_map(|o| o["metadata"]["name"].as_str().map(str::to_owned))
            .collect();
        assert!(policies.len() >= 5, "deploy/'s policies: {policies:?}");
        let listing = r#"jsonpath={range .items[*]}{.metadata.name} {.metadata.generation}={.status.observedGeneration} {.status.typeChecking}{"\n"}{end}"#;
        let checked = sandbox.wait_until(
            &["get", "validatingadmissionpolicies", "-o", listing],
            "every policy of deploy/ type-checked",
            |text| {
                policies.iter().all(|name| {
                    text.lines().any(|l| {
                        l.split_whitespace().next() == Some(name.as_str())
                            && l.split_whitespace()
                                .nth(1)
                                .and_then(|g| g.split_once('='))
                                .is_some_and(|(generation, observed)| generation == observed)
                    })
                })
            },
        );
        assert!(!checked.contains("expressionWarnings"), "{checked}");
    }

    // deploy/ installs with kubectl as a user installs it, over what the sandbox installed:
    // `deploy/` from 1.36, `deploy-kubernetes-1.35/` before (MutatingAdmissionPolicy v1beta1).
    let minor: u32 = git_version
        .trim_start_matches('v')
        .split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .expect("a minor version");
    let kustomization = if minor >= charter::deploy::MUTATING_POLICY_V1_MINOR {
        "deploy"
    } else {
        "deploy-kubernetes-1.35"
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let installed = sandbox.kubectl_ok(&[
        "apply",
        "-k",
        root.join(kustomization).to_str().expect("utf-8 path"),
    ]);
    assert!(
        installed.contains("deployment.apps/charter")
            && installed.contains(
                "mutatingadmissionpolicy.admissionregistration.k8s.io/charter-service-created-by"
            ),
        "{installed}"
    );
    if kustomization != "deploy" {
        // deploy/ itself names MutatingAdmissionPolicy v1, which this release does not serve.
        let (ok, text) = sandbox.kubectl(&[
            "apply",
            "--dry-run=server",
            "-k",
            root.join("deploy").to_str().expect("utf-8 path"),
        ]);
        assert!(!ok && text.contains("MutatingAdmissionPolicy"), "{text}");
    }

    // Stopping the sandbox stops etcd, kube-apiserver and kube-controller-manager with it.
    drop(sandbox);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = processes_mentioning(&data);
        if left.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "left running after the sandbox stopped: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The command lines of running processes that mention `text` (Linux /proc; elsewhere none).
fn processes_mentioning(text: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|raw| String::from_utf8_lossy(&raw).replace('\0', " "))
        .filter(|cmdline| cmdline.contains(text))
        .collect()
}
