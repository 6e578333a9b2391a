//! The real `kubectl` against a started server, one kubeconfig per user. A test that needs
//! kubectl skips (with a printed reason) when it is not on PATH, and fails under `CI=true`.

use charter_apiserver::ApiServer;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Kubectl {
    dir: tempfile::TempDir,
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

/// Whether kubectl is here: false (with a printed reason) when it is not, a panic under
/// `CI=true`, where the kubectl tests must run.
pub fn kubectl_or_skip(test: &str) -> bool {
    if available() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test}: kubectl is required when CI=true, and it is not on PATH");
    }
    eprintln!("skipping {test}: no kubectl on PATH");
    false
}

impl Kubectl {
    /// Kubeconfigs for `users` of `server`; `None` (skip) without kubectl, a panic under CI.
    pub fn for_users(server: &ApiServer, users: &[&str], test: &str) -> Option<Kubectl> {
        if !kubectl_or_skip(test) {
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        for u in users {
            server
                .write_kubeconfig(&dir.path().join(format!("{u}.kubeconfig")), u)
                .expect("kubeconfig");
        }
        Some(Kubectl {
            dir,
            calls: AtomicUsize::new(0),
        })
    }

    /// A manifest written into the harness's directory.
    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).expect("write manifest");
        p
    }

    /// Run kubectl as `user`, with a fresh discovery cache (a new kind is never hidden).
    pub async fn run(&self, user: &str, args: &[&str]) -> Run {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let mut c = Command::new("kubectl");
        c.arg("--kubeconfig")
            .arg(self.dir.path().join(format!("{user}.kubeconfig")))
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
    pub async fn ok(&self, user: &str, args: &[&str]) -> String {
        let r = self.run(user, args).await;
        assert!(
            r.ok,
            "kubectl {args:?} failed\nstdout:\n{}\nstderr:\n{}",
            r.stdout, r.stderr
        );
        r.stdout
    }
}
