//! Which approvals count and why: a decision counts when it names this Service object, is for
//! the current or the approved revision, comes from an approver the revision's bars admit who is
//! neither an owner, the Service's creator nor the revision's author, was recorded by its approver
//! (or by a delegate for a listed approver), is its approver's latest on that revision and did not
//! expire before its revision reached quorum. Under an ApprovalPolicy an approval also needs a
//! justification when one is required, and may wait at most the policy's maximum age.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::jiff::Timestamp;

use super::bar::{Approvers, Bars};
use super::groups::vouched;
use super::reason;
use super::refusal::{Refusal, SelfRole};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::api::{
    Decision, LastReview, PolicyRef, ServiceApproval, ServiceApprovalStatus, identity,
};

/// What the approvals say, for the revisions that matter.
pub(crate) struct Ledger {
    /// For every input approval, by name: `Ok` when it counts.
    pub verdicts: Vec<(String, Result<(), Refusal>)>,
    /// Counted decisions per revision: approvers who approved / rejected (sorted, distinct).
    pub tallies: BTreeMap<String, Tally>,
    /// Earliest future expiry of a counted decision whose revision has not reached quorum yet.
    pub next_expiry: Option<Timestamp>,
    /// The latest counted review (a `Reviewed` decision on the published revision), if any.
    pub last_review: Option<LastReview>,
}

#[derive(Default, Clone, Debug)]
pub(crate) struct Tally {
    /// Each approver with the groups the server vouched for them (`groups::vouched`).
    pub approved_by: Approvers,
    pub rejected_by: BTreeSet<String>,
}

impl Ledger {
    pub fn tally(&self, revision: &str) -> Tally {
        self.tallies.get(revision).cloned().unwrap_or_default()
    }
}

/// The Service object approvals must belong to: its uid and creation time.
#[derive(Clone, Copy, Default)]
pub(crate) struct Object<'a> {
    pub uid: Option<&'a str>,
    pub created: Option<Timestamp>,
}

/// A revision approvals may be for, with the bars it is judged under and who wrote it.
pub(crate) struct Judged<'a> {
    pub revision: &'a str,
    pub bars: &'a Bars,
    /// Who last changed the content (the author), as recorded by the API server.
    pub author: Option<&'a str>,
}

/// The context approvals are judged in.
pub(crate) struct Judge<'a> {
    pub service_name: &'a str,
    pub service_namespace: Option<&'a str>,
    pub object: Object<'a>,
    /// Who created the Service object, as recorded by the API server.
    pub creator: Option<&'a str>,
    pub current: Judged<'a>,
    /// The revision that already reached quorum, with when, if any.
    pub approved: Option<(Judged<'a>, Option<Timestamp>)>,
    /// The revision the catalog served before this evaluation: the one a review is of.
    pub published: Option<&'a str>,
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
    // A review is no decision on the revision: it never supersedes one, nor one a review.
    let mut latest: BTreeMap<(&str, &str, bool), usize> = BTreeMap::new();
    for &i in &order {
        if first_pass[i].is_ok() {
            let a = &approvals[i].spec;
            latest.insert((a.approver.as_str(), a.revision.as_str(), is_review(a)), i);
        }
    }
    for (i, verdict) in first_pass.iter_mut().enumerate() {
        if verdict.is_err() {
            continue;
        }
        let a = &approvals[i].spec;
        if let Some(&winner) = latest.get(&(a.approver.as_str(), a.revision.as_str(), is_review(a)))
            && winner != i
        {
            *verdict = Err(Refusal::superseded(
                &a.approver,
                &name_of(&approvals[winner]),
            ));
            continue;
        }
        if let Some(refusal) = expired(j, &approvals[i]) {
            *verdict = Err(refusal);
        }
    }

    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let mut next_expiry: Option<Timestamp> = None;
    let mut last_review: Option<(&ServiceApproval, LastReview)> = None;
    for (approval, verdict) in approvals.iter().zip(&first_pass) {
        if verdict.is_err() {
            continue;
        }
        let spec = &approval.spec;
        if is_review(spec) {
            let later = last_review
                .as_ref()
                .is_none_or(|(best, _)| sort_key(approval) > sort_key(best));
            if let (true, Some(at)) = (later, approval.metadata.creation_timestamp.as_ref()) {
                let record = LastReview {
                    by: spec.approver.clone(),
                    at: Time(at.0),
                    revision: spec.revision.clone(),
                    outcome: reason::CONFIRMED.to_owned(),
                    comment: spec.comment.clone(),
                    approval: name_of(approval),
                };
                last_review = Some((approval, record));
            }
            continue;
        }
        let tally = tallies.entry(spec.revision.clone()).or_default();
        match spec.decision {
            Decision::Approved => {
                let groups = vouched(approvals, &order, &first_pass, spec);
                tally.approved_by.insert(spec.approver.clone(), groups);
            }
            Decision::Rejected => {
                tally.rejected_by.insert(spec.approver.clone());
            }
            Decision::Reviewed => {}
        };
        let reached_quorum = j
            .approved
            .as_ref()
            .is_some_and(|(a, _)| a.revision == spec.revision);
        if let Some((expiry, _)) = expiry_of(j, approval)
            && !reached_quorum
            && expiry > j.now
        {
            next_expiry = Some(next_expiry.map_or(expiry, |t| t.min(expiry)));
        }
    }

    let verdicts = approvals.iter().map(name_of).zip(first_pass).collect();
    Ledger {
        verdicts,
        tallies,
        next_expiry,
        last_review: last_review.map(|(_, record)| record),
    }
}

fn is_review(a: &crate::api::ServiceApprovalSpec) -> bool {
    a.decision == Decision::Reviewed
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
    belongs_to_object(j.object, a)?;
    if is_review(spec) && j.published != Some(spec.revision.as_str()) {
        return Err(Refusal::not_reviewable(&spec.revision, j.published));
    }
    let judged = if spec.revision == j.current.revision {
        &j.current
    } else {
        match &j.approved {
            Some((approved, _)) if approved.revision == spec.revision => approved,
            _ => return Err(Refusal::stale_revision(&spec.revision, j.current.revision)),
        }
    };
    let approver = spec.approver.as_str();
    if !j.allow_self_approval {
        if judged.bars.owners().any(|o| o == approver) {
            return Err(Refusal::self_approval(approver, SelfRole::Owner));
        }
        if j.creator == Some(approver) {
            return Err(Refusal::self_approval(approver, SelfRole::Creator));
        }
        if judged.author == Some(approver) {
            return Err(Refusal::self_approval(
                approver,
                SelfRole::Author(judged.revision),
            ));
        }
    }
    if !judged.bars.admits(approver) {
        return Err(Refusal::approver_not_allowed(approver));
    }
    if let Some(recorder) = identity::recorded(&a.metadata, identity::RECORDED_BY)
        && recorder != approver
        && !judged.bars.lists(approver)
    {
        return Err(Refusal::delegate_not_allowed(recorder, approver));
    }
    if expired_at_creation(a) {
        return Err(Refusal::expired(&spec.revision));
    }
    let requirement = judged.bars.requirement();
    if requirement.justification
        && spec.decision == Decision::Approved
        && spec.comment.as_deref().is_none_or(|c| c.trim().is_empty())
    {
        return Err(Refusal::justification_required(&requirement.names()));
    }
    Ok(())
}

/// A decision belongs to the Service object it was first judged for, and never to one created
/// after it: a Service deleted and created again starts without approvals.
fn belongs_to_object(object: Object, a: &ServiceApproval) -> Result<(), Refusal> {
    if let (Some(before), Some(now)) = (judged_for(a), object.uid)
        && before != now
    {
        return Err(Refusal::service_recreated(&a.spec.service_name));
    }
    let created = a.metadata.creation_timestamp.as_ref().map(|t| t.0);
    if let (Some(decided), Some(service_created)) = (created, object.created)
        && decided < service_created
    {
        return Err(Refusal::service_recreated(&a.spec.service_name));
    }
    Ok(())
}

/// A decision created already expired never counts, and so never supersedes its approver's
/// earlier decision on the same revision.
fn expired_at_creation(a: &ServiceApproval) -> bool {
    match (&a.spec.expires_at, &a.metadata.creation_timestamp) {
        (Some(expiry), Some(created)) => expiry.0 <= created.0,
        _ => false,
    }
}

/// When an approval stops being usable, and why: its own expiry, or its creation plus the
/// maximum approval age of the policies its revision is judged under, whichever comes first.
fn expiry_of(j: &Judge, a: &ServiceApproval) -> Option<(Timestamp, Refusal)> {
    let own = a
        .spec
        .expires_at
        .as_ref()
        .map(|t| (t.0, Refusal::expired(&a.spec.revision)));
    let judged = if a.spec.revision == j.current.revision {
        Some(&j.current)
    } else {
        j.approved
            .as_ref()
            .map(|(judged, _)| judged)
            .filter(|judged| judged.revision == a.spec.revision)
    };
    let aged = judged.and_then(|judged| {
        let requirement = judged.bars.requirement();
        let age = requirement.max_age?;
        let created = a.metadata.creation_timestamp.as_ref()?.0;
        let at = created.checked_add(age).ok()?;
        Some((at, Refusal::too_old(&a.spec.revision, &requirement.names())))
    });
    match (own, aged) {
        (Some(o), Some(g)) => Some(if g.0 < o.0 { g } else { o }),
        (o, g) => o.or(g),
    }
}

/// An approval may wait until its expiry to be used: once its revision reached quorum (before
/// the expiry) it keeps counting; a rejection is used when it arrives, so it only expires unused.
fn expired(j: &Judge, a: &ServiceApproval) -> Option<Refusal> {
    if is_review(&a.spec) {
        return None;
    }
    let (expiry, refusal) = expiry_of(j, a)?;
    let gone = match &j.approved {
        Some((approved, approved_at))
            if approved.revision == a.spec.revision && a.spec.decision == Decision::Approved =>
        {
            approved_at.is_some_and(|at| expiry <= at)
        }
        _ => expiry <= j.now,
    };
    gone.then_some(refusal)
}

/// The status of every input approval, by name: counted, or why not. Each keeps the Service
/// object it was first judged for, or is bound to `service_uid` now.
pub(crate) fn statuses(
    verdicts: Vec<(String, Result<(), Refusal>)>,
    approvals: &[ServiceApproval],
    current: &str,
    service_uid: Option<&str>,
    judged_under: &[PolicyRef],
) -> Vec<(String, ServiceApprovalStatus)> {
    verdicts
        .into_iter()
        .zip(approvals)
        .map(|((name, verdict), approval)| {
            let spec = &approval.spec;
            // A decision on the approved revision that still counts after re-judging is an
            // approval (a rejection of it revoked it): it counts toward nothing current.
            let verdict = verdict.and_then(|()| {
                if spec.revision == current || is_review(spec) {
                    Ok(())
                } else {
                    Err(Refusal::for_approved_revision(&spec.revision, current))
                }
            });
            let judged_under = if spec.revision == current && !is_review(spec) {
                judged_under.to_vec()
            } else {
                Vec::new()
            };
            let (counted, reason, message) = match verdict {
                Ok(()) if is_review(spec) => (
                    true,
                    reason::COUNTED.to_owned(),
                    format!(
                        "records a review of published revision {}",
                        approval.spec.revision
                    ),
                ),
                Ok(()) => (
                    true,
                    reason::COUNTED.to_owned(),
                    format!("counts toward revision {}", approval.spec.revision),
                ),
                Err(r) => (false, r.reason, r.message),
            };
            let observed_generation = approval.metadata.generation;
            let service_uid = judged_for(approval).or(service_uid).map(str::to_owned);
            (
                name,
                ServiceApprovalStatus {
                    counted,
                    reason,
                    message,
                    observed_generation,
                    service_uid,
                    judged_under,
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
        service_uid: judged_for(approval).map(str::to_owned),
        judged_under: Vec::new(),
    }
}

fn judged_for(approval: &ServiceApproval) -> Option<&str> {
    approval.status.as_ref()?.service_uid.as_deref()
}
