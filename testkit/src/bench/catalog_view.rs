//! What the driver sees of the catalog: a watch of the catalog ConfigMaps that counts the
//! writes it observes, the bytes they carry, and which entries are published.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::Duration,
};

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::{
    Api, Client, ResourceExt,
    runtime::{WatchStreamExt, watcher},
};
use tokio::sync::Notify;

use super::{CATALOG_NAME, CATALOG_NAMESPACE};

#[derive(Default)]
struct State {
    /// Entry keys per ConfigMap.
    shards: HashMap<String, HashSet<String>>,
    /// Where each entry key is.
    entries: HashMap<String, String>,
    /// Data bytes per ConfigMap.
    sizes: HashMap<String, usize>,
    writes: u64,
    bytes_written: u64,
}

/// A live view of the catalog ConfigMaps.
#[derive(Clone)]
pub struct CatalogView {
    state: Arc<Mutex<State>>,
    changed: Arc<Notify>,
}

/// Counters at one moment.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counts {
    pub entries: usize,
    pub writes: u64,
    pub bytes_written: u64,
    pub bytes: usize,
    pub configmaps: usize,
}

impl CatalogView {
    /// Starts watching; returns once the initial list is in.
    pub async fn start(client: Client) -> (CatalogView, tokio::task::JoinHandle<()>) {
        let view = CatalogView {
            state: Default::default(),
            changed: Default::default(),
        };
        let api: Api<ConfigMap> = Api::namespaced(client, CATALOG_NAMESPACE);
        let selector = format!("{}={CATALOG_NAME}", charter::catalog::LABEL);
        let (synced_tx, synced_rx) = tokio::sync::oneshot::channel();
        let mut synced_tx = Some(synced_tx);
        let task = {
            let view = view.clone();
            tokio::spawn(
                watcher(api, watcher::Config::default().labels(&selector))
                    .default_backoff()
                    .for_each(move |event| {
                        match event {
                            Ok(watcher::Event::Apply(cm)) => view.apply(&cm, true),
                            Ok(watcher::Event::InitApply(cm)) => view.apply(&cm, false),
                            Ok(watcher::Event::Delete(cm)) => view.delete(&cm.name_any()),
                            Ok(watcher::Event::InitDone) => {
                                if let Some(tx) = synced_tx.take() {
                                    let _ = tx.send(());
                                }
                            }
                            Ok(watcher::Event::Init) | Err(_) => {}
                        }
                        view.changed.notify_waiters();
                        std::future::ready(())
                    }),
            )
        };
        let _ = synced_rx.await;
        (view, task)
    }

    fn apply(&self, cm: &ConfigMap, is_write: bool) {
        let name = cm.name_any();
        let data = cm.data.clone().unwrap_or_default();
        let bytes: usize = data.iter().map(|(k, v)| k.len() + v.len()).sum();
        let keys: HashSet<String> = data.into_keys().filter(|k| k.contains('_')).collect();
        let mut st = self.state.lock().unwrap();
        if is_write {
            st.writes += 1;
            st.bytes_written += bytes as u64;
        }
        st.sizes.insert(name.clone(), bytes);
        let old = st
            .shards
            .insert(name.clone(), keys.clone())
            .unwrap_or_default();
        for key in old.difference(&keys) {
            if st.entries.get(key) == Some(&name) {
                st.entries.remove(key);
            }
        }
        for key in keys {
            st.entries.insert(key, name.clone());
        }
    }

    fn delete(&self, name: &str) {
        let mut st = self.state.lock().unwrap();
        st.sizes.remove(name);
        for key in st.shards.remove(name).unwrap_or_default() {
            if st.entries.get(&key).map(String::as_str) == Some(name) {
                st.entries.remove(&key);
            }
        }
    }

    pub fn counts(&self) -> Counts {
        let st = self.state.lock().unwrap();
        Counts {
            entries: st.entries.len(),
            writes: st.writes,
            bytes_written: st.bytes_written,
            bytes: st.sizes.values().sum(),
            configmaps: st.sizes.len(),
        }
    }

    pub fn contains(&self, key: &str) -> bool {
        self.state.lock().unwrap().entries.contains_key(key)
    }

    /// Waits until `done` holds of the view, or `timeout` passes; false on timeout.
    pub async fn wait_until(&self, timeout: Duration, done: impl Fn(&CatalogView) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if done(self) {
                return true;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return done(self);
            }
        }
    }
}
