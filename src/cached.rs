//! The form the operator's caches hold an object in: its identity (name, namespace, uid,
//! resourceVersion, generation) as plain metadata, which the caches key by and the controller's
//! queues read, and the whole object as LZ4-compressed JSON, decoded when a reader needs more.
//!
//! Held as its Rust struct, an Active Service costs ~7 KB: the struct's own fields are 1.9 KB
//! before any heap (mostly empty options), a one-entry annotation map half a KB, and the approved
//! snapshot repeats the spec. As compressed JSON it is ~1 KB: the compressor finds the
//! repetition, and every object is compressed against `DICTIONARY`, the shape all objects of
//! Charter's kinds share, so no object pays for its keys. A reconcile decodes its Service once,
//! in ~10 µs.

use std::{borrow::Cow, marker::PhantomData, sync::OnceLock};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::{
    Resource,
    runtime::{
        reflector::{ObjectRef, store::Writer},
        watcher,
    },
};
use serde::{Serialize, de::DeserializeOwned};

/// What every object is compressed against: a ServiceApproval and a Service with every usual
/// field and an empty value in each (plus the values that name kinds, phases, conditions and
/// their reasons). It holds no content of any real object; a field it lacks only compresses
/// less well. Changing it needs no migration: the caches are filled anew at every start.
static DICTIONARY: &[u8] = include_bytes!("cached/dictionary.json");

/// An object as the caches hold it. `get` decodes the whole object.
pub struct Cached<K> {
    meta: ObjectMeta,
    packed: Box<[u8]>,
    /// A value the object's generation fixes (see `memo`).
    memo: OnceLock<Box<str>>,
    kind: PhantomData<fn() -> K>,
}

impl<K> Clone for Cached<K> {
    fn clone(&self) -> Self {
        Cached {
            meta: self.meta.clone(),
            packed: self.packed.clone(),
            memo: self.memo.clone(),
            kind: PhantomData,
        }
    }
}

impl<K> std::fmt::Debug for Cached<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cached")
            .field("namespace", &self.meta.namespace)
            .field("name", &self.meta.name)
            .field("resource_version", &self.meta.resource_version)
            .field("bytes", &self.packed.len())
            .finish()
    }
}

impl<K: Resource + Serialize + DeserializeOwned> Cached<K> {
    /// The cached form of `object`.
    pub fn new(object: &K) -> Self {
        let meta = object.meta();
        // Serialising Charter's own types cannot fail: every map in them has string keys.
        let json = serde_json::to_vec(object).expect("a Kubernetes object serialises to JSON");
        Cached {
            meta: ObjectMeta {
                name: meta.name.clone(),
                namespace: meta.namespace.clone(),
                uid: meta.uid.clone(),
                resource_version: meta.resource_version.clone(),
                generation: meta.generation,
                ..ObjectMeta::default()
            },
            packed: lz4_flex::block::compress_prepend_size_with_dict(&json, DICTIONARY)
                .into_boxed_slice(),
            memo: OnceLock::new(),
            kind: PhantomData,
        }
    }

    /// The whole object, decoded.
    ///
    /// Panics only if `K`'s `Deserialize` refused what its `Serialize` wrote in `new`: a bug in
    /// the type, which the round-trip tests of Charter's kinds would show.
    pub fn get(&self) -> K {
        let json = lz4_flex::block::decompress_size_prepended_with_dict(&self.packed, DICTIONARY)
            .expect("the cache decompresses what it compressed");
        serde_json::from_slice(&json).expect("the cache decodes what it encoded")
    }

    /// A value computed from what the object's generation fixes, its spec (for a Service, the
    /// revision): `compute` runs once per generation, as the caches carry the value to the
    /// object's next versions while its uid and generation stay (status writes do not move
    /// them).
    pub fn memo(&self, compute: impl FnOnce() -> String) -> &str {
        self.memo.get_or_init(|| compute().into_boxed_str())
    }

    /// Takes `earlier`'s memo when it is a version of the same generation of the same object.
    fn carry_from(&mut self, earlier: &Cached<K>) {
        let (now, then) = (&self.meta, &earlier.meta);
        if now.generation.is_some()
            && now.generation == then.generation
            && now.uid == then.uid
            && let Some(value) = earlier.memo.get()
        {
            let _ = self.memo.set(value.clone());
        }
    }

    /// The object's key, as `key` gives it.
    pub fn key(&self) -> Key<K>
    where
        K: Resource<DynamicType = ()>,
    {
        key_of(&self.meta)
    }

    /// Bytes held beyond the identity.
    pub fn packed_len(&self) -> usize {
        self.packed.len()
    }
}

impl<K: Resource> Resource for Cached<K> {
    type DynamicType = K::DynamicType;
    type Scope = K::Scope;

    fn kind(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::kind(dt)
    }
    fn group(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::group(dt)
    }
    fn version(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::version(dt)
    }
    fn plural(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::plural(dt)
    }
    fn meta(&self) -> &ObjectMeta {
        &self.meta
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.meta
    }
}

/// The key the caches (and the controller's queues) know an object by.
pub type Key<K> = ObjectRef<Cached<K>>;

/// A cache of Services (one per watched scope).
pub type ServiceCache = kube::runtime::reflector::Store<Cached<crate::api::Service>>;

/// The key of `object`: its name and namespace only. The caches' own keys also carry the
/// resourceVersion and uid, which no lookup compares; the keys kept beside them (queues,
/// memories) spare those two strings.
pub fn key<K: Resource<DynamicType = ()>>(object: &K) -> Key<K> {
    key_of(object.meta())
}

fn key_of<K: Resource<DynamicType = ()>>(meta: &ObjectMeta) -> Key<K> {
    let name = ObjectRef::new(meta.name.as_deref().unwrap_or_default());
    match meta.namespace.as_deref() {
        Some(namespace) => name.within(namespace),
        None => name,
    }
}

/// kube's reflector step for a stream of `K`: `writer`'s store holds the cached forms, while the
/// stream goes on with the objects as decoded (the readers downstream need them whole).
pub fn reflect<K>(
    mut writer: Writer<Cached<K>>,
) -> impl FnMut(&Result<watcher::Event<K>, watcher::Error>) + Send + 'static
where
    K: Resource<DynamicType = ()> + Serialize + DeserializeOwned + 'static,
{
    let store = writer.as_reader();
    move |event| {
        if let Ok(event) = event {
            let mut event = cached(event);
            // A new version of an object the store holds carries its memo on.
            if let watcher::Event::Apply(fresh) = &mut event
                && let Some(earlier) = store.get(&fresh.key())
            {
                fresh.carry_from(&earlier);
            }
            writer.apply_watcher_event(&event);
        }
    }
}

fn cached<K>(event: &watcher::Event<K>) -> watcher::Event<Cached<K>>
where
    K: Resource + Serialize + DeserializeOwned,
{
    match event {
        watcher::Event::Apply(k) => watcher::Event::Apply(Cached::new(k)),
        watcher::Event::Delete(k) => watcher::Event::Delete(Cached::new(k)),
        watcher::Event::Init => watcher::Event::Init,
        watcher::Event::InitApply(k) => watcher::Event::InitApply(Cached::new(k)),
        watcher::Event::InitDone => watcher::Event::InitDone,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Phase, Service, ServiceApproval};
    use crate::fixtures::{approval, service};
    use kube::{ResourceExt, runtime::reflector};

    fn active() -> Service {
        let mut s = service("ledger")
            .owner("ava")
            .description("books, settles and reconciles payments; the system of record")
            .phase(Phase::Active)
            .approved("0123456789")
            .ready("True", "Active: the catalog publishes revision 0123456789")
            .uid("8d7c5e0a-1f2b-4c3d-9e8f-0a1b2c3d4e5f")
            .resource_version("42")
            .build();
        s.metadata.generation = Some(3);
        s.metadata.annotations = Some(
            [(
                "catalog.charter.dev/created-by".to_owned(),
                "ava".to_owned(),
            )]
            .into(),
        );
        s
    }

    /// Charter's root types have no `PartialEq` (kube's derive gives none): compare as JSON.
    fn json<T: Serialize>(t: &T) -> serde_json::Value {
        serde_json::to_value(t).expect("json")
    }

    #[test]
    fn an_object_comes_back_whole() {
        let s = active();
        assert_eq!(json(&Cached::new(&s).get()), json(&s));
        let a = approval("a1").resource_version("7").build();
        assert_eq!(json(&Cached::new(&a).get()), json(&a));
    }

    #[test]
    fn the_identity_is_read_without_decoding() {
        let c = Cached::new(&active());
        assert_eq!(c.name_any(), "ledger");
        assert_eq!(c.namespace().as_deref(), Some("ns"));
        assert_eq!(
            c.uid().as_deref(),
            Some("8d7c5e0a-1f2b-4c3d-9e8f-0a1b2c3d4e5f")
        );
        assert_eq!(c.resource_version().as_deref(), Some("42"));
        assert_eq!(c.meta().generation, Some(3));
        // Nothing else is kept outside the packed bytes.
        assert_eq!(c.meta().annotations, None);
        assert_eq!(Cached::<Service>::kind(&()), "Service");
        assert_eq!(Cached::<ServiceApproval>::plural(&()), "serviceapprovals");
    }

    #[test]
    fn the_snapshot_repeating_the_spec_costs_little() {
        let with = active();
        let mut without = with.clone();
        if let Some(status) = &mut without.status {
            status.snapshot = None;
        }
        let json = |s: &Service| serde_json::to_vec(s).expect("json").len();
        let packed = |s: &Service| Cached::new(s).packed_len();
        assert!(packed(&with) < json(&with));
        let (raw, compressed) = (
            json(&with) - json(&without),
            packed(&with) - packed(&without),
        );
        assert!(
            compressed * 2 < raw,
            "the snapshot adds {compressed} bytes packed, {raw} bytes of JSON"
        );
    }

    #[test]
    fn the_dictionary_spares_every_object_its_keys() {
        for json in [
            serde_json::to_vec(&active()).expect("json"),
            serde_json::to_vec(&approval("a1").build()).expect("json"),
        ] {
            let alone = lz4_flex::compress_prepend_size(&json).len();
            let against = lz4_flex::block::compress_prepend_size_with_dict(&json, DICTIONARY).len();
            assert!(
                against * 4 < alone * 3,
                "{against} bytes with the dictionary, {alone} without"
            );
        }
        // It is JSON: one object a line, each of one of Charter's kinds.
        let kinds: Vec<String> = std::str::from_utf8(DICTIONARY)
            .expect("utf-8")
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("a JSON object"))
            .map(|v| v["kind"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(kinds, ["ServiceApproval", "Service"]);
    }

    #[test]
    fn a_memo_lasts_while_the_generation_does() {
        let (store, writer) = reflector::store::<Cached<Service>>();
        let mut reflect = reflect(writer);
        let key = ObjectRef::new("ledger").within("ns");
        let memo = |computed: &str| {
            let cached = store.get(&key).expect("cached");
            cached.memo(|| computed.to_owned()).to_owned()
        };
        let mut s = active();
        reflect(&Ok(watcher::Event::Apply(s.clone())));
        assert_eq!(memo("first"), "first");
        // A status write: a new resourceVersion, the same generation.
        s.metadata.resource_version = Some("43".into());
        reflect(&Ok(watcher::Event::Apply(s.clone())));
        assert_eq!(memo("again"), "first", "carried, not computed again");
        // A spec change moves the generation.
        s.metadata.generation = Some(4);
        reflect(&Ok(watcher::Event::Apply(s.clone())));
        assert_eq!(memo("second"), "second");
        // The same name and generation, another object (deleted and created again).
        s.metadata.uid = Some("another".into());
        reflect(&Ok(watcher::Event::Apply(s)));
        assert_eq!(memo("third"), "third");
    }

    #[test]
    fn the_store_follows_the_stream_with_cached_forms() {
        let (store, writer) = reflector::store::<Cached<Service>>();
        let mut reflect = reflect(writer);
        let s = active();
        reflect(&Ok(watcher::Event::Init));
        reflect(&Ok(watcher::Event::InitApply(s.clone())));
        reflect(&Ok(watcher::Event::InitDone));
        let key = ObjectRef::new("ledger").within("ns");
        assert_eq!(key, super::key(&s));
        assert_eq!(store.get(&key).map(|c| json(&c.get())), Some(json(&s)));
        assert_eq!(store.state().len(), 1);
        reflect(&Ok(watcher::Event::Delete(s)));
        assert!(store.get(&key).is_none());
    }
}
