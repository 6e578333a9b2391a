//! The shared handles of the controller, built once at start, and the lookups a reconcile
//! makes: each by key in a cache or an index, none scanning every object.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use kube::{
    Client, ResourceExt,
    runtime::{events::Reporter, reflector::ObjectRef, reflector::Store},
};

use super::{graph::Graph, memory::Memory, scope::Scope, telemetry::Telemetry};
use crate::{
    api::{ApprovalPolicy, Phase, Service, ServiceApproval, ServiceRef},
    cached::Key,
    lifecycle::Policy,
};

/// Shared by every reconciliation.
pub struct Context {
    pub(crate) client: Client,
    /// Who the Events come from; a `Recorder` is made per reconcile from it (see `reconcile`).
    pub(crate) reporter: Reporter,
    pub(crate) policy: Policy,
    pub(crate) scopes: Vec<Scope>,
    /// Every ApprovalPolicy (cluster-scoped, so one cache whatever the scopes).
    pub(crate) approval_policies: Store<ApprovalPolicy>,
    pub(crate) graph: Arc<Graph>,
    pub(crate) telemetry: Telemetry,
    /// Cancelled once every cache has listed once.
    pub(crate) synced: tokio_util::sync::CancellationToken,
    /// Failures and awaited echoes per Service, forgotten on deletion.
    pub(crate) memory: Arc<Memory>,
}

/// Backoff after the n-th consecutive failure: 1 s, 2 s, 4 s, … capped at 5 minutes.
pub(crate) fn backoff(failures: u32) -> Duration {
    Duration::from_secs(1u64 << failures.saturating_sub(1).min(9)).min(Duration::from_secs(300))
}

impl Context {
    /// Waits until every cache has listed once, so no decision is taken on a partial view.
    pub(crate) async fn synced(&self) {
        self.synced.cancelled().await;
    }

    fn scope_of(&self, namespace: &str) -> Option<&Scope> {
        self.scopes.iter().find(|s| s.covers(namespace))
    }

    /// Whether the Service is in the cache (its scope's).
    pub(crate) fn service_exists(&self, service: &Key<Service>) -> bool {
        let namespace = service.namespace.as_deref().unwrap_or_default();
        self.scope_of(namespace)
            .is_some_and(|scope| scope.services.get(service).is_some())
    }

    /// Whether the Service exists but is skipped, because the operator cannot read it.
    pub(crate) fn service_unreadable(&self, service: &Key<Service>) -> bool {
        let namespace = service.namespace.as_deref().unwrap_or_default();
        self.scope_of(namespace).is_some_and(|scope| {
            scope
                .skipped_services
                .contains(service.namespace.as_deref(), &service.name)
        })
    }

    /// Every ApprovalPolicy; the lifecycle picks those covering a Service.
    pub(crate) fn approval_policies(&self) -> Vec<ApprovalPolicy> {
        super::policies::all(&self.approval_policies)
    }

    /// The ServiceApprovals naming this Service, sorted by name.
    pub(crate) fn approvals_for(&self, namespace: &str, name: &str) -> Vec<ServiceApproval> {
        let Some(scope) = self.scope_of(namespace) else {
            return Vec::new();
        };
        scope
            .approval_index
            .names_for(namespace, name)
            .iter()
            .filter_map(|a| scope.approvals.get(&ObjectRef::new(a).within(namespace)))
            .map(|a| a.get())
            .filter(|a| a.spec.service_name == name)
            .collect()
    }

    /// The Active Services, in every watched scope, whose dependsOn names `service`.
    pub(crate) fn active_dependants_of(&self, service: &Service) -> Vec<ServiceRef> {
        self.graph.active_dependants(&ServiceRef::of(service))
    }

    /// A dependency cycle through `service`, from the Services in the caches; empty when none.
    pub(crate) fn dependency_cycle_of(&self, service: &Service) -> Vec<ServiceRef> {
        self.graph.cycle_through(&ServiceRef::of(service))
    }

    /// The phase of every Service this one depends on, keyed with the namespace resolved;
    /// `None` when the Service is unknown (or outside the watched namespaces) or has no phase yet.
    pub(crate) fn dependencies_of(&self, service: &Service) -> BTreeMap<ServiceRef, Option<Phase>> {
        let own = service.namespace().unwrap_or_default();
        let Some(model) = &service.spec.content.model else {
            return BTreeMap::new();
        };
        model
            .depends_on
            .iter()
            .map(|dep| {
                let dep = dep.resolved_in(&own);
                let namespace = dep.namespace.as_deref().unwrap_or_default();
                let phase = self.scope_of(namespace).and_then(|scope| {
                    let found = scope
                        .services
                        .get(&ObjectRef::new(&dep.name).within(namespace))?;
                    found.get().status?.phase
                });
                (dep, phase)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_and_is_capped() {
        let delays: Vec<u64> = (1..=12).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(
            delays,
            vec![1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]
        );
    }
}
