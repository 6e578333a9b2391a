//! Follows the ApprovalPolicies (cluster-scoped, few): the cache the reconcile reads them from,
//! and a re-judging of every Service whenever one changes, since any policy may cover any Service.

use futures::{Stream, StreamExt};
use kube::{
    Api, Client,
    runtime::{WatchStreamExt, reflector, reflector::Store, watcher},
};

use super::scope::Wake;
use crate::{
    api::{ApprovalPolicy, Service, ServiceRef},
    cached::Cached,
};

/// The policies' watch, feeding `writer`; each change (after the first complete list) wakes
/// every Service in `services`. `synced` is told of each `InitDone`.
pub(crate) fn follow(
    client: &Client,
    config: watcher::Config,
    writer: reflector::store::Writer<ApprovalPolicy>,
    services: Vec<Store<Cached<Service>>>,
    wake: std::sync::Arc<Wake>,
    mut synced: impl FnMut(&Result<watcher::Event<ApprovalPolicy>, watcher::Error>) + Send + 'static,
) -> impl Stream<Item = ()> + Send {
    let api: Api<ApprovalPolicy> = Api::all(client.clone());
    let mut listed = false;
    watcher(api, config)
        .default_backoff()
        .reflect(writer)
        .inspect(move |event| synced(event))
        .filter_map(move |event| {
            let changed = match event {
                Ok(watcher::Event::Apply(_) | watcher::Event::Delete(_)) => listed,
                // A relist may bring changes missed while the watch was down.
                Ok(watcher::Event::InitDone) => std::mem::replace(&mut listed, true),
                _ => false,
            };
            std::future::ready(changed.then_some(()))
        })
        .map(move |()| {
            let all: Vec<ServiceRef> = services
                .iter()
                .flat_map(|store| store.state())
                .map(|s| ServiceRef::of(s.as_ref()))
                .collect();
            tracing::debug!(
                services = all.len(),
                "an ApprovalPolicy changed: re-judging"
            );
            wake.send(all);
        })
}

/// Every policy in the cache.
pub(crate) fn all(store: &Store<ApprovalPolicy>) -> Vec<ApprovalPolicy> {
    store.state().iter().map(|p| p.as_ref().clone()).collect()
}
