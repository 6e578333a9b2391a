//! The operator as a cluster runs it, on both grounds: `charter sandbox --api-only` (the
//! embedded server, or with `--control-plane` real etcd, kube-apiserver and
//! kube-controller-manager), and `charter run --context operator` processes started here as
//! deploy/'s ServiceAccount, from the kubeconfig the sandbox writes. The operator killed
//! (SIGKILL) mid-flight and restarted, two `--leader-elect` replicas with the leader killed,
//! and a namespace deleted under the catalog. Skips (with a note) without kubectl, and fails
//! there under `CI=true`.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use testkit::sandbox::Sandbox;

const CHARTER: &str = env!("CARGO_BIN_EXE_charter");
use testkit::{Ground, on_both_grounds};

/// A `charter run` process; killed (SIGKILL) when dropped.
struct Operator {
    name: String,
    child: Child,
}

impl Operator {
    fn start(sandbox: &Sandbox, name: &str, extra: &[&str]) -> Operator {
        let child = Command::new(CHARTER)
            .args(["run", "--context", "operator", "--http-addr", "127.0.0.1:0"])
            .args(extra)
            .env("KUBECONFIG", &sandbox.kubeconfig)
            .env("POD_NAME", name)
            .env(
                "RUST_LOG",
                std::env::var("CHARTER_TEST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("charter run starts");
        Operator {
            name: name.into(),
            child,
        }
    }

    /// SIGKILL: no graceful stop, whatever is in flight is cut.
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn api_only(ground: &Ground) -> Sandbox {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let examples = examples.to_str().expect("utf-8 path");
    let sandbox = Sandbox::launch_on(ground, &["--api-only", "--apply", examples]);
    let contexts = sandbox.kubectl_ok(&["config", "get-contexts", "-o", "name"]);
    assert!(
        contexts.lines().any(|c| c == "operator"),
        "--api-only writes the operator's context: {contexts}"
    );
    let who = sandbox.kubectl_ok(&[
        "--context",
        "operator",
        "auth",
        "whoami",
        "-o",
        "jsonpath={.status.userInfo.username}",
    ]);
    assert_eq!(who.trim(), charter::deploy::operator_user());
    sandbox
}

/// The keys of the catalog's `services.json` (a JSON array, one brief a line: every published
/// Service), sorted.
fn catalog_keys(sandbox: &Sandbox) -> Vec<String> {
    let (_, text) = sandbox.kubectl(&[
        "get",
        "configmap",
        "charter-catalog",
        "-n",
        charter::deploy::CATALOG_NAMESPACE,
        "-o",
        r"jsonpath={.data.services\.json}",
    ]);
    let listed: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap_or_default();
    let mut keys: Vec<String> = listed
        .iter()
        .filter_map(|v| v["key"].as_str().map(str::to_owned))
        .collect();
    keys.sort();
    keys
}

/// Waits until the catalog lists exactly `want`.
fn catalog_is(sandbox: &Sandbox, want: &[&str]) {
    let mut want: Vec<String> = want.iter().map(|k| k.to_string()).collect();
    want.sort();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        let keys = catalog_keys(sandbox);
        if keys == want {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the catalog never listed exactly {want:?}; last: {keys:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// What the examples publish.
const EXAMPLES: &[&str] = &[
    "payments_ledger.json",
    "platform_identity.json",
    "platform_message-bus.json",
];

/// `n` Services in `payments` owned by gus, approvable by frank, each with frank's approval of
/// its revision (recorded by admin, an approval delegate), as one manifest.
fn batch(sandbox: &Sandbox, prefix: &str, n: usize) -> Vec<String> {
    let services: String = (0..n)
        .map(|i| {
            format!(
                "apiVersion: catalog.charter.dev/v1alpha1\nkind: Service\nmetadata: {{name: {prefix}-{i}, namespace: payments}}\nspec:\n  owner: gus\n  approvers: [frank]\n  description: Batch service {i}.\n  serviceLevel: {{availability: \"99.5\"}}\n  categories: [{{name: Finance}}]\n  lifecycle: {{desiredPhase: Active}}\n---\n"
            )
        })
        .collect();
    let file = sandbox.manifest(&format!("{prefix}-services.yaml"), &services);
    let (ok, revisions) = sandbox.charter(&["revision", "-f", &file]);
    assert!(ok, "{revisions}");
    let approvals: String = revisions
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(service, revision)| {
            let name = service.trim_start_matches("payments/");
            format!(
                "apiVersion: catalog.charter.dev/v1alpha1\nkind: ServiceApproval\nmetadata: {{name: {name}-frank, namespace: payments}}\nspec: {{serviceName: {name}, revision: \"{revision}\", decision: Approved, approver: frank}}\n---\n"
            )
        })
        .collect();
    let approvals = sandbox.manifest(&format!("{prefix}-approvals.yaml"), &approvals);
    sandbox.kubectl_ok(&["apply", "-f", &file]);
    sandbox.kubectl_ok(&["apply", "-f", &approvals]);
    (0..n)
        .map(|i| format!("payments_{prefix}-{i}.json"))
        .collect()
}

on_both_grounds!(the_operator_killed_mid_flight_and_restarted_publishes_everything_once);
fn the_operator_killed_mid_flight_and_restarted_publishes_everything_once(ground: Ground) {
    if testkit::kubectl::probe().is_none() {
        return;
    }
    let sandbox = api_only(&ground);
    let mut want = batch(&sandbox, "kill", 30);
    want.extend(EXAMPLES.iter().map(|k| k.to_string()));
    let first = Operator::start(&sandbox, "charter-first", &[]);
    // Killed once it has published some, before it has published all.
    sandbox.wait_until(
        &[
            "get",
            "csvc",
            "-n",
            "payments",
            "-o",
            "jsonpath={.items[*].status.phase}",
        ],
        "some Services Active",
        |text| text.split_whitespace().any(|p| p == "Active"),
    );
    first.kill();
    let _second = Operator::start(&sandbox, "charter-second", &[]);
    let want: Vec<&str> = want.iter().map(String::as_str).collect();
    catalog_is(&sandbox, &want);
    let phases = sandbox.kubectl_ok(&[
        "get",
        "csvc",
        "-n",
        "payments",
        "-o",
        r#"jsonpath={range .items[*]}{.metadata.name}={.status.phase}{"\n"}{end}"#,
    ]);
    for i in 0..30 {
        assert!(
            phases.lines().any(|l| l == format!("kill-{i}=Active")),
            "kill-{i}:\n{phases}"
        );
    }
}

on_both_grounds!(two_replicas_elect_one_leader_and_the_standby_takes_over_when_it_is_killed);
fn two_replicas_elect_one_leader_and_the_standby_takes_over_when_it_is_killed(ground: Ground) {
    if testkit::kubectl::probe().is_none() {
        return;
    }
    let sandbox = api_only(&ground);
    let args = ["--leader-elect", "--lease-duration-seconds", "3"];
    let mut replicas = vec![
        Operator::start(&sandbox, "charter-a", &args),
        Operator::start(&sandbox, "charter-b", &args),
    ];
    let lease = [
        "get",
        "lease",
        "charter-leader",
        "-n",
        charter::deploy::NAMESPACE,
        "-o",
        "jsonpath={.spec.holderIdentity}",
    ];
    let first = sandbox
        .wait_until(&lease, "a leader", |t| t.starts_with("charter-"))
        .trim()
        .to_owned();
    catalog_is(&sandbox, EXAMPLES);

    let leader = replicas
        .iter()
        .position(|r| r.name == first)
        .expect("the holder is one of the replicas");
    replicas.remove(leader).kill();
    let second = sandbox
        .wait_until(&lease, "the standby to take over", |t| {
            t.starts_with("charter-") && t.trim() != first
        })
        .trim()
        .to_owned();
    assert_eq!(second, replicas[0].name);

    let mut want = batch(&sandbox, "failover", 3);
    want.extend(EXAMPLES.iter().map(|k| k.to_string()));
    let want: Vec<&str> = want.iter().map(String::as_str).collect();
    catalog_is(&sandbox, &want);
}

on_both_grounds!(a_deleted_namespace_leaves_the_catalog);
fn a_deleted_namespace_leaves_the_catalog(ground: Ground) {
    if testkit::kubectl::probe().is_none() {
        return;
    }
    // Without a namespace controller a namespace never finishes terminating.
    if !ground.runs_controllers() {
        return;
    }
    let sandbox = api_only(&ground);
    let _operator = Operator::start(&sandbox, "charter", &[]);
    catalog_is(&sandbox, EXAMPLES);
    sandbox.kubectl_ok(&["delete", "namespace", "payments", "--wait=false"]);
    catalog_is(
        &sandbox,
        &["platform_identity.json", "platform_message-bus.json"],
    );
    // The namespace finishes terminating (kube-controller-manager's namespace controller on
    // the real ground): the operator's finalizers, if any, never hold it.
    sandbox.wait_until(
        &["get", "namespace", "payments", "-o", "name"],
        "payments gone",
        |text| text.contains("NotFound"),
    );
    let (_, left) = sandbox.kubectl(&["get", "csvc,csa", "-n", "payments", "-o", "name"]);
    assert!(
        left.trim().is_empty() || left.contains("No resources"),
        "{left}"
    );
}
