//! Keeps the cluster's catalog ConfigMaps equal to what `compute` says: coalesced writes by
//! server-side apply, only of the shards that differ, and repair of hand edits and deletions.

use std::{collections::BTreeMap, future::Future, sync::Arc, time::Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::{
    Api, Client, ResourceExt,
    api::{DeleteParams, Patch, PatchParams},
    runtime::{
        WatchStreamExt,
        reflector::{self, ObjectRef, Store},
        watcher,
    },
};
use serde_json::json;
use tokio::sync::mpsc;

use super::compute::{
    INDEX_KEY, MAX_BYTES, SERVICES_KEY, cost, index, shard_bits, shard_name, shard_of,
};
use super::configmap::{Digests, Error, LABEL, Op, apply_configmap, digest_values, plan};
use super::dirty::Dirty;
use super::entry::{brief_cost, entry, listing};
use super::mirror::{Mirrors, Shard};
use super::pacing::{Pace, Pacing};
use super::published::{Published, Record, digest, parse_key};
use crate::{api::Service, cached::Cached};

/// Where the catalog lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogTarget {
    pub namespace: String,
    pub name: String,
}

/// What one pass wrote: requests, bytes of data applied, the catalog's size, and how many
/// entries could not be written as laid out because the Service cache lags the records.
struct Written {
    writes: usize,
    bytes: usize,
    catalog: usize,
    lagging: usize,
}

/// The catalog writer: a task fed by dirty marks.
pub struct Writer {
    client: Client,
    target: CatalogTarget,
    pace: Pace,
    max_bytes: usize,
}

impl Writer {
    pub fn new(client: Client, target: CatalogTarget) -> Self {
        Self {
            client,
            target,
            pace: Pace::default(),
            max_bytes: MAX_BYTES,
        }
    }

    /// When to write after dirty marks.
    #[must_use]
    pub fn pace(mut self, pace: Pace) -> Self {
        self.pace = pace;
        self
    }

    /// The size of one ConfigMap's data (shards average half of it).
    #[must_use]
    pub fn max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    fn api(&self) -> Api<ConfigMap> {
        Api::namespaced(self.client.clone(), &self.target.namespace)
    }

    /// Runs until `shutdown`. Writes nothing before `synced` (every Service cache has listed
    /// once), so a restart never serves (or deletes) a partial catalog.
    pub async fn run(
        self,
        published: Arc<Published>,
        services: Vec<Store<Cached<Service>>>,
        dirty: Dirty,
        mut marks: mpsc::Receiver<()>,
        synced: impl Future<Output = ()>,
        shutdown: impl Future<Output = ()>,
    ) {
        let selector = format!("{LABEL}={}", self.target.name);
        let (stored, writer) = reflector::store();
        let repair = dirty.clone();
        // Any change to a catalog ConfigMap, ours included, triggers a comparison: for our own
        // writes it finds nothing to do, for hand edits and deletions it repairs. The cache
        // keeps each value's digest only: comparing needs no more.
        let watch = watcher(self.api(), watcher::Config::default().labels(&selector))
            .default_backoff()
            .modify(digest_values)
            .reflect(writer)
            .for_each(move |event| {
                if let Err(error) = event {
                    tracing::warn!(%error, "catalog ConfigMap watch failed");
                }
                repair.verify();
                std::future::ready(())
            });
        let watch = tokio::spawn(watch);
        // Namespaces that ask for a copy of the catalog (or stop asking): compare again.
        let (namespaces, ns_writer) = reflector::store();
        let wake = dirty.clone();
        let namespace_watch = watcher(
            Api::<Namespace>::all(self.client.clone()),
            watcher::Config::default(),
        )
        .default_backoff()
        .modify(|ns: &mut Namespace| {
            ns.metadata.managed_fields = None;
            ns.metadata.annotations = None;
            ns.spec = None;
            ns.status = None;
        })
        .reflect(ns_writer)
        .for_each(move |event| {
            if let Err(error) = event {
                tracing::warn!(%error, "namespace watch failed");
            }
            wake.verify();
            std::future::ready(())
        });
        let namespace_watch = tokio::spawn(namespace_watch);
        let mut mirrors = Mirrors::default();

        tokio::pin!(shutdown);
        // `synced` rather than the Service stores' own readiness: those wake one waiter only.
        let ready = async {
            synced.await;
            let _ = stored.wait_until_ready().await;
        };
        tokio::select! {
            () = &mut shutdown => { watch.abort(); namespace_watch.abort(); return; }
            () = ready => {}
        }
        dirty.verify();

        let mut pacing = Pacing::new(self.pace);
        'run: loop {
            // Changes that came during the last pass are pending already: no wake to wait for.
            let mut changed = dirty.take_changed();
            if !changed {
                tokio::select! {
                    () = &mut shutdown => break,
                    wake = marks.recv() => if wake.is_none() { break },
                }
                changed = dirty.take_changed();
            }
            let mut round = pacing.round(Instant::now(), changed);
            loop {
                tokio::select! {
                    () = &mut shutdown => break 'run,
                    () = tokio::time::sleep_until(pacing.due(&round).into()) => break,
                    wake = marks.recv() => match wake {
                        Some(()) => if dirty.take_changed() {
                            round.change(Instant::now());
                        },
                        None => break 'run,
                    },
                }
            }
            let began = Instant::now();
            let write = pacing.write(round, began);
            while marks.try_recv().is_ok() {}
            match self
                .write_once(&published, &services, &stored, &namespaces, &mut mirrors)
                .await
            {
                Ok(Written {
                    writes,
                    bytes,
                    catalog,
                    lagging,
                }) => {
                    pacing.written(write, Instant::now(), writes > 0, catalog);
                    // The records come from the watch events, the values from the Service cache,
                    // which a relist fills only at its end. An entry the cache could not render
                    // yet may leave its shard as it was: a write that changes nothing brings no
                    // watch event and no mark, so compare again once the cache has caught up.
                    if lagging > 0 {
                        let repair = dirty.clone();
                        let after = pacing.recheck();
                        tokio::spawn(async move {
                            tokio::time::sleep(after).await;
                            repair.verify();
                        });
                    }
                    if writes > 0 {
                        tracing::info!(
                            writes,
                            bytes,
                            catalog_bytes = catalog,
                            took_ms = began.elapsed().as_millis(),
                            streak = pacing.streak(),
                            catalog = %self.target.name,
                            "catalog written"
                        );
                    }
                }
                Err(error) => {
                    let delay = pacing.failed();
                    tracing::warn!(%error, ?delay, "catalog write failed, retrying");
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(delay) => dirty.verify(),
                    }
                }
            }
        }
        watch.abort();
        namespace_watch.abort();
    }

    /// Lays the published entries out, compares them with the stored ConfigMaps and writes the
    /// difference.
    async fn write_once(
        &self,
        published: &Published,
        services: &[Store<Cached<Service>>],
        stored: &Store<ConfigMap>,
        namespaces: &Store<Namespace>,
        mirrors: &mut Mirrors,
    ) -> Result<Written, Error> {
        let name = &self.target.name;
        let entries = published.snapshot();
        let (index_value, desired) = layout(name, &entries, self.max_bytes);

        let configmaps = stored.state();
        let current: BTreeMap<String, Digests> = configmaps
            .iter()
            .filter(|cm| cm.labels().get(LABEL) == Some(name))
            .map(|cm| {
                let data = cm
                    .data
                    .iter()
                    .flatten()
                    .map(|(k, v)| (k.as_str(), u64::from_str_radix(v, 16).unwrap_or(0)))
                    .collect();
                (cm.name_any(), data)
            })
            .collect();
        let ops = plan(&desired, &current);
        // Each ConfigMap's operations in order, different ConfigMaps at once: the operator
        // renders one shard while the server takes in another.
        let mut by_configmap: Vec<(&str, Vec<&Op>)> = Vec::new();
        for op in &ops {
            let target = match op {
                Op::Apply { shard } => desired[*shard].0.as_str(),
                Op::RemoveKeys { name, .. } | Op::Delete { name } => name.as_str(),
            };
            match by_configmap.iter_mut().find(|(name, _)| *name == target) {
                Some((_, group)) => group.push(op),
                None => by_configmap.push((target, vec![op])),
            }
        }
        let api = self.api();
        let mut writes = Vec::with_capacity(by_configmap.len());
        for (_, group) in by_configmap {
            writes.push(self.run_ops(&api, group, &desired, &index_value, services));
        }
        let results: Vec<Result<(usize, usize), Error>> = futures::stream::iter(writes)
            .buffer_unordered(WRITES_AT_ONCE)
            .collect()
            .await;
        let (mut bytes, mut lagging) = (0, 0);
        for result in results {
            let (b, l) = result?;
            bytes += b;
            lagging += l;
        }
        let shards: Vec<Shard> = desired
            .iter()
            .map(|(name, digests)| Shard {
                name,
                digest: shard_digest(digests),
            })
            .collect();
        let copies = mirrors
            .sync(
                &self.client,
                name,
                &self.target.namespace,
                namespaces,
                &shards,
                |i| render(&desired[i].1, &index_value, services).0,
            )
            .await?;
        Ok(Written {
            writes: ops.len() + copies,
            bytes,
            catalog: entries.iter().map(|(_, k, r)| cost(k, r.len)).sum(),
            lagging,
        })
    }

    /// Operations of a plan on one ConfigMap, in order.
    async fn run_ops(
        &self,
        api: &Api<ConfigMap>,
        ops: Vec<&Op>,
        desired: &[(String, Digests<'_>)],
        index_value: &str,
        services: &[Store<Cached<Service>>],
    ) -> Result<(usize, usize), Error> {
        let (mut bytes, mut lagging) = (0, 0);
        for op in ops {
            let (b, l) = self.run_op(api, op, desired, index_value, services).await?;
            bytes += b;
            lagging += l;
        }
        Ok((bytes, lagging))
    }

    /// One operation of a plan: the bytes it wrote and the entries it could not render yet.
    async fn run_op(
        &self,
        api: &Api<ConfigMap>,
        op: &Op,
        desired: &[(String, Digests<'_>)],
        index_value: &str,
        services: &[Store<Cached<Service>>],
    ) -> Result<(usize, usize), Error> {
        match op {
            Op::Apply { shard } => {
                let (shard_name, keys) = &desired[*shard];
                let (data, behind) = render(keys, index_value, services);
                let bytes = data.iter().map(|(k, v)| cost(k, v.len())).sum::<usize>();
                self.apply(api, shard_name, data).await?;
                Ok((bytes, behind))
            }
            Op::RemoveKeys { name, keys } => {
                let nulls: serde_json::Map<String, serde_json::Value> = keys
                    .iter()
                    .map(|k| (k.clone(), serde_json::Value::Null))
                    .collect();
                api.patch(
                    name,
                    &PatchParams::default(),
                    &Patch::Merge(json!({ "data": nulls })),
                )
                .await
                .map_err(|source| Error::Write {
                    name: name.clone(),
                    source,
                })?;
                Ok((0, 0))
            }
            Op::Delete { name } => match api.delete(name, &DeleteParams::default()).await {
                Ok(_) => Ok((0, 0)),
                Err(kube::Error::Api(status)) if status.code == 404 => Ok((0, 0)),
                Err(source) => Err(Error::Delete {
                    name: name.clone(),
                    source,
                }),
            },
        }
    }

    async fn apply(
        &self,
        api: &Api<ConfigMap>,
        name: &str,
        data: BTreeMap<String, String>,
    ) -> Result<(), Error> {
        let label = (LABEL, self.target.name.as_str());
        // Keys added by hand are seen in the cache and removed by the plan (RemoveKeys).
        apply_configmap(api, &self.target.namespace, name, label, data).await?;
        Ok(())
    }
}

/// How many ConfigMaps one round writes at once.
const WRITES_AT_ONCE: usize = 4;

/// The shards the published entries make, each with its keys' digests (the index's in shard
/// 0), and the value of the index: `compute`'s layout, from records instead of Services.
fn layout<'a>(
    name: &str,
    entries: &'a [(u64, Arc<str>, Record)],
    max_bytes: usize,
) -> (String, Vec<(String, Digests<'a>)>) {
    let bits = shard_bits(
        name,
        entries
            .iter()
            .map(|(h, k, r)| (*h, cost(k, r.len) + brief_cost(&r.brief))),
        max_bytes,
    );
    let index_value = index(name, bits);
    let mut desired: Vec<(String, Digests)> = (0..1usize << bits)
        .map(|i| (shard_name(name, i), Digests::new()))
        .collect();
    let mut briefs: Vec<BTreeMap<&str, &str>> = vec![BTreeMap::new(); 1 << bits];
    desired[0].1.insert(INDEX_KEY, digest(&index_value));
    for (hash, key, record) in entries {
        let shard = shard_of(*hash, bits);
        desired[shard].1.insert(key, record.digest);
        briefs[shard].insert(key, &record.brief);
    }
    for ((_, digests), briefs) in desired.iter_mut().zip(&briefs) {
        digests.insert(SERVICES_KEY, digest(&listing(briefs.values().copied())));
    }
    (index_value, desired)
}

/// The data of one shard: its entries rendered from the Services as the caches hold them now,
/// the list of those entries, and the index in shard 0; with how many entries the caches
/// rendered other than laid out (missing, or another value): during a relist the cache is older
/// than the records.
fn render(
    keys: &Digests,
    index_value: &str,
    services: &[Store<Cached<Service>>],
) -> (BTreeMap<String, String>, usize) {
    let mut data = BTreeMap::new();
    let mut briefs = BTreeMap::new();
    let mut lagging = 0;
    for key in keys.keys() {
        if *key == INDEX_KEY {
            data.insert(INDEX_KEY.to_owned(), index_value.to_owned());
            continue;
        }
        let Some((namespace, name)) = parse_key(key) else {
            continue;
        };
        let found = services
            .iter()
            .find_map(|s| s.get(&ObjectRef::new(name).within(namespace)));
        // Gone or withdrawn since it was laid out: its watch event follows and marks again.
        match found.map(|s| s.get()).as_ref().and_then(entry) {
            Some(e) if e.key == *key => {
                if keys.get(key) != Some(&digest(&e.value)) {
                    lagging += 1;
                }
                briefs.insert(e.key.clone(), e.brief);
                data.insert(e.key, e.value);
            }
            _ => lagging += 1,
        }
    }
    data.insert(
        SERVICES_KEY.to_owned(),
        listing(briefs.values().map(String::as_str)),
    );
    (data, lagging)
}

/// One digest for a shard's whole data, from its keys' digests.
fn shard_digest(digests: &Digests) -> u64 {
    let text: String = digests
        .iter()
        .map(|(k, d)| format!("{k}={d:016x}\n"))
        .collect();
    digest(&text)
}

#[cfg(test)]
mod tests;
