//! What the operator tells the outside: Prometheus metrics and readiness, for `/metrics`,
//! `/healthz` and `/readyz`.

use std::sync::{
    Arc,
    atomic::{AtomicBool, AtomicU32, Ordering},
};

use prometheus_client::{
    encoding::text::encode,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

/// Shared, cheap to clone. Create one, give it to `Operator::telemetry`, serve `encode()` and `ready()`.
#[derive(Clone)]
pub struct Telemetry(Arc<Inner>);

struct Inner {
    registry: Registry,
    reconciliations: Counter,
    failures: Family<Vec<(String, String)>, Counter>,
    duration: Histogram,
    writes: Family<Vec<(String, String)>, Counter>,
    unreadable: Family<Vec<(String, String)>, Counter>,
    reviews_overdue: Gauge,
    notifications: Family<Vec<(String, String)>, Counter>,
    ready: AtomicBool,
    /// Status writes failed in a row (409 Conflicts aside): reset by any write that succeeds.
    failed_writes: AtomicU32,
}

/// How many status writes in a row, and none succeeding, must fail before the operator says it
/// is not ready: one failure is a blip, every write failing is an operator that cannot act
/// (its identity or RBAC gone). A 409 Conflict is the server answering: it never counts.
pub const FAILED_WRITES_UNREADY: u32 = 5;

impl Default for Telemetry {
    fn default() -> Self {
        let reconciliations = Counter::default();
        let failures = Family::<Vec<(String, String)>, Counter>::default();
        let writes = Family::<Vec<(String, String)>, Counter>::default();
        let unreadable = Family::<Vec<(String, String)>, Counter>::default();
        let duration = Histogram::new([0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0]);
        let mut registry = Registry::with_prefix("charter");
        registry.register(
            "reconciliations",
            "Reconciliations of Services",
            reconciliations.clone(),
        );
        registry.register(
            "reconcile_failures",
            "Failed reconciliations, by error",
            failures.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "Duration of a reconciliation",
            duration.clone(),
        );
        registry.register("status_writes", "Status writes, by kind", writes.clone());
        registry.register(
            "unreadable_objects",
            "Objects the operator could not read and skipped, by kind, once per resourceVersion",
            unreadable.clone(),
        );
        let reviews_overdue = Gauge::default();
        registry.register(
            "reviews_overdue",
            "Active Services whose periodic review is overdue (ReviewDue is True)",
            reviews_overdue.clone(),
        );
        let notifications = Family::<Vec<(String, String)>, Counter>::default();
        registry.register(
            "notification_deliveries",
            "CloudEvents POSTed to NotificationSubscription sinks, by outcome (delivered, failed)",
            notifications.clone(),
        );
        Self(Arc::new(Inner {
            registry,
            notifications,
            reviews_overdue,
            reconciliations,
            failures,
            duration,
            writes,
            unreadable,
            ready: AtomicBool::new(false),
            failed_writes: AtomicU32::new(0),
        }))
    }
}

impl Telemetry {
    /// The metrics in the Prometheus text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.0.registry);
        out
    }

    /// True once every cache has synced and reconciliation has started, while status writes
    /// succeed (fewer than `FAILED_WRITES_UNREADY` failed in a row).
    pub fn ready(&self) -> bool {
        self.0.ready.load(Ordering::Relaxed)
            && self.0.failed_writes.load(Ordering::Relaxed) < FAILED_WRITES_UNREADY
    }

    pub(crate) fn set_ready(&self, ready: bool) {
        self.0.ready.store(ready, Ordering::Relaxed);
    }

    pub(crate) fn reconciled(&self, seconds: f64) {
        self.0.reconciliations.inc();
        self.0.duration.observe(seconds);
    }

    pub(crate) fn failed(&self, label: &str) {
        self.0
            .failures
            .get_or_create(&vec![("error".into(), label.into())])
            .inc();
    }

    pub(crate) fn wrote(&self, kind: &str) {
        self.0.failed_writes.store(0, Ordering::Relaxed);
        self.0
            .writes
            .get_or_create(&vec![("kind".into(), kind.into())])
            .inc();
    }

    /// A status write failed (not with a 409 Conflict).
    pub(crate) fn write_failed(&self) {
        self.0.failed_writes.fetch_add(1, Ordering::Relaxed);
    }

    /// The gauge of Services whose review is overdue, kept by the controller's memory.
    pub(crate) fn reviews_overdue(&self) -> Gauge {
        self.0.reviews_overdue.clone()
    }

    /// A delivery to a sink: `delivered` or `failed`.
    pub(crate) fn notified(&self, outcome: &str) {
        self.0
            .notifications
            .get_or_create(&vec![("outcome".into(), outcome.into())])
            .inc();
    }

    pub(crate) fn unreadable(&self, kind: &str) {
        self.0
            .unreadable
            .get_or_create(&vec![("kind".into(), kind.into())])
            .inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_is_lost_when_every_status_write_fails_and_comes_back_with_one_success() {
        let telemetry = Telemetry::default();
        telemetry.set_ready(true);
        for _ in 1..FAILED_WRITES_UNREADY {
            telemetry.write_failed();
        }
        assert!(telemetry.ready(), "a few failures are blips");
        telemetry.wrote("service");
        for _ in 1..FAILED_WRITES_UNREADY {
            telemetry.write_failed();
        }
        assert!(telemetry.ready(), "a success starts the count again");
        telemetry.write_failed();
        assert!(!telemetry.ready(), "every write failing: not ready");
        telemetry.wrote("approval");
        assert!(telemetry.ready());
    }
}
