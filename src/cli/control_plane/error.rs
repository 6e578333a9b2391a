//! What can go wrong starting or using the real control plane, each saying where to look.

use std::path::PathBuf;
use std::time::Duration;

use charter_apiserver::tls;

#[derive(Debug, thiserror::Error)]
pub enum ControlPlaneError {
    #[error(
        "no {binary} in {}: build the control plane with scripts/control-plane, or point \
         --control-plane (or KUBEBUILDER_ASSETS) at a directory holding etcd and kube-apiserver",
        dir.display()
    )]
    MissingBinary { binary: &'static str, dir: PathBuf },
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("certificates: {0}")]
    Certificates(#[from] tls::TlsError),
    #[error("{program} exited ({status}) before it was ready; the end of {}:\n{tail}", log.display())]
    Exited {
        program: &'static str,
        status: std::process::ExitStatus,
        log: PathBuf,
        tail: String,
    },
    #[error("{what} not ready after {}s; see {}", timeout.as_secs(), log.display())]
    NotReady {
        what: &'static str,
        timeout: Duration,
        log: PathBuf,
    },
    #[error("cannot tell the version of {}: {output}", program.display())]
    Version { program: PathBuf, output: String },
    #[error("kubeconfig for {user}: {message}")]
    Kubeconfig { user: String, message: String },
    #[error("no user {0} on this control plane")]
    NoSuchUser(String),
    #[error("{what}: {source}")]
    Kube { what: String, source: kube::Error },
}

pub(super) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ControlPlaneError {
    let what = what.into();
    move |source| ControlPlaneError::Io { what, source }
}
