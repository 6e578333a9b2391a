//! `charter approve` / `charter reject`: record the current kubeconfig user's decision on a
//! Service's current revision as a ServiceApproval; `charter review`: record a review of an
//! Active Service's published revision.

use crate::api::{
    ApprovalPolicy, Decision, Service, ServiceApproval, ServiceApprovalSpec, identity, revision_of,
};
use crate::lifecycle::requirement::{self, Requirement};
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use kube::api::{ListParams, PostParams};
use kube::{Api, Client};
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    #[error("cannot reach the cluster: {0}")]
    Kube(#[from] kube::Error),
    #[error("Service {namespace}/{name} not found")]
    UnknownService { namespace: String, name: String },
    #[error("the API server did not say who you are (SelfSubjectReview returned no user name)")]
    Anonymous,
    #[error("this decision will not count:\n  {reasons}\nUse --force to {anyway}")]
    WillNotCount {
        reasons: String,
        anyway: &'static str,
    },
    #[error(
        "{user} already {decision:?} revision {revision} of {namespace}/{name}: it is their latest decision (ServiceApproval {existing}), so nothing would change.\nUse --force to {anyway}"
    )]
    AlreadyDecided {
        anyway: &'static str,
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
    Ok(who_and_groups(client).await?.0)
}

/// Who the API server says the client is, and in which groups.
pub async fn who_and_groups(client: &Client) -> Result<(String, Vec<String>), DecideError> {
    let review: SelfSubjectReview = Api::all(client.clone())
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await?;
    let user = review.status.and_then(|s| s.user_info).unwrap_or_default();
    let name = user
        .username
        .filter(|u| !u.is_empty())
        .ok_or(DecideError::Anonymous)?;
    Ok((name, user.groups.unwrap_or_default()))
}

/// What the user asked for.
pub struct Request<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub decision: Decision,
    pub comment: Option<String>,
    /// The revision reviewed; default: the revision of the Service's current content.
    pub revision: Option<String>,
    /// Record the decision even when it will not count or changes nothing.
    pub force: bool,
    /// Build the manifest without creating it.
    pub dry_run: bool,
    /// The approver named in a dry-run manifest; default: the current user.
    pub approver: Option<String>,
}

/// What `decide` did or would do.
pub struct Decided {
    pub approval: ServiceApproval,
    /// Why the decision will not count or changes nothing (recorded anyway with `--force`).
    pub warnings: Vec<String>,
    /// The approver's latest decision on this revision, of the other kind, that this one
    /// supersedes.
    pub supersedes: Option<String>,
    /// What the decision will not do under the ApprovalPolicies (it counts, but not toward a
    /// required group): told, not refused.
    pub notes: Vec<String>,
}

/// What `--force` does: record the decision, or, in a dry run, print its manifest.
pub fn anyway(dry_run: bool) -> &'static str {
    if dry_run {
        "print it anyway"
    } else {
        "record it anyway"
    }
}

/// A warning as the command prints it: true to what it did (a dry run records nothing).
pub fn warning_line(warning: &str, dry_run: bool) -> String {
    let done = if dry_run {
        "printed anyway: --force; nothing is recorded"
    } else {
        "recorded anyway: --force"
    };
    format!("warning: {warning} ({done})")
}

/// Builds the ServiceApproval for `name`'s current revision (or the one given) and, unless a dry
/// run, creates it; refuses without `force` when it would not count, or when it would change
/// nothing (the approver's latest decision on that revision is already this one).
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
    let published = service
        .status
        .as_ref()
        .and_then(|s| s.published_revision.clone());
    let revision = req.revision.clone().unwrap_or_else(|| {
        if req.decision == Decision::Reviewed {
            published.clone().unwrap_or_default()
        } else {
            revision_of(&service.spec.content)
        }
    });
    // A dry run for someone else cannot know their groups: only the server records them.
    let (user, groups) = match &req.approver {
        Some(approver) => (approver.clone(), None),
        None => {
            let (user, groups) = who_and_groups(client).await?;
            (user, Some(groups))
        }
    };
    let mut warnings = if req.decision == Decision::Reviewed {
        will_not_review(&service, &user, &revision)
    } else {
        will_not_count(&service, &user, &revision)
    };
    let required = policies_for(client, &service).await;
    let mut notes = Vec::new();
    if platform_bar(&required) {
        // The platform's bar counts anyone but the Service's people, listed or not.
        let (unlisted, kept): (Vec<String>, Vec<String>) = warnings
            .into_iter()
            .partition(|w| w.contains("is not in the Service's approvers"));
        warnings = kept;
        notes.extend(unlisted.into_iter().map(|w| {
            format!(
                "{w}: the decision counts toward ApprovalPolicy {}'s bar, not toward the Service's own",
                required.names()
            )
        }));
    }
    let (policy_warnings, policy_notes) = under_policies(
        &required,
        req.decision,
        req.comment.as_deref(),
        groups.as_deref(),
    );
    warnings.extend(policy_warnings);
    notes.extend(policy_notes);
    if !warnings.is_empty() && !req.force {
        return Err(DecideError::WillNotCount {
            reasons: warnings.join("\n  "),
            anyway: anyway(req.dry_run),
        });
    }
    let approvals: Api<ServiceApproval> = Api::namespaced(client.clone(), namespace);
    let listed = approvals.list(&ListParams::default()).await?.items;
    let mut supersedes = None;
    // Every review is a record of its own: none supersedes or repeats another.
    let latest = latest_decision(&listed, name, &revision, &user)
        .filter(|_| req.decision != Decision::Reviewed);
    if let Some(latest) = latest {
        let existing = latest.metadata.name.clone().unwrap_or_default();
        if latest.spec.decision != req.decision {
            // A changed mind: the later decision supersedes the earlier one in the lifecycle.
            supersedes = Some(existing);
        } else if !req.force {
            return Err(DecideError::AlreadyDecided {
                anyway: anyway(req.dry_run),
                user,
                decision: req.decision,
                revision,
                namespace: namespace.into(),
                name: name.into(),
                existing,
            });
        } else {
            warnings.push(format!(
                "{user} already {:?} revision {revision} (ServiceApproval {existing}): nothing changes",
                req.decision
            ));
        }
    }
    let mut approval = manifest(namespace, name, &revision, req.decision, &user, req.comment);
    if !req.dry_run {
        approval.metadata.name = None;
        approval.metadata.generate_name = Some(generate_name(name, &user, SystemTime::now()));
        approval = approvals.create(&PostParams::default(), &approval).await?;
    }
    Ok(Decided {
        approval,
        warnings,
        supersedes,
        notes,
    })
}

/// Whether the policies set a bar of their own (a quorum or groups), which anyone but the
/// Service's people may help clear.
fn platform_bar(required: &Requirement) -> bool {
    required.applies() && (required.quorum > 0 || !required.groups.is_empty())
}

/// The ApprovalPolicies' requirement for `service`; none when the client may not read them
/// (the operator judges anyway: this only informs the warnings).
async fn policies_for(client: &Client, service: &Service) -> Requirement {
    let api: Api<ApprovalPolicy> = Api::all(client.clone());
    match api.list(&ListParams::default()).await {
        Ok(list) => requirement::for_service(&list.items, service),
        Err(_) => Requirement::default(),
    }
}

/// What the policies in `required` say of a decision: warnings that it will not count (a
/// missing justification) and notes on what it will not do (count toward a required group the
/// server did not authenticate the user in). `groups`: the user's, when known.
pub fn under_policies(
    required: &Requirement,
    decision: Decision,
    comment: Option<&str>,
    groups: Option<&[String]>,
) -> (Vec<String>, Vec<String>) {
    let (mut warnings, mut notes) = (Vec::new(), Vec::new());
    if decision != Decision::Approved || !required.applies() {
        return (warnings, notes);
    }
    let names = required.names();
    if required.justification && comment.is_none_or(|c| c.trim().is_empty()) {
        warnings.push(format!(
            "ApprovalPolicy {names} requires a justification: add --comment"
        ));
    }
    if !required.groups.is_empty() {
        let missing: Vec<&str> = required
            .groups
            .keys()
            .filter(|g| groups.is_none_or(|mine| !mine.iter().any(|m| m == *g)))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            let whose = if groups.is_some() {
                "the API server does not authenticate you in it"
            } else {
                "only the API server can say whether the approver is in it, and only when they create the approval themselves"
            };
            notes.push(format!(
                "ApprovalPolicy {names} requires approvals from group {}: this decision counts toward the quorum but not toward that group ({whose})",
                missing.join(", ")
            ));
        }
    }
    (warnings, notes)
}

/// Why `user`'s review of `revision` of `service` will not count, as far as a client can tell.
pub fn will_not_review(service: &Service, user: &str, revision: &str) -> Vec<String> {
    let status = service.status.as_ref();
    let published = status.and_then(|s| s.published_revision.as_deref());
    let mut reasons = Vec::new();
    match published {
        None => reasons.push(
            "the Service is not published: a review is of an Active Service's published revision"
                .to_owned(),
        ),
        Some(p) if p != revision => reasons.push(format!(
            "revision {revision} is not the published one: the catalog serves {p}"
        )),
        Some(_) => {}
    }
    // The reviewer is judged as an approver of the published revision.
    let mut reviewed = service.clone();
    if let Some(content) = status
        .and_then(|s| s.snapshot.as_ref())
        .filter(|s| Some(s.revision.as_str()) == published)
        .map(|s| s.content.clone())
    {
        reviewed.spec.content = content;
    }
    let current = revision_of(&reviewed.spec.content);
    reasons.extend(
        will_not_count(&reviewed, user, &current)
            .into_iter()
            .filter(|r| !r.contains("is stale")),
    );
    reasons
}

/// `user`'s latest decision on `revision` of `service`, in the operator's order: by creation
/// time, then name, then uid (`lifecycle::approvals`), so that the tool and the operator agree
/// on which decision stands.
pub fn latest_decision<'a>(
    approvals: &'a [ServiceApproval],
    service: &str,
    revision: &str,
    user: &str,
) -> Option<&'a ServiceApproval> {
    approvals
        .iter()
        .filter(|a| {
            a.spec.service_name == service && a.spec.revision == revision && a.spec.approver == user
        })
        .max_by_key(|a| {
            (
                a.metadata.creation_timestamp.as_ref().map(|t| t.0),
                a.metadata.name.clone(),
                a.metadata.uid.clone(),
            )
        })
}

/// `<service>-<approver>-<milliseconds since the epoch>-` (the server adds 5 random
/// characters). Creation times have a resolution of one second and the operator breaks ties
/// by name: the fixed-width time keeps one approver's decisions made within a second in the
/// order they were made.
fn generate_name(service: &str, user: &str, now: SystemTime) -> String {
    let millis = now
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    format!(
        "{}-{}-{millis:013}-",
        truncate(&dns_label(service), 40),
        truncate(&dns_label(user), 20)
    )
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
    let unless = "counts only when the operator runs with --allow-self-approval (this tool cannot see how it runs)";
    let recorded = |key| identity::recorded(&service.metadata, key) == Some(user);
    if content.owner == user {
        reasons.push(format!(
            "{user} owns the Service: an owner's decision {unless}"
        ));
    } else if recorded(identity::CREATED_BY) {
        reasons.push(format!(
            "{user} created the Service: its creator's decision {unless}"
        ));
    }
    if recorded(identity::REVISED_BY) && revision == current {
        reasons.push(format!(
            "{user} last changed the Service's content: the author's decision on revision {current} {unless}"
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
        Decision::Reviewed => "reviewed",
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
mod tests;
