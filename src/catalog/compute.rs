//! The pure part of the catalog: from Services to ConfigMap names and data, deterministically.
//! This is the one definition of what the catalog is; the writer keeps the cluster equal to it.
//!
//! The layout: each entry goes to the shard given by the first `shardBits` bits of the SHA-256
//! of its key, so an entry never moves unless the number of shards changes, and one Service
//! changing changes one ConfigMap. The number of shards is the smallest power of two that keeps
//! the catalog under half a ConfigMap per shard on average and every shard under `max_bytes`;
//! it is a function of the entries alone. Shard 0 is `<catalog_name>` and also holds
//! `index.json`, which names every shard; shard i is `<catalog_name>-<i>`. Every shard holds
//! `services.json`, the briefs of its entries, so one Service changing still changes one shard.

use std::collections::BTreeMap;

use serde_json::json;
use sha2::{Digest, Sha256};

use super::entry::{brief_cost, entry, listing};
use crate::api::Service;

/// A ConfigMap holds at most 1 MiB; the headroom leaves room for metadata and the labels.
pub const MAX_BYTES: usize = 1024 * 1024 - 64 * 1024;

/// The key of the index in shard 0. Entry keys always contain `_`, so it cannot collide.
pub const INDEX_KEY: &str = "index.json";

/// The key of each shard's list of its entries, in brief.
pub const SERVICES_KEY: &str = "services.json";

/// What an empty `services.json` costs its shard (`[]` and a newline); each entry's brief adds
/// `brief_cost` to it.
const LISTING_COST: usize = SERVICES_KEY.len() + 3;

/// The version of the catalog's layout and entry format, in `index.json`; its JSON Schema is
/// `docs/catalog-v3.schema.json`.
pub const FORMAT: &str = "charter.dev/catalog/v3";

/// Past this many bits (65,536 shards) the layout stops splitting: only entries larger than
/// a ConfigMap could ask for more, and the API server refuses those anyway.
const MAX_SHARD_BITS: u32 = 16;

/// Where a key lives: the first 64 bits of the SHA-256 of the key, big-endian.
pub fn key_hash(key: &str) -> u64 {
    let digest = Sha256::digest(key.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// The shard of a key hash when there are `2^bits` shards: its first `bits` bits.
pub fn shard_of(hash: u64, bits: u32) -> usize {
    if bits == 0 {
        0
    } else {
        usize::try_from(hash >> (64 - bits)).unwrap_or(usize::MAX)
    }
}

/// The name of shard `index`: the catalog name itself for shard 0, then `<name>-<index>`.
pub fn shard_name(catalog_name: &str, index: usize) -> String {
    if index == 0 {
        catalog_name.to_owned()
    } else {
        format!("{catalog_name}-{index}")
    }
}

/// The value of `index.json`: the format and every shard, for consumers to find an entry
/// (`shardOf`) or to read the whole catalog (`shards`). It changes only with the shard count.
pub fn index(catalog_name: &str, bits: u32) -> String {
    let shards: Vec<String> = (0..1usize << bits)
        .map(|i| shard_name(catalog_name, i))
        .collect();
    let value = json!({
        "format": FORMAT,
        "shardBits": bits,
        "shardOf": "the first shardBits bits of the SHA-256 of the key, as an unsigned number",
        "shards": shards,
        "servicesKey": SERVICES_KEY,
    });
    serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
}

/// The bytes an entry costs in its ConfigMap.
pub fn cost(key: &str, value_len: usize) -> usize {
    key.len() + value_len
}

/// How many bits of shard number the catalog needs, from each entry's hash and cost (any
/// order): the smallest number such that the catalog averages at most half of `max_bytes`
/// per shard and no shard with more than one entry exceeds `max_bytes`.
pub fn shard_bits(
    catalog_name: &str,
    entries: impl Iterator<Item = (u64, usize)> + Clone,
    max_bytes: usize,
) -> u32 {
    let index_cost = |bits: u32| cost(INDEX_KEY, index(catalog_name, bits).len());
    let total: usize = entries.clone().map(|(_, c)| c).sum();
    let target = (max_bytes / 2).max(1);
    let mut bits = 0;
    while bits < MAX_SHARD_BITS
        && total + index_cost(bits) + (LISTING_COST << bits) > target << bits
    {
        bits += 1;
    }
    while bits < MAX_SHARD_BITS && !fits(&entries, bits, index_cost(bits), max_bytes) {
        bits += 1;
    }
    bits
}

/// Whether no shard with more than one entry exceeds `max_bytes` (shard 0 holds the index).
fn fits(
    entries: &(impl Iterator<Item = (u64, usize)> + Clone),
    bits: u32,
    index_cost: usize,
    max_bytes: usize,
) -> bool {
    // (bytes, entries) per shard.
    let mut sizes = vec![(LISTING_COST, 0usize); 1 << bits];
    sizes[0].0 += index_cost;
    for (hash, c) in entries.clone() {
        let shard = &mut sizes[shard_of(hash, bits)];
        shard.0 += c;
        shard.1 += 1;
    }
    sizes
        .iter()
        .all(|(bytes, count)| *bytes <= max_bytes || *count <= 1)
}

/// The catalog ConfigMaps: `(name, data)` pairs, shard 0 (`catalog_name`, always present,
/// holding `index.json`) first, then shards 1, 2, … up to the shard count. One key per Service
/// that is Active and has an approved snapshot. The same Services always give the same
/// ConfigMaps, whatever their order.
pub fn compute<'a>(
    catalog_name: &str,
    services: impl IntoIterator<Item = &'a Service>,
    max_bytes: usize,
) -> Vec<(String, BTreeMap<String, String>)> {
    let entries: Vec<(u64, super::entry::Entry)> = services
        .into_iter()
        .filter_map(entry)
        .map(|e| (key_hash(&e.key), e))
        .collect();
    let bits = shard_bits(
        catalog_name,
        entries
            .iter()
            .map(|(h, e)| (*h, cost(&e.key, e.value.len()) + brief_cost(&e.brief))),
        max_bytes,
    );
    let mut maps: Vec<BTreeMap<String, String>> = vec![BTreeMap::new(); 1 << bits];
    let mut briefs: Vec<BTreeMap<String, String>> = vec![BTreeMap::new(); 1 << bits];
    maps[0].insert(INDEX_KEY.to_owned(), index(catalog_name, bits));
    for (hash, e) in entries {
        let shard = shard_of(hash, bits);
        briefs[shard].insert(e.key.clone(), e.brief);
        maps[shard].insert(e.key, e.value);
    }
    for (data, briefs) in maps.iter_mut().zip(&briefs) {
        data.insert(
            SERVICES_KEY.to_owned(),
            listing(briefs.values().map(String::as_str)),
        );
    }
    maps.into_iter()
        .enumerate()
        .map(|(i, data)| (shard_name(catalog_name, i), data))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Phase;
    use crate::fixtures::{self, ServiceBuilder};
    use serde_json::Value;

    fn service(namespace: &str, name: &str) -> ServiceBuilder {
        fixtures::service(name)
            .in_namespace(namespace)
            .owner("dana")
            .description(&format!("the {name} service"))
    }

    /// The entry keys of each ConfigMap (the index aside).
    fn keys(maps: &[(String, BTreeMap<String, String>)]) -> Vec<(String, Vec<String>)> {
        maps.iter()
            .map(|(n, d)| {
                let keys = d
                    .keys()
                    .filter(|k| *k != INDEX_KEY && *k != SERVICES_KEY)
                    .cloned()
                    .collect();
                (n.clone(), keys)
            })
            .collect()
    }

    fn active(namespace: &str, name: &str) -> Service {
        service(namespace, name)
            .phase(Phase::Active)
            .approved("0123456789")
            .build()
    }

    #[test]
    fn only_active_services_with_a_snapshot_are_published() {
        let services = vec![
            service("a", "active")
                .phase(Phase::Active)
                .approved("0123456789")
                .build(),
            service("a", "no-snapshot").phase(Phase::Active).build(),
            service("a", "development")
                .phase(Phase::Development)
                .approved("0123456789")
                .build(),
            service("a", "retired")
                .phase(Phase::Retired)
                .approved("0123456789")
                .build(),
            service("a", "new").build(),
        ];
        let maps = compute("charter-catalog", &services, MAX_BYTES);
        assert_eq!(
            keys(&maps),
            vec![(
                "charter-catalog".to_string(),
                vec!["a_active.json".to_string()]
            )]
        );
    }

    #[test]
    fn an_empty_catalog_is_still_one_configmap_with_its_index() {
        let maps = compute("charter-catalog", &[], MAX_BYTES);
        assert_eq!(maps.len(), 1);
        assert_eq!(maps[0].0, "charter-catalog");
        assert_eq!(
            maps[0].1.keys().collect::<Vec<_>>(),
            vec![INDEX_KEY, SERVICES_KEY]
        );
        assert_eq!(maps[0].1[SERVICES_KEY], "[]\n");
        let index: Value = serde_json::from_str(&maps[0].1[INDEX_KEY]).unwrap();
        assert_eq!(index["format"], FORMAT);
        assert_eq!(index["shardBits"], 0);
        assert_eq!(index["shards"], json!(["charter-catalog"]));
    }

    #[test]
    fn the_catalog_serves_the_snapshot_not_the_current_spec() {
        let mut s = service("a", "ledger")
            .phase(Phase::Active)
            .approved("0123456789")
            .build();
        s.spec.content.description = Some("unapproved edit".into());
        let maps = compute("c", [&s], MAX_BYTES);
        let value = &maps[0].1["a_ledger.json"];
        assert!(value.contains("the ledger service"));
        assert!(!value.contains("unapproved edit"));
        let parsed: Value = serde_json::from_str(value).unwrap();
        assert_eq!(parsed["provenance"]["revision"], "0123456789");
        assert_eq!(parsed["provenance"]["approvedBy"], json!(["ava", "bob"]));
        assert_eq!(
            parsed["service"],
            json!({"namespace": "a", "name": "ledger"})
        );
    }

    #[test]
    fn the_catalog_is_deterministic_whatever_the_order_of_services() {
        let services: Vec<Service> = (0..20)
            .map(|i| {
                service(&format!("ns{}", i % 3), &format!("svc{i}"))
                    .phase(Phase::Active)
                    .approved("0123456789")
                    .build()
            })
            .collect();
        let mut reversed = services.clone();
        reversed.reverse();
        let a = compute("c", &services, 2_000);
        let b = compute("c", &reversed, 2_000);
        assert_eq!(a, b);
        assert!(a.len() > 1, "the small limit makes it spill");
        let value = a[0].1.values().next().unwrap();
        let parsed: Value = serde_json::from_str(value).unwrap();
        assert_eq!(
            serde_json::to_string_pretty(&parsed).unwrap() + "\n",
            *value,
            "keys are sorted"
        );
    }

    #[test]
    fn past_half_a_configmap_the_catalog_shards_by_the_hash_of_each_key() {
        let services: Vec<Service> = (0..40).map(|i| active("ns", &format!("svc{i}"))).collect();
        let maps = compute("c", &services, 8_000);
        assert!(maps.len() > 1, "the small limit makes it shard");
        assert!(maps.len().is_power_of_two());
        let bits = maps.len().trailing_zeros();
        let names: Vec<String> = (0..maps.len()).map(|i| shard_name("c", i)).collect();
        assert_eq!(
            maps.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
            names
        );
        let index: Value = serde_json::from_str(&maps[0].1[INDEX_KEY]).unwrap();
        assert_eq!(index["shardBits"], bits);
        assert_eq!(index["shards"], json!(names));
        for (i, (_, data)) in maps.iter().enumerate() {
            let bytes: usize = data.iter().map(|(k, v)| cost(k, v.len())).sum();
            assert!(bytes <= 8_000, "shard {i} holds {bytes} bytes");
            for key in data
                .keys()
                .filter(|k| *k != INDEX_KEY && *k != SERVICES_KEY)
            {
                assert_eq!(shard_of(key_hash(key), bits), i, "{key} is in its shard");
            }
            let listed: Vec<Value> = serde_json::from_str(&data[SERVICES_KEY]).unwrap();
            let listed: Vec<&str> = listed.iter().filter_map(|b| b["key"].as_str()).collect();
            let held: Vec<&str> = data
                .keys()
                .filter(|k| *k != INDEX_KEY && *k != SERVICES_KEY)
                .map(String::as_str)
                .collect();
            assert_eq!(
                listed, held,
                "services.json lists exactly its shard's entries"
            );
        }
        let total: usize = keys(&maps).iter().map(|(_, k)| k.len()).sum();
        assert_eq!(total, 40);
    }

    #[test]
    fn one_service_changing_changes_one_configmap() {
        let mut services: Vec<Service> =
            (0..40).map(|i| active("ns", &format!("svc{i}"))).collect();
        let before = compute("c", &services, 20_000);
        services.push(active("ns", "newcomer"));
        let after = compute("c", &services, 20_000);
        assert_eq!(before.len(), after.len(), "the shard count holds");
        let changed: Vec<&String> = before
            .iter()
            .zip(&after)
            .filter(|(b, a)| b != a)
            .map(|(_, (name, _))| name)
            .collect();
        assert_eq!(changed.len(), 1, "{changed:?}");
    }

    #[test]
    fn the_shard_count_follows_the_size_of_the_catalog() {
        let services: Vec<Service> = (0..64).map(|i| active("ns", &format!("svc{i}"))).collect();
        let counts: Vec<usize> = [0, 8, 16, 32, 64]
            .iter()
            .map(|n| compute("c", &services[..*n], 8_000).len())
            .collect();
        assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
        assert_eq!(counts[0], 1);
        assert!(counts[4] >= 4, "{counts:?}");
    }

    #[test]
    fn an_entry_larger_than_the_limit_gets_a_configmap_of_its_own() {
        let big = service("ns", "big")
            .description(&"x".repeat(5_000))
            .phase(Phase::Active)
            .approved("0123456789")
            .build();
        let small = active("ns", "small");
        let maps = compute("c", [&big, &small], 1_000);
        let all = keys(&maps);
        let holding_big: Vec<&Vec<String>> = all
            .iter()
            .filter(|(_, k)| k.iter().any(|k| k == "ns_big.json"))
            .map(|(_, k)| k)
            .collect();
        assert_eq!(holding_big, vec![&vec!["ns_big.json".to_string()]]);
    }
}
