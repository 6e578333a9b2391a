//! The real kubectl: found once (`$CHARTER_KUBECTL`, else `kubectl` on PATH), its version
//! reported, and a harness that runs it as the users of a server, one kubeconfig each. Every
//! test that runs kubectl comes through [`probe`], so every one follows the same rule.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The kubectl the tests run.
#[derive(Clone, Debug)]
pub struct Found {
    pub program: PathBuf,
    /// `clientVersion.gitVersion`, e.g. `v1.35.0`.
    pub version: String,
}

fn find() -> Option<Found> {
    let program = std::env::var_os("CHARTER_KUBECTL")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("kubectl"));
    let out = Command::new(&program)
        .args(["version", "--client", "-o", "json"])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let version: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    let version = version["clientVersion"]["gitVersion"]
        .as_str()
        .unwrap_or("an unknown version")
        .to_string();
    println!("kubectl {version} ({})", program.display());
    Some(Found { program, version })
}

fn found() -> Option<&'static Found> {
    static FOUND: OnceLock<Option<Found>> = OnceLock::new();
    FOUND.get_or_init(find).as_ref()
}

/// kubectl, or `None` after the rule of [`crate::missing`]: skipped with a printed reason,
/// a failure under `CI=true`.
pub fn probe() -> Option<&'static Found> {
    let found = found();
    if found.is_none() {
        crate::missing("kubectl ($CHARTER_KUBECTL, else on PATH)");
    }
    found
}

/// A command running the kubectl [`probe`] finds (`kubectl`, left to fail, if there is none).
pub fn command() -> Command {
    match found() {
        Some(found) => Command::new(&found.program),
        None => Command::new("kubectl"),
    }
}

/// A server kubectl can be pointed at: it writes a kubeconfig for one of its users.
pub trait Kubeconfigs {
    fn write_kubeconfig(&self, path: &Path, user: &str) -> Result<(), String>;
}

impl Kubeconfigs for charter_apiserver::ApiServer {
    fn write_kubeconfig(&self, path: &Path, user: &str) -> Result<(), String> {
        charter_apiserver::ApiServer::write_kubeconfig(self, path, user).map_err(|e| e.to_string())
    }
}

/// kubectl with a kubeconfig per user of one server, in a directory of its own.
pub struct Kubectl {
    dir: tempfile::TempDir,
    calls: AtomicUsize,
}

/// What one kubectl run did.
pub struct Run {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Runs `command` (a kubectl command line) off the async runtime and keeps what it did.
    pub async fn of(mut command: Command) -> Run {
        let out = tokio::task::spawn_blocking(move || command.output())
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

impl Kubectl {
    /// Kubeconfigs for `users` of `server`; `None` without kubectl (see [`probe`]).
    pub fn for_users(server: &impl Kubeconfigs, users: &[&str]) -> Option<Kubectl> {
        probe()?;
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
        let mut c = command();
        c.arg("--kubeconfig")
            .arg(self.dir.path().join(format!("{user}.kubeconfig")))
            .arg("--cache-dir")
            .arg(self.dir.path().join(format!("cache-{n}")))
            .args(args)
            .env("HOME", self.dir.path())
            .stdin(Stdio::null());
        Run::of(c).await
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
