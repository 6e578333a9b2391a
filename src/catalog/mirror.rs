//! Copies of the catalog where consumers run: every namespace labelled
//! `catalog.charter.dev/mirror=true` gets the catalog's ConfigMaps under the same names, byte
//! for byte, for its pods to mount. The writer calls `sync` after each pass: a copy is written
//! only when its shard's content differs from what was last copied there, so copies cost
//! nothing while the catalog is unchanged; a namespace that loses the label loses its copies.
//! The operator never reads ConfigMaps outside its own namespace: what it copied is kept in
//! memory (after a restart every copy is applied once; the API server treats an identical apply
//! as a no-op). Each copy written is made exactly its shard: apply leaves keys others added, so
//! those the write returns are removed at once. The admission policy `charter-catalog-mirror`
//! limits these writes to the catalog's names in labelled namespaces.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::{
    Api, Client, ResourceExt,
    api::{DeleteParams, Patch, PatchParams},
    runtime::reflector::Store,
};
use serde_json::Value;

use super::configmap::{Error, Keys, apply_configmap};

/// The namespace label that asks for a copy of the catalog.
pub const MIRROR_LABEL: &str = "catalog.charter.dev/mirror";
/// The label on each copy: the name of the catalog it copies.
pub const MIRROR_OF_LABEL: &str = "catalog.charter.dev/mirror-of";

/// Whether `namespace` asks for a copy.
pub fn opted_in(namespace: &Namespace) -> bool {
    namespace.labels().get(MIRROR_LABEL).map(String::as_str) == Some("true")
}

/// What was copied where: namespace → shard name → digest of the shard's data.
#[derive(Default)]
pub(crate) struct Mirrors {
    copied: BTreeMap<String, BTreeMap<String, u64>>,
}

/// One shard of the catalog as it should be everywhere: its name and its data's digest.
pub(crate) struct Shard<'a> {
    pub name: &'a str,
    pub digest: u64,
}

impl Mirrors {
    /// Brings every labelled namespace's copies to `shards`, rendering a shard's data (with
    /// `render`) only where a copy needs it, and removes copies from namespaces that lost the
    /// label and shards the catalog no longer has. Returns how many requests it made.
    pub async fn sync(
        &mut self,
        client: &Client,
        catalog: &str,
        source_namespace: &str,
        namespaces: &Store<Namespace>,
        shards: &[Shard<'_>],
        mut render: impl FnMut(usize) -> BTreeMap<String, String>,
    ) -> Result<usize, Error> {
        let wanted: BTreeSet<String> = namespaces
            .state()
            .iter()
            .filter(|ns| opted_in(ns) && ns.metadata.deletion_timestamp.is_none())
            .map(|ns| ns.name_any())
            .filter(|ns| ns != source_namespace)
            .collect();
        let mut requests = 0;
        let mut rendered: BTreeMap<usize, BTreeMap<String, String>> = BTreeMap::new();
        for namespace in &wanted {
            let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
            for (i, shard) in shards.iter().enumerate() {
                let copied = self.copied.get(namespace).and_then(|c| c.get(shard.name));
                if copied == Some(&shard.digest) {
                    continue;
                }
                let data = rendered.entry(i).or_insert_with(|| render(i)).clone();
                let written = apply_configmap(
                    &api,
                    namespace,
                    shard.name,
                    (MIRROR_OF_LABEL, catalog),
                    data,
                )
                .await?;
                requests += 1;
                if let Some(foreign) = foreign_keys(&written, &rendered[&i]) {
                    remove_keys(&api, namespace, shard.name, foreign).await?;
                    requests += 1;
                }
                self.copied
                    .entry(namespace.clone())
                    .or_default()
                    .insert(shard.name.to_owned(), shard.digest);
            }
            // Shards the catalog no longer has.
            let current: BTreeSet<&str> = shards.iter().map(|s| s.name).collect();
            let stale: Vec<String> = self
                .copied
                .get(namespace)
                .map(|c| {
                    c.keys()
                        .filter(|n| !current.contains(n.as_str()))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            for name in stale {
                delete(&api, namespace, &name).await?;
                requests += 1;
                if let Some(c) = self.copied.get_mut(namespace) {
                    c.remove(&name);
                }
            }
        }
        let gone: Vec<String> = self
            .copied
            .keys()
            .filter(|ns| !wanted.contains(*ns))
            .cloned()
            .collect();
        for namespace in gone {
            let api: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
            let names: Vec<String> = self.copied[&namespace].keys().cloned().collect();
            for name in names {
                delete(&api, &namespace, &name).await?;
                requests += 1;
            }
            self.copied.remove(&namespace);
        }
        Ok(requests)
    }
}

/// The keys of a written copy that its shard does not have (`data` added by hand, any
/// `binaryData`), as the merge patch that removes them; `None` when the copy is exact.
fn foreign_keys(written: &Keys, shard: &BTreeMap<String, String>) -> Option<Value> {
    let nulls = |keys: Vec<&String>| -> serde_json::Map<String, Value> {
        keys.into_iter().map(|k| (k.clone(), Value::Null)).collect()
    };
    let data = nulls(
        written
            .data
            .keys()
            .filter(|k| !shard.contains_key(*k))
            .collect(),
    );
    let binary = nulls(written.binary_data.keys().collect());
    let mut patch = serde_json::Map::new();
    for (field, keys) in [("data", data), ("binaryData", binary)] {
        if !keys.is_empty() {
            patch.insert(field.into(), Value::Object(keys));
        }
    }
    (!patch.is_empty()).then_some(Value::Object(patch))
}

async fn remove_keys(
    api: &Api<ConfigMap>,
    namespace: &str,
    name: &str,
    patch: Value,
) -> Result<(), Error> {
    api.patch(name, &PatchParams::default(), &Patch::Merge(patch))
        .await
        .map_err(|source| Error::Write {
            name: format!("{namespace}/{name}"),
            source,
        })?;
    Ok(())
}

async fn delete(api: &Api<ConfigMap>, namespace: &str, name: &str) -> Result<(), Error> {
    match api.delete(name, &DeleteParams::default()).await {
        Ok(_) => Ok(()),
        // Gone already (the namespace too, perhaps): nothing to remove.
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(source) => Err(Error::Delete {
            name: format!("{namespace}/{name}"),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A ConfigMap as the server answers an apply, read as the writers read it.
    fn written(configmap: Value) -> Keys {
        serde_json::from_value(configmap).expect("keys")
    }

    #[test]
    fn only_keys_the_shard_lacks_are_removed_from_a_copy() {
        let shard = BTreeMap::from([("index.json".to_owned(), "{}".to_owned())]);
        let copy =
            json!({"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"index.json": "{}"}});
        assert_eq!(foreign_keys(&written(copy), &shard), None, "an exact copy");
        let copy = json!({"kind": "ConfigMap", "data": {"index.json": "{}", "hand.json": "1"}});
        assert_eq!(
            foreign_keys(&written(copy), &shard),
            Some(json!({"data": {"hand.json": null}}))
        );
        let copy =
            json!({"data": {"index.json": "{}", "hand.json": "1"}, "binaryData": {"blob": "AQ=="}});
        assert_eq!(
            foreign_keys(&written(copy), &shard),
            Some(json!({"data": {"hand.json": null}, "binaryData": {"blob": null}}))
        );
    }
}
