//! `charter approve` / `charter reject`: record the current kubeconfig user's decision on a
//! Service's current revision as a ServiceApproval.

use crate::api::{Decision, Service, ServiceApproval, ServiceApprovalSpec, revision_of};
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use kube::api::{ListParams, PostParams};
use kube::{Api, Client};

#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    #[error("cannot reach the cluster: {0}")]
    Kube(#[from] kube::Error),
    #[error("Service {namespace}/{name} not found")]
    UnknownService { namespace: String, name: String },
    #[error("the API server did not say who you are (SelfSubjectReview returned no user name)")]
    Anonymous,
    #[error("this decision will not count:\n  {reasons}\nUse --force to record it anyway")]
    WillNotCount { reasons: String },
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

/// What the user asked for.
pub struct Request<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub decision: Decision,
    pub comment: Option<String>,
    /// The revision reviewed; default: the revision of the Service's current content.
    pub revision: Option<String>,
    /// Record the decision even when it will not count.
    pub force: bool,
    /// Build the manifest without creating it.
    pub dry_run: bool,
    /// The approver named in a dry-run manifest; default: the current user.
    pub approver: Option<String>,
}

/// What `decide` did or would do.
pub struct Decided {
    pub approval: ServiceApproval,
    /// Why the decision will not count (recorded anyway with `--force`).
    pub warnings: Vec<String>,
    /// The earlier decision of the other kind on this revision that this one supersedes.
    pub supersedes: Option<String>,
}

/// Builds the ServiceApproval for `name`'s current revision (or the one given) and, unless a dry
/// run, creates it; refuses without `force` when it would not count.
pub async fn decide(client: &Client, req: Request<'_>) -> Result<Decided, DecideError> {
    let (namespace, name) = (req.namespace, req.name);
    let services: Api<Service> = Api::namespaced(client.clone(), namespace);
    let service = services
        .get_opt(name)
        .await?
        .ok_or_else(|| DecideError::UnknownService {
            namespace: namespace.into(),
            name: name.into(),
        })?;
    let revision = req
        .revision
        .clone()
        .unwrap_or_else(|| revision_of(&service.spec.content));
    let user = match &req.approver {
        Some(approver) => approver.clone(),
        None => whoami(client).await?,
    };
    let warnings = will_not_count(&service, &user, &revision);
    if !warnings.is_empty() && !req.force {
        return Err(DecideError::WillNotCount {
            reasons: warnings.join("\n  "),
        });
    }
    let approvals: Api<ServiceApproval> = Api::namespaced(client.clone(), namespace);
    let mut supersedes = None;
    for existing in approvals.list(&ListParams::default()).await? {
        let spec = &existing.spec;
        if spec.service_name != name || spec.revision != revision || spec.approver != user {
            continue;
        }
        let existing_name = existing.metadata.name.clone().unwrap_or_default();
        if spec.decision == req.decision {
            return Err(DecideError::AlreadyDecided {
                user,
                decision: spec.decision,
                revision,
                namespace: namespace.into(),
                name: name.into(),
                existing: existing_name,
            });
        }
        // A changed mind: the later decision supersedes the earlier one in the lifecycle.
        supersedes = Some(existing_name);
    }
    let mut approval = manifest(namespace, name, &revision, req.decision, &user, req.comment);
    if !req.dry_run {
        approval.metadata.name = None;
        approval.metadata.generate_name = Some(format!(
            "{}-{}-",
            truncate(name, 40),
            truncate(&dns_label(&user), 20)
        ));
        approval = approvals.create(&PostParams::default(), &approval).await?;
    }
    Ok(Decided {
        approval,
        warnings,
        supersedes,
    })
}

/// Why `user`'s decision on `revision` of `service` will not count, as far as a client can tell.
pub fn will_not_count(service: &Service, user: &str, revision: &str) -> Vec<String> {
    let content = &service.spec.content;
    let current = revision_of(content);
    let mut reasons = Vec::new();
    if revision != current {
        reasons.push(format!(
            "revision {revision} is stale: the Service's current revision is {current}"
        ));
    }
    if content.owner == user {
        reasons.push(format!(
            "{user} owns the Service: an owner's decision counts only when the operator runs with --allow-self-approval (this tool cannot see how it runs)"
        ));
    }
    if !content.approvers.is_empty() && !content.approvers.iter().any(|a| a == user) {
        reasons.push(format!(
            "{user} is not in the Service's approvers ({})",
            content.approvers.join(", ")
        ));
    }
    reasons
}

/// The ServiceApproval of a decision, with a deterministic name
/// (`<service>-<revision>-<approver>-<approved|rejected>`) fit for a file in a pull request.
pub fn manifest(
    namespace: &str,
    service: &str,
    revision: &str,
    decision: Decision,
    approver: &str,
    comment: Option<String>,
) -> ServiceApproval {
    let verb = match decision {
        Decision::Approved => "approved",
        Decision::Rejected => "rejected",
    };
    let name = format!(
        "{}-{}-{}-{verb}",
        truncate(&dns_label(service), 180),
        truncate(&dns_label(revision), 20),
        truncate(&dns_label(approver), 40)
    );
    let mut approval = ServiceApproval::new(
        &name,
        ServiceApprovalSpec {
            service_name: service.into(),
            revision: revision.into(),
            decision,
            approver: approver.into(),
            comment,
            expires_at: None,
        },
    );
    approval.metadata.namespace = Some(namespace.into());
    approval
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ServiceContent, ServiceSpec};

    fn ledger(owner: &str, approvers: &[&str]) -> Service {
        Service::new(
            "ledger",
            ServiceSpec {
                lifecycle: Default::default(),
                contact: None,
                categories: Vec::new(),
                content: ServiceContent {
                    owner: owner.into(),
                    approvers: approvers.iter().map(|a| a.to_string()).collect(),
                    ..Default::default()
                },
            },
        )
    }

    #[test]
    fn a_decision_that_will_not_count_is_explained() {
        let open = ledger("dana", &[]);
        let listed = ledger("dana", &["erin"]);
        let (current, listed_current) = (
            revision_of(&open.spec.content),
            revision_of(&listed.spec.content),
        );
        let cases: &[(&str, &Service, &str, &str, Option<&str>)] = &[
            (
                "an approver on the current revision",
                &listed,
                "erin",
                &listed_current,
                None,
            ),
            (
                "anyone when no approvers are listed",
                &open,
                "frank",
                &current,
                None,
            ),
            (
                "the owner",
                &open,
                "dana",
                &current,
                Some("owns the Service"),
            ),
            (
                "someone not listed",
                &listed,
                "frank",
                &listed_current,
                Some("not in the Service's approvers (erin)"),
            ),
            (
                "a stale revision",
                &listed,
                "erin",
                "0000000000",
                Some("is stale"),
            ),
        ];
        for (case, service, user, revision, expected) in cases {
            let reasons = will_not_count(service, user, revision);
            match expected {
                None => assert!(reasons.is_empty(), "{case}: {reasons:?}"),
                Some(words) => assert!(
                    reasons.len() == 1 && reasons[0].contains(words),
                    "{case}: {reasons:?}"
                ),
            }
        }
        let owner = will_not_count(&open, "dana", &current).remove(0);
        assert!(owner.contains("cannot see how it runs"), "{owner}");
    }

    #[test]
    fn a_dry_run_manifest_has_a_deterministic_name_per_decision() {
        let approve = manifest(
            "finance",
            "ledger",
            "fe2d55ff25",
            Decision::Approved,
            "Erin@corp",
            None,
        );
        let reject = manifest(
            "finance",
            "ledger",
            "fe2d55ff25",
            Decision::Rejected,
            "Erin@corp",
            None,
        );
        assert_eq!(
            approve.metadata.name.as_deref(),
            Some("ledger-fe2d55ff25-erin-corp-approved")
        );
        assert_eq!(
            reject.metadata.name.as_deref(),
            Some("ledger-fe2d55ff25-erin-corp-rejected")
        );
        assert_eq!(approve.metadata.namespace.as_deref(), Some("finance"));
        assert_eq!(approve.spec.approver, "Erin@corp");
        let again = manifest(
            "finance",
            "ledger",
            "fe2d55ff25",
            Decision::Approved,
            "Erin@corp",
            None,
        );
        assert_eq!(approve.metadata, again.metadata);
        assert_eq!(approve.spec, again.spec);
    }
}
