//! The operator against the embedded API server, driven as a user would: apply a Service,
//! approve it, and watch it reach the catalog.

use std::{future::Future, time::Duration};

use charter::{
    api::{
        Category, Decision, DesiredPhase, Phase, Service, ServiceApproval, ServiceApprovalSpec,
        ServiceContent, ServiceLevel, ServiceSpec,
    },
    controller::{self, Config},
};
use charter_apiserver::{ApiServer, Config as ServerConfig, UserSpec};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::{
    Api, Client,
    api::{DeleteParams, PostParams},
};
use tokio::{sync::oneshot, task::JoinHandle};

const CATALOG_NAMESPACE: &str = "charter-system";
const DEADLINE: Duration = Duration::from_secs(20);

struct Operator {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), controller::Error>>,
}

struct Fixture {
    _server: ApiServer,
    client: Client,
    operator: Operator,
}

async fn start() -> Fixture {
    // Logs show up only for a failing test.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "charter=debug,kube_runtime=info".into()),
        )
        .with_test_writer()
        .try_init();
    let server = ApiServer::start(ServerConfig {
        users: vec![
            UserSpec::new("dana", &["devs"]),
            UserSpec::new("ava", &["approvers"]),
        ],
        namespaces: vec![CATALOG_NAMESPACE.into()],
        ..ServerConfig::default()
    })
    .await
    .expect("the API server starts");
    server
        .install_crds(&charter::crds::yaml())
        .expect("the CRDs install");
    let client = server.client_for("admin").await.expect("an admin client");
    let (stop, stopped) = oneshot::channel();
    let config = Config {
        catalog_namespace: CATALOG_NAMESPACE.into(),
        ..Config::default()
    };
    let telemetry = controller::Telemetry::default();
    let task = tokio::spawn(controller::run_with(
        client.clone(),
        config,
        telemetry.clone(),
        async move {
            let _ = stopped.await;
        },
    ));
    eventually("the operator to be ready", || {
        std::future::ready(telemetry.ready().then_some(()))
    })
    .await;
    Fixture {
        _server: server,
        client,
        operator: Operator { stop, task },
    }
}

impl Fixture {
    async fn shutdown(self) {
        let _ = self.operator.stop.send(());
        let result = tokio::time::timeout(DEADLINE, self.operator.task)
            .await
            .expect("the operator shuts down gracefully")
            .expect("the operator task does not panic");
        result.expect("the operator stops without error");
    }
}

/// A complete Service: owner, description, service level and categories.
fn service(name: &str) -> Service {
    let content = ServiceContent {
        display_name: Some(format!("The {name} service")),
        description: Some("Books every payment".into()),
        owner: "dana".into(),
        approvers: vec!["ava".into()],
        service_level: Some(ServiceLevel {
            availability: Some("99.9".into()),
            support_hours: Some("24x7".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut spec = ServiceSpec {
        lifecycle: Default::default(),
        contact: None,
        categories: vec![Category {
            name: "finance".into(),
            subcategories: vec!["payments".into()],
        }],
        content,
    };
    spec.lifecycle.desired_phase = DesiredPhase::Active;
    Service::new(name, spec)
}

fn approval(name: &str, service: &str, revision: &str, approver: &str) -> ServiceApproval {
    ServiceApproval::new(
        name,
        ServiceApprovalSpec {
            service_name: service.into(),
            revision: revision.into(),
            decision: Decision::Approved,
            approver: approver.into(),
            comment: Some("looks right".into()),
            expires_at: None,
        },
    )
}

/// Polls `probe` until it yields a value or the deadline passes.
async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn phase_and_revision(api: &Api<Service>, name: &str) -> Option<(Phase, String)> {
    let status = api.get(name).await.ok()?.status?;
    Some((status.phase?, status.revision?))
}

async fn catalog_entry(client: &Client, key: &str) -> Option<String> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), CATALOG_NAMESPACE);
    api.get("charter-catalog")
        .await
        .ok()?
        .data?
        .get(key)
        .cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_complete_service_becomes_active_and_reaches_the_catalog() {
    let fx = start().await;
    let services: Api<Service> = Api::namespaced(fx.client.clone(), "default");
    let approvals: Api<ServiceApproval> = Api::namespaced(fx.client.clone(), "default");

    services
        .create(&PostParams::default(), &service("ledger"))
        .await
        .expect("the Service is created");
    let revision = eventually("the Service to wait in Approval", || async {
        phase_and_revision(&services, "ledger")
            .await
            .filter(|(p, _)| *p == Phase::Approval)
            .map(|(_, r)| r)
    })
    .await;
    assert!(
        catalog_entry(&fx.client, "default_ledger.json")
            .await
            .is_none(),
        "nothing unapproved is published"
    );

    approvals
        .create(
            &PostParams::default(),
            &approval("ledger-ava", "ledger", &revision, "ava"),
        )
        .await
        .expect("the approval is created");

    eventually("the Service to become Active", || async {
        phase_and_revision(&services, "ledger")
            .await
            .filter(|(p, _)| *p == Phase::Active)
    })
    .await;
    let entry = eventually("the catalog to publish the Service", || {
        catalog_entry(&fx.client, "default_ledger.json")
    })
    .await;
    let value: serde_json::Value = serde_json::from_str(&entry).expect("the entry is JSON");
    assert_eq!(value["provenance"]["revision"], revision.as_str());
    assert_eq!(
        value["provenance"]["approvedBy"],
        serde_json::json!(["ava"])
    );
    assert_eq!(value["content"]["owner"], "dana");

    let counted = eventually("the approval to be counted", || async {
        approvals
            .get("ledger-ava")
            .await
            .ok()?
            .status
            .filter(|s| s.counted)
    })
    .await;
    assert_eq!(counted.reason, "Counted");

    // Deleting the catalog by hand is repaired.
    let configmaps: Api<ConfigMap> = Api::namespaced(fx.client.clone(), CATALOG_NAMESPACE);
    configmaps
        .delete("charter-catalog", &DeleteParams::default())
        .await
        .expect("the catalog is deleted");
    eventually("the catalog to be repaired", || {
        catalog_entry(&fx.client, "default_ledger.json")
    })
    .await;

    fx.shutdown().await;
}

fn depending_on(mut service: Service, dependency: &str) -> Service {
    service.spec.content.model = Some(charter::api::ServiceModel {
        outcomes: vec!["payments are booked".into()],
        depends_on: vec![charter::api::ServiceRef {
            namespace: None,
            name: dependency.into(),
        }],
    });
    service
}

async fn approve_current_revision(
    services: &Api<Service>,
    approvals: &Api<ServiceApproval>,
    name: &str,
) -> String {
    let revision = eventually("the Service to wait in Approval", || async {
        phase_and_revision(services, name)
            .await
            .filter(|(p, _)| *p == Phase::Approval)
            .map(|(_, r)| r)
    })
    .await;
    approvals
        .create(
            &PostParams::default(),
            &approval(&format!("{name}-ava"), name, &revision, "ava"),
        )
        .await
        .expect("the approval is created");
    revision
}

async fn wait_for_phase(services: &Api<Service>, name: &str, phase: Phase) {
    eventually(&format!("{name} to reach {phase}"), || async {
        phase_and_revision(services, name)
            .await
            .filter(|(p, _)| *p == phase)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dependant_becomes_active_when_its_dependency_does_and_deletion_leaves_the_catalog() {
    let fx = start().await;
    let services: Api<Service> = Api::namespaced(fx.client.clone(), "default");
    let approvals: Api<ServiceApproval> = Api::namespaced(fx.client.clone(), "default");

    services
        .create(
            &PostParams::default(),
            &depending_on(service("payments"), "ledger"),
        )
        .await
        .unwrap();
    approve_current_revision(&services, &approvals, "payments").await;
    wait_for_phase(&services, "payments", Phase::Development).await;

    services
        .create(&PostParams::default(), &service("ledger"))
        .await
        .unwrap();
    approve_current_revision(&services, &approvals, "ledger").await;
    wait_for_phase(&services, "ledger", Phase::Active).await;
    // Nothing about payments changed: only the dependency's move can wake it.
    wait_for_phase(&services, "payments", Phase::Active).await;
    eventually("both Services in the catalog", || async {
        let api: Api<ConfigMap> = Api::namespaced(fx.client.clone(), CATALOG_NAMESPACE);
        let data = api.get("charter-catalog").await.ok()?.data?;
        (data.contains_key("default_ledger.json") && data.contains_key("default_payments.json"))
            .then_some(())
    })
    .await;

    let events: Api<k8s_openapi::api::events::v1::Event> =
        Api::namespaced(fx.client.clone(), "default");
    let events: Vec<(String, String)> = events
        .list(&Default::default())
        .await
        .expect("Events can be listed")
        .items
        .into_iter()
        .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("ledger"))
        .map(|e| (e.reason.unwrap_or_default(), e.note.unwrap_or_default()))
        .collect();
    // One Event for the move to Active, naming every step walked.
    let activation: Vec<&(String, String)> =
        events.iter().filter(|(r, _)| r == "Activated").collect();
    assert_eq!(
        activation.len(),
        1,
        "the transition is one Event: {events:?}"
    );
    assert!(
        activation[0]
            .1
            .starts_with("Approval → Development → Active. ")
            && activation[0].1.contains("QuorumReached: revision")
            && activation[0]
                .1
                .contains("Published: the catalog serves revision"),
        "the Event names every step: {events:?}"
    );

    services
        .delete("payments", &DeleteParams::default())
        .await
        .unwrap();
    eventually("the deleted Service to leave the catalog", || async {
        let api: Api<ConfigMap> = Api::namespaced(fx.client.clone(), CATALOG_NAMESPACE);
        let data = api
            .get("charter-catalog")
            .await
            .ok()?
            .data
            .unwrap_or_default();
        (!data.contains_key("default_payments.json") && data.contains_key("default_ledger.json"))
            .then_some(())
    })
    .await;

    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_activations_costs_a_handful_of_catalog_writes() {
    use futures::StreamExt;
    use kube::runtime::{WatchStreamExt, watcher};
    use std::sync::{Arc, Mutex};

    const N: usize = 12;
    let fx = start().await;
    let services: Api<Service> = Api::namespaced(fx.client.clone(), "default");
    let approvals: Api<ServiceApproval> = Api::namespaced(fx.client.clone(), "default");
    let mut revisions = Vec::new();
    for i in 0..N {
        let name = format!("svc-{i:02}");
        services
            .create(&PostParams::default(), &service(&name))
            .await
            .unwrap();
        revisions.push(name);
    }
    let mut pending = Vec::new();
    for name in &revisions {
        let revision = eventually("the Service to wait in Approval", || async {
            phase_and_revision(&services, name)
                .await
                .filter(|(p, _)| *p == Phase::Approval)
                .map(|(_, r)| r)
        })
        .await;
        pending.push((name.clone(), revision));
    }

    // Every version of the catalog ConfigMap a watcher sees from now on is one write.
    let versions = Arc::new(Mutex::new(std::collections::BTreeSet::new()));
    let configmaps: Api<ConfigMap> = Api::namespaced(fx.client.clone(), CATALOG_NAMESPACE);
    let seen = versions.clone();
    let watch = tokio::spawn(
        watcher(configmaps, watcher::Config::default())
            .applied_objects()
            .for_each(move |cm| {
                if let Ok(cm) = cm
                    && cm.metadata.name.as_deref() == Some("charter-catalog")
                {
                    seen.lock()
                        .unwrap()
                        .insert(cm.metadata.resource_version.unwrap_or_default());
                }
                std::future::ready(())
            }),
    );
    eventually("the watcher to see the catalog", || {
        std::future::ready((!versions.lock().unwrap().is_empty()).then_some(()))
    })
    .await;
    let before = versions.lock().unwrap().len();

    for (name, revision) in &pending {
        approvals
            .create(
                &PostParams::default(),
                &approval(&format!("{name}-ava"), name, revision, "ava"),
            )
            .await
            .unwrap();
    }
    eventually("every Service in the catalog", || async {
        let api: Api<ConfigMap> = Api::namespaced(fx.client.clone(), CATALOG_NAMESPACE);
        let data = api.get("charter-catalog").await.ok()?.data?;
        (data
            .keys()
            .filter(|k| *k != charter::catalog::INDEX_KEY && *k != charter::catalog::SERVICES_KEY)
            .count()
            == N)
            .then_some(())
    })
    .await;
    let writes = versions.lock().unwrap().len() - before;
    watch.abort();
    assert!(
        writes <= N / 2,
        "{N} activations cost {writes} catalog writes"
    );

    fx.shutdown().await;
}
