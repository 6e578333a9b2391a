//! Delivering notifications, run by the leader only (inside `Operator::run`): one task per
//! NotificationSubscription, so a slow or dead sink delays only itself, never another sink nor
//! the reconcile loop. Each task delivers the oldest pending event, records the acknowledged
//! one in the subscription's status (the cursor a restart resumes from), and backs off with
//! jitter while the sink fails.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::Arc,
    time::{Duration, Instant},
};

use futures::{Stream, StreamExt};
use k8s_openapi::{
    apimachinery::pkg::apis::meta::v1::{Condition, Time},
    jiff::Timestamp,
};
use kube::{
    Api, Client, Resource, ResourceExt,
    runtime::{WatchStreamExt, reflector, reflector::ObjectRef, reflector::Store, watcher},
};
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use super::{announce::Announcer, credentials::credentials, telemetry::Telemetry};
use crate::{
    api::{Cursor, Delivered, NotificationSubscription, NotificationSubscriptionStatus, Service},
    cached::{Cached, Key},
    lifecycle::reason,
    notify::{
        cloudevent::{CloudEvent, events_of, pending},
        retries,
        sink::{Auth, DEFAULT_TIMEOUT, Sink, SinkError},
    },
};

/// How long a Secret read for a sink's credentials is reused before it is read again.
const CREDENTIALS_TTL: Duration = Duration::from_secs(60);

/// The namespace whose subscriptions hear about every Service, and whose Secrets hold the
/// sinks' credentials: the operator's own.
pub(crate) fn operator_namespace() -> String {
    std::env::var("POD_NAMESPACE")
        .ok()
        .filter(|ns| !ns.is_empty())
        .unwrap_or_else(|| crate::deploy::NAMESPACE.to_owned())
}

/// What every subscription's task shares.
pub(crate) struct Shared {
    pub client: Client,
    pub services: Vec<Store<Cached<Service>>>,
    pub subscriptions: Store<NotificationSubscription>,
    pub operator_namespace: String,
    /// Bumped on every change of a Service or a subscription.
    pub changed: watch::Receiver<u64>,
    /// Which Services changed: a task looks again at those only, not at every Service.
    pub dirty: broadcast::Sender<Changed>,
    pub telemetry: Telemetry,
    pub announcer: Announcer,
}

/// What changed, as the subscription tasks hear it: one Service (`namespace/name`), or all of
/// them (a relist). A task that falls behind the channel looks at every Service once.
#[derive(Clone, Debug)]
pub(crate) enum Changed {
    Service(String),
    All,
}

/// How many changes a task may fall behind before it rescans instead.
const DIRTY_BACKLOG: usize = 16_384;

pub(crate) fn dirty_channel() -> broadcast::Sender<Changed> {
    broadcast::channel(DIRTY_BACKLOG).0
}

/// The key a Service's cursor is kept under: `namespace/name`.
fn key_of(service: &impl Resource) -> String {
    format!(
        "{}/{}",
        service.namespace().unwrap_or_default(),
        service.name_any()
    )
}

/// The subscriptions' watch stream, filling `writer` and waking the tasks.
pub(crate) fn follow(
    client: &Client,
    config: watcher::Config,
    writer: reflector::store::Writer<NotificationSubscription>,
    changed: watch::Sender<u64>,
) -> impl Stream<Item = ()> + Send + 'static {
    watcher(Api::<NotificationSubscription>::all(client.clone()), config)
        .default_backoff()
        .reflect(writer)
        .map(move |event| {
            if let Err(error) = event {
                tracing::warn!(%error, "watching NotificationSubscriptions");
            }
            changed.send_modify(|n| *n = n.wrapping_add(1));
        })
}

/// Starts a task per subscription once the caches have synced, until `stop`; then waits for
/// the tasks to end (a delivery in flight is abandoned, so a silent sink holds up no stop).
pub(crate) async fn run(shared: Arc<Shared>, synced: CancellationToken, stop: CancellationToken) {
    tokio::select! {
        () = synced.cancelled() => {}
        () = stop.cancelled() => return,
    }
    // Dropped with this future (a lost leadership, a killed operator), the set aborts every task.
    let mut set = tokio::task::JoinSet::new();
    let mut tasks: HashMap<ObjectRef<NotificationSubscription>, tokio::task::AbortHandle> =
        HashMap::new();
    let mut changed = shared.changed.clone();
    loop {
        changed.borrow_and_update();
        while set.try_join_next().is_some() {}
        tasks.retain(|_, task| !task.is_finished());
        for subscription in shared.subscriptions.state() {
            let key = ObjectRef::from_obj(subscription.as_ref());
            tasks
                .entry(key.clone())
                .or_insert_with(|| set.spawn(serve(key, shared.clone(), stop.clone())));
        }
        tokio::select! {
            r = changed.changed() => if r.is_err() { break },
            () = stop.cancelled() => break,
        }
    }
    set.join_all().await;
}

/// One subscription's deliveries, until it is deleted or `stop`.
async fn serve(
    key: ObjectRef<NotificationSubscription>,
    shared: Arc<Shared>,
    stop: CancellationToken,
) {
    let mut changed = shared.changed.clone();
    let mut dirty = shared.dirty.subscribe();
    let mut state: Option<Delivery> = None;
    // The Services that may have something to deliver: every one at first, after a change of
    // the subscription and after falling behind; otherwise those that changed, and those that
    // still had something pending. So a Service's status write costs each task one look.
    let mut candidates: BTreeSet<String> = BTreeSet::new();
    let mut everything = true;
    let mut seen_generation: Option<i64> = None;
    loop {
        changed.borrow_and_update();
        let Some(subscription) = shared.subscriptions.get(&key) else {
            return;
        };
        let uid = subscription.uid().unwrap_or_default();
        // Seeded from the recorded status once per subscription (a recreated one starts afresh);
        // afterwards this task's own record is the newer one.
        let delivery = match &mut state {
            Some(d) if d.uid == uid => d,
            _ => state.insert(Delivery::seed(&subscription)),
        };
        if subscription.meta().generation != seen_generation {
            seen_generation = subscription.meta().generation;
            everything = true;
        }
        loop {
            match dirty.try_recv() {
                Ok(Changed::Service(service)) => {
                    candidates.insert(service);
                }
                Ok(Changed::All) | Err(broadcast::error::TryRecvError::Lagged(_)) => {
                    everything = true;
                }
                Err(_) => break,
            }
        }
        if std::mem::take(&mut everything) {
            candidates = shared
                .services
                .iter()
                .flat_map(|store| store.state())
                .map(|service| key_of(service.as_ref()))
                .collect();
        }
        if !subscription.spec.suspend
            && let Some((service, service_uid, event)) =
                next(&shared, &subscription, delivery, &mut candidates)
        {
            // A stop abandons a delivery in flight: unrecorded, the next leader sends it again.
            let outcome = tokio::select! {
                outcome = delivery.attempt(&shared, &subscription, &event) => outcome,
                () = stop.cancelled() => return,
            };
            match outcome {
                Ok(()) => {
                    shared.telemetry.notified("delivered");
                    delivery.failures = 0;
                    delivery.retries = None;
                    let time = Time(event.time.parse::<Timestamp>().unwrap_or_default());
                    delivery.cursors.insert(
                        service.clone(),
                        Cursor {
                            service,
                            uid: service_uid,
                            id: event.id.clone(),
                            time: time.clone(),
                        },
                    );
                    delivery.last = Some(Delivered { id: event.id, time });
                    delivery.error = None;
                    write_status(&shared, &subscription, delivery).await;
                    continue;
                }
                Err(error) => {
                    shared.telemetry.notified("failed");
                    tracing::info!(subscription = %key, %error, id = %event.id, "delivery failed");
                    delivery.failures = delivery.failures.saturating_add(1);
                    delivery.auth = None;
                    let delay = delivery
                        .retries
                        .get_or_insert_with(retries)
                        .next()
                        .unwrap_or(crate::notify::LONGEST_RETRY);
                    delivery.error = Some((error.reason(), error.to_string()));
                    write_status(&shared, &subscription, delivery).await;
                    tokio::select! {
                        () = tokio::time::sleep(delay) => continue,
                        () = stop.cancelled() => return,
                    }
                }
            }
        }
        // Nothing to deliver: forget the cursors of deleted Services, so the status stays
        // the size of what the subscription hears.
        if delivery.forget_deleted(&shared) {
            write_status(&shared, &subscription, delivery).await;
        }
        tokio::select! {
            r = changed.changed() => if r.is_err() { return },
            () = stop.cancelled() => return,
        }
    }
}

/// Where one subscription's delivery stands, in this process.
struct Delivery {
    uid: String,
    cursors: BTreeMap<String, Cursor>,
    last: Option<Delivered>,
    failures: u32,
    error: Option<(&'static str, String)>,
    retries: Option<backon::ExponentialBackoff>,
    sink: Option<(crate::api::Sink, Sink)>,
    auth: Option<(Auth, Instant)>,
}

impl Delivery {
    fn seed(subscription: &NotificationSubscription) -> Self {
        let status = subscription.status.clone().unwrap_or_default();
        Delivery {
            uid: subscription.uid().unwrap_or_default(),
            cursors: status
                .cursors
                .into_iter()
                .map(|c| (c.service.clone(), c))
                .collect(),
            last: status.last_delivered,
            failures: status.consecutive_failures,
            error: None,
            retries: None,
            sink: None,
            auth: None,
        }
    }

    /// Drops the cursors of Services no longer in the caches; true when one was dropped.
    fn forget_deleted(&mut self, shared: &Shared) -> bool {
        let before = self.cursors.len();
        self.cursors.retain(|_, cursor| {
            let Some((namespace, name)) = cursor.service.split_once('/') else {
                return false;
            };
            let key = Key::<Service>::new(name).within(namespace);
            shared.services.iter().any(|store| {
                store
                    .get(&key)
                    .is_some_and(|s| s.uid().as_deref() == Some(cursor.uid.as_str()))
            })
        });
        self.cursors.len() != before
    }

    async fn attempt(
        &mut self,
        shared: &Shared,
        subscription: &NotificationSubscription,
        event: &CloudEvent,
    ) -> Result<(), SinkError> {
        let spec = &subscription.spec.sink;
        if self.sink.as_ref().is_none_or(|(built, _)| built != spec) {
            let timeout = spec
                .timeout_seconds
                .map_or(DEFAULT_TIMEOUT, |s| Duration::from_secs(s.into()));
            let sink = Sink::new(&spec.url, spec.ca_bundle.as_deref(), timeout)?;
            self.sink = Some((spec.clone(), sink));
            self.auth = None;
        }
        if self
            .auth
            .as_ref()
            .is_none_or(|(_, read)| read.elapsed() > CREDENTIALS_TTL)
        {
            self.auth = Some((
                credentials(&shared.client, &shared.operator_namespace, subscription).await?,
                Instant::now(),
            ));
        }
        let (Some((_, sink)), Some((auth, _))) = (&self.sink, &self.auth) else {
            unreachable!("both set above");
        };
        sink.deliver(event, auth).await
    }
}

/// The oldest event due to this subscription among `candidates`, with its Service
/// (`namespace/name`) and uid. Candidates with nothing due are dropped from the set.
fn next(
    shared: &Shared,
    subscription: &NotificationSubscription,
    delivery: &Delivery,
    candidates: &mut BTreeSet<String>,
) -> Option<(String, String, CloudEvent)> {
    let own = subscription.namespace().unwrap_or_default();
    let hears_all = own == shared.operator_namespace;
    let spec = &subscription.spec;
    let since = subscription.meta().creation_timestamp.as_ref();
    let mut oldest: Option<(String, String, CloudEvent)> = None;
    candidates.retain(|key| {
        let Some((namespace, name)) = key.split_once('/') else {
            return false;
        };
        if !hears_all && namespace != own {
            return false;
        }
        let object = Key::<Service>::new(name).within(namespace);
        let Some(service) = shared.services.iter().find_map(|store| store.get(&object)) else {
            return false;
        };
        let service = service.get();
        if let Some(selector) = &spec.selector {
            let content = &service.spec.content;
            if !selector.tiers.is_empty()
                && !content.tier.is_some_and(|t| selector.tiers.contains(&t))
            {
                return false;
            }
            if !selector.owners.is_empty() && !selector.owners.contains(&content.owner) {
                return false;
            }
        }
        let uid = service.uid().unwrap_or_default();
        let events = events_of(&service);
        let first = pending(&events, &uid, delivery.cursors.get(key), since)
            .iter()
            .find(|e| spec.types.is_empty() || spec.types.contains(&e.event_type));
        let Some(event) = first else {
            return false;
        };
        if oldest.as_ref().is_none_or(|(_, _, o)| event.time < o.time) {
            oldest = Some((key.clone(), uid, event.clone()));
        }
        true
    });
    oldest
}

/// Records where delivery stands: cursors, last delivered, failures, Ready. A failed write is
/// a Warning Event on the subscription; the next delivery writes again.
async fn write_status(
    shared: &Shared,
    subscription: &NotificationSubscription,
    delivery: &Delivery,
) {
    let previous = subscription.status.clone().unwrap_or_default();
    let (status, reason_, message) = match &delivery.error {
        None => (
            "True",
            "Delivered",
            "the sink acknowledged the last delivery".to_owned(),
        ),
        Some((reason_, message)) => ("False", *reason_, message.clone()),
    };
    let ready = Condition {
        type_: "Ready".into(),
        status: status.into(),
        reason: reason_.into(),
        message,
        observed_generation: subscription.metadata.generation,
        last_transition_time: previous
            .conditions
            .iter()
            .find(|c| c.type_ == "Ready" && c.status == status)
            .map(|c| c.last_transition_time.clone())
            .unwrap_or_else(|| Time(Timestamp::now())),
    };
    let new = NotificationSubscriptionStatus {
        last_delivered: delivery.last.clone(),
        consecutive_failures: delivery.failures,
        cursors: delivery.cursors.values().cloned().collect(),
        conditions: vec![ready],
    };
    if new == previous {
        return;
    }
    let (Some(namespace), name) = (subscription.namespace(), subscription.name_any()) else {
        return;
    };
    let api: Api<NotificationSubscription> = Api::namespaced(shared.client.clone(), &namespace);
    match super::status::apply(&api, &name, &new).await {
        Ok(_) => shared.telemetry.wrote("subscription"),
        Err(error) => {
            tracing::warn!(%error, subscription = %name, "writing a subscription's status");
            shared.announcer.warn(
                subscription.object_ref(&()),
                reason::API_ERROR,
                &format!("writing status: {error}"),
            );
        }
    }
}

/// Wakes the notification tasks on every event of a Service watch stream, telling them which
/// Service changed.
pub(crate) fn wake(
    changed: &watch::Sender<u64>,
    dirty: &broadcast::Sender<Changed>,
) -> impl FnMut(&Result<watcher::Event<Service>, watcher::Error>) + Send + 'static {
    let changed = changed.clone();
    let dirty = dirty.clone();
    move |event| {
        let what = match event {
            Ok(
                watcher::Event::Apply(s) | watcher::Event::Delete(s) | watcher::Event::InitApply(s),
            ) => Changed::Service(key_of(s)),
            Ok(watcher::Event::Init | watcher::Event::InitDone) => Changed::All,
            Err(_) => return,
        };
        // No task listening (no subscription) is no error.
        let _ = dirty.send(what);
        changed.send_modify(|n| *n = n.wrapping_add(1));
    }
}
