//! External programs some tests drive (the real kubectl, kubernetes-validate): present, or
//! the test skips with a printed reason — except under `CI=true`, where a missing tool fails.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

fn missing(what: &str) -> bool {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{what} is required under CI=true but is not available");
    }
    println!("skipped: {what} is not available");
    false
}

/// Whether the real kubectl is on PATH (see the module comment for what happens if not).
pub fn kubectl() -> bool {
    runs("kubectl", &["version", "--client"]) || missing("kubectl (on PATH)")
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

/// The directory holding etcd, kube-apiserver and kube-controller-manager: `$CHARTER_CONTROL_PLANE`
/// (what `.ci/run` exports from `scripts/control-plane`), else `$KUBEBUILDER_ASSETS` (envtest's).
pub fn control_plane() -> Option<PathBuf> {
    let dir = ["CHARTER_CONTROL_PLANE", "KUBEBUILDER_ASSETS"]
        .iter()
        .filter_map(std::env::var_os)
        .map(PathBuf::from)
        .find(|d| d.join("kube-apiserver").is_file());
    match dir {
        Some(dir) => Some(dir),
        None => {
            missing("the real control plane (scripts/control-plane; CHARTER_CONTROL_PLANE)");
            None
        }
    }
}
