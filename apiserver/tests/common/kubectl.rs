//! Driving the real `kubectl` against a test server: one kubeconfig per user, a fresh
//! discovery cache per call. Without kubectl on PATH a test is skipped with a printed
//! reason, except under `CI=true`, where it fails: CI must run them.

use charter_apiserver::ApiServer;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Kubectl {
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    calls: AtomicUsize,
}

pub struct Run {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

fn available() -> bool {
    Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether kubectl tests can run here; panics under `CI=true` when they cannot.
pub fn kubectl_or_skip(test: &str) -> bool {
    if available() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test}: kubectl is not on PATH, and CI=true requires the kubectl tests to run");
    }
    eprintln!("skipping {test}: no kubectl on PATH");
    false
}

impl Kubectl {
    /// kubectl acting as `user` (who must be one of the server's token users).
    pub fn new(server: &ApiServer, user: &str) -> Kubectl {
        let dir = tempfile::tempdir().expect("tempdir");
        let kubeconfig = dir.path().join("kubeconfig");
        server
            .write_kubeconfig(&kubeconfig, user)
            .expect("kubeconfig");
        Kubectl {
            dir,
            kubeconfig,
            calls: AtomicUsize::new(0),
        }
    }

    pub async fn run(&self, args: &[&str]) -> Run {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let mut c = Command::new("kubectl");
        c.arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(self.dir.path().join(format!("cache-{n}")))
            .args(args)
            .env("HOME", self.dir.path())
            .stdin(Stdio::null());
        let out = tokio::task::spawn_blocking(move || c.output())
            .await
            .expect("join")
            .expect("kubectl runs");
        Run {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Run, require success, return stdout.
    pub async fn ok(&self, args: &[&str]) -> String {
        let r = self.run(args).await;
        assert!(
            r.ok,
            "kubectl {args:?} failed\nstdout:\n{}\nstderr:\n{}",
            r.stdout, r.stderr
        );
        r.stdout
    }
}
