//! The lifecycle without a server: a `World` of one Service, its approvals and dependencies in
//! namespace `shop`, evaluated step by step as the controller would, at a time of the test's
//! choosing.

use std::collections::BTreeMap;

use charter::api::{
    Category, DesiredPhase, Phase, Service, ServiceApproval, ServiceRef, ServiceStatus, revision_of,
};
use charter::lifecycle::{Input, Note, Outcome, Policy, evaluate};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::{SignedDuration, Timestamp};

// The vocabulary of a lifecycle test, with the World: `use testkit::world::*`.
pub use crate::approval::{ApprovalBuilder, PolicyBuilder, approval, approval_policy};
pub use crate::service::{ServiceBuilder, draft};

pub const NS: &str = "shop";

/// 2026-01-01T00:00:00Z.
pub fn t0() -> Timestamp {
    Timestamp::from_second(1_767_225_600).unwrap()
}

pub fn hours(h: i64) -> Timestamp {
    t0().checked_add(SignedDuration::from_hours(h)).unwrap()
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

/// A World of `service`, held as the server holds it: in namespace `shop`, generation 1
/// (unless the builder said otherwise).
pub fn world(service: ServiceBuilder) -> World {
    let mut service = service.build();
    let meta = &mut service.metadata;
    meta.namespace.get_or_insert_with(|| NS.to_owned());
    meta.generation.get_or_insert(1);
    World {
        service,
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
        self.add(a);
        self
    }
    /// Adds an approval as the server holds it: in namespace `shop`, generation 1, created at
    /// [`t0`] (unless the builder said otherwise).
    pub fn add(&mut self, a: impl Into<ServiceApproval>) {
        let mut a = a.into();
        let meta = &mut a.metadata;
        meta.namespace.get_or_insert_with(|| NS.to_owned());
        meta.generation.get_or_insert(1);
        meta.creation_timestamp.get_or_insert_with(|| Time(t0()));
        self.approvals.push(a);
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
            revision: None,
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
    let s = draft("ledger").ready_to_activate();
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
