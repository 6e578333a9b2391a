//! The approvals of every test and the bench: `approval("a1").by("erin").approves(&rev)`, and
//! the ApprovalPolicies they are judged under. Like a Service builder, an approval builder
//! makes what a user sends; the receiver adds namespace, generation and creation time.

use charter::api::{Decision, ServiceApproval, ServiceApprovalSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

/// An approval under construction.
pub struct ApprovalBuilder(pub ServiceApproval);

/// An approval of `ledger` by `erin`, of no revision until told (`.approves(&rev)`).
pub fn approval(name: &str) -> ApprovalBuilder {
    let spec = ServiceApprovalSpec {
        service_name: "ledger".to_owned(),
        revision: String::new(),
        decision: Decision::Approved,
        approver: "erin".to_owned(),
        comment: None,
        expires_at: None,
    };
    ApprovalBuilder(ServiceApproval::new(name, spec))
}

impl ApprovalBuilder {
    pub fn by(mut self, approver: &str) -> Self {
        self.0.spec.approver = approver.to_owned();
        self
    }
    /// `decision` on `revision`.
    pub fn decides(mut self, decision: Decision, revision: &str) -> Self {
        self.0.spec.revision = revision.to_owned();
        self.0.spec.decision = decision;
        self
    }
    pub fn approves(self, revision: &str) -> Self {
        self.decides(Decision::Approved, revision)
    }
    pub fn rejects(self, revision: &str) -> Self {
        self.decides(Decision::Rejected, revision)
    }
    /// A review of the published revision `revision`.
    pub fn reviews(self, revision: &str) -> Self {
        self.decides(Decision::Reviewed, revision)
    }
    pub fn of(mut self, service: &str) -> Self {
        self.0.spec.service_name = service.to_owned();
        self
    }
    pub fn in_namespace(mut self, namespace: &str) -> Self {
        self.0.metadata.namespace = Some(namespace.to_owned());
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
