//! What a control-plane directory holds and what its release needs: the binaries, the
//! version kube-apiserver reports, and the flags that switch the admission policies on.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::error::{ControlPlaneError, io};

pub(super) fn binary(dir: &Path, name: &'static str) -> Result<PathBuf, ControlPlaneError> {
    let path = dir.join(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(ControlPlaneError::MissingBinary {
            binary: name,
            dir: dir.to_path_buf(),
        })
    }
}

/// `v1.37.2` from `kube-apiserver --version` (`Kubernetes v1.37.2`).
pub(super) fn version_of(apiserver: &Path) -> Result<String, ControlPlaneError> {
    let out = Command::new(apiserver)
        .arg("--version")
        .output()
        .map_err(io(format!("cannot run {}", apiserver.display())))?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    text.split_whitespace()
        .last()
        .filter(|v| out.status.success() && v.starts_with('v'))
        .map(str::to_string)
        .ok_or(ControlPlaneError::Version {
            program: apiserver.to_path_buf(),
            output: text,
        })
}

/// The `major.minor` of `v1.37.2`.
fn minor_of(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.trim_start_matches('v').split(['.', '-', '+']);
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// What switches MutatingAdmissionPolicy on: GA (v1, on by default) from 1.36; before, a
/// feature gate and the beta (1.34, 1.35) or alpha (1.32, 1.33) API. ValidatingAdmissionPolicy
/// is GA and on since 1.30.
pub(super) fn admission_policy_flags(version: &str) -> Vec<String> {
    let api = match minor_of(version) {
        Some((1, minor)) if (34..36).contains(&minor) => "v1beta1",
        Some((1, minor)) if (32..34).contains(&minor) => "v1alpha1",
        _ => return Vec::new(),
    };
    vec![
        "--feature-gates=MutatingAdmissionPolicy=true".into(),
        format!("--runtime-config=admissionregistration.k8s.io/{api}=true"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutating_admission_policy_is_switched_on_where_it_is_not_by_default() {
        assert!(admission_policy_flags("v1.37.2").is_empty());
        assert!(admission_policy_flags("v1.36.0").is_empty());
        assert_eq!(
            admission_policy_flags("v1.34.6"),
            [
                "--feature-gates=MutatingAdmissionPolicy=true",
                "--runtime-config=admissionregistration.k8s.io/v1beta1=true"
            ]
        );
        assert!(admission_policy_flags("v1.33.1")[1].ends_with("/v1alpha1=true"));
        assert!(admission_policy_flags("v1.31.0").is_empty());
    }
}
