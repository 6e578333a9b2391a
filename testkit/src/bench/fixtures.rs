//! The benchmark's objects: realistic Services (the fixture family's `realistic()`), their
//! approvals, and the status a plain client writes for the raw rate.

use charter::api::{
    ApprovalSummary, Phase, Service, ServiceApproval, ServiceStatus, Snapshot, Transition,
    revision_of,
};
use k8s_openapi::{
    apimachinery::pkg::apis::meta::v1::{Condition, Time},
    jiff::Timestamp,
};

/// A Service as a real team fills it in.
pub fn service(name: &str) -> Service {
    crate::service::service(name).realistic().build()
}

/// ava's approval of `revision` of `service`.
pub fn approval(service: &str, revision: &str) -> ServiceApproval {
    crate::approval::approval(&format!("{service}-ava-{revision}"))
        .of(service)
        .by("ava")
        .approves(revision)
        .comment("reviewed the service level and the runbook")
        .build()
}

pub fn revision(service: &Service) -> String {
    revision_of(&service.spec.content)
}

/// A status shaped like the operator's for an Active Service: what the raw client writes.
pub fn active_status(service: &Service) -> ServiceStatus {
    let revision = revision(service);
    let now = Time(Timestamp::now());
    let condition = |type_: &str, reason: &str| Condition {
        type_: type_.into(),
        status: "True".into(),
        reason: reason.into(),
        message: format!("{type_}: revision {revision}"),
        last_transition_time: now.clone(),
        observed_generation: Some(1),
    };
    let step = |phase: Phase, reason: &str| Transition {
        phase,
        time: now.clone(),
        reason: reason.into(),
        message: format!("{reason}: revision {revision}"),
        by: Vec::new(),
    };
    ServiceStatus {
        phase: Some(Phase::Active),
        observed_generation: Some(1),
        revision: Some(revision.clone()),
        approved_revision: Some(revision.clone()),
        published_revision: Some(revision.clone()),
        approvals: Some(ApprovalSummary {
            required: 1,
            received: 1,
            progress: "1/1".into(),
            approved_by: vec!["ava".into()],
            rejected_by: vec![],
            needs: None,
        }),
        activated_at: Some(now.clone()),
        review_due_at: None,
        conditions: vec![
            condition("Ready", "Active"),
            condition("Approved", "QuorumReached"),
            condition("Published", "Published"),
            condition("DependenciesReady", "DependenciesActive"),
            condition("ReviewDue", "ReviewNotDue"),
        ],
        history: vec![
            step(Phase::Planning, "Created"),
            step(Phase::Approval, "AwaitingApproval"),
            step(Phase::Development, "QuorumReached"),
            step(Phase::Active, "Activated"),
        ],
        snapshot: Some(Snapshot {
            revision,
            approved_by: vec!["ava".into()],
            approved_at: now,
            content: service.spec.content.clone(),
            revised_by: None,
            policies: Vec::new(),
        }),
        approved_bar: None,
        last_review: None,
    }
}
