//! What a watch stream does with an object the operator cannot read: it skips it, as if the
//! object did not exist (left out of a list; on a change, the readable copy its cache held is
//! dropped as if deleted, so a Service leaves the catalog), and reports it once per
//! resourceVersion: a Warning Event on the object, a metric and a log line. Everything
//! downstream of the stream keeps its own kind's type and never sees `Decoded`.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, MutexGuard},
};

use k8s_openapi::{api::core::v1::ObjectReference, apimachinery::pkg::apis::meta::v1::ObjectMeta};
use kube::{
    Resource,
    runtime::{
        reflector::{ObjectRef, Store},
        watcher,
    },
};

use super::{
    announce::Announcer,
    decoded::{Decoded, Unreadable},
    telemetry::Telemetry,
};
use crate::cached::Cached;

/// The Event reason of an object the operator cannot read.
pub(crate) const UNREADABLE: &str = "Unreadable";

/// `(namespace, name)`: the key of an object across the readable and unreadable forms.
type Key = (Option<String>, String);

/// The objects of one stream skipped as unreadable, with the resourceVersion reported. It holds
/// only objects that are unreadable now: one that becomes readable or is deleted is forgotten.
#[derive(Default)]
pub(crate) struct Skipped(Mutex<HashMap<Key, String>>);

impl Skipped {
    fn lock(&self) -> MutexGuard<'_, HashMap<Key, String>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether this object is skipped because it cannot be read (rather than absent).
    pub(crate) fn contains(&self, namespace: Option<&str>, name: &str) -> bool {
        self.lock()
            .contains_key(&(namespace.map(String::from), name.to_owned()))
    }

    /// Records the object at this version; true when this version was not reported yet.
    fn record(&self, key: Key, version: String) -> bool {
        self.lock().insert(key, version.clone()).as_ref() != Some(&version)
    }

    fn forget(&self, key: &Key) {
        self.lock().remove(key);
    }
}

/// What a stream needs to report an unreadable object.
#[derive(Clone)]
pub(crate) struct Report {
    pub announcer: Announcer,
    pub telemetry: Telemetry,
    /// What skipping an object of this kind means for the user, ending the Event's note.
    pub consequence: &'static str,
}

type WatchEvent<K> = Result<watcher::Event<K>, watcher::Error>;

/// Turns the events of a watch stream of `Decoded<K>` into events of `K`, skipping what cannot
/// be read. `store` is the cache this stream feeds: it holds every earlier event's outcome.
pub(crate) fn readable<K>(
    store: Store<Cached<K>>,
    skipped: Arc<Skipped>,
    report: Report,
) -> impl FnMut(WatchEvent<Decoded<K>>) -> Option<WatchEvent<K>> + Send + 'static
where
    K: Resource<DynamicType = ()>
        + serde::Serialize
        + serde::de::DeserializeOwned
        + Clone
        + Send
        + Sync
        + 'static,
{
    // The unreadable objects met since the relist began: at its end, the others are forgotten.
    let mut listed: HashSet<Key> = HashSet::new();
    let cached = move |key: &Key| {
        let mut reference = ObjectRef::<Cached<K>>::new(&key.1);
        if let Some(namespace) = &key.0 {
            reference = reference.within(namespace);
        }
        store.get(&reference).map(|k| k.get())
    };
    move |event| {
        let event = match event {
            Err(error) => return Some(Err(error)),
            Ok(event) => event,
        };
        Some(Ok(match event {
            watcher::Event::Init => {
                listed.clear();
                watcher::Event::Init
            }
            watcher::Event::InitApply(Decoded::Readable(k)) => {
                skipped.forget(&key_of(k.meta()));
                watcher::Event::InitApply(k)
            }
            watcher::Event::InitApply(Decoded::Unreadable(u)) => {
                let key = key_of(&u.metadata);
                listed.insert(key.clone());
                skip::<K>(&skipped, key, &u, &report);
                return None;
            }
            watcher::Event::InitDone => {
                skipped.lock().retain(|key, _| listed.contains(key));
                listed.clear();
                watcher::Event::InitDone
            }
            watcher::Event::Apply(Decoded::Readable(k)) => {
                skipped.forget(&key_of(k.meta()));
                watcher::Event::Apply(k)
            }
            watcher::Event::Apply(Decoded::Unreadable(u)) => {
                let key = key_of(&u.metadata);
                skip::<K>(&skipped, key.clone(), &u, &report);
                // Recorded as skipped before this Delete goes down the stream: what follows it
                // can tell an unreadable object from a deleted one.
                watcher::Event::Delete(cached(&key)?)
            }
            watcher::Event::Delete(Decoded::Readable(k)) => {
                skipped.forget(&key_of(k.meta()));
                watcher::Event::Delete(k)
            }
            watcher::Event::Delete(Decoded::Unreadable(u)) => {
                let key = key_of(&u.metadata);
                skipped.forget(&key);
                watcher::Event::Delete(cached(&key)?)
            }
        }))
    }
}

fn key_of(meta: &ObjectMeta) -> Key {
    (
        meta.namespace.clone(),
        meta.name.clone().unwrap_or_default(),
    )
}

/// Reports the object, unless this version of it was reported already.
fn skip<K: Resource<DynamicType = ()>>(
    skipped: &Skipped,
    key: Key,
    object: &Unreadable,
    report: &Report,
) {
    let meta = &object.metadata;
    let version = meta.resource_version.clone().unwrap_or_default();
    if !skipped.record(key, version.clone()) {
        return;
    }
    let kind = K::kind(&());
    tracing::warn!(
        %kind,
        namespace = meta.namespace.as_deref().unwrap_or_default(),
        name = meta.name.as_deref().unwrap_or_default(),
        resource_version = %version,
        error = %object.error,
        "skipping an object the operator cannot read until it changes"
    );
    report.telemetry.unreadable(&kind);
    let regarding = ObjectReference {
        api_version: Some(K::api_version(&()).into_owned()),
        kind: Some(kind.to_string()),
        name: meta.name.clone(),
        namespace: meta.namespace.clone(),
        uid: meta.uid.clone(),
        resource_version: meta.resource_version.clone(),
        ..ObjectReference::default()
    };
    let note = format!(
        "The operator cannot read this {kind} ({}): it skips it, as if it did not exist, until it is changed or deleted{}.",
        object.error, report.consequence
    );
    report.announcer.warn(regarding, UNREADABLE, &note);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ServiceApproval;
    use crate::fixtures;
    use kube::{ResourceExt, runtime::reflector};

    fn approval(name: &str, version: &str) -> ServiceApproval {
        fixtures::approval(name).resource_version(version).build()
    }

    fn unreadable(name: &str, version: &str) -> Decoded<ServiceApproval> {
        let metadata = approval(name, version).metadata;
        Decoded::Unreadable(Box::new(Unreadable {
            metadata,
            error: "spec.expiresAt: out of range".into(),
        }))
    }

    /// What comes out of the stream for each event, by kind and name.
    fn shape(event: &Option<WatchEvent<ServiceApproval>>) -> String {
        match event {
            None => "-".into(),
            Some(Ok(watcher::Event::Init)) => "Init".into(),
            Some(Ok(watcher::Event::InitDone)) => "InitDone".into(),
            Some(Ok(watcher::Event::InitApply(a))) => format!("InitApply {}", a.name_any()),
            Some(Ok(watcher::Event::Apply(a))) => format!("Apply {}", a.name_any()),
            Some(Ok(watcher::Event::Delete(a))) => format!("Delete {}", a.name_any()),
            Some(Err(_)) => "Err".into(),
        }
    }

    #[tokio::test]
    async fn an_unreadable_object_is_skipped_its_cached_copy_dropped_and_reported_once() {
        let client = kube::Client::try_from(kube::Config::new(
            "http://127.0.0.1:9".parse().expect("a URL"),
        ))
        .expect("a client");
        let telemetry = Telemetry::default();
        let report = Report {
            announcer: Announcer {
                client,
                reporter: "charter".into(),
            },
            telemetry: telemetry.clone(),
            consequence: "",
        };
        let (store, writer) = reflector::store();
        let mut reflect = crate::cached::reflect(writer);
        let skipped = Arc::new(Skipped::default());
        let mut readable = readable(store, skipped.clone(), report);
        let steps: Vec<(watcher::Event<Decoded<ServiceApproval>>, &str)> = vec![
            (watcher::Event::Init, "Init"),
            (watcher::Event::InitApply(unreadable("a", "1")), "-"),
            (
                watcher::Event::InitApply(Decoded::Readable(approval("b", "1"))),
                "InitApply b",
            ),
            (watcher::Event::InitDone, "InitDone"),
            // Readable, then not: the cached copy leaves the cache.
            (
                watcher::Event::Apply(Decoded::Readable(approval("a", "2"))),
                "Apply a",
            ),
            (watcher::Event::Apply(unreadable("a", "3")), "Delete a"),
            (watcher::Event::Apply(unreadable("a", "3")), "-"),
            (watcher::Event::Apply(unreadable("b", "2")), "Delete b"),
            (watcher::Event::Delete(unreadable("b", "3")), "-"),
        ];
        for (i, (event, expected)) in steps.into_iter().enumerate() {
            let out = readable(Ok(event));
            assert_eq!(shape(&out), expected, "step {i}");
            if let Some(event) = &out {
                reflect(event);
            }
            if i == 3 {
                assert!(skipped.contains(Some("ns"), "a"), "a is skipped");
            }
        }
        assert!(skipped.contains(Some("ns"), "a"));
        assert!(
            !skipped.contains(Some("ns"), "b"),
            "a deleted object is forgotten"
        );
        let reports = telemetry
            .encode()
            .lines()
            .find_map(|l| {
                l.strip_prefix("charter_unreadable_objects_total{kind=\"ServiceApproval\"} ")
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        // a at 1, a at 3 (once for two events), b at 2; b's deletion is no new version to tell.
        assert_eq!(reports.trim(), "3");
    }
}
