//! The Services and approvals of the unit tests inside this crate. The integration tests and the
//! bench use the `testkit` crate's family instead; a unit test cannot, because `testkit`
//! depends on this crate and would bring a second copy of its types.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;

use crate::api::{
    Decision, DesiredPhase, Phase, Service, ServiceApproval, ServiceApprovalSpec, ServiceModel,
    ServiceRef, ServiceSpec, ServiceStatus, Snapshot, Transition,
};

/// A Service under construction: `service("ledger").in_namespace("ns").phase(Phase::Active)`.
pub(crate) struct ServiceBuilder(pub(crate) Service);

/// A Service with nothing but its name, in namespace `ns`.
pub(crate) fn service(name: &str) -> ServiceBuilder {
    let mut s = Service::new(name, ServiceSpec::default());
    s.metadata.namespace = Some("ns".into());
    ServiceBuilder(s)
}

impl ServiceBuilder {
    pub(crate) fn in_namespace(mut self, namespace: &str) -> Self {
        self.0.metadata.namespace = Some(namespace.into());
        self
    }
    pub(crate) fn owner(mut self, owner: &str) -> Self {
        self.0.spec.content.owner = owner.into();
        self
    }
    pub(crate) fn description(mut self, text: &str) -> Self {
        self.0.spec.content.description = Some(text.into());
        self
    }
    pub(crate) fn desired(mut self, desired: DesiredPhase) -> Self {
        self.0.spec.lifecycle.desired_phase = desired;
        self
    }
    pub(crate) fn tier(mut self, tier: crate::api::Tier) -> Self {
        self.0.spec.content.tier = Some(tier);
        self
    }
    /// Depends on each of `names`, written `name` (no namespace) or `namespace/name`.
    pub(crate) fn depends_on(mut self, names: &[&str]) -> Self {
        let refs = names.iter().map(|d| match d.split_once('/') {
            Some((namespace, name)) => ServiceRef {
                namespace: Some(namespace.into()),
                name: name.into(),
            },
            None => ServiceRef {
                namespace: None,
                name: (*d).into(),
            },
        });
        self.0
            .spec
            .content
            .model
            .get_or_insert_with(ServiceModel::default)
            .depends_on
            .extend(refs);
        self
    }
    pub(crate) fn uid(mut self, uid: &str) -> Self {
        self.0.metadata.uid = Some(uid.into());
        self
    }
    pub(crate) fn resource_version(mut self, version: &str) -> Self {
        self.0.metadata.resource_version = Some(version.into());
        self
    }
    fn status(&mut self) -> &mut ServiceStatus {
        self.0.status.get_or_insert_with(ServiceStatus::default)
    }
    /// A status in `phase` (without one, the Service was never reconciled).
    pub(crate) fn phase(mut self, phase: Phase) -> Self {
        self.status().phase = Some(phase);
        self
    }
    /// A snapshot of the current content as `revision`, approved by ava and bob.
    pub(crate) fn approved(mut self, revision: &str) -> Self {
        let content = self.0.spec.content.clone();
        self.status().snapshot = Some(Snapshot {
            revision: revision.into(),
            approved_by: vec!["ava".into(), "bob".into()],
            approved_at: Time(Timestamp::from_second(1_700_000_000).expect("a valid time")),
            content,
            revised_by: None,
            policies: Vec::new(),
        });
        self
    }
    /// The Ready condition with `status` and `message` (reason `R`).
    pub(crate) fn ready(mut self, status: &str, message: &str) -> Self {
        self.status().conditions.push(Condition {
            type_: "Ready".into(),
            status: status.into(),
            reason: "R".into(),
            message: message.into(),
            observed_generation: None,
            last_transition_time: Time(Default::default()),
        });
        self
    }
    pub(crate) fn history(mut self, history: Vec<Transition>) -> Self {
        self.status().history = history;
        self
    }
    pub(crate) fn build(self) -> Service {
        self.0
    }
}

/// An approval under construction: `approval("a1").of("ledger").resource_version("3")`.
pub(crate) struct ApprovalBuilder(pub(crate) ServiceApproval);

/// ava's approval of revision `0123456789` of `ledger`, in namespace `ns`.
pub(crate) fn approval(name: &str) -> ApprovalBuilder {
    let mut a = ServiceApproval::new(
        name,
        ServiceApprovalSpec {
            service_name: "ledger".into(),
            revision: "0123456789".into(),
            decision: Decision::Approved,
            approver: "ava".into(),
            comment: None,
            expires_at: None,
        },
    );
    a.metadata.namespace = Some("ns".into());
    ApprovalBuilder(a)
}

impl ApprovalBuilder {
    pub(crate) fn of(mut self, service: &str) -> Self {
        self.0.spec.service_name = service.into();
        self
    }
    pub(crate) fn resource_version(mut self, version: &str) -> Self {
        self.0.metadata.resource_version = Some(version.into());
        self
    }
    pub(crate) fn build(self) -> ServiceApproval {
        self.0
    }
}
