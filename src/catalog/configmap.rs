//! The catalog's ConfigMaps as the API server holds them: how they are labelled and written
//! (server-side apply under Charter's field manager), what the writer's cache keeps of them,
//! and what to write to turn the stored ones into the desired ones.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::{
    Api,
    api::{ObjectMeta, Patch, PatchParams},
    core::Request,
};
use serde::{Deserialize, de::IgnoredAny};
use serde_json::json;

use super::published::digest;

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

/// What the ConfigMap cache keeps of each value: its digest, in hex.
pub(crate) fn digest_values(cm: &mut ConfigMap) {
    cm.metadata.managed_fields = None;
    cm.metadata.annotations = None;
    for value in cm.data.iter_mut().flat_map(|d| d.values_mut()) {
        *value = format!("{:016x}", digest(value));
    }
    cm.binary_data = None;
}

/// What a writer reads of a ConfigMap it applied: the keys it holds now. The server sends the
/// whole ConfigMap back (up to 1 MiB); its values are skipped, never copied.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Keys {
    #[serde(default)]
    pub data: BTreeMap<String, IgnoredAny>,
    #[serde(default)]
    pub binary_data: BTreeMap<String, IgnoredAny>,
}

/// Writes one catalog ConfigMap (a shard, or a consumer's copy of one) by server-side apply,
/// forced: the operator is the only writer of these objects. Returns the keys it holds as
/// written (with any key someone else added, which apply leaves alone).
pub(crate) async fn apply_configmap(
    api: &Api<ConfigMap>,
    namespace: &str,
    name: &str,
    (label, value): (&str, &str),
    data: BTreeMap<String, String>,
) -> Result<Keys, Error> {
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
    let error = |source| Error::Write {
        name: format!("{namespace}/{name}"),
        source,
    };
    let request = Request::new(api.resource_url())
        .patch(
            name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(value),
        )
        .map_err(|e| error(kube::Error::BuildRequest(e)))?;
    api.clone()
        .into_client()
        .request(request)
        .await
        .map_err(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digests<'a>(pairs: &[(&'a str, u64)]) -> Digests<'a> {
        pairs.iter().copied().collect()
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
}
