//! The controller: kube glue. It turns watch events into calls of `lifecycle::evaluate` and
//! its answer into status writes, Events, requeues and catalog refreshes. It decides nothing.

mod announce;
mod approvals;
mod context;
mod decoded;
mod error;
mod follow;
mod graph;
mod memory;
mod narrate;
mod notifications;
mod orphans;
mod policies;
mod reconcile;
mod status;
pub mod telemetry;
mod unreadable;
mod watch_list;
mod window;

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use futures::{StreamExt, TryStreamExt, channel::mpsc, stream};
use kube::{
    Api, Client, ResourceExt,
    runtime::{
        WatchStreamExt, applier,
        controller::{self, ReconcileReason, ReconcileRequest},
        events::Reporter,
        reflector::{self, ObjectRef},
        watcher,
    },
};
use tokio_util::sync::CancellationToken;

pub use error::Error;
pub use telemetry::Telemetry;
pub use watch_list::streaming_lists_served;
pub use window::Window;

use context::{Context, Scope};
use decoded::Decoded;
use reconcile::{error_policy, reconcile};

use crate::{
    api::{Service, ServiceApproval},
    catalog::{self, CatalogTarget, Published},
    lifecycle::Policy,
};

/// How many phase transitions `status.history` keeps.
pub const HISTORY_LIMIT: usize = 20;

/// What `charter run` configures.
#[derive(Clone, Debug)]
pub struct Config {
    /// The namespaces watched; `None` (or an empty list) watches the whole cluster.
    pub namespaces: Option<Vec<String>>,
    /// Where the catalog ConfigMaps live.
    pub catalog_namespace: String,
    /// The name of the first catalog ConfigMap (shard 0, with the index); the other shards
    /// are `<name>-1`, `<name>-2`, …
    pub catalog_name: String,
    /// How many Services are reconciled at the same time.
    pub concurrency: u16,
    /// Whether the owner's own approval counts (separation of duties is the default).
    pub allow_self_approval: bool,
}

/// How the operator talks to the API server, beyond what `Config` says.
#[derive(Clone, Debug, Default)]
pub struct Tuning {
    /// List the caches with a streaming list (a watch with `sendInitialEvents`, where the API
    /// server serves it: the WatchList feature) rather than in pages of 500: lighter on the API
    /// server and on the operator's memory at start.
    pub streaming_lists: bool,
    /// Where the caches are shown to readers in the same process (the portal) once synced.
    pub window: Window,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            namespaces: None,
            catalog_namespace: crate::deploy::CATALOG_NAMESPACE.into(),
            catalog_name: "charter-catalog".into(),
            concurrency: 8,
            allow_self_approval: false,
        }
    }
}

/// Runs the controller and the catalog writer until `shutdown` resolves, then lets the
/// reconciliations in flight finish.
pub async fn run(
    client: Client,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Error> {
    run_with(client, config, Telemetry::default(), shutdown).await
}

/// `run`, reporting metrics and readiness into `telemetry`.
pub async fn run_with(
    client: Client,
    config: Config,
    telemetry: Telemetry,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Error> {
    run_tuned(client, config, Tuning::default(), telemetry, shutdown).await
}

/// `run_with`, tuned.
pub async fn run_tuned(
    client: Client,
    config: Config,
    tuning: Tuning,
    telemetry: Telemetry,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Error> {
    let token = CancellationToken::new();
    let namespaces: Vec<Option<String>> = match config.namespaces.clone() {
        Some(list) if !list.is_empty() => list.into_iter().map(Some).collect(),
        _ => vec![None],
    };

    let (dirty, marks) = catalog::dirty_channel();
    let published = Arc::new(Published::new(dirty.clone()));
    let graph = Arc::new(graph::Graph::default());
    let memory = Arc::new(memory::Memory::counting_overdue_in(
        telemetry.reviews_overdue(),
    ));
    // Dependants cross namespaces, so every scope's stream may wake any scope's Services.
    let (senders, receivers): (Vec<_>, Vec<_>) = namespaces
        .iter()
        .map(|namespace| {
            let (tx, rx) = mpsc::unbounded();
            ((namespace.clone(), tx), rx)
        })
        .unzip();
    let wake = Arc::new(follow::Wake(senders));
    let mut scopes = Vec::new();
    // Readiness comes from the watch streams themselves: `Store::wait_until_ready` wakes only
    // its last waiter, so concurrent reconciliations must not wait on it.
    let synced = CancellationToken::new();
    // Two streams per scope, and the ApprovalPolicies' one.
    let pending = Arc::new(AtomicUsize::new(2 * namespaces.len() + 1));
    let mut queues = Vec::new();
    let mut orphan_queues = Vec::new();
    let reporter = Reporter {
        controller: "charter".into(),
        instance: std::env::var("POD_NAME").ok(),
    };
    let announcer = announce::Announcer {
        client: client.clone(),
        reporter: reporter.clone(),
    };
    let report = |consequence| unreadable::Report {
        announcer: announcer.clone(),
        telemetry: telemetry.clone(),
        consequence,
    };
    // Wakes the notification tasks on any change of a Service or a subscription.
    let (notify_tx, notify_rx) = tokio::sync::watch::channel(0u64);
    let notify_dirty = notifications::dirty_channel();
    let watch_config = if tuning.streaming_lists {
        watcher::Config::default().streaming_lists()
    } else {
        watcher::Config::default()
    };
    for (namespace, retriggered) in namespaces.into_iter().zip(receivers) {
        let (services, service_writer) = reflector::store();
        let (approvals, approval_writer) = reflector::store();
        let approval_index = Arc::new(approvals::ApprovalIndex::default());
        let (orphans_tx, orphans_rx) = mpsc::unbounded();
        let skipped_services = Arc::new(unreadable::Skipped::default());
        let skipped_approvals = Arc::new(unreadable::Skipped::default());
        // Objects are decoded one by one, so that one the operator cannot read is skipped
        // rather than failing the list and watch of every other.
        let service_api: Api<Decoded<Service>> = api(&client, namespace.as_deref());
        let approval_api: Api<Decoded<ServiceApproval>> = api(&client, namespace.as_deref());

        let mut readable_services = unreadable::readable(
            services.clone(),
            skipped_services.clone(),
            report("; it is held out of the catalog meanwhile"),
        );
        let own = watcher(service_api, watch_config.clone())
            .default_backoff()
            .filter_map(move |event| std::future::ready(readable_services(event)))
            .modify(follow::strip)
            .reflect(service_writer)
            .inspect(first_sync(&pending, &synced))
            .inspect(notifications::wake(&notify_tx, &notify_dirty))
            .inspect(follow::services(
                namespace.clone(),
                services.clone(),
                follow::Shared {
                    graph: graph.clone(),
                    published: published.clone(),
                    wake: wake.clone(),
                    memory: memory.clone(),
                },
                approval_index.clone(),
                orphans_tx.clone(),
            ))
            .applied_objects()
            .map_ok(|s: Service| ReconcileRequest {
                obj_ref: ObjectRef::from_obj(&s),
                reason: ReconcileReason::ObjectUpdated,
            });
        // The approval cache and index are updated before the request is emitted, so the
        // reconciliation it triggers sees the approval. Deleted approvals trigger too.
        let mut readable_approvals = unreadable::readable(
            approvals.clone(),
            skipped_approvals.clone(),
            report("; it does not count meanwhile"),
        );
        let related = watcher(approval_api, watch_config.clone())
            .default_backoff()
            .filter_map(move |event| std::future::ready(readable_approvals(event)))
            .modify(follow::strip)
            .reflect(approval_writer)
            .inspect(first_sync(&pending, &synced))
            .inspect(follow::approvals(
                namespace.clone(),
                approvals.clone(),
                approval_index.clone(),
                follow::ApprovalsShared {
                    services: services.clone(),
                    orphans: orphans_tx,
                    memory: memory.clone(),
                    skipped: skipped_approvals,
                    announcer: announcer.clone(),
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
            .take_until(token.clone().cancelled_owned());
        queues.push((services.clone(), queue));
        let orphans = orphans_rx
            .map(|obj_ref| {
                Ok::<_, std::convert::Infallible>(ReconcileRequest {
                    obj_ref,
                    reason: ReconcileReason::Custom {
                        reason: "its Service may be missing".into(),
                    },
                })
            })
            .take_until(token.clone().cancelled_owned());
        orphan_queues.push((approvals.clone(), orphans));
        scopes.push(Scope {
            namespace,
            services,
            approvals,
            approval_index,
            skipped_services,
        });
    }

    let service_stores: Vec<_> = scopes.iter().map(|s| s.services.clone()).collect();
    let (approval_policies, policy_writer) = reflector::store();
    let follow_policies = policies::follow(
        &client,
        watch_config.clone(),
        policy_writer,
        service_stores.clone(),
        wake.clone(),
        first_sync(&pending, &synced),
    )
    .take_until(token.clone().cancelled_owned())
    .for_each(|()| std::future::ready(()));
    let (subscriptions, subscription_writer) = reflector::store();
    let follow_subscriptions = notifications::follow(
        &client,
        watch_config.clone(),
        subscription_writer,
        notify_tx,
    )
    .take_until(token.clone().cancelled_owned())
    .for_each(|()| std::future::ready(()));
    let notifier = notifications::run(
        Arc::new(notifications::Shared {
            client: client.clone(),
            services: service_stores.clone(),
            subscriptions,
            operator_namespace: notifications::operator_namespace(),
            changed: notify_rx,
            dirty: notify_dirty,
            telemetry: telemetry.clone(),
            announcer: announcer.clone(),
        }),
        synced.clone(),
        token.clone(),
    );
    let ctx = Arc::new(Context {
        client: client.clone(),
        reporter,
        policy: Policy {
            allow_self_approval: config.allow_self_approval,
            history_limit: HISTORY_LIMIT,
        },
        scopes,
        approval_policies,
        graph,
        telemetry: telemetry.clone(),
        synced: synced.clone(),
        memory,
    });

    let controller_config = controller::Config::default().concurrency(config.concurrency);
    let appliers = queues.into_iter().map(|(store, queue)| {
        let ctx = ctx.clone();
        applier(
            |service, ctx| {
                let task = tokio::spawn(reconcile(service, ctx));
                Box::pin(async move {
                    task.await
                        .unwrap_or_else(|e| Err(Error::Task(e.to_string())))
                })
            },
            error_policy,
            ctx,
            store,
            queue,
            controller_config.clone(),
        )
        .for_each(|result| async move {
            match result {
                Ok((obj_ref, action)) => tracing::debug!(%obj_ref, ?action, "reconciled"),
                // ObjectNotFound is the normal fate of a request for a deleted Service.
                Err(controller::Error::ObjectNotFound(obj_ref)) => {
                    tracing::debug!(%obj_ref, "gone")
                }
                // `error_policy` has logged it, once.
                Err(controller::Error::ReconcilerFailed(..)) => {}
                Err(error) => tracing::warn!(%error, "controller"),
            }
        })
    });
    let orphan_appliers = orphan_queues.into_iter().map(|(store, queue)| {
        applier(
            |approval, ctx| Box::pin(orphans::reconcile(approval, ctx)),
            orphans::error_policy,
            ctx.clone(),
            store,
            queue,
            controller_config.clone(),
        )
        .for_each(|result| async move {
            match result {
                // `orphans::error_policy` logs a failed reconcile, once.
                Ok(_)
                | Err(
                    controller::Error::ObjectNotFound(_) | controller::Error::ReconcilerFailed(..),
                ) => {}
                Err(error) => tracing::warn!(%error, "approvals without their Service"),
            }
        })
    });
    let controllers = futures::future::join(
        futures::future::join_all(appliers),
        futures::future::join_all(orphan_appliers),
    );

    let writer = catalog::Writer::new(
        client.clone(),
        CatalogTarget {
            namespace: config.catalog_namespace.clone(),
            name: config.catalog_name.clone(),
        },
    )
    .run(
        published,
        service_stores,
        dirty,
        marks,
        synced.clone().cancelled_owned(),
        token.clone().cancelled_owned(),
    );

    let readiness = {
        let ctx = ctx.clone();
        let telemetry = telemetry.clone();
        let window = tuning.window.clone();
        let stores: Vec<_> = ctx.scopes.iter().map(|s| s.services.clone()).collect();
        async move {
            ctx.synced().await;
            window.show(stores);
            telemetry.set_ready(true);
        }
    };

    let stop = async {
        shutdown.await;
        tracing::info!("shutting down: letting reconciliations in flight finish");
        token.cancel();
    };

    let work = async {
        tokio::join!(
            controllers,
            writer,
            follow_policies,
            follow_subscriptions,
            notifier,
            async {
                tokio::select! {
                    () = readiness => {},
                    () = token.cancelled() => {},
                }
            }
        );
    };
    tokio::pin!(work);
    tokio::pin!(stop);
    tokio::select! {
        () = &mut work => {}
        () = &mut stop => tokio::select! {
            () = &mut work => {}
            // Until every cache has listed once, no reconcile gets past its wait for the caches
            // and the catalog writer writes nothing: there is nothing in flight to let finish.
            // kube's appliers would wait for their store's first list, which a list that keeps
            // failing never brings.
            () = unless_synced(&synced) => tracing::info!("stopping before the caches synced"),
        },
    }
    telemetry.set_ready(false);
    tuning.window.hide();
    Ok(())
}

/// Resolves at once if `synced` has not fired; never otherwise.
async fn unless_synced(synced: &CancellationToken) {
    if synced.is_cancelled() {
        std::future::pending::<()>().await;
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

/// Counts down `pending` on a stream's first `InitDone` (the cache is then complete) and
/// cancels `synced` when every stream has listed once.
fn first_sync<K>(
    pending: &Arc<AtomicUsize>,
    synced: &CancellationToken,
) -> impl FnMut(&Result<watcher::Event<K>, watcher::Error>) + Send + 'static {
    let (pending, synced) = (pending.clone(), synced.clone());
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
