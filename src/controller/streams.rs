//! The watch streams of one scope, wired into its caches, its indexes and its reconcile queues:
//! a Service's own changes, its approvals' changes and its dependencies' phase moves wake its
//! reconcile; an approval whose Service may be missing wakes the orphans' reconcile.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use futures::{Stream, StreamExt, TryStreamExt, channel::mpsc, stream};
use kube::{
    Api, Client, ResourceExt,
    runtime::{
        WatchStreamExt,
        controller::{ReconcileReason, ReconcileRequest},
        reflector::{self, ObjectRef},
        watcher,
    },
};
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use super::{
    announce::Announcer, approvals::ApprovalIndex, decoded::Decoded, follow, notifications,
    scope::Scope, scope::Wake, telemetry::Telemetry, unreadable,
};
use crate::{
    api::{Service, ServiceApproval},
    cached::{self, Cached, Key},
};

/// What every scope's streams share.
pub(super) struct Streams {
    pub client: Client,
    pub watch_config: watcher::Config,
    pub announcer: Announcer,
    pub telemetry: Telemetry,
    pub follow: follow::Shared,
    /// Wakes the notification tasks on any change of a Service.
    pub notify: watch::Sender<u64>,
    pub notify_dirty: broadcast::Sender<notifications::Changed>,
    /// Cancelled once every stream has listed once; `pending` counts those still listing.
    pub synced: CancellationToken,
    pub pending: Arc<AtomicUsize>,
    /// Ends the reconcile queues.
    pub stop: CancellationToken,
}

/// A reconcile request, as the appliers take them.
type Request<K> = Result<ReconcileRequest<K>, watcher::Error>;

/// One scope's caches and its two reconcile queues: the Services', the orphaned approvals'.
pub(super) struct Scoped<S, O> {
    pub scope: Scope,
    pub services: S,
    pub orphans: O,
}

impl Streams {
    /// The shared handles of `scopes` streams (two per scope) plus the policies' one.
    pub(super) fn new(
        client: &Client,
        streaming_lists: bool,
        telemetry: &Telemetry,
        follow: follow::Shared,
        notify: watch::Sender<u64>,
        stop: &CancellationToken,
        scopes: usize,
    ) -> Self {
        let watch_config = if streaming_lists {
            watcher::Config::default().streaming_lists()
        } else {
            watcher::Config::default()
        };
        Streams {
            client: client.clone(),
            watch_config,
            announcer: Announcer {
                client: client.clone(),
                reporter: reporter(),
            },
            telemetry: telemetry.clone(),
            follow,
            notify,
            notify_dirty: notifications::dirty_channel(),
            // Readiness comes from the watch streams themselves: `Store::wait_until_ready`
            // wakes only its last waiter, so concurrent reconciliations must not wait on it.
            synced: CancellationToken::new(),
            pending: Arc::new(AtomicUsize::new(2 * scopes + 1)),
            stop: stop.clone(),
        }
    }

    /// The wake-ups of the dependants, by scope (they cross namespaces, so every scope's stream
    /// may wake any scope's Services), and each scope's receiving end.
    pub(super) fn wakes(
        namespaces: &[Option<String>],
    ) -> (Wake, Vec<mpsc::UnboundedReceiver<Key<Service>>>) {
        let (senders, receivers) = namespaces
            .iter()
            .map(|namespace| {
                let (tx, rx) = mpsc::unbounded();
                ((namespace.clone(), tx), rx)
            })
            .unzip();
        (Wake(senders), receivers)
    }

    fn report(&self, consequence: &'static str) -> unreadable::Report {
        unreadable::Report {
            announcer: self.announcer.clone(),
            telemetry: self.telemetry.clone(),
            consequence,
        }
    }

    /// The streams of one scope; `retriggered` brings its Services whose dependencies moved.
    pub(super) fn scope(
        &self,
        namespace: Option<String>,
        retriggered: mpsc::UnboundedReceiver<Key<Service>>,
    ) -> Scoped<
        impl Stream<Item = Request<Cached<Service>>> + Send + 'static,
        impl Stream<Item = Request<Cached<ServiceApproval>>> + Send + 'static,
    > {
        let (services, service_writer) = reflector::store();
        let (approvals, approval_writer) = reflector::store();
        let approval_index = Arc::new(ApprovalIndex::default());
        let (orphans_tx, orphans_rx) = mpsc::unbounded();
        let skipped_services = Arc::new(unreadable::Skipped::default());
        let skipped_approvals = Arc::new(unreadable::Skipped::default());
        // Objects are decoded one by one, so that one the operator cannot read is skipped
        // rather than failing the list and watch of every other.
        let service_api: Api<Decoded<Service>> = api(&self.client, namespace.as_deref());
        let approval_api: Api<Decoded<ServiceApproval>> = api(&self.client, namespace.as_deref());

        let mut readable_services = unreadable::readable(
            services.clone(),
            skipped_services.clone(),
            self.report("; it is held out of the catalog meanwhile"),
        );
        let own = watcher(service_api, self.watch_config.clone())
            .default_backoff()
            .filter_map(move |event| std::future::ready(readable_services(event)))
            .modify(follow::strip)
            .inspect(cached::reflect(service_writer))
            .inspect(self.first_sync())
            .inspect(notifications::wake(&self.notify, &self.notify_dirty))
            .inspect(follow::services(
                namespace.clone(),
                services.clone(),
                self.follow.clone(),
                approval_index.clone(),
                orphans_tx.clone(),
            ))
            .applied_objects()
            .map_ok(|s: Service| ReconcileRequest {
                obj_ref: cached::key(&s),
                reason: ReconcileReason::ObjectUpdated,
            });
        // The approval cache and index are updated before the request is emitted, so the
        // reconciliation it triggers sees the approval. Deleted approvals trigger too.
        let mut readable_approvals = unreadable::readable(
            approvals.clone(),
            skipped_approvals.clone(),
            self.report("; it does not count meanwhile"),
        );
        let related = watcher(approval_api, self.watch_config.clone())
            .default_backoff()
            .filter_map(move |event| std::future::ready(readable_approvals(event)))
            .modify(follow::strip)
            .inspect(cached::reflect(approval_writer))
            .inspect(self.first_sync())
            .inspect(follow::approvals(
                namespace.clone(),
                approvals.clone(),
                approval_index.clone(),
                follow::ApprovalsShared {
                    services: services.clone(),
                    orphans: orphans_tx,
                    memory: self.follow.memory.clone(),
                    skipped: skipped_approvals,
                    announcer: self.announcer.clone(),
                },
            ))
            .touched_objects()
            .try_filter_map(|a: ServiceApproval| async move {
                Ok(a.namespace().map(|ns| ReconcileRequest {
                    obj_ref: ObjectRef::new(&a.spec.service_name).within(&ns),
                    reason: ReconcileReason::Custom {
                        reason: format!("approval {} changed", a.name_any()),
                    },
                }))
            });
        let dependants = retriggered.map(|obj_ref| {
            Ok(ReconcileRequest {
                obj_ref,
                reason: ReconcileReason::Custom {
                    reason: "dependency phase changed".into(),
                },
            })
        });
        let queue = stream::select_all([own.boxed(), related.boxed(), dependants.boxed()])
            .take_until(self.stop.clone().cancelled_owned());
        let orphans = orphans_rx
            .map(|obj_ref| {
                Ok(ReconcileRequest {
                    obj_ref,
                    reason: ReconcileReason::Custom {
                        reason: "its Service may be missing".into(),
                    },
                })
            })
            .take_until(self.stop.clone().cancelled_owned());
        Scoped {
            scope: Scope {
                namespace,
                services,
                approvals,
                approval_index,
                skipped_services,
            },
            services: queue,
            orphans,
        }
    }

    /// Counts down `pending` on a stream's first `InitDone` (the cache is then complete) and
    /// cancels `synced` when every stream has listed once.
    pub(super) fn first_sync<K>(
        &self,
    ) -> impl FnMut(&Result<watcher::Event<K>, watcher::Error>) + Send + 'static {
        let (pending, synced) = (self.pending.clone(), self.synced.clone());
        let mut done = false;
        move |event| {
            if !done && matches!(event, Ok(watcher::Event::InitDone)) {
                done = true;
                if pending.fetch_sub(1, Ordering::AcqRel) == 1 {
                    synced.cancel();
                }
            }
        }
    }
}

/// Who the operator's Events come from.
pub(super) fn reporter() -> kube::runtime::events::Reporter {
    kube::runtime::events::Reporter {
        controller: "charter".into(),
        instance: std::env::var("POD_NAME").ok(),
    }
}

fn api<K>(client: &Client, namespace: Option<&str>) -> Api<K>
where
    K: kube::Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}
