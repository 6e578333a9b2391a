//! Notifications through the secured server, as `charter sandbox` runs it: subscriptions to a
//! local test sink hear, as CloudEvents with deterministic ids, what happened to the Services
//! they may read, at least once, across a sink outage and operator kills, and nothing invented.

use std::collections::{BTreeMap, BTreeSet};

use charter::{
    api::{
        CredentialKind, Credentials, Decision, NotificationSubscription,
        NotificationSubscriptionSpec, Phase, Service, ServiceApproval, ServiceApprovalSpec, Sink,
    },
    notify::cloudevent::events_of,
};
use k8s_openapi::{
    ByteString,
    api::core::v1::{Namespace, Secret},
};
use kube::{
    Api, Client,
    api::{ObjectMeta, PostParams},
};
use serde_json::Value;
use std::time::Duration;
use testkit::{
    sink::TestSink,
    *, {Ground, on_both_grounds},
};

const OPERATOR_NAMESPACE: &str = charter::deploy::NAMESPACE;
const KEY: &[u8] = b"a signing key only the sink and the operator know";
/// Long enough for a sink down a while to be retried under the backoff (1 s, 2 s, 4 s, …).
const OUTAGE_DEADLINE: Duration = Duration::from_secs(90);

async fn signing_secret(admin: &Client) {
    let secrets: Api<Secret> = Api::namespaced(admin.clone(), OPERATOR_NAMESPACE);
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some("sink-key".into()),
            // Granted to the team in `default`, and to no other namespace.
            annotations: Some(BTreeMap::from([(
                "notifications.catalog.charter.dev/namespaces".into(),
                NAMESPACE.into(),
            )])),
            ..Default::default()
        },
        data: Some(BTreeMap::from([("key".into(), ByteString(KEY.to_vec()))])),
        ..Default::default()
    };
    secrets
        .create(&PostParams::default(), &secret)
        .await
        .expect("the admin puts the sink's key in the operator's namespace");
}

async fn subscribe(client: &Client, namespace: &str, name: &str, url: &str) {
    let api: Api<NotificationSubscription> = Api::namespaced(client.clone(), namespace);
    let subscription = NotificationSubscription::new(
        name,
        NotificationSubscriptionSpec {
            sink: Sink {
                url: url.into(),
                credentials: Some(Credentials {
                    kind: CredentialKind::HmacSha256,
                    secret_name: "sink-key".into(),
                    key: "key".into(),
                }),
                ..Default::default()
            },
            ..Default::default()
        },
    );
    api.create(&PostParams::default(), &subscription)
        .await
        .unwrap_or_else(|e| panic!("{name} is created in {namespace}: {e}"));
}

/// Every event the Service's recorded history gives, by id (what must be delivered).
async fn expected(api: &Api<Service>, name: &str) -> BTreeMap<String, Value> {
    let service = api.get(name).await.expect("the Service exists");
    events_of(&service)
        .into_iter()
        .map(|e| (e.id.clone(), serde_json::to_value(&e).expect("serialises")))
        .collect()
}

/// The events received, by id, each with every distinct payload received under it.
fn by_id(sink: &TestSink) -> BTreeMap<String, BTreeSet<String>> {
    let mut ids: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in sink.received() {
        let id = r.event["id"].as_str().unwrap_or_default().to_owned();
        ids.entry(id).or_default().insert(r.event.to_string());
    }
    ids
}

on_both_grounds!(async a_subscription_hears_its_namespaces_services_published_with_a_deterministic_id);
async fn a_subscription_hears_its_namespaces_services_published_with_a_deterministic_id(
    ground: Ground,
) {
    let fx = Fixture::start_on(&ground, false).await;
    let team_sink = TestSink::start(KEY).await;
    let platform_sink = TestSink::start(KEY).await;
    signing_secret(&fx.admin).await;
    // dana owns Services in `default` and subscribes there; the platform subscribes in the
    // operator's namespace and hears about every Service.
    subscribe(
        &fx.client("dana").await,
        NAMESPACE,
        "team",
        &team_sink.url(),
    )
    .await;
    subscribe(
        &fx.admin,
        OPERATOR_NAMESPACE,
        "platform",
        &platform_sink.url(),
    )
    .await;

    // Another team's Service, in another namespace, approved and activated.
    create_namespace(&fx, "other").await;
    let others: Api<Service> = Api::namespaced(fx.admin.clone(), "other");
    let mut fx_rates = service("fx-rates").owner("bo").build();
    fx_rates.metadata.namespace = Some("other".into());
    others
        .create(&PostParams::default(), &fx_rates)
        .await
        .expect("other/fx-rates is created");

    // bo, in `other`, names the key granted to `default`: his sink is told nothing.
    let bo_sink = TestSink::start(KEY).await;
    subscribe(&fx.client("bo").await, "other", "borrowed", &bo_sink.url()).await;

    fx.create(service("ledger")).await;
    let revision = fx.revision_in_approval("ledger").await;
    approve(&fx.client("ava").await, "ledger", &revision, "ava").await;
    fx.wait_for_phase("ledger", Phase::Active).await;

    let other_revision = eventually("other/fx-rates to await approval", || async {
        let s = others.get("fx-rates").await.ok()?.status?;
        (s.phase == Some(Phase::Approval)).then_some(s.revision?)
    })
    .await;
    let approvals: Api<ServiceApproval> = Api::namespaced(fx.client("ava").await, "other");
    approvals
        .create(
            &PostParams::default(),
            &ServiceApproval::new(
                "fx-rates-ava",
                ServiceApprovalSpec {
                    service_name: "fx-rates".into(),
                    revision: other_revision,
                    decision: Decision::Approved,
                    approver: "ava".into(),
                    comment: None,
                    expires_at: None,
                },
            ),
        )
        .await
        .expect("ava approves other/fx-rates");
    eventually("other/fx-rates to be Active", || async {
        let s = others.get("fx-rates").await.ok()?.status?;
        (s.phase == Some(Phase::Active)).then_some(())
    })
    .await;

    // The team's sink hears ledger's steps (Creatio's: ready for approval, approved,
    // published), signed, in order, with the ids the recorded transitions give.
    let ledger = expected(&fx.services(), "ledger").await;
    let received = eventually("the team's sink to hear ledger's publication", || {
        let received = team_sink.received();
        std::future::ready((received.len() >= ledger.len()).then_some(received))
    })
    .await;
    let types: Vec<&str> = received
        .iter()
        .map(|r| r.event["type"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        types,
        [
            "dev.charter.revision.awaiting-approval",
            "dev.charter.revision.approved",
            "dev.charter.service.published"
        ]
    );
    let published = &received[2];
    assert!(
        received.iter().all(|r| r.signed),
        "every delivery is signed"
    );
    assert_eq!(
        published.content_type,
        "application/cloudevents+json; charset=utf-8"
    );
    assert_eq!(published.event["specversion"], "1.0");
    assert_eq!(published.event["subject"], "default/ledger");
    assert_eq!(published.event["data"]["phase"], "Active");
    let id = published.event["id"].as_str().expect("an id");
    assert_eq!(
        ledger.get(id),
        Some(&published.event),
        "the id and payload are the ones the recorded transition gives"
    );

    // The platform hears both namespaces; the team never hears of another namespace.
    let fx_rates = expected(&others, "fx-rates").await;
    eventually("the platform's sink to hear both Services", || {
        let ids = by_id(&platform_sink);
        std::future::ready(
            (ledger
                .keys()
                .chain(fx_rates.keys())
                .all(|id| ids.contains_key(id)))
            .then_some(()),
        )
    })
    .await;
    fx.settled().await;
    assert!(
        team_sink
            .received()
            .iter()
            .all(|r| r.event["subject"] == "default/ledger"),
        "an owner's subscription hears nothing of another namespace's Services"
    );

    let borrowed: Api<NotificationSubscription> = Api::namespaced(fx.admin.clone(), "other");
    let refused = eventually("the borrowed key to be refused", || async {
        let status = borrowed.get("borrowed").await.ok()?.status?;
        let ready = status.conditions.into_iter().find(|c| c.type_ == "Ready")?;
        (ready.status == "False").then_some(ready)
    })
    .await;
    assert_eq!(
        refused.reason, "CredentialsUnavailable",
        "{}",
        refused.message
    );
    assert!(refused.message.contains("not granted to namespace other"));
    assert!(
        bo_sink.received().is_empty(),
        "no event went out with a borrowed key"
    );

    // The status records where delivery stands.
    let subscriptions: Api<NotificationSubscription> = Api::namespaced(fx.admin.clone(), NAMESPACE);
    let status = eventually("the team's subscription to record its cursor", || async {
        let status = subscriptions.get("team").await.ok()?.status?;
        (status.last_delivered.as_ref()?.id == id).then_some(status)
    })
    .await;
    assert_eq!(status.consecutive_failures, 0);
    assert_eq!(status.cursors.len(), 1);
    assert_eq!(status.cursors[0].service, "default/ledger");
    let ready = status.conditions.iter().find(|c| c.type_ == "Ready");
    assert_eq!(ready.map(|c| c.status.as_str()), Some("True"));
    assert!(
        fx.telemetry
            .encode()
            .contains("charter_notification_deliveries_total{outcome=\"delivered\"}"),
        "deliveries are counted"
    );

    // A deleted Service's cursor is forgotten: the status stays the size of what it hears.
    fx.services()
        .delete("ledger", &Default::default())
        .await
        .expect("ledger is deleted");
    eventually(
        "the team's subscription to forget ledger's cursor",
        || async {
            let status = subscriptions.get("team").await.ok()?.status?;
            status.cursors.is_empty().then_some(())
        },
    )
    .await;
    fx.shutdown().await;
}

on_both_grounds!(async with_the_sink_down_and_the_operator_killed_twice_every_event_arrives_once_per_payload);
async fn with_the_sink_down_and_the_operator_killed_twice_every_event_arrives_once_per_payload(
    ground: Ground,
) {
    let mut fx = Fixture::start_on(&ground, false).await;
    let mut sink = TestSink::start(KEY).await;
    signing_secret(&fx.admin).await;
    subscribe(&fx.client("dana").await, NAMESPACE, "team", &sink.url()).await;
    let subscriptions: Api<NotificationSubscription> = Api::namespaced(fx.admin.clone(), NAMESPACE);
    sink.down().await;

    // ledger is approved and published while the sink is down.
    fx.create(service("ledger")).await;
    let revision = fx.revision_in_approval("ledger").await;
    let ava = fx.client("ava").await;
    approve(&ava, "ledger", &revision, "ava").await;
    fx.wait_for_phase("ledger", Phase::Active).await;
    let failing = eventually("the subscription to report the sink down", || async {
        let status = subscriptions.get("team").await.ok()?.status?;
        let ready = status.conditions.iter().find(|c| c.type_ == "Ready")?;
        (ready.status == "False" && status.consecutive_failures >= 1).then_some(ready.clone())
    })
    .await;
    assert_eq!(failing.reason, "SinkUnreachable", "{}", failing.message);
    assert!(
        fx.telemetry
            .encode()
            .contains("charter_notification_deliveries_total{outcome=\"failed\"}")
    );

    // Killed, restarted; meanwhile journal is approved and ledger retired, the sink still down.
    fx.kill_operator().await;
    fx.start_operator();
    fx.create(service("journal")).await;
    let journal_revision = fx.revision_in_approval("journal").await;
    approve(&ava, "journal", &journal_revision, "ava").await;
    fx.wait_for_phase("journal", Phase::Active).await;
    fx.edit("ledger", |spec| {
        spec.lifecycle.desired_phase = charter::api::DesiredPhase::Retired
    })
    .await;
    fx.wait_for_phase("ledger", Phase::Retired).await;
    fx.kill_operator().await;

    // An operator again, failing and backing off; then the sink back up: everything recorded
    // arrives, on a retry.
    fx.start_operator();
    eventually("the new operator to fail against the sink", || {
        let text = fx.telemetry.encode();
        std::future::ready(
            text.contains("charter_notification_deliveries_total{outcome=\"failed\"}")
                .then_some(()),
        )
    })
    .await;
    sink.up().await;
    let mut want = expected(&fx.services(), "ledger").await;
    want.extend(expected(&fx.services(), "journal").await);
    assert_eq!(want.len(), 7, "3 steps each, and ledger's retirement");
    eventually_within(OUTAGE_DEADLINE, "every event to arrive", || {
        let ids = by_id(&sink);
        std::future::ready(want.keys().all(|id| ids.contains_key(id)).then_some(()))
    })
    .await;
    fx.settled().await;
    eventually("the subscription to be Ready again", || async {
        let status = subscriptions.get("team").await.ok()?.status?;
        let ready = status.conditions.iter().find(|c| c.type_ == "Ready")?;
        (ready.status == "True" && status.consecutive_failures == 0).then_some(())
    })
    .await;

    let received = by_id(&sink);
    for (id, payloads) in &received {
        assert_eq!(
            payloads.len(),
            1,
            "{id} was delivered with two payloads: {payloads:?}"
        );
        let payload: Value = serde_json::from_str(payloads.first().expect("one")).expect("json");
        assert_eq!(
            want.get(id),
            Some(&payload),
            "{id} is an event a recorded transition gives"
        );
    }
    assert_eq!(
        received.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "none invented, none missing"
    );
    assert!(sink.received().iter().all(|r| r.signed));
    fx.shutdown().await;
}

on_both_grounds!(async owners_subscribe_in_their_namespace_and_no_further);
async fn owners_subscribe_in_their_namespace_and_no_further(ground: Ground) {
    use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleBinding};
    let fx = Fixture::start_without_operator_on(&ground, false).await;
    let operator = charter::deploy::operator_user();
    let Some(kubectl) = testkit::kubectl::Kubectl::for_users(&fx.server, &["dana", &operator])
    else {
        return;
    };
    // As a cluster grants it: charter-owner (through edit or admin) in the team's namespace only.
    let bindings: Api<ClusterRoleBinding> = Api::all(fx.admin.clone());
    bindings
        .delete("charter-owners", &Default::default())
        .await
        .expect("the cluster-wide owner binding is removed");
    let local: Api<RoleBinding> = Api::namespaced(fx.admin.clone(), NAMESPACE);
    let binding: RoleBinding = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "owners"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "charter-owner"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": USER_GROUP}],
    }))
    .expect("a RoleBinding");
    local
        .create(&PostParams::default(), &binding)
        .await
        .expect("owners in default");
    create_namespace(&fx, "other").await;

    let manifest = kubectl.file(
        "subscription.yaml",
        "apiVersion: catalog.charter.dev/v1alpha1\nkind: NotificationSubscription\nmetadata:\n  name: team\nspec:\n  sink:\n    url: https://events.example.com/charter\n  types: [dev.charter.service.published]\n",
    );
    let manifest = manifest.to_str().expect("utf-8 path");
    let created = kubectl
        .run("dana", &["create", "-n", NAMESPACE, "-f", manifest])
        .await;
    assert!(
        created.ok,
        "an owner subscribes in her namespace: {}",
        created.stderr
    );
    for (user, args) in [
        ("dana", vec!["create", "-n", "other", "-f", manifest]),
        ("dana", vec!["get", "secrets", "-n", OPERATOR_NAMESPACE]),
        (
            operator.as_str(),
            vec!["create", "-n", NAMESPACE, "-f", manifest],
        ),
        (operator.as_str(), vec!["get", "secrets", "-n", NAMESPACE]),
    ] {
        let run = kubectl.run(user, &args).await;
        assert!(!run.ok, "{user} {args:?} was allowed: {}", run.stdout);
        assert!(
            run.stderr.contains("forbidden"),
            "{user} {args:?} refused for another reason: {}",
            run.stderr
        );
    }
    let listed = kubectl
        .run(
            "dana",
            &["get", "notificationsubscriptions", "-n", NAMESPACE],
        )
        .await;
    assert!(
        listed.ok && listed.stdout.contains("team"),
        "{}",
        listed.stderr
    );
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sink_that_never_answers_delays_no_other_sink() {
    let fx = Fixture::start(false).await;
    // Accepts connections and never answers: each delivery waits its whole timeout (300 s).
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let silent_url = format!("http://{}/events", silent.local_addr().expect("an address"));
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            open.push(socket);
        }
    });
    let sink = TestSink::start(KEY).await;
    signing_secret(&fx.admin).await;
    let dana = fx.client("dana").await;
    let api: Api<NotificationSubscription> = Api::namespaced(dana.clone(), NAMESPACE);
    let mut slow = NotificationSubscription::new(
        "slow",
        NotificationSubscriptionSpec {
            sink: Sink {
                url: silent_url,
                timeout_seconds: Some(300),
                ..Default::default()
            },
            ..Default::default()
        },
    );
    slow.metadata.namespace = Some(NAMESPACE.into());
    api.create(&PostParams::default(), &slow)
        .await
        .expect("the slow subscription");
    subscribe(&dana, NAMESPACE, "prompt", &sink.url()).await;

    fx.create(service("ledger")).await;
    let revision = fx.revision_in_approval("ledger").await;
    approve(&fx.client("ava").await, "ledger", &revision, "ava").await;
    fx.wait_for_phase("ledger", Phase::Active).await;
    let ledger = expected(&fx.services(), "ledger").await;
    eventually("the prompt sink to hear every event", || {
        let ids = by_id(&sink);
        std::future::ready(ledger.keys().all(|id| ids.contains_key(id)).then_some(()))
    })
    .await;
    let slow_status = api.get("slow").await.expect("slow").status;
    assert!(
        slow_status.and_then(|s| s.last_delivered).is_none(),
        "the silent sink acknowledged nothing"
    );
    // Nor the operator's stop: the delivery in flight is abandoned (and sent again later).
    fx.shutdown().await;
    held.abort();
}

/// Creates the namespace `name` as the admin.
async fn create_namespace(fx: &Fixture, name: &str) {
    let mut namespace = Namespace::default();
    namespace.metadata.name = Some(name.into());
    Api::<Namespace>::all(fx.admin.clone())
        .create(&PostParams::default(), &namespace)
        .await
        .unwrap_or_else(|e| panic!("namespace {name}: {e}"));
}
