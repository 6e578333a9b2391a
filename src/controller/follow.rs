//! Keeps the indexes in step with the watch streams, relists included: the dependency graph and
//! the published catalog entries from the Services, the approvals index from the approvals; and
//! wakes the dependants of a Service whose phase moved, and the approvals left without their
//! Service. Runs right after the reflector has stored the event, so whatever it wakes reads the
//! new version.

use std::sync::Arc;

use futures::channel::mpsc::UnboundedSender;
use kube::{
    Resource, ResourceExt,
    runtime::{
        reflector::{ObjectRef, Store},
        watcher,
    },
};

use super::{
    announce::Announcer,
    approvals::ApprovalIndex,
    graph::Graph,
    memory::Memory,
    scope::{Wake, covers},
    unreadable::Skipped,
};
use crate::{
    api::{Service, ServiceApproval, ServiceRef},
    cached::{self, Cached, Key},
    catalog::Published,
};

/// Where to send an approval whose Service may be missing: its scope's orphans queue.
pub(crate) type Orphans = UnboundedSender<Key<ServiceApproval>>;

/// The prefix of the annotations the operator reads (and the caches keep).
pub(crate) const OWN_ANNOTATIONS: &str = "catalog.charter.dev/";

/// What the caches keep of an object: not its managedFields, labels or annotations (kubectl's
/// last-applied copy of the spec among them), which the operator never reads; but its own
/// `catalog.charter.dev/` annotations.
pub(crate) fn strip<K: Resource>(object: &mut K) {
    let meta = object.meta_mut();
    meta.managed_fields = None;
    meta.labels = None;
    if let Some(annotations) = &mut meta.annotations {
        annotations.retain(|key, _| key.starts_with(OWN_ANNOTATIONS));
        if annotations.is_empty() {
            meta.annotations = None;
        }
    }
}

type WatchEvent<K> = Result<watcher::Event<K>, watcher::Error>;

/// What every scope's Service stream keeps up to date, shared by all scopes.
#[derive(Clone)]
pub(crate) struct Shared {
    pub graph: Arc<Graph>,
    pub published: Arc<Published>,
    pub wake: Arc<Wake>,
    pub memory: Arc<Memory>,
}

/// Follows one scope's Service stream into the graph and the published entries.
pub(crate) fn services(
    scope: Option<String>,
    store: Store<Cached<Service>>,
    shared: Shared,
    approvals: Arc<ApprovalIndex>,
    orphans: Orphans,
) -> impl FnMut(&WatchEvent<Service>) + Send + 'static {
    let Shared {
        graph,
        published,
        wake,
        memory,
    } = shared;
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
                // Its approvals now name a Service that does not exist.
                for name in approvals.names_for(&namespace, &s.name_any()) {
                    let _ = orphans.unbounded_send(ObjectRef::new(&name).within(&namespace));
                }
            }
            memory.forget_service(&cached::key(s));
            wake.send(graph.remove(&ServiceRef::of(s)));
        }
        // The store now holds exactly what the relist found: forget what it did not.
        Ok(watcher::Event::InitDone) => {
            let exists = |namespace: &str, name: &str| {
                !covers(scope.as_deref(), namespace)
                    || store.get(&ObjectRef::new(name).within(namespace)).is_some()
            };
            // A relist is a full pass already: decoding each Service once is its share.
            for s in store.state() {
                if s.namespace()
                    .is_some_and(|ns| covers(scope.as_deref(), &ns))
                {
                    published.upsert(&s.get());
                }
            }
            published.retain(exists);
            memory.retain_services(|r| exists(r.namespace.as_deref().unwrap_or_default(), &r.name));
            wake.send(
                graph.retain(|r| exists(r.namespace.as_deref().unwrap_or_default(), &r.name)),
            );
            // Services deleted while the watch was down left no Delete event: their approvals
            // are told here. A relist is a full pass already; this walks the approvals index once.
            for ((namespace, service), names) in approvals.all() {
                if !exists(&namespace, &service) {
                    for name in names {
                        let _ = orphans.unbounded_send(ObjectRef::new(&name).within(&namespace));
                    }
                }
            }
        }
        Ok(watcher::Event::Init) | Err(_) => {}
    }
}

/// What a scope's approval stream reaches beyond its own cache and index.
pub(crate) struct ApprovalsShared {
    pub services: Store<Cached<Service>>,
    pub orphans: Orphans,
    pub memory: Arc<Memory>,
    /// The approvals skipped as unreadable: their Delete is no deletion.
    pub skipped: Arc<Skipped>,
    pub announcer: Announcer,
}

/// The Event reason of a counted approval deleted.
pub(crate) const APPROVAL_DELETED: &str = "ApprovalDeleted";

/// Follows one scope's ServiceApproval stream into its approvals index, and sends the approvals
/// naming a Service not in the cache (yet: the orphans controller checks again once synced) to
/// `orphans`. A counted approval deleted is told on its Service: deletion leaves no other trace.
pub(crate) fn approvals(
    scope: Option<String>,
    store: Store<Cached<ServiceApproval>>,
    index: Arc<ApprovalIndex>,
    shared: ApprovalsShared,
) -> impl FnMut(&WatchEvent<ServiceApproval>) + Send + 'static {
    let ApprovalsShared {
        services,
        orphans,
        memory,
        skipped,
        announcer,
    } = shared;
    move |event| match event {
        Ok(watcher::Event::Apply(a) | watcher::Event::InitApply(a)) => {
            index.upsert(a);
            if let Some(namespace) = a.namespace() {
                let service = ObjectRef::new(&a.spec.service_name).within(&namespace);
                if services.get(&service).is_none() {
                    let _ = orphans.unbounded_send(cached::key(a));
                }
            }
        }
        Ok(watcher::Event::Delete(a)) => {
            memory.forget_approval(&cached::key(a));
            index.remove(a);
            if !skipped.contains(a.namespace().as_deref(), &a.name_any()) {
                tell_deleted(a, &services, &announcer);
            }
        }
        Ok(watcher::Event::InitDone) => {
            index.retain(|namespace, service, name| {
                !covers(scope.as_deref(), namespace)
                    || store
                        .get(&ObjectRef::new(name).within(namespace))
                        .is_some_and(|a| a.get().spec.service_name == service)
            });
            memory.retain_approvals(|r| {
                let namespace = r.namespace.as_deref().unwrap_or_default();
                !covers(scope.as_deref(), namespace) || store.get(r).is_some()
            });
        }
        Ok(watcher::Event::Init) | Err(_) => {}
    }
}

/// Tells the Service of a counted approval that the approval was deleted, naming it and its
/// approver. Nothing is told when the Service is gone too (a namespace or a GitOps app pruned).
fn tell_deleted(
    approval: &ServiceApproval,
    services: &Store<Cached<Service>>,
    announcer: &Announcer,
) {
    if !approval.status.as_ref().is_some_and(|s| s.counted) {
        return;
    }
    let Some(namespace) = approval.namespace() else {
        return;
    };
    let Some(service) =
        services.get(&ObjectRef::new(&approval.spec.service_name).within(&namespace))
    else {
        return;
    };
    let spec = &approval.spec;
    let note = format!(
        "ServiceApproval {} ({:?} by {} for revision {}) was deleted while it counted. A revision \
         that reached its quorum stays approved (approvals are sticky); revocation is a Rejected \
         approval.",
        approval.name_any(),
        spec.decision,
        spec.approver,
        spec.revision
    );
    announcer.warn(service.object_ref(&()), APPROVAL_DELETED, &note);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Service, ServiceSpec};

    #[test]
    fn the_cache_keeps_only_the_operators_own_annotations() {
        let mut service = Service::new("ledger", ServiceSpec::default());
        service.metadata.annotations = Some(
            [
                ("catalog.charter.dev/created-by", "dana"),
                ("kubectl.kubernetes.io/last-applied-configuration", "{}"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        );
        service.metadata.labels = Some([("team".to_owned(), "payments".to_owned())].into());
        strip(&mut service);
        assert_eq!(
            service.metadata.annotations,
            Some(
                [(
                    "catalog.charter.dev/created-by".to_owned(),
                    "dana".to_owned()
                )]
                .into()
            )
        );
        assert_eq!(service.metadata.labels, None);

        let mut other = Service::new("fx", ServiceSpec::default());
        other.metadata.annotations = Some([("a".to_owned(), "b".to_owned())].into());
        strip(&mut other);
        assert_eq!(other.metadata.annotations, None);
    }
}
