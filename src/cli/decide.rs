//! `charter approve` / `charter reject`: record the current kubeconfig user's decision on a
//! Service's current revision as a ServiceApproval.

use crate::api::{Decision, Service, ServiceApproval, ServiceApprovalSpec};
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use kube::api::{ListParams, PostParams};
use kube::{Api, Client};

#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    #[error("cannot reach the cluster: {0}")]
    Kube(#[from] kube::Error),
    #[error("Service {namespace}/{name} not found")]
    UnknownService { namespace: String, name: String },
    #[error(
        "Service {namespace}/{name} has no revision yet: the operator has not reconciled it (is `charter run` running?)"
    )]
    NoRevision { namespace: String, name: String },
    #[error("the API server did not say who you are (SelfSubjectReview returned no user name)")]
    Anonymous,
    #[error(
        "{user} already {decision:?} revision {revision} of {namespace}/{name} (ServiceApproval {existing})"
    )]
    AlreadyDecided {
        user: String,
        decision: Decision,
        revision: String,
        namespace: String,
        name: String,
        existing: String,
    },
}

/// Who the API server says the client is.
pub async fn whoami(client: &Client) -> Result<String, DecideError> {
    let review: SelfSubjectReview = Api::all(client.clone())
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await?;
    review
        .status
        .and_then(|s| s.user_info)
        .and_then(|u| u.username)
        .filter(|u| !u.is_empty())
        .ok_or(DecideError::Anonymous)
}

/// Create the ServiceApproval for `name`'s current revision; returns the created object.
pub async fn decide(
    client: &Client,
    namespace: &str,
    name: &str,
    decision: Decision,
    comment: Option<String>,
) -> Result<ServiceApproval, DecideError> {
    let services: Api<Service> = Api::namespaced(client.clone(), namespace);
    let service = services
        .get_opt(name)
        .await?
        .ok_or_else(|| DecideError::UnknownService {
            namespace: namespace.into(),
            name: name.into(),
        })?;
    let revision = service
        .status
        .as_ref()
        .and_then(|s| s.revision.clone())
        .ok_or_else(|| DecideError::NoRevision {
            namespace: namespace.into(),
            name: name.into(),
        })?;
    let user = whoami(client).await?;
    let approvals: Api<ServiceApproval> = Api::namespaced(client.clone(), namespace);
    for existing in approvals.list(&ListParams::default()).await? {
        let spec = &existing.spec;
        if spec.service_name == name && spec.revision == revision && spec.approver == user {
            return Err(DecideError::AlreadyDecided {
                user,
                decision: spec.decision,
                revision,
                namespace: namespace.into(),
                name: name.into(),
                existing: existing.metadata.name.unwrap_or_default(),
            });
        }
    }
    let mut approval = ServiceApproval::new(
        "",
        ServiceApprovalSpec {
            service_name: name.into(),
            revision: revision.clone(),
            decision,
            approver: user.clone(),
            comment,
            expires_at: None,
        },
    );
    approval.metadata.name = None;
    approval.metadata.generate_name = Some(format!(
        "{}-{}-",
        truncate(name, 40),
        truncate(&dns_label(&user), 20)
    ));
    Ok(approvals.create(&PostParams::default(), &approval).await?)
}

fn dns_label(s: &str) -> String {
    let label: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = label.trim_matches('-');
    if trimmed.is_empty() {
        "user".into()
    } else {
        trimmed.into()
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => s[..i].trim_end_matches(['-', '.']),
        None => s,
    }
}
