//! End to end, as a new user would: the built `charter sandbox` process driven by the real
//! kubectl and `charter approve`. Skips (with a note) where kubectl is not installed.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHARTER: &str = env!("CARGO_BIN_EXE_charter");

fn kubectl_available() -> bool {
    Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The sandbox process; stopped with SIGTERM (then killed) when dropped.
struct Sandbox {
    child: Child,
    kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

impl Sandbox {
    fn start(apply: &Path) -> Sandbox {
        let dir = tempfile::tempdir().expect("tempdir");
        let kubeconfig = dir.path().join("kubeconfig");
        let mut child = Command::new(CHARTER)
            .args(["sandbox", "--apply"])
            .arg(apply)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("charter sandbox starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut seen = Vec::new();
        loop {
            match lines.next() {
                Some(Ok(line)) => {
                    let ready = line.contains("Press Ctrl-C");
                    seen.push(line);
                    if ready {
                        break;
                    }
                }
                _ => panic!(
                    "sandbox exited before it was ready; it printed:\n{}",
                    seen.join("\n")
                ),
            }
        }
        // Keep draining stdout so the process never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        assert!(
            seen.iter()
                .any(|l| l.contains("services.catalog.charter.dev/ledger")),
            "sandbox applied the examples: {seen:?}"
        );
        Sandbox {
            child,
            kubeconfig,
            _dir: dir,
        }
    }

    fn kubectl(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .output()
            .expect("kubectl runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    fn kubectl_ok(&self, args: &[&str]) -> String {
        let (ok, text) = self.kubectl(args);
        assert!(ok, "kubectl {args:?} failed:\n{text}");
        text
    }

    fn charter(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new(CHARTER)
            .env("KUBECONFIG", &self.kubeconfig)
            .args(args)
            .output()
            .expect("charter runs");
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }

    /// Poll `kubectl get -o jsonpath` until it prints `want`.
    fn wait_for(&self, args: &[&str], want: &str) -> String {
        self.wait_until(args, want, |text| text.trim() == want)
    }

    /// Poll kubectl until its output satisfies `done`; returns that output.
    fn wait_until(&self, args: &[&str], want: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (_, text) = self.kubectl(args);
            if done(&text) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "kubectl {args:?} never printed {want:?}; last: {text}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_new_user_applies_approves_and_reads_the_catalog() {
    if !kubectl_available() {
        println!("skipped: kubectl is not on PATH");
        return;
    }
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let sandbox = Sandbox::start(&examples);

    // The examples converge: identity has its quorum of two.
    sandbox.kubectl_ok(&[
        "wait",
        "--for=condition=Ready",
        "csvc/identity",
        "-n",
        "platform",
        "--timeout=60s",
    ]);
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
    let manifest = sandbox._dir.path().join("billing.yaml");
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

    // The owner's own approval does not count; frank's does.
    let (ok, text) = sandbox.charter(&["approve", "billing", "-n", "payments", "--context", "gus"]);
    assert!(ok, "{text}");
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
    sandbox.kubectl_ok(&[
        "wait",
        "--for=condition=Ready",
        "csvc/billing",
        "-n",
        "payments",
        "--timeout=60s",
    ]);
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
            "charter-system",
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
