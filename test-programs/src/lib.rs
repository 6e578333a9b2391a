//! The external programs tests drive (the real kubectl, kubernetes-validate, the real control
//! plane, Chromium): present, or the test skips with a printed reason — except under
//! `CI=true`, where a missing program fails. Shared by the operator's tests and the API
//! server's, so it knows the embedded server but nothing of Charter.

pub mod kubectl;

use std::path::PathBuf;
use std::process::Command;

fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The rule for a program that is not here: a panic under `CI=true`, else a printed reason
/// (the caller skips). Always false, for `found || missing(..)`.
pub fn missing(what: &str) -> bool {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{what} is required under CI=true but is not available");
    }
    println!("skipped: {what} is not available");
    false
}

/// `kubernetes-validate` (PyPI): `$CHARTER_KUBERNETES_VALIDATE`, else on PATH. `.ci/run`
/// installs it into a virtualenv and sets the variable.
pub fn kubernetes_validate() -> Option<PathBuf> {
    let program = std::env::var_os("CHARTER_KUBERNETES_VALIDATE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("kubernetes-validate"));
    let found = runs(&program.to_string_lossy(), &["--version"]);
    (found || missing("kubernetes-validate (pip install kubernetes-validate)")).then_some(program)
}

/// The real control plane's binaries (etcd, kube-apiserver, kube-controller-manager):
/// `$CHARTER_CONTROL_PLANE`, else `$KUBEBUILDER_ASSETS` (envtest's). `.ci/run` builds them
/// with `scripts/control-plane` and sets the first.
pub fn control_plane() -> Option<PathBuf> {
    let dir = ["CHARTER_CONTROL_PLANE", "KUBEBUILDER_ASSETS"]
        .iter()
        .filter_map(std::env::var_os)
        .find(|v| !v.is_empty())
        .map(PathBuf::from);
    let Some(dir) = dir else {
        missing("the real control plane (CHARTER_CONTROL_PLANE=\"$(scripts/control-plane)\")");
        return None;
    };
    let found = dir.join("etcd").is_file() && dir.join("kube-apiserver").is_file();
    (found || missing(&format!("etcd and kube-apiserver in {}", dir.display()))).then_some(dir)
}

/// Headless Chromium and the Node.js modules that drive it (puppeteer-core, axe-core):
/// `$CHARTER_CHROMIUM` (else `chromium` on PATH, Debian's package) and
/// `$CHARTER_BROWSER_MODULES` (else `target/browser/node_modules`, where `.ci/run` installs
/// `tests/browser/package-lock.json`). Returns (chromium, node_modules).
pub fn browser() -> Option<(PathBuf, PathBuf)> {
    // The driver wants a path, not a name to look up.
    let chromium = std::env::var_os("CHARTER_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::split_paths(&std::env::var_os("PATH")?)
                .map(|dir| dir.join("chromium"))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| PathBuf::from("chromium"));
    if !runs(&chromium.to_string_lossy(), &["--version"]) {
        missing("Chromium (apt-get install chromium)");
        return None;
    }
    if !runs("node", &["--version"]) {
        missing("Node.js (node on PATH)");
        return None;
    }
    let modules = std::env::var_os("CHARTER_BROWSER_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../target/browser/node_modules"
            ))
        });
    let found = modules.join("puppeteer-core").is_dir() && modules.join("axe-core").is_dir();
    if !found {
        missing(&format!(
            "puppeteer-core and axe-core in {} (npm ci in a copy of tests/browser/)",
            modules.display()
        ));
        return None;
    }
    Some((chromium, modules))
}

/// Where an end-to-end test runs: the embedded API server, or the real etcd, kube-apiserver
/// and kube-controller-manager in a directory of binaries ([`control_plane`]). The suites
/// written as a function of the ground run once on each (`on_both_grounds!`).
#[derive(Clone, Debug)]
pub enum Ground {
    Embedded,
    Real(PathBuf),
}

impl Ground {
    /// The real ground, or `None` (the test skips with a note; a failure under `CI=true`).
    pub fn real() -> Option<Ground> {
        control_plane().map(Ground::Real)
    }

    /// The arguments of `charter sandbox` that select this ground.
    pub fn sandbox_args(&self) -> Vec<std::ffi::OsString> {
        match self {
            Ground::Embedded => Vec::new(),
            Ground::Real(dir) => vec!["--control-plane".into(), dir.clone().into_os_string()],
        }
    }

    pub fn is_real(&self) -> bool {
        matches!(self, Ground::Real(_))
    }

    /// Whether a namespace controller runs here: the embedded server's own (it has no garbage
    /// collector), or kube-controller-manager's with the rest of its controllers, unless the
    /// real ground's directory lacks it (envtest's assets). Prints the skip when not.
    pub fn runs_controllers(&self) -> bool {
        match self {
            Ground::Real(dir) if !dir.join("kube-controller-manager").is_file() => {
                println!("skipped: no kube-controller-manager in {}", dir.display());
                false
            }
            _ => true,
        }
    }
}

/// `on_both_grounds!(body)` for a `fn body(ground: Ground)`: the tests
/// `body::embedded` and `body::kube_apiserver` (which skips, or fails under `CI=true`, without
/// the real control plane). `on_both_grounds!(async body)` does the same for an `async fn`.
#[macro_export]
macro_rules! on_both_grounds {
    (async $body:ident) => {
        mod $body {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn embedded() {
                super::$body($crate::Ground::Embedded).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn kube_apiserver() {
                if let Some(ground) = $crate::Ground::real() {
                    super::$body(ground).await
                }
            }
        }
    };
    ($body:ident) => {
        mod $body {
            #[test]
            fn embedded() {
                super::$body($crate::Ground::Embedded)
            }
            #[test]
            fn kube_apiserver() {
                if let Some(ground) = $crate::Ground::real() {
                    super::$body(ground)
                }
            }
        }
    };
}
