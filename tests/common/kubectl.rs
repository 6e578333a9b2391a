//! The real `kubectl` against a [`Server`](super::Server) of either ground, one kubeconfig per
//! user. Skips (with a printed reason) without kubectl, and fails then under `CI=true`.
#![allow(dead_code)]

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

impl Kubectl {
    /// Kubeconfigs for `users` of `server`; `None` (skip) without kubectl, a panic under CI.
    pub fn for_users(server: &super::Server, users: &[&str]) -> Option<Kubectl> {
        if !super::tools::kubectl() {
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
}
