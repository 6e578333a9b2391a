//! Which approvals count and why: a decision counts when it names this Service, is for the
//! current or the approved revision, comes from an allowed approver who is not the owner,
//! is its approver's latest on that revision and did not expire before its revision reached quorum.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::jiff::Timestamp;

use super::reason;
use super::refusal::Refusal;
use crate::api::{Decision, ServiceApproval, ServiceApprovalStatus, ServiceContent};

/// What the approvals say, for the revisions that matter.
pub(crate) struct Ledger {
    /// For every input approval, by name: `Ok` when it counts.
    pub verdicts: Vec<(String, Result<(), Refusal>)>,
    /// Counted decisions per revision: approvers who approved / rejected (sorted, distinct).
    pub tallies: BTreeMap<String, Tally>,
    /// Earliest future expiry of a counted decision whose revision has not reached quorum yet.
    pub next_expiry: Option<Timestamp>,
}

#[derive(Default, Clone, Debug)]
pub(crate) struct Tally {
    pub approved_by: BTreeSet<String>,
    pub rejected_by: BTreeSet<String>,
}

impl Ledger {
    pub fn tally(&self, revision: &str) -> Tally {
        self.tallies.get(revision).cloned().unwrap_or_default()
    }
}

/// The context approvals are judged in.
pub(crate) struct Judge<'a> {
    pub service_name: &'a str,
    pub service_namespace: Option<&'a str>,
    pub revision: &'a str,
    pub content: &'a ServiceContent,
    /// The revision that already reached quorum, with its content and when, if any.
    pub approved: Option<(&'a str, &'a ServiceContent, Option<Timestamp>)>,
    pub allow_self_approval: bool,
    pub now: Timestamp,
}

pub(crate) fn judge(j: &Judge, approvals: &[ServiceApproval]) -> Ledger {
    // Latest decision per (approver, revision) wins; order by creation time, then name, so the
    // order approvals arrive in never matters.
    let mut order: Vec<usize> = (0..approvals.len()).collect();
    order.sort_by(|&a, &b| sort_key(&approvals[a]).cmp(&sort_key(&approvals[b])));

    let mut first_pass: Vec<Result<(), Refusal>> =
        approvals.iter().map(|a| eligible(j, a)).collect();
    let mut latest: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for &i in &order {
        if first_pass[i].is_ok() {
            let a = &approvals[i].spec;
            latest.insert((a.approver.as_str(), a.revision.as_str()), i);
        }
    }
    for (i, verdict) in first_pass.iter_mut().enumerate() {
        if verdict.is_err() {
            continue;
        }
        let a = &approvals[i].spec;
        if let Some(&winner) = latest.get(&(a.approver.as_str(), a.revision.as_str()))
            && winner != i
        {
            *verdict = Err(Refusal::superseded(
                &a.approver,
                &name_of(&approvals[winner]),
            ));
            continue;
        }
        if expired(j, &approvals[i]) {
            *verdict = Err(Refusal::expired(&a.revision));
        }
    }

    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let mut next_expiry: Option<Timestamp> = None;
    for (approval, verdict) in approvals.iter().zip(&first_pass) {
        if verdict.is_err() {
            continue;
        }
        let spec = &approval.spec;
        let tally = tallies.entry(spec.revision.clone()).or_default();
        match spec.decision {
            Decision::Approved => tally.approved_by.insert(spec.approver.clone()),
            Decision::Rejected => tally.rejected_by.insert(spec.approver.clone()),
        };
        let reached_quorum = j.approved.is_some_and(|(r, _, _)| r == spec.revision);
        if let Some(expiry) = &spec.expires_at
            && !reached_quorum
            && expiry.0 > j.now
        {
            next_expiry = Some(next_expiry.map_or(expiry.0, |t| t.min(expiry.0)));
        }
    }

    let verdicts = approvals.iter().map(name_of).zip(first_pass).collect();
    Ledger {
        verdicts,
        tallies,
        next_expiry,
    }
}

fn sort_key(a: &ServiceApproval) -> (Option<Timestamp>, String, String) {
    (
        a.metadata.creation_timestamp.as_ref().map(|t| t.0),
        name_of(a),
        a.metadata.uid.clone().unwrap_or_default(),
    )
}

fn name_of(a: &ServiceApproval) -> String {
    a.metadata.name.clone().unwrap_or_default()
}

/// The checks that depend on the approval alone, not on its siblings.
fn eligible(j: &Judge, a: &ServiceApproval) -> Result<(), Refusal> {
    let spec = &a.spec;
    let other_namespace = matches!(
        (a.metadata.namespace.as_deref(), j.service_namespace),
        (Some(x), Some(y)) if x != y
    );
    if spec.service_name != j.service_name || other_namespace {
        return Err(Refusal::unknown_service(&spec.service_name, j.service_name));
    }
    let content = if spec.revision == j.revision {
        j.content
    } else {
        match j.approved {
            Some((revision, content, _)) if revision == spec.revision => content,
            _ => return Err(Refusal::stale_revision(&spec.revision, j.revision)),
        }
    };
    if spec.approver == content.owner && !j.allow_self_approval {
        return Err(Refusal::self_approval(&spec.approver));
    }
    if !content.approvers.is_empty() && !content.approvers.contains(&spec.approver) {
        return Err(Refusal::approver_not_allowed(&spec.approver));
    }
    Ok(())
}

/// An approval may wait until its expiry to be used: once its revision reached quorum (before
/// the expiry) it keeps counting; a rejection is used when it arrives, so it only expires unused.
fn expired(j: &Judge, a: &ServiceApproval) -> bool {
    let Some(expiry) = a.spec.expires_at.as_ref().map(|t| t.0) else {
        return false;
    };
    match j.approved {
        Some((revision, _, approved_at))
            if revision == a.spec.revision && a.spec.decision == Decision::Approved =>
        {
            approved_at.is_some_and(|at| expiry <= at)
        }
        _ => expiry <= j.now,
    }
}

/// The status of every input approval, by name: counted, or why not.
pub(crate) fn statuses(
    verdicts: Vec<(String, Result<(), Refusal>)>,
    approvals: &[ServiceApproval],
    current: &str,
) -> Vec<(String, ServiceApprovalStatus)> {
    verdicts
        .into_iter()
        .zip(approvals)
        .map(|((name, verdict), approval)| {
            let spec = &approval.spec;
            // A decision on the approved revision that still counts after re-judging is an
            // approval (a rejection of it revoked it): it counts toward nothing current.
            let verdict = verdict.and_then(|()| {
                if spec.revision == current {
                    Ok(())
                } else {
                    Err(Refusal::for_approved_revision(&spec.revision, current))
                }
            });
            let (counted, reason, message) = match verdict {
                Ok(()) => (
                    true,
                    reason::COUNTED.to_owned(),
                    format!("counts toward revision {}", approval.spec.revision),
                ),
                Err(r) => (false, r.reason, r.message),
            };
            let observed_generation = approval.metadata.generation;
            (
                name,
                ServiceApprovalStatus {
                    counted,
                    reason,
                    message,
                    observed_generation,
                },
            )
        })
        .collect()
}

/// The status of an approval whose Service does not exist: it counts toward nothing.
pub fn for_unknown_service(approval: &ServiceApproval) -> ServiceApprovalStatus {
    let refusal = Refusal::no_such_service(
        &approval.spec.service_name,
        approval.metadata.namespace.as_deref().unwrap_or_default(),
    );
    ServiceApprovalStatus {
        counted: false,
        reason: refusal.reason,
        message: refusal.message,
        observed_generation: approval.metadata.generation,
    }
}
