//! Quorum and revocation: which revision is approved once this evaluation's approvals are
//! counted. Sticky: a revision that reached quorum stays approved until a valid rejection revokes it.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

use super::approvals::Ledger;
use super::events::Events;
use super::reason;
use super::refusal::Refusal;
use crate::api::{ApprovalSummary, ServiceContent, ServiceStatus, Snapshot};

/// The approval state of a Service after counting.
pub(crate) struct Approval {
    /// The approved snapshot (the catalog serves it while Active).
    pub snapshot: Option<Snapshot>,
    /// Set when this evaluation revoked the approved revision: (revision, rejecters).
    pub revoked: Option<(String, Vec<String>)>,
    /// Valid approvers and rejecters of the current revision (sorted).
    pub approved_by: Vec<String>,
    pub rejected_by: Vec<String>,
}

/// The approved snapshot of the previous status, as far as that status is consistent about it.
pub(crate) fn previous_snapshot(previous: &ServiceStatus) -> Option<Snapshot> {
    previous
        .snapshot
        .clone()
        .filter(|s| previous.approved_revision.as_deref() == Some(s.revision.as_str()))
}

pub(crate) fn settle(
    previous: &ServiceStatus,
    ledger: &Ledger,
    revision: &str,
    content: &ServiceContent,
    now: Timestamp,
    events: &mut Events,
) -> Approval {
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
    let approved_by: Vec<String> = current.approved_by.into_iter().collect();
    let rejected_by: Vec<String> = current.rejected_by.into_iter().collect();
    let quorum = content.quorum();
    let already = snapshot.as_ref().is_some_and(|s| s.revision == revision);
    if !already && rejected_by.is_empty() && approved_by.len() >= quorum as usize {
        let message = format!(
            "revision {revision} approved by {} ({}/{quorum})",
            approved_by.join(", "),
            approved_by.len()
        );
        events.push(false, reason::QUORUM_REACHED, message);
        snapshot = Some(Snapshot {
            revision: revision.to_owned(),
            approved_by: approved_by.clone(),
            approved_at: Time(now),
            content: content.clone(),
        });
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
        rejected_by,
    }
}

impl Approval {
    /// Takes the current revision's approvers and rejecters from a re-judged ledger.
    pub fn recount(&mut self, ledger: &Ledger, revision: &str) {
        let tally = ledger.tally(revision);
        self.approved_by = tally.approved_by.into_iter().collect();
        self.rejected_by = tally.rejected_by.into_iter().collect();
    }

    pub fn approved_revision(&self) -> Option<&str> {
        self.snapshot.as_ref().map(|s| s.revision.as_str())
    }

    /// The approvals of the current revision; once approved, its snapshot's approvers count
    /// even when their approval objects are gone.
    pub fn summary(&self, revision: &str, quorum: u32) -> ApprovalSummary {
        let mut received = self.approved_by.clone();
        if let Some(s) = self.snapshot.as_ref().filter(|s| s.revision == revision) {
            received.extend(s.approved_by.iter().cloned());
            received.sort();
            received.dedup();
        }
        ApprovalSummary {
            required: quorum,
            received: received.len() as u32,
            // A valid rejection holds the revision whatever its approvals: never show a quorum then.
            progress: if self.rejected_by.is_empty() {
                format!("{}/{quorum}", received.len())
            } else {
                "rejected".to_owned()
            },
            approved_by: received,
            rejected_by: self.rejected_by.clone(),
        }
    }
}

/// Whether `approvals` hold a valid quorum for an approved `snapshot` of the Service
/// `namespace/name`, counted exactly as `evaluate` counts them: `Approved` decisions for the
/// snapshot's revision by distinct approvers its content allows (the owner only under
/// `allow_self_approval`), each its approver's latest on that revision, none expired before the
/// snapshot's approval, and no valid rejection of that revision. `Err` says why not. For
/// checkers outside the operator (the fault suite's history recorder).
pub fn holds_quorum(
    namespace: &str,
    name: &str,
    snapshot: &Snapshot,
    approvals: &[crate::api::ServiceApproval],
    policy: &super::Policy,
) -> Result<(), Refusal> {
    let judge = super::approvals::Judge {
        service_name: name,
        service_namespace: Some(namespace),
        revision: &snapshot.revision,
        content: &snapshot.content,
        approved: None,
        allow_self_approval: policy.allow_self_approval,
        now: snapshot.approved_at.0,
    };
    let tally = super::approvals::judge(&judge, approvals).tally(&snapshot.revision);
    let rejected_by: Vec<String> = tally.rejected_by.into_iter().collect();
    if !rejected_by.is_empty() {
        return Err(Refusal::rejected(&snapshot.revision, &rejected_by));
    }
    let quorum = snapshot.content.quorum();
    if tally.approved_by.len() < quorum as usize {
        return Err(Refusal::awaiting_approval(
            &snapshot.revision,
            tally.approved_by.len(),
            quorum,
        ));
    }
    Ok(())
}
