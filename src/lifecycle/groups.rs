//! Which groups the API server vouched for an approver: those it recorded, at admission, on the
//! approvals the approver created themselves (never a delegate's, never what an approval says).

use std::collections::BTreeSet;

use super::reason;
use super::refusal::Refusal;
use crate::api::{Decision, ServiceApproval, ServiceApprovalSpec, identity};

/// The groups the server vouched for an approver's standing approval of a revision: those
/// recorded on each of their approvals of it since their last rejection of it, counted or
/// superseded. A lead who approved in their own name stays vouched for when a delegate later
/// records the same decision from git.
pub(crate) fn vouched(
    approvals: &[ServiceApproval],
    order: &[usize],
    verdicts: &[Result<(), Refusal>],
    spec: &ServiceApprovalSpec,
) -> BTreeSet<String> {
    let mut groups = BTreeSet::new();
    for &i in order {
        let a = &approvals[i];
        let usable = match &verdicts[i] {
            Ok(()) => true,
            Err(refusal) => refusal.reason == reason::SUPERSEDED,
        };
        if !usable || a.spec.approver != spec.approver || a.spec.revision != spec.revision {
            continue;
        }
        match a.spec.decision {
            Decision::Approved => groups.extend(groups_of(a)),
            Decision::Rejected => groups.clear(),
            Decision::Reviewed => {}
        }
    }
    groups
}

/// The groups an approval proves its approver is in: those the API server recorded for whoever
/// created it, when that is the approver. A delegate's groups are the delegate's own and say
/// nothing of the approver it records a decision for.
fn groups_of(a: &ServiceApproval) -> BTreeSet<String> {
    let recorder = identity::recorded(&a.metadata, identity::RECORDED_BY);
    if recorder != Some(a.spec.approver.as_str()) {
        return BTreeSet::new();
    }
    identity::recorded_groups(&a.metadata, identity::RECORDED_GROUPS)
        .into_iter()
        .collect()
}
