//! Keeps the cluster's catalog ConfigMaps equal to what `compute` says: coalesced writes by
//! server-side apply, only on a real difference, and repair of hand edits and deletions.

use std::{collections::BTreeMap, future::Future, sync::Arc, time::Duration};

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::{
    Api, Client, ResourceExt,
    api::{DeleteParams, ObjectMeta, Patch, PatchParams},
    runtime::{WatchStreamExt, reflector, reflector::Store, watcher},
};
use serde_json::json;
use tokio::sync::mpsc;

use super::compute::{MAX_BYTES, compute};
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
/// is pending, one recomputation follows.
#[derive(Clone, Debug)]
pub struct Dirty(mpsc::Sender<()>);

impl Dirty {
    pub fn mark(&self) {
        // A full channel already holds a pending mark: dropping this one is the coalescing.
        let _ = self.0.try_send(());
    }
}

/// A dirty handle and the receiver the `Writer` consumes.
pub fn dirty_channel() -> (Dirty, mpsc::Receiver<()>) {
    let (tx, rx) = mpsc::channel(1);
    (Dirty(tx), rx)
}

/// One write the catalog needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// Server-side apply this ConfigMap with exactly this data.
    Apply {
        name: String,
        data: BTreeMap<String, String>,
    },
    /// Remove keys someone else added (server-side apply only removes keys it owns).
    RemoveKeys { name: String, keys: Vec<String> },
    /// A spill-over ConfigMap no longer needed.
    Delete { name: String },
}

/// What to write so that `stored` (the labelled ConfigMaps, name to data) becomes `desired`.
/// Nothing when they are equal: zero writes at steady state.
pub(crate) fn plan(
    desired: &[(String, BTreeMap<String, String>)],
    stored: &BTreeMap<String, BTreeMap<String, String>>,
) -> Vec<Op> {
    let mut ops = Vec::new();
    for (name, data) in desired {
        match stored.get(name) {
            Some(current) if current == data => {}
            Some(current) => {
                ops.push(Op::Apply {
                    name: name.clone(),
                    data: data.clone(),
                });
                let extra: Vec<String> = current
                    .keys()
                    .filter(|k| !data.contains_key(*k))
                    .cloned()
                    .collect();
                if !extra.is_empty() {
                    ops.push(Op::RemoveKeys {
                        name: name.clone(),
                        keys: extra,
                    });
                }
            }
            None => ops.push(Op::Apply {
                name: name.clone(),
                data: data.clone(),
            }),
        }
    }
    for name in stored.keys() {
        if !desired.iter().any(|(n, _)| n == name) {
            ops.push(Op::Delete { name: name.clone() });
        }
    }
    ops
}

/// The catalog writer: a task fed by dirty marks.
pub struct Writer {
    client: Client,
    target: CatalogTarget,
    debounce: Duration,
    max_bytes: usize,
}

impl Writer {
    pub fn new(client: Client, target: CatalogTarget) -> Self {
        Self {
            client,
            target,
            debounce: Duration::from_millis(200),
            max_bytes: MAX_BYTES,
        }
    }

    /// How long to wait after a dirty mark for more marks before writing.
    #[must_use]
    pub fn debounce(mut self, debounce: Duration) -> Self {
        self.debounce = debounce;
        self
    }

    /// The size at which the catalog spills into a further ConfigMap.
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
        services: Vec<Store<Service>>,
        dirty: Dirty,
        mut marks: mpsc::Receiver<()>,
        synced: impl Future<Output = ()>,
        shutdown: impl Future<Output = ()>,
    ) {
        let selector = format!("{LABEL}={}", self.target.name);
        let (stored, writer) = reflector::store();
        let repair = dirty.clone();
        // Any change to a catalog ConfigMap, ours included, triggers a recomputation: for our
        // own writes it finds nothing to do, for hand edits and deletions it repairs.
        let watch = watcher(self.api(), watcher::Config::default().labels(&selector))
            .default_backoff()
            .reflect(writer)
            .for_each(move |event| {
                if let Err(error) = event {
                    tracing::warn!(%error, "catalog ConfigMap watch failed");
                }
                repair.mark();
                std::future::ready(())
            });
        let watch = tokio::spawn(watch);

        tokio::pin!(shutdown);
        // `synced` rather than the Service stores' own readiness: those wake one waiter only.
        let ready = async {
            synced.await;
            let _ = stored.wait_until_ready().await;
        };
        tokio::select! {
            () = &mut shutdown => { watch.abort(); return; }
            () = ready => {}
        }
        dirty.mark();

        let mut failures = 0u32;
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                mark = marks.recv() => if mark.is_none() { break },
            }
            tokio::select! {
                () = &mut shutdown => break,
                () = tokio::time::sleep(self.debounce) => {}
            }
            while marks.try_recv().is_ok() {}
            match self.write_once(&services, &stored).await {
                Ok(writes) => {
                    failures = 0;
                    if writes > 0 {
                        tracing::info!(writes, catalog = %self.target.name, "catalog written");
                    }
                }
                Err(error) => {
                    failures = failures.saturating_add(1);
                    let delay = Duration::from_millis(500u64 << failures.min(6));
                    tracing::warn!(%error, ?delay, "catalog write failed, retrying");
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(delay) => dirty.mark(),
                    }
                }
            }
        }
        watch.abort();
    }

    /// Recomputes the catalog and writes the difference; returns the number of writes.
    async fn write_once(
        &self,
        services: &[Store<Service>],
        stored: &Store<ConfigMap>,
    ) -> Result<usize, Error> {
        let all: Vec<Arc<Service>> = services.iter().flat_map(|s| s.state()).collect();
        let desired = compute(
            &self.target.name,
            all.iter().map(|s| s.as_ref()),
            self.max_bytes,
        );
        let current: BTreeMap<String, BTreeMap<String, String>> = stored
            .state()
            .iter()
            .filter(|cm| cm.labels().get(LABEL) == Some(&self.target.name))
            .map(|cm| (cm.name_any(), cm.data.clone().unwrap_or_default()))
            .collect();
        let ops = plan(&desired, &current);
        let api = self.api();
        for op in &ops {
            match op {
                Op::Apply { name, data } => {
                    let cm = ConfigMap {
                        metadata: ObjectMeta {
                            name: Some(name.clone()),
                            namespace: Some(self.target.namespace.clone()),
                            labels: Some([(LABEL.to_string(), self.target.name.clone())].into()),
                            ..Default::default()
                        },
                        data: Some(data.clone()),
                        ..Default::default()
                    };
                    let mut value =
                        serde_json::to_value(&cm).expect("a ConfigMap always serialises");
                    value["apiVersion"] = json!("v1");
                    value["kind"] = json!("ConfigMap");
                    api.patch(
                        name,
                        &PatchParams::apply(FIELD_MANAGER).force(),
                        &Patch::Apply(value),
                    )
                    .await
                    .map_err(|source| Error::Write {
                        name: name.clone(),
                        source,
                    })?;
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
        Ok(ops.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn an_unchanged_catalog_costs_no_write() {
        let desired = vec![("c".to_string(), data(&[("a_x.json", "1")]))];
        let stored = [("c".to_string(), data(&[("a_x.json", "1")]))].into();
        assert_eq!(plan(&desired, &stored), vec![]);
    }

    #[test]
    fn a_missing_or_changed_catalog_is_applied() {
        let desired = vec![
            ("c".to_string(), data(&[("a_x.json", "2")])),
            ("c-1".to_string(), data(&[("a_y.json", "1")])),
        ];
        let stored = [("c".to_string(), data(&[("a_x.json", "1")]))].into();
        assert_eq!(
            plan(&desired, &stored),
            vec![
                Op::Apply {
                    name: "c".into(),
                    data: data(&[("a_x.json", "2")])
                },
                Op::Apply {
                    name: "c-1".into(),
                    data: data(&[("a_y.json", "1")])
                },
            ]
        );
    }

    #[test]
    fn hand_added_keys_are_removed_and_stale_spill_overs_deleted() {
        let desired = vec![("c".to_string(), data(&[("a_x.json", "1")]))];
        let stored = [
            (
                "c".to_string(),
                data(&[("a_x.json", "1"), ("hand.json", "oops")]),
            ),
            ("c-1".to_string(), data(&[("a_y.json", "1")])),
        ]
        .into();
        assert_eq!(
            plan(&desired, &stored),
            vec![
                Op::Apply {
                    name: "c".into(),
                    data: data(&[("a_x.json", "1")])
                },
                Op::RemoveKeys {
                    name: "c".into(),
                    keys: vec!["hand.json".into()]
                },
                Op::Delete { name: "c-1".into() },
            ]
        );
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
