//! A recorder of the whole watch history of a run: it watches Services, ServiceApprovals and the
//! catalog ConfigMaps from the start and judges every observed Active Service and every observed
//! catalog entry against the approvals that existed at that moment, with the lifecycle's own
//! quorum rule (`charter::lifecycle::holds_quorum`).
//!
//! Ordering. The three kinds come on three watch streams, so the order in which the recorder
//! receives events across kinds is not the server's order: the status that counted an approval
//! may arrive before the approval itself. The server's order is the global resourceVersion (one
//! counter across all kinds), so each observation keeps the resourceVersion of the object it came
//! from, each approval the resourceVersion it was first seen with, and an observation at `rv` is
//! judged with exactly the approvals first seen at or before `rv` — no more (an approval created
//! later cannot excuse it), no less (one that arrives late on its stream still counts, because it
//! existed). Judging waits until every stream has caught up with the final state (`settle`).
//! An approval first seen only after a relist carries its version at that relist, which is later
//! than its creation: judging with it is stricter than the truth, never looser. Approvals are never
//! forgotten on deletion: approval is sticky, and revocation is a Rejected decision, which the
//! quorum rule counts.
//!
//! The recorder's user must be spared from injected faults (`Faults::spare`): a cut watch or a
//! relist would hide the states that lived only in between.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use charter::{
    api::{Phase, Service, ServiceApproval, ServiceContent, Snapshot},
    catalog::{INDEX_KEY, LABEL, SERVICES_KEY},
    lifecycle::{Policy, holds_quorum},
};
use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::{
    Api, Client, ResourceExt,
    api::ListParams,
    runtime::{WatchStreamExt, watcher},
};
use serde::Deserialize;
use tokio::task::JoinHandle;

/// One thing that must have had a valid quorum when it was seen.
#[derive(Clone, Debug)]
struct Observation {
    what: String,
    rv: u64,
    namespace: String,
    name: String,
    snapshot: Snapshot,
}

#[derive(Default)]
pub struct History {
    /// By (namespace, service name): (first seen at, approval).
    approvals: BTreeMap<(String, String), Vec<(u64, ServiceApproval)>>,
    approvals_seen: usize,
    observations: Vec<Observation>,
    /// Violations found without judging: Active without an approved snapshot, unreadable entries.
    immediate: Vec<String>,
    /// The last value of every catalog entry, so an unchanged entry is judged once.
    entries: BTreeMap<String, String>,
    /// The highest resourceVersion seen per stream: "services", "approvals", "configmaps".
    seen: BTreeMap<&'static str, u64>,
    /// Events received in all.
    pub events: u64,
}

fn rv_of(meta: &kube::core::ObjectMeta) -> u64 {
    meta.resource_version
        .as_deref()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// What a catalog entry says about its provenance: enough to rebuild the snapshot it serves.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    service: EntryService,
    content: ServiceContent,
    provenance: Provenance,
}

#[derive(Deserialize)]
struct EntryService {
    namespace: String,
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Provenance {
    revision: String,
    approved_by: Vec<String>,
    approved_at: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time,
}

impl History {
    fn saw(&mut self, stream: &'static str, rv: u64) {
        self.events += 1;
        let e = self.seen.entry(stream).or_default();
        *e = (*e).max(rv);
    }

    pub fn observe_approval(&mut self, approval: &ServiceApproval) {
        let rv = rv_of(&approval.metadata);
        self.saw("approvals", rv);
        let key = (
            approval.namespace().unwrap_or_default(),
            approval.spec.service_name.clone(),
        );
        let list = self.approvals.entry(key).or_default();
        if !list
            .iter()
            .any(|(_, a)| a.metadata.uid == approval.metadata.uid)
        {
            list.push((rv, approval.clone()));
            self.approvals_seen += 1;
        }
    }

    pub fn observe_service(&mut self, service: &Service) {
        let rv = rv_of(&service.metadata);
        self.saw("services", rv);
        let Some(status) = &service.status else {
            return;
        };
        if status.phase != Some(Phase::Active) {
            return;
        }
        let what = format!(
            "Service {}/{} Active at resourceVersion {rv}",
            service.namespace().unwrap_or_default(),
            service.name_any()
        );
        match &status.snapshot {
            Some(snapshot) if status.approved_revision.as_ref() == Some(&snapshot.revision) => {
                self.observations.push(Observation {
                    what,
                    rv,
                    namespace: service.namespace().unwrap_or_default(),
                    name: service.name_any(),
                    snapshot: snapshot.clone(),
                })
            }
            _ => self.immediate.push(format!(
                "{what} without an approved snapshot (approvedRevision {:?})",
                status.approved_revision
            )),
        }
    }

    pub fn observe_catalog(&mut self, configmap: &ConfigMap) {
        let rv = rv_of(&configmap.metadata);
        self.saw("configmaps", rv);
        for (key, value) in configmap.data.iter().flatten() {
            if key == INDEX_KEY || key == SERVICES_KEY || self.entries.get(key) == Some(value) {
                continue;
            }
            self.entries.insert(key.clone(), value.clone());
            let what = format!(
                "catalog entry {key} in {} at resourceVersion {rv}",
                configmap.name_any()
            );
            match serde_json::from_str::<Entry>(value) {
                Ok(entry) => self.observations.push(Observation {
                    what,
                    rv,
                    namespace: entry.service.namespace,
                    name: entry.service.name,
                    snapshot: Snapshot {
                        revision: entry.provenance.revision,
                        approved_by: entry.provenance.approved_by,
                        approved_at: entry.provenance.approved_at,
                        content: entry.content,
                        revised_by: None,
                        policies: Vec::new(),
                    },
                }),
                Err(e) => self.immediate.push(format!("{what} is unreadable: {e}")),
            }
        }
    }

    /// Every observation without a valid quorum at its moment, in words.
    pub fn violations(&self, policy: &Policy) -> Vec<String> {
        let mut found = self.immediate.clone();
        for o in &self.observations {
            let existing: Vec<ServiceApproval> = self
                .approvals
                .get(&(o.namespace.clone(), o.name.clone()))
                .into_iter()
                .flatten()
                .filter(|(rv, _)| *rv <= o.rv)
                .map(|(_, a)| a.clone())
                .collect();
            if let Err(refusal) =
                holds_quorum(&o.namespace, &o.name, &o.snapshot, &existing, policy)
            {
                found.push(format!(
                    "{} served revision {} without a valid quorum: {} ({})",
                    o.what, o.snapshot.revision, refusal.message, refusal.reason
                ));
            }
        }
        found
    }

    /// How many observations were judged.
    pub fn observations(&self) -> usize {
        self.observations.len()
    }
}

/// The recorder: three watch tasks feeding one `History`.
pub struct Recorder {
    pub history: Arc<Mutex<History>>,
    tasks: Vec<JoinHandle<()>>,
    client: Client,
    namespace: String,
    catalog_namespace: String,
    catalog_name: String,
}

fn follow<K, F>(
    api: Api<K>,
    config: watcher::Config,
    history: Arc<Mutex<History>>,
    mut observe: F,
) -> JoinHandle<()>
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + 'static,
    K::DynamicType: Default,
    F: FnMut(&mut History, &K) + Send + 'static,
{
    tokio::spawn(async move {
        let mut stream = watcher(api, config).default_backoff().boxed();
        while let Some(event) = stream.next().await {
            let mut h = history.lock().unwrap_or_else(|e| e.into_inner());
            match event {
                Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o)) => observe(&mut h, &o),
                Ok(watcher::Event::Delete(_)) => h.events += 1,
                _ => {}
            }
        }
    })
}

impl Recorder {
    /// Starts watching `namespace`'s Services and approvals and the catalog's ConfigMaps.
    pub fn start(
        client: Client,
        namespace: &str,
        catalog_namespace: &str,
        catalog_name: &str,
    ) -> Recorder {
        let history = Arc::new(Mutex::new(History::default()));
        let tasks = vec![
            follow(
                Api::<Service>::namespaced(client.clone(), namespace),
                watcher::Config::default(),
                history.clone(),
                History::observe_service,
            ),
            follow(
                Api::<ServiceApproval>::namespaced(client.clone(), namespace),
                watcher::Config::default(),
                history.clone(),
                History::observe_approval,
            ),
            follow(
                Api::<ConfigMap>::namespaced(client.clone(), catalog_namespace),
                watcher::Config::default().labels(&format!("{LABEL}={catalog_name}")),
                history.clone(),
                History::observe_catalog,
            ),
        ];
        Recorder {
            history,
            tasks,
            client,
            namespace: namespace.into(),
            catalog_namespace: catalog_namespace.into(),
            catalog_name: catalog_name.into(),
        }
    }

    /// Waits until every stream has seen the latest version of every object of its kind, then
    /// judges the whole history; returns (observations judged, violations).
    pub async fn settle(&self, policy: &Policy) -> (usize, Vec<String>) {
        let latest =
            |items: Vec<kube::core::ObjectMeta>| items.iter().map(rv_of).max().unwrap_or(0);
        let services: Api<Service> = Api::namespaced(self.client.clone(), &self.namespace);
        let approvals: Api<ServiceApproval> = Api::namespaced(self.client.clone(), &self.namespace);
        let configmaps: Api<ConfigMap> =
            Api::namespaced(self.client.clone(), &self.catalog_namespace);
        let lp = ListParams::default();
        let targets = [
            (
                "services",
                latest(
                    services
                        .list(&lp)
                        .await
                        .expect("Services list")
                        .items
                        .into_iter()
                        .map(|s| s.metadata)
                        .collect(),
                ),
            ),
            (
                "approvals",
                latest(
                    approvals
                        .list(&lp)
                        .await
                        .expect("approvals list")
                        .items
                        .into_iter()
                        .map(|a| a.metadata)
                        .collect(),
                ),
            ),
            (
                "configmaps",
                latest(
                    configmaps
                        .list(&lp.clone().labels(&format!("{LABEL}={}", self.catalog_name)))
                        .await
                        .expect("ConfigMaps list")
                        .items
                        .into_iter()
                        .map(|c| c.metadata)
                        .collect(),
                ),
            ),
        ];
        crate::eventually("the recorder to catch up with the final state", || {
            let h = self.history.lock().unwrap_or_else(|e| e.into_inner());
            let caught_up = targets
                .iter()
                .all(|(stream, rv)| h.seen.get(stream).copied().unwrap_or(0) >= *rv);
            std::future::ready(caught_up.then_some(()))
        })
        .await;
        let h = self.history.lock().unwrap_or_else(|e| e.into_inner());
        (h.observations(), h.violations(policy))
    }

    pub fn stop(self) {
        for t in self.tasks {
            t.abort();
        }
    }
}
