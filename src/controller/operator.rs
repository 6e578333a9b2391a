//! The operator: one `Operator`, configured with builder methods, runs the watch streams, the
//! reconcilers, the catalog writer and the notifications until told to stop, then lets the
//! reconciliations in flight finish.

use std::{future::Future, sync::Arc};

use futures::{Stream, StreamExt};
use kube::{
    Client,
    runtime::{
        applier,
        controller::{self, ReconcileRequest},
        reflector::{self, Store},
        watcher,
    },
};
use tokio_util::sync::CancellationToken;

use super::{
    Config, Error, Telemetry, Window,
    context::Context,
    follow, graph, memory, notifications, orphans, policies,
    reconcile::{error_policy, reconcile},
    streams::{self, Streams},
};
use crate::{
    api::{Service, ServiceApproval},
    cached::Cached,
    catalog::{self, CatalogTarget, Published},
    lifecycle::Policy,
};

/// The operator, as `charter run` starts it: `Operator::new(client, config).run(shutdown)`.
/// The builder methods default to what `charter run` does without its flags.
pub struct Operator {
    client: Client,
    config: Config,
    telemetry: Telemetry,
    window: Window,
    streaming_lists: bool,
}

impl Operator {
    pub fn new(client: Client, config: Config) -> Self {
        Operator {
            client,
            config,
            telemetry: Telemetry::default(),
            window: Window::default(),
            streaming_lists: false,
        }
    }

    /// Report metrics and readiness into `telemetry`.
    #[must_use]
    pub fn telemetry(mut self, telemetry: Telemetry) -> Self {
        self.telemetry = telemetry;
        self
    }

    /// Show the caches to readers in the same process (the portal) through `window` once synced.
    #[must_use]
    pub fn window(mut self, window: Window) -> Self {
        self.window = window;
        self
    }

    /// List the caches with a streaming list (a watch with `sendInitialEvents`, where the API
    /// server serves it: the WatchList feature) rather than in pages of 500: lighter on the API
    /// server and on the operator's memory at start.
    #[must_use]
    pub fn streaming_lists(mut self, on: bool) -> Self {
        self.streaming_lists = on;
        self
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// Where metrics and readiness are reported.
    pub(crate) fn reports(&self) -> &Telemetry {
        &self.telemetry
    }

    /// Runs the controller and the catalog writer until `shutdown` resolves, then lets the
    /// reconciliations in flight finish.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), Error> {
        let Operator {
            client,
            config,
            telemetry,
            window,
            streaming_lists,
        } = self;
        let token = CancellationToken::new();
        let namespaces: Vec<Option<String>> = match config.namespaces.clone() {
            Some(list) if !list.is_empty() => list.into_iter().map(Some).collect(),
            _ => vec![None],
        };

        let (dirty, marks) = catalog::dirty_channel();
        let published = Arc::new(Published::new(dirty.clone()));
        let memory = Arc::new(memory::Memory::counting_overdue_in(
            telemetry.reviews_overdue(),
        ));
        let (wake, retriggered) = Streams::wakes(&namespaces);
        let wake = Arc::new(wake);
        let graph = Arc::new(graph::Graph::default());
        let (notify_tx, notify_rx) = tokio::sync::watch::channel(0u64);
        let streams = Streams::new(
            &client,
            streaming_lists,
            &telemetry,
            follow::Shared {
                graph: graph.clone(),
                published: published.clone(),
                wake: wake.clone(),
                memory: memory.clone(),
            },
            notify_tx.clone(),
            &token,
            namespaces.len(),
        );
        let mut scopes = Vec::new();
        let mut queues = Vec::new();
        let mut orphan_queues = Vec::new();
        for (namespace, retriggered) in namespaces.into_iter().zip(retriggered) {
            let scoped = streams.scope(namespace, retriggered);
            queues.push((scoped.scope.services.clone(), scoped.services));
            orphan_queues.push((scoped.scope.approvals.clone(), scoped.orphans));
            scopes.push(scoped.scope);
        }
        let synced = streams.synced.clone();

        let service_stores: Vec<_> = scopes.iter().map(|s| s.services.clone()).collect();
        let (approval_policies, policy_writer) = reflector::store();
        let follow_policies = policies::follow(
            &client,
            streams.watch_config.clone(),
            policy_writer,
            service_stores.clone(),
            wake,
            streams.first_sync(),
        )
        .take_until(token.clone().cancelled_owned())
        .for_each(|()| std::future::ready(()));
        let (subscriptions, subscription_writer) = reflector::store();
        let follow_subscriptions = notifications::follow(
            &client,
            streams.watch_config.clone(),
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
                dirty: streams.notify_dirty.clone(),
                telemetry: telemetry.clone(),
                announcer: streams.announcer.clone(),
            }),
            synced.clone(),
            token.clone(),
        );
        let ctx = Arc::new(Context {
            client: client.clone(),
            reporter: streams::reporter(),
            policy: Policy {
                allow_self_approval: config.allow_self_approval,
                ..Policy::default()
            },
            scopes,
            approval_policies,
            graph,
            telemetry: telemetry.clone(),
            synced: synced.clone(),
            memory,
        });
        drop(streams);

        let controllers = reconcilers(&ctx, queues, orphan_queues, config.concurrency);
        let writer = catalog::Writer::new(
            client.clone(),
            CatalogTarget {
                namespace: config.catalog_namespace.clone(),
                name: config.catalog_name.clone(),
            },
        )
        .run(
            published,
            service_stores.clone(),
            dirty,
            marks,
            synced.clone().cancelled_owned(),
            token.clone().cancelled_owned(),
        );
        let readiness = {
            let (synced, telemetry, window) = (synced.clone(), telemetry.clone(), window.clone());
            async move {
                synced.cancelled().await;
                window.show(service_stores);
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
                // Until every cache has listed once, no reconcile gets past its wait for the
                // caches and the catalog writer writes nothing: there is nothing in flight to
                // let finish. kube's appliers would wait for their store's first list, which a
                // list that keeps failing never brings.
                () = unless_synced(&synced) => tracing::info!("stopping before the caches synced"),
            },
        }
        telemetry.set_ready(false);
        window.hide();
        Ok(())
    }
}

/// The reconcilers of every scope: the Services', and the orphaned approvals'.
fn reconcilers(
    ctx: &Arc<Context>,
    queues: Vec<(
        Store<Cached<Service>>,
        impl Stream<Item = Result<ReconcileRequest<Cached<Service>>, watcher::Error>> + Send + 'static,
    )>,
    orphan_queues: Vec<(
        Store<Cached<ServiceApproval>>,
        impl Stream<Item = Result<ReconcileRequest<Cached<ServiceApproval>>, watcher::Error>>
        + Send
        + 'static,
    )>,
    concurrency: u16,
) -> impl Future<Output = ()> {
    let controller_config = controller::Config::default().concurrency(concurrency);
    let appliers = queues.into_iter().map(|(store, queue)| {
        applier(
            |service, ctx| {
                let task = tokio::spawn(reconcile(service, ctx));
                Box::pin(async move {
                    task.await
                        .unwrap_or_else(|e| Err(Error::Task(e.to_string())))
                })
            },
            error_policy,
            ctx.clone(),
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
    let appliers: Vec<_> = appliers.collect();
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
    let orphan_appliers: Vec<_> = orphan_appliers.collect();
    async {
        futures::future::join(
            futures::future::join_all(appliers),
            futures::future::join_all(orphan_appliers),
        )
        .await;
    }
}

/// Resolves at once if `synced` has not fired; never otherwise.
async fn unless_synced(synced: &CancellationToken) {
    if synced.is_cancelled() {
        std::future::pending::<()>().await;
    }
}
