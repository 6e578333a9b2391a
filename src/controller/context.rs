//! The shared handles of the controller, built once at start, and the lookups in its caches.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Mutex,
    time::Duration,
};

use futures::channel::mpsc::UnboundedSender;
use kube::{
    Client, ResourceExt,
    runtime::{events::Recorder, reflector::ObjectRef, reflector::Store},
};

use super::telemetry::Telemetry;
use crate::{
    api::{Phase, Service, ServiceApproval, ServiceRef},
    catalog::Dirty,
    lifecycle::Policy,
};

/// One watched scope: a namespace, or the whole cluster (`None`).
pub(crate) struct Scope {
    pub namespace: Option<String>,
    pub services: Store<Service>,
    pub approvals: Store<ServiceApproval>,
    /// Requests reconciliation of a Service of this scope (dependants whose dependency moved).
    pub retrigger: UnboundedSender<ObjectRef<Service>>,
}

impl Scope {
    fn covers(&self, namespace: &str) -> bool {
        self.namespace.as_deref().is_none_or(|ns| ns == namespace)
    }
}

/// Shared by every reconciliation.
pub struct Context {
    pub(crate) client: Client,
    pub(crate) recorder: Recorder,
    pub(crate) policy: Policy,
    pub(crate) scopes: Vec<Scope>,
    pub(crate) catalog: Dirty,
    pub(crate) telemetry: Telemetry,
    /// Cancelled once every cache has listed once.
    pub(crate) synced: tokio_util::sync::CancellationToken,
    /// Consecutive failures per Service, for the exponential backoff; reset on success.
    pub(crate) failures: Mutex<HashMap<ObjectRef<Service>, u32>>,
    /// The phase each Service had when last reconciled: a change re-triggers its dependants.
    pub(crate) phases: Mutex<HashMap<ObjectRef<Service>, Option<Phase>>>,
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

    /// The ServiceApprovals naming this Service, sorted by name.
    pub(crate) fn approvals_for(&self, namespace: &str, name: &str) -> Vec<ServiceApproval> {
        let Some(scope) = self.scope_of(namespace) else {
            return Vec::new();
        };
        let mut approvals: Vec<ServiceApproval> = scope
            .approvals
            .state()
            .iter()
            .filter(|a| a.namespace().as_deref() == Some(namespace) && a.spec.service_name == name)
            .map(|a| a.as_ref().clone())
            .collect();
        approvals.sort_by_key(|a| a.name_any());
        approvals
    }

    /// The phase of every Service this one depends on, keyed with the namespace resolved;
    /// `None` when the Service is unknown (or outside the watched namespaces) or has no phase yet.
    /// The Active Services, in every watched scope, whose dependsOn names `service`.
    pub(crate) fn active_dependants_of(&self, service: &Service) -> Vec<ServiceRef> {
        let me = ServiceRef {
            namespace: service.namespace(),
            name: service.name_any(),
        };
        let mut dependants: Vec<ServiceRef> = self
            .scopes
            .iter()
            .flat_map(|scope| scope.services.state())
            .filter(|s| s.status.as_ref().and_then(|st| st.phase) == Some(Phase::Active))
            .filter(|s| self.dependencies_of(s).contains_key(&me))
            .map(|s| ServiceRef {
                namespace: s.namespace(),
                name: s.name_any(),
            })
            .collect();
        dependants.sort();
        dependants.dedup();
        dependants
    }

    /// A dependency cycle through `service`, from the Services in the caches; empty when none.
    pub(crate) fn dependency_cycle_of(&self, service: &Service) -> Vec<ServiceRef> {
        let start = ServiceRef {
            namespace: service.namespace(),
            name: service.name_any(),
        };
        let depends_on = |r: &ServiceRef| -> Vec<ServiceRef> {
            let namespace = r.namespace.as_deref().unwrap_or_default();
            let Some(scope) = self.scope_of(namespace) else {
                return Vec::new();
            };
            let Some(found) = scope
                .services
                .get(&ObjectRef::new(&r.name).within(namespace))
            else {
                return Vec::new();
            };
            self.dependencies_of(&found).into_keys().collect()
        };
        crate::lifecycle::find_cycle(&start, depends_on).unwrap_or_default()
    }

    pub(crate) fn dependencies_of(&self, service: &Service) -> BTreeMap<ServiceRef, Option<Phase>> {
        let own = service.namespace().unwrap_or_default();
        let Some(model) = &service.spec.content.model else {
            return BTreeMap::new();
        };
        model
            .depends_on
            .iter()
            .map(|dep| {
                let namespace = dep
                    .namespace
                    .as_deref()
                    .filter(|ns| !ns.is_empty())
                    .unwrap_or(&own);
                let phase = self.scope_of(namespace).and_then(|scope| {
                    let found = scope
                        .services
                        .get(&ObjectRef::new(&dep.name).within(namespace))?;
                    found.status.as_ref()?.phase
                });
                (
                    ServiceRef {
                        namespace: Some(namespace.to_owned()),
                        name: dep.name.clone(),
                    },
                    phase,
                )
            })
            .collect()
    }

    /// Re-triggers every Service whose `dependsOn` names this one.
    pub(crate) fn retrigger_dependants(&self, service: &Service) {
        let (Some(namespace), name) = (service.namespace(), service.name_any()) else {
            return;
        };
        for scope in &self.scopes {
            for candidate in scope.services.state() {
                let own = candidate.namespace().unwrap_or_default();
                let depends = candidate.spec.content.model.as_ref().is_some_and(|m| {
                    m.depends_on.iter().any(|d| {
                        d.name == name
                            && d.namespace
                                .as_deref()
                                .filter(|ns| !ns.is_empty())
                                .unwrap_or(&own)
                                == namespace
                    })
                });
                if depends {
                    let _ = scope
                        .retrigger
                        .unbounded_send(ObjectRef::from_obj(candidate.as_ref()));
                }
            }
        }
    }

    /// Records the phase seen for this Service; true when it differs from the last one seen.
    pub(crate) fn phase_moved(&self, service: &Service) -> bool {
        let phase = service.status.as_ref().and_then(|s| s.phase);
        let mut phases = self.phases.lock().unwrap_or_else(|e| e.into_inner());
        phases
            .insert(ObjectRef::from_obj(service), phase)
            .is_some_and(|before| before != phase)
    }

    pub(crate) fn record_failure(&self, service: &Service) -> u32 {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let n = failures.entry(ObjectRef::from_obj(service)).or_insert(0);
        *n = n.saturating_add(1);
        *n
    }

    pub(crate) fn reset_failures(&self, service: &Service) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(&ObjectRef::from_obj(service));
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
