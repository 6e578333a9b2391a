//! The lifecycle core: every rule of DESIGN.md's lifecycle as one pure function from a Service,
//! its approvals, its dependencies' phases and the time to a new status and the Events to emit.
//! No client, no clock: applying the outcome is the controller's job.
//!
//! Where each rule lives: the phases and their gates in `gates.rs` (one table); which approvals
//! count in `approvals.rs`; quorum, sticky approval and revocation in `quorum.rs`; walking the
//! table and the history in `transitions.rs` and `history.rs`; periodic review in `review.rs`;
//! conditions in `conditions.rs`; every reason string a user sees in `reason.rs`, and why a gate is
//! closed in `refusal.rs`.

mod approvals;
mod conditions;
mod cycle;
mod events;
mod gates;
mod history;
mod quorum;
pub mod reason;
mod refusal;
mod review;
mod transitions;

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

pub use approvals::for_unknown_service;
pub use conditions::{APPROVED, DEPENDENCIES_READY, PUBLISHED, READY, REVIEW_DUE};
pub use cycle::find_cycle;
pub use gates::allowed;
pub use refusal::Refusal;
pub use review::parse_interval;

use crate::api::{
    Phase, Service, ServiceApproval, ServiceApprovalStatus, ServiceRef, ServiceStatus, Snapshot,
    revision_of,
};
use approvals::{Judge, judge};
use conditions::Conditions;
use events::Events;
use gates::Facts;

/// How the operator was started.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Whether an owner's own approval counts (off by default: separation of duties).
    pub allow_self_approval: bool,
    /// How many transitions `status.history` keeps.
    pub history_limit: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            allow_self_approval: false,
            history_limit: 20,
        }
    }
}

/// Everything the rules look at.
pub struct Input<'a> {
    /// The Service: metadata name/namespace/generation, spec and current status.
    pub service: &'a Service,
    /// The ServiceApprovals in the Service's namespace naming it.
    pub approvals: &'a [ServiceApproval],
    /// Each `dependsOn` (namespace filled in) and its phase; `None` when not found.
    pub dependencies: &'a BTreeMap<ServiceRef, Option<Phase>>,
    /// A dependency cycle through this Service (`find_cycle`); empty when none.
    pub dependency_cycle: &'a [ServiceRef],
    /// The Active Services that depend on this one (told when it retires under them).
    pub active_dependants: &'a [ServiceRef],
    pub now: Timestamp,
    pub policy: &'a Policy,
}

/// An Event to emit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub warning: bool,
    pub reason: String,
    pub message: String,
}

/// What the rules decided.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The complete new status.
    pub status: ServiceStatus,
    /// The status of every input approval, by name.
    pub approvals: Vec<(String, ServiceApprovalStatus)>,
    /// Events to emit: one per transition and per new refusal; none at steady state.
    pub events: Vec<Note>,
    /// The next time-based change (review due, approval expiry), if any.
    pub requeue_at: Option<Timestamp>,
}

/// Moves a Service through its lifecycle. Same input, same output; fed its own status, no Events.
pub fn evaluate(input: &Input) -> Outcome {
    let service = input.service;
    let meta = &service.metadata;
    let content = &service.spec.content;
    let lifecycle = &service.spec.lifecycle;
    // Times are stored with second precision; using the same precision keeps re-evaluation stable.
    let now = Timestamp::from_second(input.now.as_second()).unwrap_or(input.now);
    let previous = service.status.clone().unwrap_or_default();
    let revision = revision_of(content);
    let quorum = content.quorum();

    let judge_with = |approved: Option<&Snapshot>| {
        let ctx = Judge {
            service_name: meta.name.as_deref().unwrap_or_default(),
            service_namespace: meta.namespace.as_deref(),
            revision: &revision,
            content,
            approved: approved.map(|s| (s.revision.as_str(), &s.content, Some(s.approved_at.0))),
            allow_self_approval: input.policy.allow_self_approval,
            now,
        };
        judge(&ctx, input.approvals)
    };
    let approved_before = quorum::previous_snapshot(&previous);
    let mut ledger = judge_with(approved_before.as_ref());
    let mut approval_events = Events::default();
    let mut approval = quorum::settle(
        &previous,
        &ledger,
        &revision,
        content,
        now,
        &mut approval_events,
    );
    // When the approved revision changed, approvals are re-judged against the new one, so the
    // statuses written now are those the next evaluation will find.
    if approval.approved_revision() != approved_before.as_ref().map(|s| s.revision.as_str()) {
        ledger = judge_with(approval.snapshot.as_ref());
        approval.recount(&ledger, &revision);
    }

    let missing_dependencies = missing_dependencies(service, input.dependencies);
    let dependency_cycle: Vec<String> = input
        .dependency_cycle
        .iter()
        .map(|r| format!("{}/{}", r.namespace.as_deref().unwrap_or_default(), r.name))
        .collect();
    let facts = Facts {
        desired: lifecycle.desired_phase,
        content,
        revision: &revision,
        approved_revision: approval.approved_revision(),
        approved_by: &approval.approved_by,
        rejected_by: &approval.rejected_by,
        missing_dependencies: &missing_dependencies,
        dependency_cycle: &dependency_cycle,
        revoked: approval
            .revoked
            .as_ref()
            .map(|(r, by)| (r.as_str(), by.as_slice())),
    };

    let walk = transitions::walk(&previous, &facts, now, input.policy.history_limit);
    let phase = walk.phase;
    let mut events = walk.events;
    events.extend(approval_events);
    // Retirement is the owner's call and proceeds; Active dependants are named so that
    // their owners can be told (their DependenciesReady turns False on their own).
    if phase == Phase::Retired
        && previous.phase != Some(Phase::Retired)
        && !input.active_dependants.is_empty()
    {
        let names: Vec<String> = input
            .active_dependants
            .iter()
            .map(|r| format!("{}/{}", r.namespace.as_deref().unwrap_or_default(), r.name))
            .collect();
        events.push(
            true,
            reason::RETIRED_WITH_ACTIVE_DEPENDANTS,
            format!(
                "retired while Active services depend on it: {}",
                names.join(", ")
            ),
        );
    }

    // Publication: the approved snapshot, only while Active.
    let published_revision = match (approval.approved_revision(), phase) {
        (Some(r), Phase::Active) => Some(r.to_owned()),
        _ => None,
    };
    if published_revision != previous.published_revision {
        match &published_revision {
            Some(r) => events.push(
                false,
                reason::PUBLISHED,
                format!("the catalog serves revision {r}"),
            ),
            None => events.push(
                false,
                reason::WITHDRAWN,
                "the service was withdrawn from the catalog".to_owned(),
            ),
        }
    }

    // Readiness: the desired phase reached with its content live, or the refusal holding it.
    let ready = if phase != Phase::from(lifecycle.desired_phase) {
        Err(transitions::holding_refusal(phase, &facts))
    } else if phase == Phase::Active {
        gates::pending_revision(&facts, published_revision.as_deref()).map(|()| {
            (
                reason::ACTIVE,
                format!("Active, serving revision {revision}"),
            )
        })
    } else {
        Ok((phase.as_str(), format!("{phase}, as desired")))
    };
    if let Err(refusal) = &ready
        && !previous_reason_is(&previous, READY, &refusal.reason)
    {
        events.refused(refusal);
    }

    // Periodic review, while Active.
    let review = if phase == Phase::Active {
        review::due_at(lifecycle, walk.activated_at)
    } else {
        Ok(None)
    };
    let review_due_at = review.clone().ok().flatten();
    let review_due = review_due_at.is_some_and(|due| due <= now);
    let review_condition = match (&review, review_due_at) {
        (Err(refusal), _) => Err(refusal.clone()),
        (Ok(_), Some(due)) if review_due => Ok((
            reason::REVIEW_DUE,
            format!("the periodic review was due at {due}"),
        )),
        (Ok(_), Some(due)) => Err(Refusal::review_not_due(format!(
            "the next review is due at {due}"
        ))),
        (Ok(_), None) => Err(Refusal::review_not_due(
            "no periodic review is scheduled".to_owned(),
        )),
    };
    match &review_condition {
        Ok((reason, message)) if !conditions::is_true(&previous.conditions, REVIEW_DUE) => {
            events.push(false, reason, message.clone())
        }
        Err(refusal)
            if refusal.warning() && !previous_reason_is(&previous, REVIEW_DUE, &refusal.reason) =>
        {
            events.refused(refusal)
        }
        _ => {}
    }

    let mut conditions = Conditions::new(&previous.conditions, meta.generation, now);
    conditions.set(READY, ready);
    conditions.set(
        APPROVED,
        gates::approval_state(&facts, phase, published_revision.as_deref()).map(|()| {
            (
                reason::QUORUM_REACHED,
                format!("revision {revision} is approved"),
            )
        }),
    );
    conditions.set(
        PUBLISHED,
        match &published_revision {
            Some(r) => Ok((
                reason::PUBLISHED,
                format!("the catalog serves revision {r}"),
            )),
            None => Err(Refusal::not_published(phase)),
        },
    );
    conditions.set(
        DEPENDENCIES_READY,
        gates::dependencies_active(&facts).map(|()| {
            (
                reason::DEPENDENCIES_ACTIVE,
                "every dependency is Active".to_owned(),
            )
        }),
    );
    conditions.set(REVIEW_DUE, review_condition);

    let requeue_at = [review_due_at.filter(|due| *due > now), ledger.next_expiry]
        .into_iter()
        .flatten()
        .min();
    let summary = approval.summary(&revision, quorum);
    let approval_statuses = approvals::statuses(ledger.verdicts, input.approvals, &revision);
    let approved_revision = approval.approved_revision().map(str::to_owned);

    Outcome {
        status: ServiceStatus {
            phase: Some(phase),
            observed_generation: meta.generation,
            revision: Some(revision),
            approved_revision,
            published_revision,
            approvals: Some(summary),
            activated_at: walk.activated_at.map(Time),
            review_due_at: review_due_at.map(Time),
            conditions: conditions.build(),
            history: walk.history,
            snapshot: approval.snapshot,
        },
        approvals: approval_statuses,
        events: events.into_notes(),
        requeue_at,
    }
}

/// Each `dependsOn` that is not Active, as `namespace/name (phase)`, sorted.
fn missing_dependencies(
    service: &Service,
    dependencies: &BTreeMap<ServiceRef, Option<Phase>>,
) -> Vec<String> {
    let Some(model) = &service.spec.content.model else {
        return Vec::new();
    };
    let own_namespace = service.metadata.namespace.clone();
    let mut missing: Vec<String> = model
        .depends_on
        .iter()
        .filter_map(|d| {
            let namespace = d
                .namespace
                .clone()
                .filter(|n| !n.is_empty())
                .or(own_namespace.clone());
            let key = ServiceRef {
                namespace,
                name: d.name.clone(),
            };
            let shown = format!(
                "{}/{}",
                key.namespace.as_deref().unwrap_or_default(),
                key.name
            );
            match dependencies.get(&key).copied().flatten() {
                Some(Phase::Active) => None,
                Some(p) => Some(format!("{shown} ({p})")),
                // The caller cannot yet tell a missing Service from one not reconciled yet.
                None => Some(format!("{shown} (not found or not reconciled yet)")),
            }
        })
        .collect();
    missing.sort();
    missing.dedup();
    missing
}

fn previous_reason_is(previous: &ServiceStatus, type_: &str, reason: &str) -> bool {
    conditions::previous(&previous.conditions, type_).is_some_and(|c| c.reason == reason)
}
