//! Why a gate is closed or an approval does not count: the one source of every reason string
//! a user sees, as a condition reason, an Event reason or a ServiceApproval's status.

use std::fmt;

use super::reason;

/// Why something did not happen: `reason` is CamelCase and machine-readable, `message` is for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub reason: String,
    pub message: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason, self.message)
    }
}

// Internal: the edge does not apply (the owner did not ask for it, or its trigger is absent).
// Never shown to users; a held service reports the first refusal that is not this one.
pub(crate) use super::reason::NOT_APPLICABLE;

/// Which of the Service's own people an approver is (none of them may approve it).
#[derive(Clone, Copy, Debug)]
pub enum SelfRole<'a> {
    Owner,
    Creator,
    /// The author of this revision.
    Author(&'a str),
}

impl Refusal {
    fn new(reason: &str, message: impl Into<String>) -> Self {
        Refusal {
            reason: reason.to_owned(),
            message: message.into(),
        }
    }

    /// Whether a user should be warned (an Event of type Warning) rather than informed.
    pub fn warning(&self) -> bool {
        matches!(
            self.reason.as_str(),
            reason::INCOMPLETE
                | reason::REJECTED
                | reason::NO_CATEGORIES
                | reason::INVALID_REVIEW_INTERVAL
                | reason::INVALID_LAST_REVIEWED
        )
    }

    pub(crate) fn not_applicable() -> Self {
        Refusal::new(NOT_APPLICABLE, "")
    }

    pub(crate) fn applies(&self) -> bool {
        self.reason != NOT_APPLICABLE
    }

    // Gates.

    pub fn incomplete(missing: &[&str]) -> Self {
        Refusal::new(
            reason::INCOMPLETE,
            format!("the content is incomplete: missing {}", missing.join(", ")),
        )
    }

    /// `needs` says in words what the revision still needs (`1 more approval from frank`).
    pub fn awaiting_approval(revision: &str, progress: &str, needs: &str) -> Self {
        Refusal::new(
            reason::AWAITING_APPROVAL,
            format!("revision {revision} has {progress} valid approvals; it needs {needs}"),
        )
    }

    pub fn awaiting_approval_while_published(
        revision: &str,
        progress: &str,
        needs: &str,
        served: &str,
    ) -> Self {
        Refusal::new(
            reason::AWAITING_APPROVAL,
            format!(
                "revision {revision} has {progress} valid approvals; it needs {needs}; the catalog keeps serving revision {served}"
            ),
        )
    }

    /// Planning (or Retired): the current revision is not before approvers at all.
    pub fn not_submitted(revision: &str, phase: crate::api::Phase) -> Self {
        Refusal::new(
            reason::NOT_SUBMITTED,
            format!(
                "revision {revision} is not submitted for approval while {phase}; ask for Development or Active with complete content to submit it"
            ),
        )
    }

    pub fn rejected(revision: &str, by: &[String]) -> Self {
        Refusal::new(
            reason::REJECTED,
            format!(
                "revision {revision} was rejected by {}; change the content to resubmit",
                by.join(", ")
            ),
        )
    }

    pub fn no_categories() -> Self {
        Refusal::new(
            reason::NO_CATEGORIES,
            "categories must be defined before activation",
        )
    }

    pub fn dependencies_not_ready(missing: &[String]) -> Self {
        Refusal::new(
            reason::DEPENDENCIES_NOT_READY,
            format!(
                "waiting for dependencies to be Active: {}",
                missing.join(", ")
            ),
        )
    }

    pub fn dependency_cycle(cycle: &[String]) -> Self {
        Refusal::new(
            reason::DEPENDENCY_CYCLE,
            format!("dependency cycle: {}", cycle.join(" → ")),
        )
    }

    pub fn progressing(message: impl Into<String>) -> Self {
        Refusal::new(reason::PROGRESSING, message)
    }

    // Conditions that are simply not true (yet).

    pub fn not_published(phase: crate::api::Phase) -> Self {
        Refusal::new(
            reason::NOT_PUBLISHED,
            format!("{phase} services are not in the catalog"),
        )
    }

    pub fn review_not_due(message: String) -> Self {
        Refusal::new(reason::REVIEW_NOT_DUE, message)
    }

    // Review.

    pub fn invalid_review_interval(interval: &str) -> Self {
        Refusal::new(
            reason::INVALID_REVIEW_INTERVAL,
            format!(
                "reviewInterval {interval:?} is not a number of hours, days or weeks (e.g. 90d)"
            ),
        )
    }

    pub fn invalid_last_reviewed(date: &str) -> Self {
        Refusal::new(
            reason::INVALID_LAST_REVIEWED,
            format!("lastReviewed {date:?} is not a date (YYYY-MM-DD)"),
        )
    }

    // Approvals that do not count.

    pub fn unknown_service(named: &str, service: &str) -> Self {
        Refusal::new(
            reason::UNKNOWN_SERVICE,
            format!("the approval names service {named:?}, not {service:?}"),
        )
    }

    /// An approval whose `spec.serviceName` names no Service in its namespace (a typo, or a
    /// Service deleted since).
    pub fn no_such_service(named: &str, namespace: &str) -> Self {
        Refusal::new(
            reason::UNKNOWN_SERVICE,
            format!(
                "there is no Service {named:?} in namespace {namespace:?}; check spec.serviceName"
            ),
        )
    }

    pub fn stale_revision(revision: &str, current: &str) -> Self {
        Refusal::new(
            reason::STALE_REVISION,
            format!(
                "revision {revision} is neither the current revision {current} nor the approved one"
            ),
        )
    }

    /// A decision on the approved revision once the content moved on: it neither counts toward
    /// the current revision nor changes the approved one (approvals are sticky).
    pub fn for_approved_revision(revision: &str, current: &str) -> Self {
        Refusal::new(
            reason::STALE_REVISION,
            format!(
                "revision {revision} is the approved one, not the current revision {current}: this approval does not count toward {current}"
            ),
        )
    }

    pub fn self_approval(approver: &str, role: SelfRole) -> Self {
        let why = match role {
            SelfRole::Owner => "owns the service; an owner's decision does not count".to_owned(),
            SelfRole::Creator => {
                "created the service; its creator's decision does not count".to_owned()
            }
            SelfRole::Author(revision) => format!(
                "last changed the content of revision {revision}; its author's decision does not count"
            ),
        };
        Refusal::new(reason::SELF_APPROVAL, format!("{approver} {why}"))
    }

    pub fn service_recreated(service: &str) -> Self {
        Refusal::new(
            reason::SERVICE_RECREATED,
            format!(
                "the decision was made for an earlier Service object named {service:?}, deleted since: a Service created again starts without approvals"
            ),
        )
    }

    pub fn delegate_not_allowed(recorder: &str, approver: &str) -> Self {
        Refusal::new(
            reason::DELEGATE_NOT_ALLOWED,
            format!(
                "{recorder} recorded this decision in the name of {approver}, who is not named in spec.approvers: a delegate records decisions only for listed approvers"
            ),
        )
    }

    pub fn approver_not_allowed(approver: &str) -> Self {
        Refusal::new(
            reason::APPROVER_NOT_ALLOWED,
            format!("{approver} is not in the service's approvers"),
        )
    }

    pub fn superseded(approver: &str, by: &str) -> Self {
        Refusal::new(
            reason::SUPERSEDED,
            format!("{approver} decided again on this revision in {by}"),
        )
    }

    pub fn expired(revision: &str) -> Self {
        Refusal::new(
            reason::EXPIRED,
            format!("the approval expired before revision {revision} reached quorum"),
        )
    }

    /// Older than the maximum approval age of the ApprovalPolicies `policies`.
    pub fn too_old(revision: &str, policies: &str) -> Self {
        Refusal::new(
            reason::EXPIRED,
            format!(
                "the approval is older than the maximum approval age of ApprovalPolicy {policies} and revision {revision} had not reached quorum"
            ),
        )
    }

    /// A review of a revision the catalog does not serve.
    pub fn not_reviewable(revision: &str, published: Option<&str>) -> Self {
        let serves = match published {
            Some(p) => format!("the catalog serves revision {p}"),
            None => "the Service is not published".to_owned(),
        };
        Refusal::new(
            reason::NOT_REVIEWABLE,
            format!(
                "a review is of the published revision of an Active Service: {serves}, not {revision}"
            ),
        )
    }

    /// An approval without a justification under a policy that requires one.
    pub fn justification_required(policies: &str) -> Self {
        Refusal::new(
            reason::JUSTIFICATION_REQUIRED,
            format!(
                "ApprovalPolicy {policies} requires a justification: an approval counts only with a non-empty spec.comment"
            ),
        )
    }
}
