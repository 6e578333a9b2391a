//! Keeps the indexes in step with the watch streams, relists included: the dependency graph and
//! the published catalog entries from the Services, the approvals index from the approvals; and
//! wakes the dependants of a Service whose phase moved. Runs right after the reflector has
//! stored the event, so whatever it wakes reads the new version.

use std::sync::Arc;

use futures::channel::mpsc::UnboundedSender;
use kube::{
    Resource, ResourceExt,
    runtime::{
        reflector::{ObjectRef, Store},
        watcher,
    },
};

use super::{approvals::ApprovalIndex, context::covers, graph::Graph, memory::Memory};
use crate::{
    api::{Service, ServiceApproval, ServiceRef},
    catalog::Published,
};

/// Where to send a Service to be reconciled again: its scope's queue.
pub(crate) struct Wake(pub Vec<(Option<String>, UnboundedSender<ObjectRef<Service>>)>);

impl Wake {
    fn send(&self, services: Vec<ServiceRef>) {
        for service in services {
            let Some(namespace) = service.namespace.as_deref() else {
                continue;
            };
            if let Some((_, queue)) = self.0.iter().find(|(s, _)| covers(s.as_deref(), namespace)) {
                let _ = queue.unbounded_send(ObjectRef::new(&service.name).within(namespace));
            }
        }
    }
}

/// What the caches keep of an object: not its managedFields, annotations (kubectl's
/// last-applied copy of the spec) or labels, which the operator never reads.
pub(crate) fn strip<K: Resource>(object: &mut K) {
    let meta = object.meta_mut();
    meta.managed_fields = None;
    meta.annotations = None;
    meta.labels = None;
}

type WatchEvent<K> = Result<watcher::Event<K>, watcher::Error>;

/// Follows one scope's Service stream into the graph and the published entries.
pub(crate) fn services(
    scope: Option<String>,
    store: Store<Service>,
    graph: Arc<Graph>,
    published: Arc<Published>,
    wake: Arc<Wake>,
    memory: Arc<Memory>,
) -> impl FnMut(&WatchEvent<Service>) + Send + 'static {
    move |event| match event {
        Ok(watcher::Event::Apply(s)) => {
            published.upsert(s);
            wake.send(graph.upsert(s));
        }
        // The published entries follow the cache, which the writer renders from: during a
        // relist the cache holds the old list until the end (and keeps it when the relist
        // fails), so entries taken from the relist's events would name Services the cache
        // cannot render yet, and the catalog would chase them. They are taken at `InitDone`.
        Ok(watcher::Event::InitApply(s)) => wake.send(graph.upsert(s)),
        Ok(watcher::Event::Delete(s)) => {
            if let Some(namespace) = s.namespace() {
                published.remove(&namespace, &s.name_any());
            }
            memory.forget_service(&ObjectRef::from_obj(s));
            wake.send(graph.remove(&ServiceRef::of(s)));
        }
        // The store now holds exactly what the relist found: forget what it did not.
        Ok(watcher::Event::InitDone) => {
            let exists = |namespace: &str, name: &str| {
                !covers(scope.as_deref(), namespace)
                    || store.get(&ObjectRef::new(name).within(namespace)).is_some()
            };
            for s in store.state() {
                if s.namespace()
                    .is_some_and(|ns| covers(scope.as_deref(), &ns))
                {
                    published.upsert(&s);
                }
            }
            published.retain(exists);
            memory.retain_services(|r| exists(r.namespace.as_deref().unwrap_or_default(), &r.name));
            wake.send(
                graph.retain(|r| exists(r.namespace.as_deref().unwrap_or_default(), &r.name)),
            );
        }
        Ok(watcher::Event::Init) | Err(_) => {}
    }
}

/// Follows one scope's ServiceApproval stream into its approvals index.
pub(crate) fn approvals(
    scope: Option<String>,
    store: Store<ServiceApproval>,
    index: Arc<ApprovalIndex>,
    memory: Arc<Memory>,
) -> impl FnMut(&WatchEvent<ServiceApproval>) + Send + 'static {
    move |event| match event {
        Ok(watcher::Event::Apply(a) | watcher::Event::InitApply(a)) => index.upsert(a),
        Ok(watcher::Event::Delete(a)) => {
            memory.forget_approval(&ObjectRef::from_obj(a));
            index.remove(a)
        }
        Ok(watcher::Event::InitDone) => {
            index.retain(|namespace, service, name| {
                !covers(scope.as_deref(), namespace)
                    || store
                        .get(&ObjectRef::new(name).within(namespace))
                        .is_some_and(|a| a.spec.service_name == service)
            });
            memory.retain_approvals(|r| {
                let namespace = r.namespace.as_deref().unwrap_or_default();
                !covers(scope.as_deref(), namespace) || store.get(r).is_some()
            });
        }
        Ok(watcher::Event::Init) | Err(_) => {}
    }
}
