//! What the controller remembers about a Service between reconciles: its consecutive failures
//! (for the backoff), the status writes whose echo its cache has not shown yet, and whether its
//! review is overdue (for the gauge). Forgotten when the Service (or approval) is deleted, so it
//! never outgrows the objects that exist.

use std::{
    collections::{HashMap, HashSet},
    sync::Mutex,
};

use kube::ResourceExt;
use prometheus_client::metrics::gauge::Gauge;

use crate::{
    api::{Service, ServiceApproval, ServiceApprovalStatus},
    cached::{Cached, Key, key},
};

use super::status::Written;

/// A fingerprint of an approval status we wrote: enough to tell whether a status we are about
/// to write is the same one, without keeping a copy of it for every write in flight (at 10,000
/// approvals converging at once, the copies were ~5 MB of the operator's peak heap).
fn fingerprint(status: &ServiceApprovalStatus) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_string(status)
        .unwrap_or_default()
        .hash(&mut hasher);
    hasher.finish()
}

#[derive(Default)]
pub(crate) struct Memory {
    /// Consecutive failures per Service, for the exponential backoff; reset on success.
    failures: Mutex<HashMap<Key<Service>, u32>>,
    /// Services whose status we wrote and whose cache has not seen it yet: the
    /// resourceVersion the cache still holds. Only writes in flight are kept.
    echoes: Mutex<HashMap<Key<Service>, String>>,
    /// The same for approval statuses: the version the cache still holds and what we wrote.
    approval_echoes: Mutex<HashMap<Key<ServiceApproval>, (String, u64)>>,
    /// The Services whose periodic review is overdue, counted in `overdue_gauge`.
    overdue: Mutex<HashSet<Key<Service>>>,
    overdue_gauge: Gauge,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Memory {
    /// A memory that keeps `gauge` at the number of Services whose review is overdue.
    pub(crate) fn counting_overdue_in(gauge: Gauge) -> Memory {
        Memory {
            overdue_gauge: gauge,
            ..Memory::default()
        }
    }

    /// Records whether the Service's periodic review is overdue (its ReviewDue condition).
    pub(crate) fn review_overdue(&self, service: &Service, overdue: bool) {
        let mut set = lock(&self.overdue);
        let key = key(service);
        let changed = if overdue {
            set.insert(key)
        } else {
            set.remove(&key)
        };
        if changed {
            self.overdue_gauge.set(set.len() as i64);
        }
    }

    fn count_overdue(&self, set: &HashSet<Key<Service>>) {
        self.overdue_gauge.set(set.len() as i64);
    }
    /// Records a status write: until the cache moves past the version it was computed from,
    /// that version is stale. A write that changed nothing awaits no echo.
    pub(crate) fn await_echo(&self, before: &Service, written: &Written) {
        let (Some(old), Some(new)) = (before.resource_version(), written.resource_version()) else {
            return;
        };
        if old != new {
            lock(&self.echoes).insert(key(before), old);
        }
    }

    /// Whether this is the version a status write of ours has already replaced (read from the
    /// cached form: such a version is not worth decoding).
    pub(crate) fn is_before_echo(&self, service: &Cached<Service>) -> bool {
        let key = service.key();
        let mut echoes = lock(&self.echoes);
        match echoes.get(&key) {
            Some(stale) if service.resource_version().as_ref() == Some(stale) => true,
            Some(_) => {
                echoes.remove(&key);
                false
            }
            None => false,
        }
    }

    /// Records an approval status write, as `await_echo` does for Services.
    pub(crate) fn await_approval_echo(
        &self,
        before: &ServiceApproval,
        written: &Written,
        status: &ServiceApprovalStatus,
    ) {
        let (Some(old), Some(new)) = (before.resource_version(), written.resource_version()) else {
            return;
        };
        if old != new {
            lock(&self.approval_echoes).insert(key(before), (old, fingerprint(status)));
        }
    }

    /// Whether `status` was written already over this version of the approval.
    pub(crate) fn approval_status_written(
        &self,
        approval: &ServiceApproval,
        status: &ServiceApprovalStatus,
    ) -> bool {
        let key = key(approval);
        let mut echoes = lock(&self.approval_echoes);
        match echoes.get(&key) {
            Some((stale, written)) if approval.resource_version().as_ref() == Some(stale) => {
                *written == fingerprint(status)
            }
            Some(_) => {
                echoes.remove(&key);
                false
            }
            None => false,
        }
    }

    pub(crate) fn record_failure(&self, service: &Key<Service>) -> u32 {
        let mut failures = lock(&self.failures);
        let n = failures.entry(service.clone()).or_insert(0);
        *n = n.saturating_add(1);
        *n
    }

    pub(crate) fn reset_failures(&self, service: &Key<Service>) {
        lock(&self.failures).remove(service);
    }

    /// Forgets a deleted Service.
    pub(crate) fn forget_service(&self, service: &Key<Service>) {
        lock(&self.failures).remove(service);
        lock(&self.echoes).remove(service);
        let mut overdue = lock(&self.overdue);
        if overdue.remove(service) {
            self.count_overdue(&overdue);
        }
    }

    /// Forgets a deleted approval.
    pub(crate) fn forget_approval(&self, approval: &Key<ServiceApproval>) {
        lock(&self.approval_echoes).remove(approval);
    }

    /// After a relist: forgets the Services and approvals that no longer exist.
    pub(crate) fn retain_services(&self, exists: impl Fn(&Key<Service>) -> bool) {
        lock(&self.failures).retain(|k, _| exists(k));
        lock(&self.echoes).retain(|k, _| exists(k));
        let mut overdue = lock(&self.overdue);
        overdue.retain(|k| exists(k));
        self.count_overdue(&overdue);
    }

    pub(crate) fn retain_approvals(&self, exists: impl Fn(&Key<ServiceApproval>) -> bool) {
        lock(&self.approval_echoes).retain(|k, _| exists(k));
    }

    /// How many objects are remembered (Services and approvals, counted once per map).
    #[cfg(test)]
    fn len(&self) -> usize {
        lock(&self.failures).len()
            + lock(&self.echoes).len()
            + lock(&self.approval_echoes).len()
            + lock(&self.overdue).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_overdue_gauge_counts_services_whose_review_is_overdue_until_they_go() {
        use crate::api::ServiceSpec;
        let gauge = Gauge::default();
        let memory = Memory::counting_overdue_in(gauge.clone());
        let service = |name: &str| {
            let mut s = Service::new(name, ServiceSpec::default());
            s.metadata.namespace = Some("shop".into());
            s
        };
        memory.review_overdue(&service("a"), true);
        memory.review_overdue(&service("a"), true);
        memory.review_overdue(&service("b"), true);
        assert_eq!(gauge.get(), 2, "each Service once");
        memory.review_overdue(&service("b"), false);
        assert_eq!(gauge.get(), 1, "reviewed");
        memory.forget_service(&key(&service("a")));
        assert_eq!(gauge.get(), 0, "deleted");
        memory.review_overdue(&service("c"), true);
        memory.retain_services(|_| false);
        assert_eq!(gauge.get(), 0, "gone in a relist");
    }
    use crate::fixtures;

    fn service(name: &str, version: &str) -> Service {
        fixtures::service(name).resource_version(version).build()
    }

    fn approval(name: &str, version: &str) -> ServiceApproval {
        fixtures::approval(name).resource_version(version).build()
    }

    #[test]
    fn a_deleted_service_and_approval_are_forgotten() {
        let memory = Memory::default();
        let ledger = service("ledger", "1");
        memory.record_failure(&key(&ledger));
        memory.await_echo(&ledger, &Written::at("2"));
        let a = approval("ledger-ava", "3");
        memory.await_approval_echo(&a, &Written::at("4"), &Default::default());
        assert_eq!(memory.len(), 3);
        assert!(memory.is_before_echo(&Cached::new(&ledger)));

        memory.forget_service(&key(&ledger));
        memory.forget_approval(&key(&a));
        assert_eq!(memory.len(), 0);
        assert!(!memory.is_before_echo(&Cached::new(&ledger)));
    }

    #[test]
    fn a_relist_forgets_what_no_longer_exists() {
        let memory = Memory::default();
        for name in ["a", "b", "c"] {
            memory.record_failure(&key(&service(name, "1")));
            memory.await_echo(&service(name, "1"), &Written::at("2"));
        }
        memory.await_approval_echo(&approval("x", "1"), &Written::at("2"), &Default::default());
        memory.retain_services(|r| r.name == "b");
        memory.retain_approvals(|_| false);
        assert_eq!(memory.len(), 2, "b's failures and echo remain");
        assert_eq!(memory.record_failure(&key(&service("b", "2"))), 2);
        assert_eq!(memory.record_failure(&key(&service("a", "2"))), 1);
    }
}
