//! The dependency graph: who depends on whom and each Service's phase, kept in step with the
//! Service watch streams, so that a reconcile finds dependants and cycles without scanning
//! every Service, and a phase move re-triggers exactly the Services waiting on it.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{RwLock, RwLockReadGuard, RwLockWriteGuard},
};

use crate::{
    api::{Phase, Service, ServiceRef},
    lifecycle,
};

#[derive(Default)]
pub(crate) struct Graph {
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    nodes: HashMap<ServiceRef, Node>,
    /// Reverse edges, keyed by the dependency (which need not exist).
    dependants: HashMap<ServiceRef, BTreeSet<ServiceRef>>,
}

struct Node {
    depends_on: Vec<ServiceRef>,
    phase: Option<Phase>,
}

impl Graph {
    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// A Service as its watch stream saw it. Returns its dependants when its phase moved:
    /// they are to be reconciled again.
    pub fn upsert(&self, service: &Service) -> Vec<ServiceRef> {
        let Some(namespace) = service.metadata.namespace.as_deref() else {
            return Vec::new();
        };
        let me = ServiceRef::of(service);
        let mut depends_on: Vec<ServiceRef> = service
            .spec
            .content
            .model
            .iter()
            .flat_map(|m| &m.depends_on)
            .map(|d| d.resolved_in(namespace))
            .collect();
        depends_on.sort();
        depends_on.dedup();
        let phase = service.status.as_ref().and_then(|s| s.phase);

        let mut inner = self.write();
        let previous = inner.nodes.insert(
            me.clone(),
            Node {
                depends_on: depends_on.clone(),
                phase,
            },
        );
        let moved = previous.as_ref().is_some_and(|p| p.phase != phase);
        let before = previous.map(|p| p.depends_on).unwrap_or_default();
        if before != depends_on {
            for gone in before.iter().filter(|d| !depends_on.contains(d)) {
                inner.unlink(gone, &me);
            }
            for dependency in depends_on {
                inner
                    .dependants
                    .entry(dependency)
                    .or_default()
                    .insert(me.clone());
            }
        }
        if moved {
            inner.dependants_of(&me)
        } else {
            Vec::new()
        }
    }

    /// A Service that is gone. Returns its dependants, to be reconciled again.
    pub fn remove(&self, me: &ServiceRef) -> Vec<ServiceRef> {
        let mut inner = self.write();
        let Some(node) = inner.nodes.remove(me) else {
            return Vec::new();
        };
        for dependency in &node.depends_on {
            inner.unlink(dependency, me);
        }
        inner.dependants_of(me)
    }

    /// After a relist: forgets the Services `keep` says no longer exist; returns their
    /// dependants.
    pub fn retain(&self, keep: impl Fn(&ServiceRef) -> bool) -> Vec<ServiceRef> {
        let gone: Vec<ServiceRef> = self
            .read()
            .nodes
            .keys()
            .filter(|r| !keep(r))
            .cloned()
            .collect();
        let mut woken: Vec<ServiceRef> = gone.iter().flat_map(|r| self.remove(r)).collect();
        woken.sort();
        woken.dedup();
        woken
    }

    /// The Active Services whose `dependsOn` names `me`, sorted.
    pub fn active_dependants(&self, me: &ServiceRef) -> Vec<ServiceRef> {
        let inner = self.read();
        inner
            .dependants_of(me)
            .into_iter()
            .filter(|d| inner.nodes.get(d).and_then(|n| n.phase) == Some(Phase::Active))
            .collect()
    }

    /// A dependency cycle through `me`, as the path `me → … → me`; empty when there is none.
    pub fn cycle_through(&self, me: &ServiceRef) -> Vec<ServiceRef> {
        let inner = self.read();
        lifecycle::find_cycle(me, |r| {
            inner
                .nodes
                .get(r)
                .map(|n| n.depends_on.clone())
                .unwrap_or_default()
        })
        .unwrap_or_default()
    }
}

impl Inner {
    fn unlink(&mut self, dependency: &ServiceRef, dependant: &ServiceRef) {
        if let Some(set) = self.dependants.get_mut(dependency) {
            set.remove(dependant);
            if set.is_empty() {
                self.dependants.remove(dependency);
            }
        }
    }

    fn dependants_of(&self, me: &ServiceRef) -> Vec<ServiceRef> {
        self.dependants
            .get(me)
            .map(|set| set.iter().cloned().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    fn service(name: &str, depends_on: &[&str], phase: Option<Phase>) -> Service {
        let s = fixtures::service(name).depends_on(depends_on);
        match phase {
            Some(phase) => s.phase(phase).build(),
            None => s.build(),
        }
    }

    fn r(name: &str) -> ServiceRef {
        match name.split_once('/') {
            Some((ns, name)) => ServiceRef {
                namespace: Some(ns.into()),
                name: name.into(),
            },
            None => ServiceRef {
                namespace: Some("ns".into()),
                name: name.into(),
            },
        }
    }

    #[test]
    fn a_phase_move_wakes_the_dependants_and_nothing_else_does() {
        let g = Graph::default();
        assert!(g.upsert(&service("ledger", &[], None)).is_empty());
        g.upsert(&service("payments", &["ledger"], Some(Phase::Development)));
        g.upsert(&service("audit", &["other/ledger"], Some(Phase::Active)));
        assert!(
            g.upsert(&service("ledger", &[], None)).is_empty(),
            "same phase"
        );
        assert_eq!(
            g.upsert(&service("ledger", &[], Some(Phase::Active))),
            vec![r("payments")]
        );
        assert_eq!(g.remove(&r("ledger")), vec![r("payments")]);
    }

    #[test]
    fn active_dependants_follow_edits_of_depends_on() {
        let g = Graph::default();
        g.upsert(&service("payments", &["ledger"], Some(Phase::Active)));
        g.upsert(&service("billing", &["ledger"], Some(Phase::Development)));
        g.upsert(&service("fx", &["ns/ledger"], Some(Phase::Active)));
        assert_eq!(
            g.active_dependants(&r("ledger")),
            vec![r("fx"), r("payments")]
        );
        g.upsert(&service("payments", &[], Some(Phase::Active)));
        assert_eq!(g.active_dependants(&r("ledger")), vec![r("fx")]);
        assert_eq!(g.retain(|s| s != &r("fx")), Vec::<ServiceRef>::new());
        assert!(g.active_dependants(&r("ledger")).is_empty());
    }

    #[test]
    fn a_cycle_is_found_through_the_graph() {
        let g = Graph::default();
        g.upsert(&service("a", &["b"], None));
        g.upsert(&service("b", &["c"], None));
        assert!(g.cycle_through(&r("a")).is_empty());
        g.upsert(&service("c", &["a"], None));
        assert_eq!(
            g.cycle_through(&r("a")),
            vec![r("a"), r("b"), r("c"), r("a")]
        );
    }
}
