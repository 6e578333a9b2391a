//! Keeps the cluster's catalog ConfigMaps equal to what `compute` says: coalesced writes by
//! server-side apply, only of the shards that differ, and repair of hand edits and deletions.

use std::{
    collections::BTreeMap,
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::{
    Api, Client, ResourceExt,
    api::{DeleteParams, ObjectMeta, Patch, PatchParams},
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
use super::entry::{brief_cost, entry, listing};
use super::mirror::{Mirrors, Shard};
use super::published::{Published, Record, digest, parse_key};
use crate::api::Service;

/// The one field manager every Charter write uses.
pub const FIELD_MANAGER: &str = "charter";
/// The label that marks a ConfigMap as part of a catalog; its value is the catalog's name.
pub const LABEL: &str = "catalog.charter.dev/catalog";

/// Errors while writing the catalog.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("writing catalog ConfigMap {name}: {source}")]
    Write { name: String, source: kube::Error },
    #[error("deleting stale catalog ConfigMap {name}: {source}")]
    Delete { name: String, source: kube::Error },
}

/// Where the catalog lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogTarget {
    pub namespace: String,
    pub name: String,
}

/// A handle that marks the catalog dirty. Marks coalesce: however many arrive while a write
/// is pending, one comparison follows.
#[derive(Clone, Debug)]
pub struct Dirty {
    wake: mpsc::Sender<()>,
    /// Set when the published entries changed: only those changes pace the writes.
    changed: Arc<AtomicBool>,
}

impl Dirty {
    /// The published entries changed.
    pub fn mark(&self) {
        self.changed.store(true, Ordering::Release);
        self.verify();
    }

    /// The stored ConfigMaps may differ from the entries (a ConfigMap changed): compare again.
    pub fn verify(&self) {
        // A full channel already holds a pending wake: dropping this one is the coalescing.
        let _ = self.wake.try_send(());
    }

    fn take_changed(&self) -> bool {
        self.changed.swap(false, Ordering::AcqRel)
    }
}

/// A dirty handle and the receiver the `Writer` consumes.
pub fn dirty_channel() -> (Dirty, mpsc::Receiver<()>) {
    let (wake, rx) = mpsc::channel(1);
    (
        Dirty {
            wake,
            changed: Arc::default(),
        },
        rx,
    )
}

/// One write the catalog needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// Server-side apply this shard with exactly its desired data.
    Apply { shard: usize },
    /// Remove keys someone else added (server-side apply only removes keys it owns).
    RemoveKeys { name: String, keys: Vec<String> },
    /// A shard no longer needed.
    Delete { name: String },
}

/// The data of a ConfigMap as the writer compares it: each key with its value's digest.
pub(crate) type Digests<'a> = BTreeMap<&'a str, u64>;

/// What to write so that `stored` (the labelled ConfigMaps, by name) becomes `desired` (the
/// shards in order, by name). Nothing when they are equal: zero writes at steady state.
pub(crate) fn plan(desired: &[(String, Digests)], stored: &BTreeMap<String, Digests>) -> Vec<Op> {
    let mut ops = Vec::new();
    for (shard, (name, data)) in desired.iter().enumerate() {
        let Some(current) = stored.get(name) else {
            ops.push(Op::Apply { shard });
            continue;
        };
        if current == data {
            continue;
        }
        ops.push(Op::Apply { shard });
        let extra: Vec<String> = current
            .keys()
            .filter(|k| !data.contains_key(*k))
            .map(|k| k.to_string())
            .collect();
        if !extra.is_empty() {
            ops.push(Op::RemoveKeys {
                name: name.clone(),
                keys: extra,
            });
        }
    }
    for name in stored.keys() {
        if !desired.iter().any(|(n, _)| n == name) {
            ops.push(Op::Delete { name: name.clone() });
        }
    }
    ops
}

/// When to write: soon after the first change at idle; under load at most every `min_gap`,
/// and at once (after `min_gap`) when the changes stop for `quiet`. While the load lasts the gap
/// doubles, up to `max_gap` — unless the catalog is growing fast (a mass import), when it keeps
/// doubling (up to `max_growth_gap`): the writes of a burst then add up to a few times the final
/// catalog whatever the burst's length, where a fixed gap would rewrite it again and again.
#[derive(Clone, Copy, Debug)]
pub struct Pace {
    pub first_delay: Duration,
    pub min_gap: Duration,
    pub max_gap: Duration,
    pub max_growth_gap: Duration,
    pub quiet: Duration,
}

impl Default for Pace {
    fn default() -> Self {
        Pace {
            first_delay: Duration::from_millis(25),
            min_gap: Duration::from_millis(200),
            max_gap: Duration::from_secs(5),
            max_growth_gap: Duration::from_secs(60),
            quiet: Duration::from_millis(100),
        }
    }
}

impl Pace {
    /// The gap after `streak` writes under load; `growing` when the catalog grew by a quarter
    /// or more between the last two of them.
    fn gap(&self, streak: u32, growing: bool) -> Duration {
        let cap = if growing {
            self.max_growth_gap
        } else {
            self.max_gap
        };
        self.min_gap.saturating_mul(1u32 << streak.min(16)).min(cap)
    }
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
        services: Vec<Store<Service>>,
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

        let pace = self.pace;
        let mut failures = 0u32;
        // When the last pass that wrote changes ended, and how many such passes followed each
        // other under load.
        let mut last_end: Option<Instant> = None;
        let mut streak = 0u32;
        // The catalog's size at the last two writes.
        let mut sizes = (0usize, 0usize);
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
            let woke = Instant::now();
            let mut last_change = woke;
            // Under load: the changes began less than `min_gap` after the last write.
            let loaded = |changed: bool| {
                last_end.filter(|end| changed && woke.duration_since(*end) < pace.min_gap)
            };
            loop {
                let growing = sizes.1 >= sizes.0 + sizes.0 / 4 && sizes.1 > 0;
                let at = match loaded(changed) {
                    Some(end) => (end + pace.gap(streak, growing))
                        .min((last_change + pace.quiet).max(end + pace.min_gap)),
                    None => woke + pace.first_delay,
                };
                tokio::select! {
                    () = &mut shutdown => break 'run,
                    () = tokio::time::sleep_until(at.into()) => break,
                    wake = marks.recv() => match wake {
                        Some(()) => if dirty.take_changed() {
                            changed = true;
                            last_change = Instant::now();
                        },
                        None => break 'run,
                    },
                }
            }
            let under_load = loaded(changed).is_some();
            if changed && !under_load {
                streak = 0;
            }
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
                    failures = 0;
                    // The records come from the watch events, the values from the Service cache,
                    // which a relist fills only at its end. An entry the cache could not render
                    // yet may leave its shard as it was: a write that changes nothing brings no
                    // watch event and no mark, so compare again once the cache has caught up.
                    if lagging > 0 {
                        let repair = dirty.clone();
                        let gap = pace.min_gap;
                        tokio::spawn(async move {
                            tokio::time::sleep(gap).await;
                            repair.verify();
                        });
                    }
                    if writes > 0 && changed {
                        if under_load {
                            streak = streak.saturating_add(1);
                        }
                        last_end = Some(Instant::now());
                        sizes = (sizes.1, catalog);
                    }
                    if writes > 0 {
                        tracing::info!(
                            writes,
                            bytes,
                            catalog_bytes = catalog,
                            streak,
                            catalog = %self.target.name,
                            "catalog written"
                        );
                    }
                }
                Err(error) => {
                    failures = failures.saturating_add(1);
                    let delay = Duration::from_millis(500u64 << failures.min(6));
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
        services: &[Store<Service>],
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
        let api = self.api();
        let mut bytes = 0;
        let mut lagging = 0;
        for op in &ops {
            match op {
                Op::Apply { shard } => {
                    let (shard_name, keys) = &desired[*shard];
                    let (data, behind) = render(keys, &index_value, services);
                    lagging += behind;
                    bytes += data.iter().map(|(k, v)| cost(k, v.len())).sum::<usize>();
                    self.apply(&api, shard_name, data).await?;
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
                }
                Op::Delete { name } => match api.delete(name, &DeleteParams::default()).await {
                    Ok(_) => {}
                    Err(kube::Error::Api(status)) if status.code == 404 => {}
                    Err(source) => {
                        return Err(Error::Delete {
                            name: name.clone(),
                            source,
                        });
                    }
                },
            }
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

/// The shards the published entries make, each with its keys' digests (the index's in shard
/// 0), and the value of the index: `compute`'s layout, from records instead of Services.
fn layout<'a>(
    name: &str,
    entries: &'a [(u64, String, Record)],
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
        desired[shard].1.insert(key.as_str(), record.digest);
        briefs[shard].insert(key.as_str(), record.brief.as_str());
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
    services: &[Store<Service>],
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
        match found.as_deref().and_then(entry) {
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

/// What the ConfigMap cache keeps of each value: its digest, in hex.
fn digest_values(cm: &mut ConfigMap) {
    cm.metadata.managed_fields = None;
    cm.metadata.annotations = None;
    for value in cm.data.iter_mut().flat_map(|d| d.values_mut()) {
        *value = format!("{:016x}", digest(value));
    }
    cm.binary_data = None;
}

/// Writes one catalog ConfigMap (a shard, or a consumer's copy of one) by server-side apply,
/// forced: the operator is the only writer of these objects. Returns the object as written
/// (with any key someone else added, which apply leaves alone).
pub(crate) async fn apply_configmap(
    api: &Api<ConfigMap>,
    namespace: &str,
    name: &str,
    (label, value): (&str, &str),
    data: BTreeMap<String, String>,
) -> Result<ConfigMap, Error> {
    let cm = ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(namespace.to_owned()),
            labels: Some([(label.to_owned(), value.to_owned())].into()),
            ..Default::default()
        },
        data: Some(data),
        ..Default::default()
    };
    let mut value = serde_json::to_value(&cm).expect("a ConfigMap always serialises");
    value["apiVersion"] = json!("v1");
    value["kind"] = json!("ConfigMap");
    api.patch(
        name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(value),
    )
    .await
    .map_err(|source| Error::Write {
        name: format!("{namespace}/{name}"),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Phase, ServiceContent, ServiceSpec, ServiceStatus, Snapshot};
    use crate::catalog::compute::compute;
    use k8s_openapi::{apimachinery::pkg::apis::meta::v1::Time, jiff::Timestamp};

    fn digests<'a>(pairs: &[(&'a str, u64)]) -> Digests<'a> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn an_entry_the_service_cache_does_not_hold_yet_is_told_as_lagging() {
        let (store, _writer) = reflector::store::<Service>();
        let keys = digests(&[(INDEX_KEY, 1), ("default_ledger.json", 2)]);
        let (data, lagging) = render(&keys, "{}", &[store]);
        assert_eq!(
            data.keys().collect::<Vec<_>>(),
            vec![INDEX_KEY, SERVICES_KEY]
        );
        assert_eq!(lagging, 1, "a relist in progress: compare again later");
    }

    #[test]
    fn an_unchanged_catalog_costs_no_write() {
        let desired = vec![("c".to_string(), digests(&[("a_x.json", 1)]))];
        let stored = [("c".to_string(), digests(&[("a_x.json", 1)]))].into();
        assert_eq!(plan(&desired, &stored), vec![]);
    }

    #[test]
    fn only_the_missing_or_changed_shards_are_applied() {
        let desired = vec![
            ("c".to_string(), digests(&[("a_x.json", 2)])),
            ("c-1".to_string(), digests(&[("a_y.json", 1)])),
            ("c-2".to_string(), digests(&[("a_z.json", 1)])),
        ];
        let stored = [
            ("c".to_string(), digests(&[("a_x.json", 1)])),
            ("c-2".to_string(), digests(&[("a_z.json", 1)])),
        ]
        .into();
        assert_eq!(
            plan(&desired, &stored),
            vec![Op::Apply { shard: 0 }, Op::Apply { shard: 1 }]
        );
    }

    #[test]
    fn hand_added_keys_are_removed_and_stale_shards_deleted() {
        let desired = vec![("c".to_string(), digests(&[("a_x.json", 1)]))];
        let stored = [
            (
                "c".to_string(),
                digests(&[("a_x.json", 1), ("hand.json", 7)]),
            ),
            ("c-1".to_string(), digests(&[("a_y.json", 1)])),
        ]
        .into();
        assert_eq!(
            plan(&desired, &stored),
            vec![
                Op::Apply { shard: 0 },
                Op::RemoveKeys {
                    name: "c".into(),
                    keys: vec!["hand.json".into()]
                },
                Op::Delete { name: "c-1".into() },
            ]
        );
    }

    fn active(namespace: &str, name: &str, description: &str) -> Service {
        let content = ServiceContent {
            owner: "dana".into(),
            description: Some(description.into()),
            ..Default::default()
        };
        let mut s = Service::new(
            name,
            ServiceSpec {
                lifecycle: Default::default(),
                contact: None,
                categories: Vec::new(),
                content: content.clone(),
            },
        );
        s.metadata.namespace = Some(namespace.into());
        s.status = Some(ServiceStatus {
            phase: Some(Phase::Active),
            snapshot: Some(Snapshot {
                revision: "0123456789".into(),
                approved_by: vec!["ava".into()],
                approved_at: Time(Timestamp::from_second(1_700_000_000).unwrap()),
                content,
                revised_by: None,
                policies: Vec::new(),
            }),
            ..Default::default()
        });
        s
    }

    /// The writer's layout from records, byte for byte (by digest) `compute`'s, as Services
    /// come, change and go.
    #[test]
    fn the_published_records_lay_out_exactly_as_compute() {
        let (dirty, _marks) = dirty_channel();
        let published = Published::new(dirty);
        let mut services: BTreeMap<String, Service> = BTreeMap::new();
        for step in 0..300usize {
            let name = format!("svc{}", (step * 7) % 90);
            let namespace = ["a", "b"][step % 2];
            let service = active(namespace, &name, &"x".repeat(50 + (step * 13) % 400));
            if step % 5 == 4 {
                published.remove(namespace, &name);
                services.remove(&format!("{namespace}/{name}"));
            } else {
                published.upsert(&service);
                services.insert(format!("{namespace}/{name}"), service);
            }
            if step % 30 != 29 {
                continue;
            }
            for max_bytes in [2_000, 10_000, MAX_BYTES] {
                let expected = compute("c", services.values(), max_bytes);
                let entries = published.snapshot();
                let (_, desired) = layout("c", &entries, max_bytes);
                let expected: Vec<(String, BTreeMap<String, u64>)> = expected
                    .iter()
                    .map(|(n, d)| {
                        (
                            n.clone(),
                            d.iter().map(|(k, v)| (k.clone(), digest(v))).collect(),
                        )
                    })
                    .collect();
                let desired: Vec<(String, BTreeMap<String, u64>)> = desired
                    .iter()
                    .map(|(n, d)| {
                        (
                            n.clone(),
                            d.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
                        )
                    })
                    .collect();
                assert_eq!(desired, expected, "step {step}, max {max_bytes}");
            }
        }
    }

    #[test]
    fn under_load_the_gap_doubles_up_to_its_bound_and_further_while_the_catalog_grows() {
        let pace = Pace::default();
        let gaps: Vec<u128> = (0..7).map(|s| pace.gap(s, false).as_millis()).collect();
        assert_eq!(gaps, vec![200, 400, 800, 1_600, 3_200, 5_000, 5_000]);
        let growing: Vec<u128> = (5..10).map(|s| pace.gap(s, true).as_millis()).collect();
        assert_eq!(growing, vec![6_400, 12_800, 25_600, 51_200, 60_000]);
    }

    #[test]
    fn dirty_marks_coalesce() {
        let (dirty, mut marks) = dirty_channel();
        for _ in 0..100 {
            dirty.mark();
        }
        assert!(marks.try_recv().is_ok());
        assert!(marks.try_recv().is_err());
    }
}
