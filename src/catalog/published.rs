//! What the catalog publishes right now: one small record (digest and size) per entry, kept in
//! step with the Service watch streams, so that the writer lays out and compares shards without
//! re-rendering every entry. `compute` stays the definition; a test holds the two equal.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, MutexGuard},
};

use super::compute::key_hash;
use super::dirty::Dirty;
use super::entry::{entry, key_of};
use crate::api::Service;

/// An entry as the writer needs it: its value's digest and length, and its brief (its line in
/// its shard's `services.json`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Record {
    pub digest: u64,
    pub len: usize,
    pub brief: Arc<str>,
}

/// The digest the writer compares entries by: the first 64 bits of the value's SHA-256, the
/// same function a key's shard is taken from.
pub(crate) fn digest(value: &str) -> u64 {
    key_hash(value)
}

/// The published entries, by `(key hash, key)`: each shard is then a contiguous range.
pub struct Published {
    entries: Mutex<BTreeMap<(u64, Arc<str>), Record>>,
    dirty: Dirty,
}

impl Published {
    /// Marks `dirty` whenever an entry is added, changed or removed.
    pub fn new(dirty: Dirty) -> Self {
        Published {
            entries: Mutex::default(),
            dirty,
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<(u64, Arc<str>), Record>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A Service as its watch stream saw it: its entry is added, changed or removed.
    pub fn upsert(&self, service: &Service) {
        let (Some(namespace), Some(name)) = (
            service.metadata.namespace.as_deref(),
            service.metadata.name.as_deref(),
        ) else {
            return;
        };
        let Some(e) = entry(service) else {
            self.remove(namespace, name);
            return;
        };
        let record = Record {
            digest: digest(&e.value),
            len: e.value.len(),
            brief: e.brief.into(),
        };
        let previous = self
            .lock()
            .insert((key_hash(&e.key), e.key.into()), record.clone());
        if previous != Some(record) {
            self.dirty.mark();
        }
    }

    /// A Service that is gone, or no longer published.
    pub fn remove(&self, namespace: &str, name: &str) {
        let key = key_of(namespace, name);
        if self.lock().remove(&(key_hash(&key), key.into())).is_some() {
            self.dirty.mark();
        }
    }

    /// After a relist: keeps only the entries of Services `keep` says still exist.
    pub fn retain(&self, keep: impl Fn(&str, &str) -> bool) {
        let mut entries = self.lock();
        let before = entries.len();
        entries.retain(|(_, key), _| parse_key(key).is_none_or(|(ns, name)| keep(ns, name)));
        if entries.len() != before {
            self.dirty.mark();
        }
    }

    /// Every entry, sorted by key hash: `(hash, key, record)`. Keys and briefs are shared, not
    /// copied: the writer takes one of these per write.
    pub(crate) fn snapshot(&self) -> Vec<(u64, Arc<str>, Record)> {
        self.lock()
            .iter()
            .map(|((hash, key), record)| (*hash, key.clone(), record.clone()))
            .collect()
    }
}

/// The namespace and name of an entry key `<namespace>_<name>.json`.
pub(crate) fn parse_key(key: &str) -> Option<(&str, &str)> {
    key.strip_suffix(".json")?.split_once('_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_keys_parse_back_to_namespace_and_name() {
        assert_eq!(
            parse_key(&key_of("payments", "card_vault")),
            Some(("payments", "card_vault"))
        );
        assert_eq!(parse_key("index.json"), None);
    }
}
