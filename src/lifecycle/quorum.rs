//! Quorum and revocation: which revision is approved once this evaluation's approvals are
//! counted. Sticky: a revision that reached quorum stays approved until a valid rejection revokes it.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

use super::approvals::Ledger;
use super::bar::{self, Approvers, Bars};
use super::events::Events;
use super::reason;
use super::refusal::Refusal;
use crate::api::{ApprovalSummary, ApprovedBar, ServiceContent, ServiceStatus, Snapshot};

/// The approval state of a Service after counting.
pub(crate) struct Approval {
    /// The approved snapshot (the catalog serves it while Active).
    pub snapshot: Option<Snapshot>,
    /// Set when this evaluation revoked the approved revision: (revision, rejecters).
    pub revoked: Option<(String, Vec<String>)>,
    /// Valid approvers and rejecters of the current revision (sorted).
    pub approved_by: Vec<String>,
    /// The approvers of the current revision with the groups recorded for them.
    pub approved_groups: Approvers,
    pub rejected_by: Vec<String>,
    /// The bar of the last approved revision (kept through a revocation).
    pub bar: Option<ApprovedBar>,
}

/// The bar of the last approved revision, as far as the previous status tells it.
pub(crate) fn previous_bar(previous: &ServiceStatus) -> Option<ApprovedBar> {
    let snapshot = previous_snapshot(previous);
    match previous.approved_bar.clone() {
        // A bar written before tiers were recorded: its snapshot, when it is the same
        // revision's, tells the tier.
        Some(mut bar) => {
            if bar.tier.is_none()
                && let Some(s) = snapshot.filter(|s| s.revision == bar.revision)
            {
                bar.tier = s.content.tier;
            }
            Some(bar)
        }
        // A status written before bars were recorded: its snapshot's content is the bar.
        None => snapshot.map(|s| bar::approved_bar(&s.revision, &s.content)),
    }
}

/// The approved snapshot of the previous status, as far as that status is consistent about it.
pub(crate) fn previous_snapshot(previous: &ServiceStatus) -> Option<Snapshot> {
    previous
        .snapshot
        .clone()
        .filter(|s| previous.approved_revision.as_deref() == Some(s.revision.as_str()))
}

/// The revision being judged: its hash, content, author and the bars it must clear.
pub(crate) struct Candidate<'a> {
    pub revision: &'a str,
    pub content: &'a ServiceContent,
    pub author: Option<&'a str>,
    pub bars: &'a Bars,
}

pub(crate) fn settle(
    previous: &ServiceStatus,
    ledger: &Ledger,
    candidate: &Candidate,
    now: Timestamp,
    events: &mut Events,
) -> Approval {
    let Candidate {
        revision, content, ..
    } = *candidate;
    let mut bar = previous_bar(previous);
    let mut snapshot = previous_snapshot(previous);

    // Revocation: a valid rejection of the approved revision withdraws it.
    let mut revoked = None;
    if let Some(s) = &snapshot {
        let rejecters: Vec<String> = ledger.tally(&s.revision).rejected_by.into_iter().collect();
        if !rejecters.is_empty() {
            let message = format!(
                "approval of revision {} was revoked by {}",
                s.revision,
                rejecters.join(", ")
            );
            events.push(true, reason::REVOKED, message);
            revoked = Some((s.revision.clone(), rejecters));
            snapshot = None;
        }
    }

    // Quorum: the current revision becomes the approved one, and the snapshot switches to it.
    let current = ledger.tally(revision);
    let approved_groups = current.approved_by.clone();
    let cleared = candidate.bars.met(&current.approved_by);
    let progress = candidate.bars.progress(&current.approved_by);
    let approved_by: Vec<String> = current.approved_by.into_keys().collect();
    let rejected_by: Vec<String> = current.rejected_by.into_iter().collect();
    let already = snapshot.as_ref().is_some_and(|s| s.revision == revision);
    if !already && rejected_by.is_empty() && cleared {
        let message = format!(
            "revision {revision} approved by {} ({progress})",
            approved_by.join(", "),
        );
        events.push(false, reason::QUORUM_REACHED, message);
        snapshot = Some(Snapshot {
            revision: revision.to_owned(),
            approved_by: approved_by.clone(),
            approved_at: Time(now),
            content: content.clone(),
            revised_by: candidate.author.map(str::to_owned),
            policies: candidate.bars.requirement().policies.clone(),
        });
        bar = Some(bar::approved_bar(revision, content));
    }

    let rejected_before = previous.revision.as_deref() == Some(revision)
        && previous
            .approvals
            .as_ref()
            .is_some_and(|a| !a.rejected_by.is_empty());
    if !rejected_by.is_empty() && !rejected_before {
        events.refused(&Refusal::rejected(revision, &rejected_by));
    }

    Approval {
        snapshot,
        revoked,
        approved_by,
        approved_groups,
        rejected_by,
        bar,
    }
}

impl Approval {
    /// Takes the current revision's approvers and rejecters from a re-judged ledger.
    pub fn recount(&mut self, ledger: &Ledger, revision: &str) {
        let tally = ledger.tally(revision);
        self.approved_groups = tally.approved_by.clone();
        self.approved_by = tally.approved_by.into_keys().collect();
        self.rejected_by = tally.rejected_by.into_iter().collect();
    }

    pub fn approved_revision(&self) -> Option<&str> {
        self.snapshot.as_ref().map(|s| s.revision.as_str())
    }

    /// The approvers counted for the current revision, with their recorded groups; once
    /// approved, its snapshot's approvers count even when their approval objects are gone.
    pub fn received(&self, revision: &str) -> Approvers {
        let mut received = self.approved_groups.clone();
        if let Some(s) = self.snapshot.as_ref().filter(|s| s.revision == revision) {
            for a in &s.approved_by {
                received.entry(a.clone()).or_default();
            }
        }
        received
    }

    /// The approvals of the current revision against the bars it must clear.
    pub fn summary(&self, revision: &str, bars: &Bars) -> ApprovalSummary {
        let received = self.received(revision);
        let approved = self.approved_revision() == Some(revision);
        let needs = (!approved && self.rejected_by.is_empty()).then(|| bars.needs(&received));
        ApprovalSummary {
            required: bars.quorum(),
            received: received.len() as u32,
            // A valid rejection holds the revision whatever its approvals: never show a quorum then.
            progress: if self.rejected_by.is_empty() {
                bars.progress(&received)
            } else {
                "rejected".to_owned()
            },
            approved_by: received.into_keys().collect(),
            rejected_by: self.rejected_by.clone(),
            needs,
        }
    }
}

/// Whether `approvals` hold a valid quorum for an approved `snapshot` of the Service
/// `namespace/name`, counted as `evaluate` counts them under the snapshot's own bar: `Approved`
/// decisions for the snapshot's revision by distinct approvers its content allows (neither the
/// owner nor its author, unless `allow_self_approval`), each its approver's latest on that revision,
/// none expired before the snapshot's approval, and no valid rejection of that revision. `Err` says
/// why not. For checkers outside the operator (the fault suite's history recorder).
pub fn holds_quorum(
    namespace: &str,
    name: &str,
    snapshot: &Snapshot,
    approvals: &[crate::api::ServiceApproval],
    policy: &super::Policy,
) -> Result<(), Refusal> {
    let bars = Bars::new(&snapshot.content, None, policy.allow_self_approval);
    let judge = super::approvals::Judge {
        service_name: name,
        service_namespace: Some(namespace),
        object: super::approvals::Object::default(),
        creator: None,
        current: super::approvals::Judged {
            revision: &snapshot.revision,
            bars: &bars,
            author: snapshot.revised_by.as_deref(),
        },
        approved: None,
        published: None,
        allow_self_approval: policy.allow_self_approval,
        now: snapshot.approved_at.0,
    };
    let tally = super::approvals::judge(&judge, approvals).tally(&snapshot.revision);
    let rejected_by: Vec<String> = tally.rejected_by.into_iter().collect();
    if !rejected_by.is_empty() {
        return Err(Refusal::rejected(&snapshot.revision, &rejected_by));
    }
    if !bars.met(&tally.approved_by) {
        return Err(Refusal::awaiting_approval(
            &snapshot.revision,
            &bars.progress(&tally.approved_by),
            &bars.needs(&tally.approved_by),
        ));
    }
    Ok(())
}
