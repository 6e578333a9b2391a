//! The controller's one error enum; each variant doubles as a metric label.

/// What can go wrong while reconciling or running.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("writing the status of Service {name}: {source}")]
    ServiceStatus { name: String, source: kube::Error },
    #[error("writing the status of ServiceApproval {name}: {source}")]
    ApprovalStatus { name: String, source: kube::Error },
    #[error("the caches did not sync within {0:?}")]
    NotSynced(std::time::Duration),
    #[error("the reconcile task failed: {0}")]
    Task(String),
    #[error("the controller stopped: {0}")]
    Stopped(String),
}

impl Error {
    /// A short, stable label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Error::ServiceStatus { .. } => "service_status",
            Error::ApprovalStatus { .. } => "approval_status",
            Error::NotSynced(_) => "not_synced",
            Error::Task(_) => "task",
            Error::Stopped(_) => "stopped",
        }
    }

    /// The Kubernetes error inside, if any: those become Warning Events on the Service.
    pub fn kube_error(&self) -> Option<&kube::Error> {
        match self {
            Error::ServiceStatus { source, .. } | Error::ApprovalStatus { source, .. } => {
                Some(source)
            }
            _ => None,
        }
    }
}
