//! The final state a run must reach, computed from the rules rather than written by hand: each
//! Service's phase is what `charter::lifecycle::evaluate` gives its final inputs (spec,
//! approvals, dependencies' phases) when walked from no status to a fixpoint, its status is a
//! fixpoint of the rules (the operator has nothing left to do), and the catalog ConfigMaps are
//! byte for byte what `charter::catalog::compute` gives for the final Services.

use std::collections::{BTreeMap, BTreeSet};

use charter::{
    api::{Phase, Service, ServiceApproval, ServiceRef},
    catalog::{INDEX_KEY, LABEL, MAX_BYTES, SERVICES_KEY, compute},
    lifecycle::{Input, Policy, evaluate},
};
use k8s_openapi::{api::core::v1::ConfigMap, jiff::Timestamp};
use kube::{Api, Client, ResourceExt, api::ListParams};

/// What the server holds at the end of a run.
pub struct Final {
    pub services: Vec<Service>,
    pub approvals: Vec<ServiceApproval>,
    /// The catalog ConfigMaps, by name.
    pub catalog: BTreeMap<String, BTreeMap<String, String>>,
}

pub async fn read(client: &Client, namespace: &str, catalog_ns: &str, catalog_name: &str) -> Final {
    let lp = ListParams::default();
    let services = Api::<Service>::namespaced(client.clone(), namespace)
        .list(&lp)
        .await
        .expect("Services list")
        .items;
    let approvals = Api::<ServiceApproval>::namespaced(client.clone(), namespace)
        .list(&lp)
        .await
        .expect("approvals list")
        .items;
    let catalog = Api::<ConfigMap>::namespaced(client.clone(), catalog_ns)
        .list(&lp.labels(&format!("{LABEL}={catalog_name}")))
        .await
        .expect("ConfigMaps list")
        .items
        .into_iter()
        .map(|c| (c.name_any(), c.data.unwrap_or_default()))
        .collect();
    Final {
        services,
        approvals,
        catalog,
    }
}

impl Final {
    fn input_for<'a>(
        &'a self,
        service: &'a Service,
        approvals: &'a [ServiceApproval],
        dependencies: &'a BTreeMap<ServiceRef, Option<Phase>>,
        policy: &'a Policy,
        now: Timestamp,
    ) -> Input<'a> {
        Input {
            service,
            approvals,
            dependencies,
            dependency_cycle: &[],
            active_dependants: &[],
            approval_policies: &[],
            now,
            policy,
            revision: None,
        }
    }

    /// Every way the final state differs from what the rules and the catalog give; empty when
    /// the run converged.
    pub fn mismatches(&self, catalog_name: &str, policy: &Policy) -> Vec<String> {
        let now = Timestamp::now();
        let mut found = Vec::new();
        let phases: BTreeMap<ServiceRef, Option<Phase>> = self
            .services
            .iter()
            .map(|s| (ServiceRef::of(s), s.status.as_ref().and_then(|st| st.phase)))
            .collect();
        let mut by_service: BTreeMap<&str, Vec<ServiceApproval>> = BTreeMap::new();
        for a in &self.approvals {
            by_service
                .entry(a.spec.service_name.as_str())
                .or_default()
                .push(a.clone());
        }
        for service in &self.services {
            let name = service.name_any();
            let approvals = by_service.get(name.as_str()).cloned().unwrap_or_default();
            let namespace = service.namespace().unwrap_or_default();
            let dependencies: BTreeMap<ServiceRef, Option<Phase>> = service
                .spec
                .content
                .model
                .iter()
                .flat_map(|m| &m.depends_on)
                .map(|d| {
                    let d = d.resolved_in(&namespace);
                    let phase = phases.get(&d).copied().flatten();
                    (d, phase)
                })
                .collect();

            // The phase the rules give these inputs, walked from nothing.
            let mut fresh = service.clone();
            fresh.status = None;
            let mut expected = None;
            for _ in 0..8 {
                let outcome =
                    evaluate(&self.input_for(&fresh, &approvals, &dependencies, policy, now));
                let done = fresh.status.as_ref() == Some(&outcome.status);
                expected = outcome.status.phase;
                fresh.status = Some(outcome.status);
                if done {
                    break;
                }
            }
            let actual = service.status.as_ref().and_then(|s| s.phase);
            if actual != expected {
                found.push(format!(
                    "{name}: phase {actual:?}, the rules give {expected:?}"
                ));
                continue;
            }
            // The operator has nothing left to do: the rules, fed its status, keep it.
            let outcome =
                evaluate(&self.input_for(service, &approvals, &dependencies, policy, now));
            if service.status.as_ref() != Some(&outcome.status) {
                found.push(format!("{name}: status is not a fixpoint of the rules"));
            }
        }

        let expected: BTreeMap<String, BTreeMap<String, String>> =
            compute(catalog_name, &self.services, MAX_BYTES)
                .into_iter()
                .collect();
        if expected != self.catalog {
            let names: BTreeSet<&String> = expected.keys().chain(self.catalog.keys()).collect();
            for name in names {
                let (want, got) = (expected.get(name), self.catalog.get(name));
                if want == got {
                    continue;
                }
                let keys = |m: Option<&BTreeMap<String, String>>| -> BTreeSet<String> {
                    m.map(|m| m.keys().cloned().collect()).unwrap_or_default()
                };
                let (wk, gk) = (keys(want), keys(got));
                let missing: Vec<_> = wk.difference(&gk).take(5).collect();
                let extra: Vec<_> = gk.difference(&wk).take(5).collect();
                let differing = wk
                    .intersection(&gk)
                    .filter(|k| want.and_then(|m| m.get(*k)) != got.and_then(|m| m.get(*k)))
                    .count();
                found.push(format!(
                    "catalog ConfigMap {name}: missing {missing:?}, extra {extra:?}, {differing} entries differ"
                ));
            }
        }
        // No entry lost or served twice across shards.
        let mut seen = BTreeSet::new();
        for (name, data) in &self.catalog {
            for key in data
                .keys()
                .filter(|k| *k != INDEX_KEY && *k != SERVICES_KEY)
            {
                if !seen.insert(key.clone()) {
                    found.push(format!(
                        "catalog entry {key} served twice (again in {name})"
                    ));
                }
            }
        }
        let active = self
            .services
            .iter()
            .filter(|s| s.status.as_ref().and_then(|st| st.phase) == Some(Phase::Active))
            .count();
        if seen.len() != active {
            found.push(format!(
                "the catalog serves {} entries for {active} Active Services",
                seen.len()
            ));
        }
        found
    }

    pub fn count(&self, phase: Phase) -> usize {
        self.services
            .iter()
            .filter(|s| s.status.as_ref().and_then(|st| st.phase) == Some(phase))
            .count()
    }
}
