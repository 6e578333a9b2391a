//! The lifecycle core: every rule of DESIGN.md's lifecycle as one pure function from a Service,
//! its approvals, its dependencies' phases and the time to a new status and the Events to emit.
//! No client, no clock: applying the outcome is the controller's job.
//!
//! Where each rule lives: the phases and their gates in `gates.rs` (one table); which approvals
//! count in `approvals.rs`; quorum, sticky approval and revocation in `quorum.rs`; walking the
//! table and the history in `transitions.rs` and `history.rs`; periodic review in `review.rs`;
//! conditions in `conditions.rs`; the platform's ApprovalPolicies, strictest wins, in
//! `requirement.rs`, and the groups approvers are counted in from what the server recorded in
//! `groups.rs`; every reason string a user sees in `reason.rs`, and why a gate is
//! closed in `refusal.rs`.

mod approvals;
mod bar;
mod conditions;
mod cycle;
mod events;
mod gates;
mod groups;
mod history;
mod publication;
mod quorum;
mod readiness;
pub mod reason;
mod refusal;
pub mod requirement;
mod retirement;
mod review;
mod transitions;

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

pub use approvals::for_unknown_service;
pub use conditions::{APPROVED, DEPENDENCIES_READY, PUBLISHED, READY, REVIEW_DUE};
pub use cycle::find_cycle;
pub use gates::allowed;
pub use quorum::holds_quorum;
pub use refusal::Refusal;
pub use review::parse_interval;

use crate::api::{
    ApprovalPolicy, ApprovedBar, Phase, Service, ServiceApproval, ServiceApprovalStatus,
    ServiceRef, ServiceStatus, Snapshot, identity, revision_of,
};
use approvals::{Judge, Judged, judge};
use bar::Bars;
use conditions::Conditions;
use events::Events;
use gates::Facts;

/// How many phase transitions `status.history` keeps.
pub const HISTORY_LIMIT: usize = 20;

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
            history_limit: HISTORY_LIMIT,
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
    /// Every ApprovalPolicy in the cluster; those covering the Service apply.
    pub approval_policies: &'a [ApprovalPolicy],
    pub now: Timestamp,
    pub policy: &'a Policy,
    /// `revision_of(&service.spec.content)` when the caller has it already (the controller
    /// keeps it per generation); `None` computes it.
    pub revision: Option<&'a str>,
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
    let revision = match input.revision {
        Some(revision) => revision.to_owned(),
        None => revision_of(content),
    };

    let (ledger, approval, approval_events) = count_approvals(input, &previous, &revision, now);
    let bars = bars_for(input, approval.bar.as_ref());
    let received = approval.received(&revision);
    let progress = bars.progress(&received);
    let needs = bars.needs(&received);

    let missing_dependencies = missing_dependencies(service, input.dependencies);
    let dependency_cycle: Vec<String> = input.dependency_cycle.iter().map(shown).collect();
    let facts = Facts {
        desired: lifecycle.desired_phase,
        content,
        categories: &service.spec.categories,
        revision: &revision,
        approved_revision: approval.approved_revision(),
        approved_by: &approval.approved_by,
        rejected_by: &approval.rejected_by,
        approved_by_snapshot: approval.snapshot.as_ref().map_or(&[], |s| &s.approved_by),
        progress: &progress,
        needs: &needs,
        phase_requested_by: identity::recorded(meta, identity::PHASE_REQUESTED_BY),
        created_by: identity::recorded(meta, identity::CREATED_BY),
        revised_by: identity::recorded(meta, identity::REVISED_BY),
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
    retirement::warn_dependants(previous.phase, phase, input.active_dependants, &mut events);

    let published_revision = publication::published_revision(approval.approved_revision(), phase);
    let published = published_revision.as_deref();
    publication::announce(
        previous.published_revision.as_deref(),
        published,
        approval.snapshot.as_ref().map_or(&[], |s| &s.approved_by),
        &mut events,
    );

    let ready = readiness::ready(phase, &facts, published);
    if let Err(refusal) = &ready
        && !conditions::previous_reason_is(&previous.conditions, READY, &refusal.reason)
    {
        events.refused(refusal);
    }

    let last_review =
        review::latest_record(previous.last_review.as_ref(), ledger.last_review.clone());
    review::announce_record(
        previous.last_review.as_ref(),
        last_review.as_ref(),
        &mut events,
    );
    let review = review::assess(
        lifecycle,
        bars.requirement().review_interval,
        phase,
        review::Since {
            activated_at: walk.activated_at,
            reviewed_at: last_review.as_ref().map(|r| r.at.0),
            now,
        },
    );
    review.announce(&previous, &mut events);

    let mut conditions = Conditions::new(&previous.conditions, meta.generation, now);
    conditions.set(READY, ready);
    conditions.set(APPROVED, readiness::approved(phase, &facts, published));
    conditions.set(PUBLISHED, publication::condition(published, phase));
    conditions.set(DEPENDENCIES_READY, readiness::dependencies(&facts));
    conditions.set(REVIEW_DUE, review.condition);

    let requeue_at = [review.due_at.filter(|due| *due > now), ledger.next_expiry]
        .into_iter()
        .flatten()
        .min();
    let mut summary = approval.summary(&revision, &bars);
    // In Planning or Retired the revision is before no approver (Approved says NotSubmitted).
    if matches!(phase, Phase::Planning | Phase::Retired) {
        summary.needs = None;
    }
    let approval_statuses = approvals::statuses(
        ledger.verdicts,
        input.approvals,
        &revision,
        meta.uid.as_deref(),
        &bars.requirement().policies,
    );
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
            review_due_at: review.due_at.map(Time),
            conditions: conditions.build(),
            history: walk.history,
            snapshot: approval.snapshot,
            approved_bar: approval.bar,
            last_review,
        },
        approvals: approval_statuses,
        events: events.into_notes(),
        requeue_at,
    }
}

/// Which approvals count and which revision is approved after them. When the approved revision
/// changed, approvals are re-judged against the new one, so the statuses written now are those
/// the next evaluation will find.
fn count_approvals(
    input: &Input,
    previous: &ServiceStatus,
    revision: &str,
    now: Timestamp,
) -> (approvals::Ledger, quorum::Approval, Events) {
    let meta = &input.service.metadata;
    let content = &input.service.spec.content;
    let author = identity::recorded(meta, identity::REVISED_BY);
    let judge_with = |approved: Option<&Snapshot>, bar: Option<&ApprovedBar>| {
        let allow_self = input.policy.allow_self_approval;
        let bars = bars_for(input, bar);
        let approved_bars = approved.map(|s| Bars::new(&s.content, None, allow_self));
        let ctx = Judge {
            service_name: meta.name.as_deref().unwrap_or_default(),
            service_namespace: meta.namespace.as_deref(),
            object: approvals::Object {
                uid: meta.uid.as_deref(),
                created: meta.creation_timestamp.as_ref().map(|t| t.0),
            },
            creator: identity::recorded(meta, identity::CREATED_BY),
            current: Judged {
                revision,
                bars: &bars,
                author,
            },
            approved: approved.zip(approved_bars.as_ref()).map(|(s, bars)| {
                (
                    Judged {
                        revision: s.revision.as_str(),
                        bars,
                        author: s.revised_by.as_deref(),
                    },
                    Some(s.approved_at.0),
                )
            }),
            allow_self_approval: input.policy.allow_self_approval,
            published: previous.published_revision.as_deref(),
            now,
        };
        let ledger = judge(&ctx, input.approvals);
        (ledger, bars)
    };
    let approved_before = quorum::previous_snapshot(previous);
    let bar_before = quorum::previous_bar(previous);
    let (mut ledger, bars) = judge_with(approved_before.as_ref(), bar_before.as_ref());
    let mut events = Events::default();
    let candidate = quorum::Candidate {
        revision,
        content,
        author,
        bars: &bars,
    };
    let mut approval = quorum::settle(previous, &ledger, &candidate, now, &mut events);
    if approval.approved_revision() != approved_before.as_ref().map(|s| s.revision.as_str()) {
        ledger = judge_with(approval.snapshot.as_ref(), approval.bar.as_ref()).0;
        approval.recount(&ledger, revision);
    }
    (ledger, approval, events)
}

/// The bars the current revision must clear: its own, the approved revision's, and the
/// platform's requirement for both their tiers (a tier change is judged under the stricter).
fn bars_for(input: &Input, approved: Option<&ApprovedBar>) -> Bars {
    let service = input.service;
    let content = &service.spec.content;
    let tiers = [content.tier, approved.and_then(|b| b.tier)];
    let requirement = requirement::effective(
        input.approval_policies,
        service.metadata.namespace.as_deref().unwrap_or_default(),
        &tiers,
    );
    Bars::new(content, approved, input.policy.allow_self_approval).under(requirement)
}

fn shown(r: &ServiceRef) -> String {
    format!("{}/{}", r.namespace.as_deref().unwrap_or_default(), r.name)
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
