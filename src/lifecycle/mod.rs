//! The lifecycle core: every rule of DESIGN.md's lifecycle as one pure function from a Service,
//! its approvals, its dependencies' phases and the time to a new status and the Events to emit.
//! No client, no clock: applying the outcome is the controller's job.

mod approvals;
mod conditions;
mod gates;
mod history;
mod refusal;
mod review;

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

pub use conditions::{APPROVED, DEPENDENCIES_READY, PUBLISHED, READY, REVIEW_DUE};
pub use gates::allowed;
pub use refusal::Refusal;
pub use review::parse_interval;

use crate::api::{
    ApprovalSummary, Phase, Service, ServiceApproval, ServiceApprovalStatus, ServiceRef,
    ServiceStatus, Snapshot, revision_of,
};
use approvals::{Judge, judge};
use conditions::Conditions;
use gates::{Facts, edges_from};

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
    let name = meta.name.as_deref().unwrap_or_default();
    let generation = meta.generation;
    let content = &service.spec.content;
    let lifecycle = &service.spec.lifecycle;
    // Times are stored with second precision; using the same precision keeps re-evaluation stable.
    let now = Timestamp::from_second(input.now.as_second()).unwrap_or(input.now);
    let previous = service.status.clone().unwrap_or_default();
    let revision = revision_of(content);
    let mut events = Events::default();

    // The approved snapshot, as far as the previous status is consistent about it.
    let mut snapshot = previous
        .snapshot
        .clone()
        .filter(|s| previous.approved_revision.as_deref() == Some(s.revision.as_str()));

    let ledger = judge(
        &Judge {
            service_name: name,
            service_namespace: meta.namespace.as_deref(),
            revision: &revision,
            content,
            approved: snapshot
                .as_ref()
                .map(|s| (s.revision.as_str(), &s.content, Some(s.approved_at.0))),
            allow_self_approval: input.policy.allow_self_approval,
            now,
        },
        input.approvals,
    );

    // Revocation: a valid rejection of the approved revision withdraws it.
    let mut revoked: Option<(String, Vec<String>)> = None;
    if let Some(s) = &snapshot {
        let rejecters: Vec<String> = ledger.tally(&s.revision).rejected_by.into_iter().collect();
        if !rejecters.is_empty() {
            events.push(
                true,
                "Revoked",
                format!(
                    "approval of revision {} was revoked by {}",
                    s.revision,
                    rejecters.join(", ")
                ),
            );
            revoked = Some((s.revision.clone(), rejecters));
            snapshot = None;
        }
    }

    // Quorum: the current revision becomes the approved one, and stays so (sticky).
    let current = ledger.tally(&revision);
    let approved_by: Vec<String> = current.approved_by.iter().cloned().collect();
    let rejected_by: Vec<String> = current.rejected_by.iter().cloned().collect();
    let quorum = content.quorum();
    let current_approved = snapshot.as_ref().is_some_and(|s| s.revision == revision);
    if !current_approved && rejected_by.is_empty() && approved_by.len() >= quorum as usize {
        events.push(
            false,
            "QuorumReached",
            format!(
                "revision {revision} approved by {} ({}/{quorum})",
                approved_by.join(", "),
                approved_by.len()
            ),
        );
        snapshot = Some(Snapshot {
            revision: revision.clone(),
            approved_by: approved_by.clone(),
            approved_at: Time(now),
            content: content.clone(),
        });
    }
    if !rejected_by.is_empty() && !previous_rejected(&previous, &revision) {
        events.push(
            true,
            "Rejected",
            Refusal::rejected(&revision, &rejected_by).message,
        );
    }

    let missing_dependencies = missing_dependencies(service, input.dependencies);
    let approved_revision = snapshot.as_ref().map(|s| s.revision.clone());
    let facts = Facts {
        desired: lifecycle.desired_phase,
        content,
        revision: &revision,
        approved_revision: approved_revision.as_deref(),
        approved_by: &approved_by,
        rejected_by: &rejected_by,
        missing_dependencies: &missing_dependencies,
        revoked: revoked.as_ref().map(|(r, by)| (r.as_str(), by.as_slice())),
    };

    // Phase: follow open gates until none opens (the table has no cycles; the bound is a guard).
    let mut history = previous.history.clone();
    let mut activated_at = previous.activated_at.as_ref().map(|t| t.0);
    let mut transitions: Vec<(&str, String)> = Vec::new();
    let mut phase = match previous.phase {
        Some(p) => p,
        None => {
            let message = "the service entered Planning".to_owned();
            history::record(
                &mut history,
                input.policy.history_limit,
                Phase::Planning,
                now,
                "Created",
                &message,
            );
            transitions.push(("Created", message));
            Phase::Planning
        }
    };
    for _ in 0..8 {
        let Some(edge) = edges_from(phase).find(|e| (e.gate)(&facts).is_ok()) else {
            break;
        };
        let message = transition_message(edge.reason, phase, edge.to, &facts);
        history::record(
            &mut history,
            input.policy.history_limit,
            edge.to,
            now,
            edge.reason,
            &message,
        );
        transitions.push((edge.reason, message));
        if edge.to == Phase::Active {
            activated_at = Some(now);
        }
        phase = edge.to;
    }
    history::trim(&mut history, input.policy.history_limit);
    let mut ordered = Events::default();
    for (reason, message) in transitions {
        let warning = matches!(reason, "Rejected" | "Revoked");
        ordered.push(warning, reason, message);
    }
    ordered.extend(events);
    let mut events = ordered;

    // Publication: the approved snapshot, only while Active.
    let published_revision = match (&snapshot, phase) {
        (Some(s), Phase::Active) => Some(s.revision.clone()),
        _ => None,
    };
    if published_revision != previous.published_revision {
        match &published_revision {
            Some(r) => events.push(
                false,
                "Published",
                format!("the catalog serves revision {r}"),
            ),
            None => events.push(
                false,
                "Withdrawn",
                "the service was withdrawn from the catalog".to_owned(),
            ),
        }
    }

    // Readiness: the desired phase reached with its content live, or the refusal holding it.
    let ready = if phase == Phase::from(lifecycle.desired_phase) {
        if phase == Phase::Active {
            gates::pending_revision(&facts)
                .map(|()| ("Active", format!("Active, serving revision {revision}")))
        } else {
            Ok((phase.as_str(), format!("{phase}, as desired")))
        }
    } else {
        Err(holding_refusal(phase, &facts))
    };
    if let Err(refusal) = &ready
        && !previous_reason_is(&previous, READY, &refusal.reason)
    {
        events.push(refusal.warning(), &refusal.reason, refusal.message.clone());
    }

    // Review.
    let review = if phase == Phase::Active {
        review::due_at(lifecycle, activated_at)
    } else {
        Ok(None)
    };
    let review_due_at = review.clone().ok().flatten();
    let review_due = review_due_at.is_some_and(|due| due <= now);
    if review_due && !conditions::is_true(&previous.conditions, REVIEW_DUE) {
        events.push(
            false,
            "ReviewDue",
            format!(
                "the periodic review was due at {}",
                review_due_at.unwrap_or(now)
            ),
        );
    }
    if let Err(refusal) = &review
        && !previous_reason_is(&previous, REVIEW_DUE, &refusal.reason)
    {
        events.push(true, &refusal.reason, refusal.message.clone());
    }

    let mut received = approved_by.clone();
    if let Some(s) = snapshot.as_ref().filter(|s| s.revision == revision) {
        received.extend(s.approved_by.iter().cloned());
        received.sort();
        received.dedup();
    }
    let summary = ApprovalSummary {
        required: quorum,
        received: received.len() as u32,
        progress: format!("{}/{quorum}", received.len()),
        approved_by: received,
        rejected_by: rejected_by.clone(),
    };

    let mut conditions = Conditions::new(&previous.conditions, generation, now);
    conditions.set(READY, ready);
    conditions.set(
        APPROVED,
        if approved_revision.as_deref() == Some(revision.as_str()) {
            Ok(("QuorumReached", format!("revision {revision} is approved")))
        } else {
            gates::pending_revision(&facts).map(|()| ("QuorumReached", String::new()))
        },
    );
    conditions.set(
        PUBLISHED,
        match &published_revision {
            Some(r) => Ok(("Published", format!("the catalog serves revision {r}"))),
            None => Err(Refusal::not_published(phase)),
        },
    );
    conditions.set(
        DEPENDENCIES_READY,
        gates::dependencies_active(&facts).map(|()| {
            (
                "DependenciesActive",
                "every dependency is Active".to_owned(),
            )
        }),
    );
    conditions.set(
        REVIEW_DUE,
        match (&review, review_due_at) {
            (Err(refusal), _) => Err(refusal.clone()),
            (Ok(_), Some(due)) if review_due => {
                Ok(("ReviewDue", format!("the periodic review was due at {due}")))
            }
            (Ok(_), Some(due)) => Err(Refusal::review_not_due(format!(
                "the next review is due at {due}"
            ))),
            (Ok(_), None) => Err(Refusal::review_not_due(
                "no periodic review is scheduled".to_owned(),
            )),
        },
    );

    let requeue_at = [review_due_at.filter(|due| *due > now), ledger.next_expiry]
        .into_iter()
        .flatten()
        .min();

    let approval_statuses = ledger
        .verdicts
        .into_iter()
        .zip(input.approvals)
        .map(|((name, verdict), approval)| {
            let (counted, reason, message) = match verdict {
                Ok(()) => (
                    true,
                    "Counted".to_owned(),
                    format!("counts toward revision {}", approval.spec.revision),
                ),
                Err(r) => (false, r.reason, r.message),
            };
            (
                name,
                ServiceApprovalStatus {
                    counted,
                    reason,
                    message,
                    observed_generation: approval.metadata.generation,
                },
            )
        })
        .collect();

    Outcome {
        status: ServiceStatus {
            phase: Some(phase),
            observed_generation: generation,
            revision: Some(revision),
            approved_revision,
            published_revision,
            approvals: Some(summary),
            activated_at: activated_at.map(Time),
            review_due_at: review_due_at.map(Time),
            conditions: conditions.build(),
            history,
            snapshot,
        },
        approvals: approval_statuses,
        events: events.0,
        requeue_at,
    }
}

/// Events of one evaluation, at most one per reason.
#[derive(Default)]
struct Events(Vec<Note>);

impl Events {
    fn push(&mut self, warning: bool, reason: &str, message: String) {
        if !self.0.iter().any(|n| n.reason == reason) {
            self.0.push(Note {
                warning,
                reason: reason.to_owned(),
                message,
            });
        }
    }

    fn extend(&mut self, other: Events) {
        for n in other.0 {
            self.push(n.warning, &n.reason, n.message);
        }
    }
}

/// Why a service whose phase differs from the desired one is held: the first gate on its way
/// that is closed for a reason a user can act on.
fn holding_refusal(phase: Phase, facts: &Facts) -> Refusal {
    edges_from(phase)
        .filter_map(|e| (e.gate)(facts).err())
        .find(Refusal::applies)
        .unwrap_or_else(|| {
            Refusal::progressing(format!("{phase}, moving toward {:?}", facts.desired))
        })
}

fn transition_message(reason: &str, from: Phase, to: Phase, f: &Facts) -> String {
    match reason {
        "Revoked" => match f.revoked {
            Some((revision, by)) => {
                format!(
                    "approval of revision {revision} was revoked by {}; back to Planning",
                    by.join(", ")
                )
            }
            None => format!("no approved revision; {from} goes back to Planning"),
        },
        "Rejected" => format!(
            "revision {} was rejected by {}; back to Planning for rework",
            f.revision,
            f.rejected_by.join(", ")
        ),
        "QuorumReached" => format!(
            "revision {} approved by {}",
            f.revision,
            f.approved_by.join(", ")
        ),
        "Resubmitted" => format!(
            "the content changed: revision {} needs approval",
            f.revision
        ),
        "AwaitingApproval" => format!("revision {} submitted for approval", f.revision),
        "Activated" | "Reactivated" if to == Phase::Active => {
            format!("revision {} is Active and published", f.revision)
        }
        _ => format!("{from} → {to} ({:?} desired)", f.desired),
    }
}

fn missing_dependencies(
    service: &Service,
    dependencies: &BTreeMap<ServiceRef, Option<Phase>>,
) -> Vec<String> {
    let namespace = service.metadata.namespace.clone();
    let Some(model) = &service.spec.content.model else {
        return Vec::new();
    };
    let mut missing: Vec<String> = model
        .depends_on
        .iter()
        .filter_map(|d| {
            let key = ServiceRef {
                namespace: d
                    .namespace
                    .clone()
                    .filter(|n| !n.is_empty())
                    .or(namespace.clone()),
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
                None => Some(format!("{shown} (not found)")),
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

fn previous_rejected(previous: &ServiceStatus, revision: &str) -> bool {
    previous.revision.as_deref() == Some(revision)
        && previous
            .approvals
            .as_ref()
            .is_some_and(|a| !a.rejected_by.is_empty())
}
