//! `charter sandbox --control-plane DIR` on the real etcd, kube-apiserver and
//! kube-controller-manager, driven by the real kubectl: the examples converge, the catalog is
//! published, and deploy/'s policies and RBAC refuse what they refuse on a cluster. Needs the
//! binaries (`CHARTER_CONTROL_PLANE="$(scripts/control-plane)"`, or envtest's
//! `KUBEBUILDER_ASSETS`) and kubectl: skips with a note where they are missing, and fails
//! there under `CI=true`.

use std::path::Path;
use std::time::{Duration, Instant};

#[path = "common/sandbox.rs"]
mod sandbox;
#[path = "common/tools.rs"]
mod tools;

use sandbox::Sandbox;

#[test]
fn the_examples_converge_and_a_forged_approval_is_refused_by_kube_apiserver() {
    if !tools::kubectl() {
        return;
    }
    let Some(binaries) = tools::control_plane() else {
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

    sandbox.kubectl_ok(&[
        "wait",
        "--for=condition=Ready",
        "csvc/ledger",
        "-n",
        "payments",
        "--timeout=120s",
    ]);
    sandbox.wait_until(
        &[
            "get",
            "configmap",
            "charter-catalog",
            "-n",
            "charter-system",
        ],
        "the catalog ConfigMap",
        |text| text.contains("charter-catalog"),
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
    // environment and the CRDs' schemas, but only rules naming their versions: deploy/'s match
    // `apiVersions: ["*"]` and are never checked. So each is checked here as a copy matching
    // the served versions (v1alpha1, v1 for ConfigMaps), left unbound (it enforces nothing):
    // not one expression may read differently. (Rules on subresources alone, as the
    // status-writer's, are not type-checked; MutatingAdmissionPolicies are not at all.)
    if binaries.join("kube-controller-manager").is_file() {
        let mut copies = Vec::new();
        for mut policy in charter::deploy::security_objects(&[]) {
            if policy["kind"] != "ValidatingAdmissionPolicy" {
                continue;
            }
            let name = format!(
                "typecheck-{}",
                policy["metadata"]["name"].as_str().unwrap_or("")
            );
            policy["metadata"] = serde_json::json!({"name": name});
            if let Some(rules) = policy["spec"]["matchConstraints"]["resourceRules"].as_array_mut()
            {
                for rule in rules {
                    let core = rule["apiGroups"] == serde_json::json!([""]);
                    rule["apiVersions"] = serde_json::json!([if core { "v1" } else { "v1alpha1" }]);
                }
            }
            copies.push(policy);
        }
        assert!(copies.len() >= 5, "deploy/'s policies: {copies:?}");
        let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": copies});
        let file = sandbox.manifest("typecheck.json", &list.to_string());
        sandbox.kubectl_ok(&["apply", "-f", &file]);
        let listing = r#"jsonpath={range .items[*]}{.metadata.name} {.metadata.generation}={.status.observedGeneration} {.status.typeChecking}{"\n"}{end}"#;
        let checked = sandbox.wait_until(
            &["get", "validatingadmissionpolicies", "-o", listing],
            "every copy type-checked",
            |text| {
                let copies: Vec<&str> = text
                    .lines()
                    .filter(|l| l.starts_with("typecheck-"))
                    .collect();
                copies.len() == list["items"].as_array().map_or(0, Vec::len)
                    && copies.iter().all(|l| {
                        l.split_whitespace()
                            .nth(1)
                            .and_then(|g| g.split_once('='))
                            .is_some_and(|(generation, observed)| generation == observed)
                    })
            },
        );
        assert!(!checked.contains("expressionWarnings"), "{checked}");
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
