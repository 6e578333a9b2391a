//! Watcher soak: several writers create, update (spec and status) and delete Widgets (a CRD
//! kind with a status subresource) and ConfigMaps while kube-runtime watchers with reflector
//! stores list and watch them, as a controller does, and faults cut their watches, expire the
//! watch history (410 → relist) and delay or fail their lists and watches. Once the writes
//! stop, each store must hold exactly the server's objects: names and resourceVersions.
//! Along the way every event after a (re)list must be newer than the listed objects and the
//! event before it (resourceVersions compared as the etcd revisions they are here).
//!
//! Every run is seeded; a failure names its seed, and `SOAK_SEED=<n>` replays just that one
//! (the same writes and faults; the interleaving with the watchers is the scheduler's).

mod common;

use charter_apiserver::{Config, Matcher, UserSpec};
use common::{start_with, widget, widget_resource, widgets};
use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Resource;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::reflector::store::Writer;
use kube::runtime::reflector::{self, Store};
use kube::runtime::utils::Backoff;
use kube::runtime::{WatchStreamExt, watcher};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

const WRITERS: u64 = 3;
/// Names each writer owns (per kind), so writers never race on one object.
const NAMES: u64 = 5;
const STEPS: u64 = 30;
const SEEDS: u64 = 30;

/// The watcher retries quickly: kube's default backoff (800 ms and up) would make the
/// soak minutes long while exercising the same relist and rewatch paths.
struct Quick;

impl Iterator for Quick {
    type Item = Duration;
    fn next(&mut self) -> Option<Duration> {
        Some(Duration::from_millis(10))
    }
}

impl Backoff for Quick {
    fn reset(&mut self) {}
}

#[derive(Clone, Copy, Debug)]
enum Lists {
    Paged,
    Streaming,
}

fn watcher_config(lists: Lists) -> watcher::Config {
    match lists {
        Lists::Paged => watcher::Config::default().page_size(7),
        Lists::Streaming => watcher::Config::default().streaming_lists(),
    }
}

fn seeds() -> Vec<u64> {
    match std::env::var("SOAK_SEED") {
        Ok(s) => vec![s.parse().expect("SOAK_SEED is a number")],
        Err(_) => (1..=SEEDS).collect(),
    }
}

/// name → resourceVersion.
fn versions<'a, K: Resource + 'a>(
    objs: impl IntoIterator<Item = &'a K>,
) -> BTreeMap<String, String> {
    objs.into_iter()
        .map(|o| {
            let m = o.meta();
            (
                m.name.clone().unwrap_or_default(),
                m.resource_version.clone().unwrap_or_default(),
            )
        })
        .collect()
}

fn config_map(name: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}, "data": {"step": "0"}}))
        .expect("configmap")
}

/// One writer's seeded stream of creates, updates, status updates and deletes on the names it
/// owns. Writer 0 also injects a fault now and then (faults spare the writers' own user).
async fn write(
    seed: u64,
    w: u64,
    cms: Api<ConfigMap>,
    wds: Api<DynamicObject>,
    faults: charter_apiserver::Faults,
) {
    let mut rng = StdRng::seed_from_u64(seed * 1000 + w);
    let mut cm_exists = [false; NAMES as usize];
    let mut wd_exists = [false; NAMES as usize];
    let pp = PatchParams::default();
    for step in 0..STEPS {
        let k = rng.random_range(0..NAMES) as usize;
        let ctx = format!("seed {seed} writer {w} step {step}");
        if rng.random_bool(0.5) {
            let name = format!("cm-{w}-{k}");
            if !cm_exists[k] {
                cms.create(&PostParams::default(), &config_map(&name))
                    .await
                    .unwrap_or_else(|e| panic!("{ctx}: create {name}: {e}"));
                cm_exists[k] = true;
            } else if rng.random_ratio(1, 4) {
                cms.delete(&name, &DeleteParams::default())
                    .await
                    .unwrap_or_else(|e| panic!("{ctx}: delete {name}: {e}"));
                cm_exists[k] = false;
            } else {
                let patch = Patch::Merge(json!({"data": {"step": step.to_string()}}));
                cms.patch(&name, &pp, &patch)
                    .await
                    .unwrap_or_else(|e| panic!("{ctx}: patch {name}: {e}"));
            }
        } else {
            let name = format!("wd-{w}-{k}");
            if !wd_exists[k] {
                wds.create(
                    &PostParams::default(),
                    &widget(&name, json!({"size": step})),
                )
                .await
                .unwrap_or_else(|e| panic!("{ctx}: create {name}: {e}"));
                wd_exists[k] = true;
            } else {
                match rng.random_range(0..4) {
                    0 => {
                        wds.delete(&name, &DeleteParams::default())
                            .await
                            .unwrap_or_else(|e| panic!("{ctx}: delete {name}: {e}"));
                        wd_exists[k] = false;
                    }
                    1 => {
                        let patch = Patch::Merge(json!({"spec": {"size": step}}));
                        wds.patch(&name, &pp, &patch)
                            .await
                            .unwrap_or_else(|e| panic!("{ctx}: patch {name}: {e}"));
                    }
                    _ => {
                        let patch = Patch::Merge(json!({"status": {"phase": format!("p{step}")}}));
                        wds.patch_status(&name, &pp, &patch)
                            .await
                            .unwrap_or_else(|e| panic!("{ctx}: patch status {name}: {e}"));
                    }
                }
            }
        }
        if w == 0 && rng.random_ratio(1, 3) {
            inject(&mut rng, &faults);
        }
        tokio::task::yield_now().await;
    }
}

/// One seeded fault against the watchers.
fn inject(rng: &mut StdRng, faults: &charter_apiserver::Faults) {
    match rng.random_range(0..6) {
        0 | 1 => faults.cut_watches(),
        2 => faults.expire_history(),
        3 => {
            let verb = if rng.random_bool(0.5) {
                "list"
            } else {
                "watch"
            };
            let delay = Duration::from_millis(rng.random_range(1..15));
            faults.add_latency(Matcher::new(Some(verb), None), delay);
        }
        4 => {
            let verb = if rng.random_bool(0.5) {
                "list"
            } else {
                "watch"
            };
            faults.fail_next(Matcher::new(Some(verb), None), 500, rng.random_range(1..3));
        }
        _ => faults.clear(),
    }
}

/// What a watcher saw that kube-apiserver never sends: a list is a snapshot at its
/// resourceVersion and a watch continues after it, so after a (re)list every event's
/// resourceVersion is newer than every listed object's and than the event before it.
#[derive(Default)]
struct Order {
    newest: u64,
    broken: Vec<String>,
}

impl Order {
    fn see<K: Resource>(&mut self, event: &watcher::Event<K>) {
        let rv = |o: &K| {
            o.meta()
                .resource_version
                .as_deref()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or_default()
        };
        let name = |o: &K| o.meta().name.clone().unwrap_or_default();
        match event {
            watcher::Event::Init => self.newest = 0,
            watcher::Event::InitApply(o) => self.newest = self.newest.max(rv(o)),
            watcher::Event::InitDone => {}
            watcher::Event::Apply(o) | watcher::Event::Delete(o) => {
                if rv(o) <= self.newest {
                    self.broken.push(format!(
                        "{} at resourceVersion {} after resourceVersion {}",
                        name(o),
                        rv(o),
                        self.newest
                    ));
                }
                self.newest = rv(o);
            }
        }
    }
}

/// Run a watcher into `writer`'s store, checking the order of what it sees.
fn reflect<K>(
    api: Api<K>,
    writer: Writer<K>,
    lists: Lists,
) -> (tokio::task::JoinHandle<()>, Arc<Mutex<Order>>)
where
    K: Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + Sync + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone + Send + Sync,
{
    let order = Arc::new(Mutex::new(Order::default()));
    let seen = order.clone();
    let task = tokio::spawn(
        reflector::reflector(writer, watcher(api, watcher_config(lists)))
            .backoff(Quick)
            .for_each(move |event| {
                if let Ok(e) = event {
                    seen.lock().unwrap().see(&e);
                }
                async {}
            }),
    );
    (task, order)
}

async fn soak(lists: Lists) {
    let f = start_with(Config {
        users: vec![UserSpec::new("operator", &["system:masters"])],
        watch_history: 24,
        ..Config::default()
    })
    .await;
    let faults = f.server.faults();
    faults.spare("admin");
    let operator = f
        .server
        .client_for("operator")
        .await
        .expect("operator client");
    for seed in seeds() {
        let ns = format!("soak-{seed}");
        f.server.create_namespace(&ns).expect("namespace");
        let cms: Api<ConfigMap> = Api::namespaced(f.client.clone(), &ns);
        let wds = widgets(&f.client, &ns);

        let (cm_store, cm_writer) = reflector::store::<ConfigMap>();
        let (cm_task, cm_order) = reflect(Api::namespaced(operator.clone(), &ns), cm_writer, lists);
        let wd_writer = Writer::<DynamicObject>::new(widget_resource());
        let wd_store: Store<DynamicObject> = wd_writer.as_reader();
        let (wd_task, wd_order) = reflect(widgets(&operator, &ns), wd_writer, lists);

        let writers: Vec<_> = (0..WRITERS)
            .map(|w| tokio::spawn(write(seed, w, cms.clone(), wds.clone(), faults.clone())))
            .collect();
        for w in writers {
            if let Err(e) = w.await {
                std::panic::resume_unwind(e.into_panic());
            }
        }
        faults.clear();

        let lp = ListParams::default();
        let want_cms = versions(cms.list(&lp).await.expect("list configmaps").items.iter());
        let want_wds = versions(wds.list(&lp).await.expect("list widgets").items.iter());
        let what = format!("seed {seed} ({lists:?} lists): the stores equal the server");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got = (
                versions(cm_store.state().iter().map(|o| o.as_ref())),
                versions(wd_store.state().iter().map(|o| o.as_ref())),
            );
            let want = (want_cms.clone(), want_wds.clone());
            if got == want {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{what} (after 10 s)\n got: {got:?}\nwant: {want:?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        cm_task.abort();
        wd_task.abort();
        for (kind, order) in [("configmaps", cm_order), ("widgets", wd_order)] {
            let broken = &order.lock().unwrap().broken;
            assert!(
                broken.is_empty(),
                "seed {seed} ({lists:?} lists): {kind} out of resourceVersion order: {broken:?}"
            );
        }
    }
    let injected = faults.injected();
    eprintln!("{lists:?} lists: injected {injected:?}");
    assert!(
        injected.cuts > 0 && injected.expiries > 0 && !injected.errors.is_empty()
            || seeds().len() == 1,
        "the soak injected every kind of fault: {injected:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paged_watchers_end_with_exactly_the_servers_objects_under_concurrent_writes_and_faults() {
    soak(Lists::Paged).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_watchers_end_with_exactly_the_servers_objects_under_concurrent_writes_and_faults()
 {
    soak(Lists::Streaming).await;
}
