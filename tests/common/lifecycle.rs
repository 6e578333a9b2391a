//! Chainable fixtures for the lifecycle tests: `service("ledger").owner("dana").desired(Active)`,
//! `approval("a1").by("erin").approves(&rev)`, and a `World` that evaluates step by step.
#![allow(dead_code)]

use std::collections::BTreeMap;

use charter::api::{
    Category, Decision, DesiredPhase, Phase, Service, ServiceApproval, ServiceApprovalSpec,
    ServiceLevel, ServiceModel, ServiceRef, ServiceSpec, ServiceStatus, revision_of,
};
use charter::lifecycle::{Input, Note, Outcome, Policy, evaluate};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, ObjectMeta, Time};
use k8s_openapi::jiff::{SignedDuration, Timestamp};

pub const NS: &str = "shop";

/// 2026-01-01T00:00:00Z.
pub fn t0() -> Timestamp {
    Timestamp::from_second(1_767_225_600).unwrap()
}

pub fn hours(h: i64) -> Timestamp {
    t0().checked_add(SignedDuration::from_hours(h)).unwrap()
}

pub struct ServiceBuilder(pub Service);

pub fn service(name: &str) -> ServiceBuilder {
    let mut s = Service::new(name, ServiceSpec::default());
    s.metadata.namespace = Some(NS.to_owned());
    s.metadata.generation = Some(1);
    s.spec.content.owner = "dana".to_owned();
    ServiceBuilder(s)
}

impl ServiceBuilder {
    pub fn owner(mut self, owner: &str) -> Self {
        self.0.spec.content.owner = owner.to_owned();
        self
    }
    pub fn desired(mut self, desired: DesiredPhase) -> Self {
        self.0.spec.lifecycle.desired_phase = desired;
        self
    }
    pub fn description(mut self, text: &str) -> Self {
        self.0.spec.content.description = Some(text.to_owned());
        self
    }
    /// Owner, description and service level: ready to go to Approval.
    pub fn complete(mut self) -> Self {
        let c = &mut self.0.spec.content;
        c.description
            .get_or_insert_with(|| "the general ledger".to_owned());
        c.service_level = Some(ServiceLevel {
            availability: Some("99.9".to_owned()),
            support_hours: Some("24x7".to_owned()),
            ..ServiceLevel::default()
        });
        self
    }
    pub fn categories(mut self) -> Self {
        self.0.spec.categories = vec![Category {
            name: "finance".to_owned(),
            subcategories: vec!["accounting".to_owned()],
        }];
        self
    }
    pub fn depends_on(mut self, name: &str) -> Self {
        let model = self
            .0
            .spec
            .content
            .model
            .get_or_insert_with(ServiceModel::default);
        model.depends_on.push(ServiceRef {
            namespace: None,
            name: name.to_owned(),
        });
        self
    }
    pub fn approvers(mut self, approvers: &[&str]) -> Self {
        self.0.spec.content.approvers = approvers.iter().map(|a| a.to_string()).collect();
        self
    }
    pub fn quorum(mut self, n: u32) -> Self {
        self.0.spec.content.required_approvals = Some(n);
        self
    }
    pub fn review(mut self, interval: &str, last_reviewed: Option<&str>) -> Self {
        self.0.spec.lifecycle.review_interval = Some(interval.to_owned());
        self.0.spec.lifecycle.last_reviewed = last_reviewed.map(str::to_owned);
        self
    }
    pub fn tier(mut self, tier: charter::api::Tier) -> Self {
        self.0.spec.content.tier = Some(tier);
        self
    }
    /// Everything an activation needs.
    pub fn ready_to_activate(self) -> Self {
        self.complete().categories().desired(DesiredPhase::Active)
    }
    /// An identity the API server recorded on the Service (`charter::api::identity`).
    pub fn recorded(mut self, key: &str, user: &str) -> Self {
        self.0
            .metadata
            .annotations
            .get_or_insert_with(Default::default)
            .insert(key.to_owned(), user.to_owned());
        self
    }
    pub fn created_by(self, user: &str) -> Self {
        self.recorded(charter::api::identity::CREATED_BY, user)
    }
    pub fn revised_by(self, user: &str) -> Self {
        self.recorded(charter::api::identity::REVISED_BY, user)
    }
    /// The object: its uid and creation time.
    pub fn object(mut self, uid: &str, created: Timestamp) -> Self {
        self.0.metadata.uid = Some(uid.to_owned());
        self.0.metadata.creation_timestamp = Some(Time(created));
        self
    }
    pub fn build(self) -> Service {
        self.0
    }
    pub fn revision(&self) -> String {
        revision_of(&self.0.spec.content)
    }
}

pub struct ApprovalBuilder(pub ServiceApproval);

pub fn approval(name: &str) -> ApprovalBuilder {
    let spec = ServiceApprovalSpec {
        service_name: "ledger".to_owned(),
        revision: String::new(),
        decision: Decision::Approved,
        approver: "erin".to_owned(),
        comment: None,
        expires_at: None,
    };
    let mut a = ServiceApproval::new(name, spec);
    a.metadata = ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some(NS.to_owned()),
        generation: Some(1),
        creation_timestamp: Some(Time(t0())),
        ..ObjectMeta::default()
    };
    ApprovalBuilder(a)
}

impl ApprovalBuilder {
    pub fn by(mut self, approver: &str) -> Self {
        self.0.spec.approver = approver.to_owned();
        self
    }
    pub fn approves(mut self, revision: &str) -> Self {
        self.0.spec.revision = revision.to_owned();
        self.0.spec.decision = Decision::Approved;
        self
    }
    pub fn rejects(mut self, revision: &str) -> Self {
        self.0.spec.revision = revision.to_owned();
        self.0.spec.decision = Decision::Rejected;
        self
    }
    /// A review of the published revision `revision`.
    pub fn reviews(mut self, revision: &str) -> Self {
        self.0.spec.revision = revision.to_owned();
        self.0.spec.decision = Decision::Reviewed;
        self
    }
    pub fn of(mut self, service: &str) -> Self {
        self.0.spec.service_name = service.to_owned();
        self
    }
    pub fn created(mut self, at: Timestamp) -> Self {
        self.0.metadata.creation_timestamp = Some(Time(at));
        self
    }
    pub fn expires(mut self, at: Timestamp) -> Self {
        self.0.spec.expires_at = Some(Time(at));
        self
    }
    /// Created by `user` (the approver itself, or a delegate in its name), as recorded at admission.
    pub fn recorded_by(mut self, user: &str) -> Self {
        self.0
            .metadata
            .annotations
            .get_or_insert_with(Default::default)
            .insert(
                charter::api::identity::RECORDED_BY.to_owned(),
                user.to_owned(),
            );
        self
    }
    /// Created by the approver itself, whom the API server authenticated in `groups`.
    pub fn in_groups(self, groups: &[&str]) -> Self {
        let approver = self.0.spec.approver.clone();
        self.recorded_by(&approver).groups_recorded(groups)
    }
    /// The groups the API server recorded for whoever created the approval.
    pub fn groups_recorded(mut self, groups: &[&str]) -> Self {
        self.0
            .metadata
            .annotations
            .get_or_insert_with(Default::default)
            .insert(
                charter::api::identity::RECORDED_GROUPS.to_owned(),
                groups.join(","),
            );
        self
    }
    pub fn comment(mut self, text: &str) -> Self {
        self.0.spec.comment = Some(text.to_owned());
        self
    }
    /// Already judged (by the operator) for the Service object `uid`.
    pub fn judged_for(mut self, uid: &str) -> Self {
        self.0.status = Some(charter::api::ServiceApprovalStatus {
            service_uid: Some(uid.to_owned()),
            ..Default::default()
        });
        self
    }
    pub fn build(self) -> ServiceApproval {
        self.0
    }
}

impl From<ApprovalBuilder> for ServiceApproval {
    fn from(b: ApprovalBuilder) -> Self {
        b.0
    }
}

/// An ApprovalPolicy (generation 1) covering everything until told otherwise.
pub struct PolicyBuilder(pub charter::api::ApprovalPolicy);

pub fn approval_policy(name: &str) -> PolicyBuilder {
    let mut p = charter::api::ApprovalPolicy::new(name, Default::default());
    p.metadata.generation = Some(1);
    PolicyBuilder(p)
}

impl PolicyBuilder {
    pub fn tiers(mut self, tiers: &[charter::api::Tier]) -> Self {
        self.0.spec.covers.tiers = tiers.to_vec();
        self
    }
    pub fn namespaces(mut self, namespaces: &[&str]) -> Self {
        self.0.spec.covers.namespaces = namespaces.iter().map(|n| n.to_string()).collect();
        self
    }
    pub fn min_approvals(mut self, n: u32) -> Self {
        self.0.spec.min_approvals = Some(n);
        self
    }
    pub fn group(mut self, name: &str, min: u32) -> Self {
        self.0
            .spec
            .required_groups
            .push(charter::api::GroupRequirement {
                name: name.to_owned(),
                min,
            });
        self
    }
    pub fn justification(mut self) -> Self {
        self.0.spec.require_justification = true;
        self
    }
    pub fn max_age(mut self, age: &str) -> Self {
        self.0.spec.max_approval_age = Some(age.to_owned());
        self
    }
    pub fn review_interval(mut self, interval: &str) -> Self {
        self.0.spec.review_interval = Some(interval.to_owned());
        self
    }
    pub fn generation(mut self, generation: i64) -> Self {
        self.0.metadata.generation = Some(generation);
        self
    }
    pub fn build(self) -> charter::api::ApprovalPolicy {
        self.0
    }
}

/// A Service with its approvals and dependencies, evaluated step by step as the controller would.
pub struct World {
    pub service: Service,
    pub approvals: Vec<ServiceApproval>,
    pub dependencies: BTreeMap<ServiceRef, Option<Phase>>,
    pub now: Timestamp,
    pub policy: Policy,
    /// The cluster's ApprovalPolicies.
    pub approval_policies: Vec<charter::api::ApprovalPolicy>,
    pub last: Option<Outcome>,
}

pub fn world(service: ServiceBuilder) -> World {
    World {
        service: service.build(),
        approvals: Vec::new(),
        dependencies: BTreeMap::new(),
        now: t0(),
        policy: Policy {
            allow_self_approval: false,
            history_limit: 20,
        },
        approval_policies: Vec::new(),
        last: None,
    }
}

impl World {
    pub fn revision(&self) -> String {
        revision_of(&self.service.spec.content)
    }
    pub fn with(mut self, a: impl Into<ServiceApproval>) -> Self {
        self.approvals.push(a.into());
        self
    }
    pub fn add(&mut self, a: impl Into<ServiceApproval>) {
        self.approvals.push(a.into());
    }
    /// With an ApprovalPolicy in the cluster.
    pub fn under(mut self, p: PolicyBuilder) -> Self {
        self.approval_policies.push(p.build());
        self
    }
    pub fn dependency(mut self, name: &str, phase: Option<Phase>) -> Self {
        self.set_dependency(name, phase);
        self
    }
    pub fn set_dependency(&mut self, name: &str, phase: Option<Phase>) {
        self.dependencies.insert(
            ServiceRef {
                namespace: Some(NS.to_owned()),
                name: name.to_owned(),
            },
            phase,
        );
    }
    pub fn desire(&mut self, d: DesiredPhase) {
        self.service.spec.lifecycle.desired_phase = d;
    }
    /// Changes the approvable content: a new revision.
    pub fn edit(&mut self, description: &str) {
        self.service.spec.content.description = Some(description.to_owned());
        self.service.metadata.generation = Some(self.service.metadata.generation.unwrap_or(0) + 1);
    }
    /// `user` changes the approvable content with `change`, as the API server records it: a
    /// new revision whose author is `user`.
    pub fn revise(&mut self, user: &str, change: impl FnOnce(&mut charter::api::ServiceContent)) {
        change(&mut self.service.spec.content);
        self.service
            .metadata
            .annotations
            .get_or_insert_with(Default::default)
            .insert(
                charter::api::identity::REVISED_BY.to_owned(),
                user.to_owned(),
            );
        self.service.metadata.generation = Some(self.service.metadata.generation.unwrap_or(0) + 1);
    }
    /// The owner defines (or changes) the categories: not the approvable content.
    pub fn categorise(&mut self, name: &str, subcategories: &[&str]) {
        self.service.spec.categories = vec![Category {
            name: name.to_owned(),
            subcategories: subcategories.iter().map(|s| s.to_string()).collect(),
        }];
        self.service.metadata.generation = Some(self.service.metadata.generation.unwrap_or(0) + 1);
    }
    pub fn uncategorise(&mut self) {
        self.service.spec.categories.clear();
        self.service.metadata.generation = Some(self.service.metadata.generation.unwrap_or(0) + 1);
    }
    pub fn at(mut self, now: Timestamp) -> Self {
        self.now = now;
        self
    }
    pub fn outcome(&self) -> Outcome {
        evaluate(&Input {
            service: &self.service,
            approvals: &self.approvals,
            dependencies: &self.dependencies,
            dependency_cycle: &[],
            active_dependants: &[],
            approval_policies: &self.approval_policies,
            now: self.now,
            policy: &self.policy,
        })
    }
    /// One reconcile: evaluate and write the status back.
    pub fn step(&mut self) -> Outcome {
        let outcome = self.outcome();
        self.service.status = Some(outcome.status.clone());
        self.last = Some(outcome.clone());
        outcome
    }
    pub fn stepped(mut self) -> Self {
        self.step();
        self
    }
    pub fn status(&self) -> &ServiceStatus {
        self.service.status.as_ref().expect("evaluated")
    }
    pub fn phase(&self) -> Phase {
        self.status().phase.expect("phase")
    }
    pub fn condition(&self, type_: &str) -> Condition {
        self.status()
            .conditions
            .iter()
            .find(|c| c.type_ == type_)
            .cloned()
            .expect("condition")
    }
    pub fn ready_reason(&self) -> String {
        self.condition("Ready").reason
    }
    pub fn events(&self) -> Vec<Note> {
        self.last
            .as_ref()
            .map(|o| o.events.clone())
            .unwrap_or_default()
    }
    pub fn event_reasons(&self) -> Vec<String> {
        self.events().into_iter().map(|n| n.reason).collect()
    }
    pub fn approval_reason(&self, name: &str) -> String {
        let last = self.last.as_ref().expect("evaluated");
        last.approvals
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s.reason.clone())
            .expect("approval status")
    }
    pub fn published(&self) -> Option<String> {
        self.status().published_revision.clone()
    }
}

/// A Service taken all the way to Active with one approval by erin.
pub fn active_world() -> World {
    let s = service("ledger").ready_to_activate();
    let rev = s.revision();
    world(s)
        .with(approval("a1").by("erin").approves(&rev))
        .stepped()
}

impl World {
    pub fn requeue_at(&self) -> Option<Timestamp> {
        self.last.as_ref().and_then(|o| o.requeue_at)
    }
}
