//! The benchmark's objects: realistic Services (a full service level, categories, links,
//! outcomes), their approvals, and the status a plain client writes for the raw rate.

use charter::api::{
    ApprovalSummary, Category, Decision, DesiredPhase, Link, Phase, PriorityTarget, Service,
    ServiceApproval, ServiceApprovalSpec, ServiceContent, ServiceLevel, ServiceModel, ServiceSpec,
    ServiceStatus, Snapshot, Tier, Transition, revision_of,
};
use k8s_openapi::{
    apimachinery::pkg::apis::meta::v1::{Condition, Time},
    jiff::Timestamp,
};

pub fn service(name: &str) -> Service {
    let content = ServiceContent {
        display_name: Some(format!("The {name} service")),
        description: Some(format!(
            "{name} books, settles and reconciles payments for the retail and corporate \
             channels; it is the system of record for every posting."
        )),
        owner: "dana".into(),
        approvers: vec!["ava".into(), "bo".into()],
        required_approvals: None,
        service_level: Some(ServiceLevel {
            availability: Some("99.95".into()),
            support_hours: Some("24x7".into()),
            targets: vec![
                PriorityTarget {
                    priority: "P1".into(),
                    response: "15m".into(),
                    resolution: Some("4h".into()),
                },
                PriorityTarget {
                    priority: "P3".into(),
                    response: "1d".into(),
                    resolution: Some("5d".into()),
                },
            ],
            agreement_url: Some(format!("https://sla.example.com/{name}")),
        }),
        model: Some(ServiceModel {
            outcomes: vec![
                "payments are booked the same day".into(),
                "balances are exact".into(),
            ],
            depends_on: vec![],
        }),
        links: vec![
            Link {
                name: "runbook".into(),
                url: format!("https://runbooks.example.com/{name}"),
            },
            Link {
                name: "dashboard".into(),
                url: format!("https://grafana.example.com/d/{name}"),
            },
        ],
        support: None,
        request: None,
        tier: Some(Tier::High),
        tags: vec!["pci".into(), "tier-1".into(), "eu".into()],
    };
    let mut spec = ServiceSpec {
        lifecycle: Default::default(),
        contact: None,
        categories: vec![
            Category {
                name: "finance".into(),
                subcategories: vec!["payments".into(), "ledger".into()],
            },
            Category {
                name: "platform".into(),
                subcategories: vec![],
            },
        ],
        content,
    };
    spec.lifecycle.desired_phase = DesiredPhase::Active;
    Service::new(name, spec)
}

pub fn approval(service: &str, revision: &str) -> ServiceApproval {
    ServiceApproval::new(
        &format!("{service}-ava-{revision}"),
        ServiceApprovalSpec {
            service_name: service.into(),
            revision: revision.into(),
            decision: Decision::Approved,
            approver: "ava".into(),
            comment: Some("reviewed the service level and the runbook".into()),
            expires_at: None,
        },
    )
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
