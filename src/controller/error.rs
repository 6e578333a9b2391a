//! The controller's one error enum; each variant doubles as a metric label.

/// What can go wrong while reconciling or running.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("writing the status of Service {name}: {}", describe(source))]
    ServiceStatus { name: String, source: kube::Error },
    #[error("writing the status of ServiceApproval {name}: {}", describe(source))]
    ApprovalStatus { name: String, source: kube::Error },
    #[error("the caches did not sync within {0:?}")]
    NotSynced(std::time::Duration),
    #[error("the reconcile task failed: {0}")]
    Task(String),
    #[error("the controller stopped: {0}")]
    Stopped(String),
}

/// A Kubernetes error in one line: the server's own message and code. kube's Display of an API
/// error appends a debug dump of the whole Status.
fn describe(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => format!(
            "{} ({} {})",
            status.message.trim_end_matches('.'),
            status.code,
            status.reason
        ),
        other => other.to_string(),
    }
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

    /// A 409 Conflict from the API server: the object changed under the write.
    pub fn is_conflict(&self) -> bool {
        matches!(self.kube_error(), Some(kube::Error::Api(status)) if status.code == 409)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn api_error(code: u16) -> Error {
        let status: kube::core::Status = serde_json::from_value(
            serde_json::json!({"status": "Failure", "code": code, "reason": "Conflict"}),
        )
        .expect("a Status");
        Error::ServiceStatus {
            name: "payments/ledger".into(),
            source: kube::Error::Api(status.into()),
        }
    }

    #[test]
    fn an_api_error_reads_as_one_line_without_a_debug_dump() {
        let status: kube::core::Status = serde_json::from_value(serde_json::json!({
            "status": "Failure", "code": 403, "reason": "Forbidden",
            "message": "services.catalog.charter.dev \"ledger\" is forbidden: User \"nobody\" cannot patch it",
        }))
        .expect("a Status");
        let error = Error::ServiceStatus {
            name: "ledger".into(),
            source: kube::Error::Api(status.into()),
        };
        assert_eq!(
            error.to_string(),
            "writing the status of Service ledger: services.catalog.charter.dev \"ledger\" is forbidden: User \"nobody\" cannot patch it (403 Forbidden)"
        );
    }

    #[test]
    fn only_a_409_is_a_conflict() {
        assert!(api_error(409).is_conflict());
        assert!(!api_error(500).is_conflict());
        assert!(!api_error(429).is_conflict());
        assert!(!Error::NotSynced(std::time::Duration::from_secs(1)).is_conflict());
    }
}
