//! The versioned object store: every object of every kind under one global
//! resourceVersion counter, plus a bounded history of changes that watches resume from.
//! A resourceVersion older than the history window is "too old" (410) by construction.
//! The window is bounded by count and by bytes, like the real watch cache: a burst of large
//! objects cannot hold the server's memory hostage. Objects are stored once, as `Arc`s shared
//! by the live map, the history and the watches, and as their JSON (`Frozen`), not as trees.

mod frozen;

pub use frozen::Frozen;

use crate::error::ApiError;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::broadcast;

/// Where a kind's objects live: `(group, plural)`. Core v1 Events share the events.k8s.io bucket.
pub type Bucket = (String, String);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One committed change, as kept in the history and broadcast to watches.
#[derive(Clone, Debug)]
pub struct Change {
    pub rv: u64,
    pub bucket: Bucket,
    pub event: EventType,
    pub object: Arc<Frozen>,
    /// The object before a MODIFIED or DELETED change: watches with selectors need it,
    /// and a paged list undoes later changes with it to serve its snapshot.
    pub previous: Option<Arc<Frozen>>,
}

/// What a mutation closure decides, given the stored object.
pub enum Outcome {
    /// Store this object (create or replace); resourceVersion is stamped by the store.
    Write(Value),
    /// Remove the object; the value is its final state (sent with DELETED).
    Delete(Value),
    /// Nothing changed: return this object as it is, no new resourceVersion, no event.
    Unchanged(Value),
}

/// The stored result of a mutation, whether it changed anything and whether it deleted.
pub struct Committed {
    pub object: Value,
    pub changed: bool,
    pub deleted: bool,
}

/// How much the watch history may hold, by `Frozen::weight`, whatever its count.
pub const HISTORY_BYTES: usize = 64 << 20;

struct State {
    rv: u64,
    objects: HashMap<Bucket, BTreeMap<(String, String), Arc<Frozen>>>,
    /// Each change with its weight.
    history: VecDeque<(Change, usize)>,
    /// The weight of the history.
    history_bytes: usize,
    /// Events with rv > floor are in the history; watches from an rv below it are too old.
    floor: u64,
    window: usize,
}

impl State {
    /// The stored object at `key` (namespace, name) in `bucket`.
    fn object(&self, bucket: &Bucket, key: &(String, String)) -> Option<&Arc<Frozen>> {
        self.objects.get(bucket)?.get(key)
    }
}

#[derive(Clone)]
pub struct Store {
    state: Arc<Mutex<State>>,
    tx: broadcast::Sender<Change>,
}

/// Metadata accessors that never panic on odd objects.
pub fn meta_str<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    obj.get("metadata")?.get(field)?.as_str()
}

/// The strings of a JSON array (absent, non-array or non-string items give nothing).
pub fn str_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

pub fn parse_rv(s: &str) -> Option<u64> {
    s.parse().ok()
}

impl Store {
    pub fn new(window: usize) -> Self {
        let (tx, _) = broadcast::channel(4096);
        Store {
            state: Arc::new(Mutex::new(State {
                rv: 1,
                objects: HashMap::new(),
                history: VecDeque::new(),
                history_bytes: 0,
                floor: 1,
                window: window.max(1),
            })),
            tx,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means a panic elsewhere; the data is still consistent
        // because every mutation is applied at the end of `mutate`.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn current_rv(&self) -> u64 {
        self.lock().rv
    }

    pub fn get(&self, bucket: &Bucket, ns: &str, name: &str) -> Option<Value> {
        // Parsed once the lock is released: other requests need not wait for it.
        let found = self
            .lock()
            .object(bucket, &(ns.to_string(), name.to_string()))
            .cloned();
        found.map(|v| v.value())
    }

    pub fn contains(&self, bucket: &Bucket, ns: &str, name: &str) -> bool {
        self.lock()
            .object(bucket, &(ns.to_string(), name.to_string()))
            .is_some()
    }

    /// All objects of a bucket (in one namespace or all), sorted by namespace and name,
    /// with the resourceVersion they were read at.
    pub fn list(&self, bucket: &Bucket, ns: Option<&str>) -> (Vec<Arc<Frozen>>, u64) {
        let st = self.lock();
        let items = match st.objects.get(bucket) {
            None => Vec::new(),
            Some(m) => m
                .iter()
                .filter(|((n, _), _)| ns.is_none_or(|want| want == n))
                .map(|(_, v)| v.clone())
                .collect(),
        };
        (items, st.rv)
    }

    /// `list`, parsed: for readers of a few configuration objects (RBAC, policies, namespaces).
    pub fn list_values(&self, bucket: &Bucket, ns: Option<&str>) -> Vec<Arc<Value>> {
        let (items, _) = self.list(bucket, ns);
        items.iter().map(|o| Arc::new(o.value())).collect()
    }

    /// The objects of a bucket as they were at resourceVersion `at` (a paged list's
    /// snapshot), rebuilt by undoing the history's later changes. None when `at` has
    /// fallen out of the history window (or lies in the future): the list is expired.
    pub fn list_at(&self, bucket: &Bucket, ns: Option<&str>, at: u64) -> Option<Vec<Arc<Frozen>>> {
        let st = self.lock();
        if at < st.floor || at > st.rv {
            return None;
        }
        let in_scope = |obj: &Frozen| ns.is_none_or(|want| obj.namespace() == want);
        let key = |obj: &Frozen| (obj.namespace().to_string(), obj.name().to_string());
        let mut objects: BTreeMap<(String, String), Arc<Frozen>> = st
            .objects
            .get(bucket)
            .map(|m| {
                m.iter()
                    .filter(|(_, v)| in_scope(v))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        for (change, _) in st.history.iter().rev() {
            if change.rv <= at {
                break;
            }
            if &change.bucket != bucket || !in_scope(&change.object) {
                continue;
            }
            match (change.event, &change.previous) {
                (EventType::Added, _) | (_, None) => {
                    objects.remove(&key(&change.object));
                }
                (EventType::Modified | EventType::Deleted, Some(before)) => {
                    objects.insert(key(before), before.clone());
                }
            }
        }
        Some(objects.into_values().collect())
    }

    /// Read-modify-write of one object with the store locked throughout: for closures that
    /// decide at once (a create's "does it exist yet?").
    pub fn mutate<F>(
        &self,
        bucket: &Bucket,
        ns: &str,
        name: &str,
        dry_run: bool,
        f: F,
    ) -> Result<Committed, ApiError>
    where
        F: FnOnce(Option<&Value>) -> Result<Outcome, ApiError>,
    {
        let mut st = self.lock();
        let key = (ns.to_string(), name.to_string());
        let current = st.object(bucket, &key).cloned();
        let value = current.as_deref().map(Frozen::value);
        let outcome = f(value.as_ref())?;
        Ok(self.commit(&mut st, bucket, key, current, outcome, dry_run))
    }

    /// Read-modify-write of one object, as kube-apiserver's `GuaranteedUpdate`: `f` computes
    /// the next object from the stored one without the store locked (decoding, field
    /// management, admission and validation take most of a write's time, and writes to other
    /// objects go on meanwhile); the result is committed only if the object is still the one
    /// `f` saw, else `f` runs again on the newer one. A resourceVersion precondition inside
    /// `f` then fails as a Conflict, as it would have against the newer object.
    pub fn guaranteed_update<F>(
        &self,
        bucket: &Bucket,
        ns: &str,
        name: &str,
        dry_run: bool,
        mut f: F,
    ) -> Result<Committed, ApiError>
    where
        F: FnMut(Option<&Value>) -> Result<Outcome, ApiError>,
    {
        let key = (ns.to_string(), name.to_string());
        loop {
            let current = self.lock().object(bucket, &key).cloned();
            let value = current.as_deref().map(Frozen::value);
            let outcome = f(value.as_ref())?;
            let mut st = self.lock();
            let unchanged = match (&current, st.object(bucket, &key)) {
                (None, None) => true,
                (Some(seen), Some(now)) => Arc::ptr_eq(seen, now),
                _ => false,
            };
            if unchanged {
                return Ok(self.commit(&mut st, bucket, key, current, outcome, dry_run));
            }
        }
    }

    /// Applies `outcome` to the object at `key` (stored as `current`), under the lock.
    fn commit(
        &self,
        st: &mut State,
        bucket: &Bucket,
        key: (String, String),
        current: Option<Arc<Frozen>>,
        outcome: Outcome,
        dry_run: bool,
    ) -> Committed {
        let (mut obj, deleted) = match outcome {
            Outcome::Unchanged(obj) => {
                return Committed {
                    object: obj,
                    changed: false,
                    deleted: false,
                };
            }
            Outcome::Write(obj) => (obj, false),
            Outcome::Delete(obj) => (obj, true),
        };
        if dry_run || (deleted && current.is_none()) {
            return Committed {
                object: obj,
                changed: true,
                deleted,
            };
        }
        let rv = st.rv + 1;
        st.rv = rv;
        if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            m.insert("resourceVersion".into(), json!(rv.to_string()));
        }
        let object = Arc::new(Frozen::new(&obj));
        let event = if deleted {
            if let Some(m) = st.objects.get_mut(bucket) {
                m.remove(&key);
            }
            EventType::Deleted
        } else {
            st.objects
                .entry(bucket.clone())
                .or_default()
                .insert(key, object.clone());
            if current.is_none() {
                EventType::Added
            } else {
                EventType::Modified
            }
        };
        self.record(
            st,
            Change {
                rv,
                bucket: bucket.clone(),
                event,
                object,
                previous: current,
            },
        );
        Committed {
            object: obj,
            changed: true,
            deleted,
        }
    }

    fn record(&self, st: &mut State, change: Change) {
        let bytes = change.object.weight();
        st.history.push_back((change.clone(), bytes));
        st.history_bytes += bytes;
        while st.history.len() > st.window
            || (st.history_bytes > HISTORY_BYTES && st.history.len() > 1)
        {
            if let Some((old, bytes)) = st.history.pop_front() {
                st.floor = old.rv;
                st.history_bytes -= bytes;
            }
        }
        let _ = self.tx.send(change);
    }

    /// Remove every object of a bucket (a deleted CRD), emitting DELETED for each.
    pub fn drop_bucket(&self, bucket: &Bucket) {
        let mut st = self.lock();
        let Some(objs) = st.objects.remove(bucket) else {
            return;
        };
        for (_, obj) in objs {
            st.rv += 1;
            let rv = st.rv;
            let mut o = obj.value();
            let previous = Some(obj);
            if let Some(m) = o.get_mut("metadata").and_then(Value::as_object_mut) {
                m.insert("resourceVersion".into(), json!(rv.to_string()));
            }
            self.record(
                &mut st,
                Change {
                    rv,
                    bucket: bucket.clone(),
                    event: EventType::Deleted,
                    object: Arc::new(Frozen::new(&o)),
                    previous,
                },
            );
        }
    }

    /// Forget the whole history: every watch from an older resourceVersion gets 410.
    pub fn compact(&self) {
        let mut st = self.lock();
        st.history.clear();
        st.history_bytes = 0;
        st.floor = st.rv;
    }

    /// Start a watch of one bucket: the current objects (for an initial list), or the
    /// history after `from` (Err with the oldest available rv when `from` is too old),
    /// plus a receiver for what follows — taken under the lock so nothing falls between.
    pub fn watch_from(&self, bucket: &Bucket, from: Option<u64>) -> Result<WatchStart, u64> {
        let st = self.lock();
        let rx = self.tx.subscribe();
        let backlog = match from {
            None => st
                .objects
                .get(bucket)
                .map(|m| {
                    m.values()
                        .map(|o| Change {
                            rv: st.rv,
                            bucket: bucket.clone(),
                            event: EventType::Added,
                            object: o.clone(),
                            previous: None,
                        })
                        .collect()
                })
                .unwrap_or_default(),
            Some(rv) => {
                if rv < st.floor {
                    return Err(st.floor + 1);
                }
                st.history
                    .iter()
                    .map(|(c, _)| c)
                    .filter(|c| c.rv > rv && &c.bucket == bucket)
                    .cloned()
                    .collect()
            }
        };
        Ok(WatchStart {
            backlog,
            rx,
            rv: st.rv,
        })
    }
}

pub struct WatchStart {
    pub backlog: Vec<Change>,
    pub rx: broadcast::Receiver<Change>,
    /// The store's resourceVersion when the watch started.
    pub rv: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(store: &Store, bucket: &Bucket, name: &str, data: &str) {
        store
            .mutate(bucket, "ns", name, false, |_| {
                Ok(Outcome::Write(json!({
                    "metadata": {"name": name, "namespace": "ns"},
                    "data": {"k": data},
                })))
            })
            .map(|_| ())
            .unwrap_or_else(|e| panic!("write {name}: {}", e.message));
    }

    #[test]
    fn the_history_is_bounded_by_bytes_as_well_as_by_count() {
        let store = Store::new(1_000_000);
        let bucket: Bucket = (String::new(), "configmaps".into());
        let first = store.current_rv();
        let big = "x".repeat(1 << 20);
        for i in 0..80 {
            write(&store, &bucket, &format!("cm{i}"), &big);
        }
        assert!(
            store.watch_from(&bucket, Some(first)).is_err(),
            "80 MiB of changes do not fit: the oldest are too old"
        );
        let recent = store.current_rv() - 10;
        let start = store
            .watch_from(&bucket, Some(recent))
            .unwrap_or_else(|_| panic!("the last ten changes are in the history"));
        assert_eq!(start.backlog.len(), 10);
    }

    fn data(obj: Option<&Value>) -> String {
        obj.and_then(|o| o.pointer("/data/k"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }

    #[test]
    fn a_guaranteed_update_runs_again_on_the_object_another_writer_committed_meanwhile() {
        let store = Store::new(100);
        let bucket: Bucket = (String::new(), "configmaps".into());
        write(&store, &bucket, "cm", "v1");
        let mut seen = Vec::new();
        let committed = store
            .guaranteed_update(&bucket, "ns", "cm", false, |cur| {
                seen.push(data(cur));
                if seen.len() == 1 {
                    // Another request commits while this one computes.
                    write(&store, &bucket, "cm", "v2");
                }
                let mut next = cur.cloned().unwrap_or_default();
                next["data"]["k"] = json!(format!("{}+", data(cur)));
                Ok(Outcome::Write(next))
            })
            .unwrap_or_else(|e| panic!("update: {}", e.message));
        assert_eq!(seen, ["v1", "v2"], "computed again on the newer object");
        assert_eq!(data(Some(&committed.object)), "v2+");
        assert_eq!(data(store.get(&bucket, "ns", "cm").as_ref()), "v2+");
    }

    #[test]
    fn concurrent_guaranteed_updates_lose_no_write() {
        let store = Store::new(10_000);
        let bucket: Bucket = (String::new(), "configmaps".into());
        write(&store, &bucket, "counter", "0");
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..250 {
                        store
                            .guaranteed_update(&bucket, "ns", "counter", false, |cur| {
                                let n: u64 = data(cur).parse().unwrap_or_default();
                                let mut next = cur.cloned().unwrap_or_default();
                                next["data"]["k"] = json!((n + 1).to_string());
                                Ok(Outcome::Write(next))
                            })
                            .unwrap_or_else(|e| panic!("update: {}", e.message));
                    }
                });
            }
        });
        assert_eq!(data(store.get(&bucket, "ns", "counter").as_ref()), "1000");
    }

    #[test]
    fn the_history_and_the_live_objects_share_one_copy() {
        let store = Store::new(100);
        let bucket: Bucket = (String::new(), "configmaps".into());
        let before = store.current_rv();
        write(&store, &bucket, "cm", "v");
        let start = store
            .watch_from(&bucket, Some(before))
            .unwrap_or_else(|_| panic!("in the history"));
        let (live, _) = store.list(&bucket, Some("ns"));
        assert!(Arc::ptr_eq(&start.backlog[0].object, &live[0]));
    }
}
