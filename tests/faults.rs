//! The operator under faults. Three runs, each with a seeded random source (the seed is printed;
//! `CHARTER_FAULT_SEED=N` replays it) and a recorder of the whole watch history:
//! - 1,000 activations while the server fails 5 % of the operator's requests with 500 and 2 %
//!   with 429, throws storms of 409 Conflicts at status writes, cuts every watch every 2–4 s and
//!   expires the watch history every other cut (410 Expired, relists);
//! - activations while the operator is killed at random moments (its runtime dropped mid-request,
//!   with latency on its writes so that kills land mid-write) and restarted, several times;
//! - two operators with leader election, the leader killed halfway.
//!
//! After each: every Service is in the phase the rules give its final inputs, the catalog is byte
//! for byte what `charter::catalog::compute` gives, no entry is lost or served twice, it converged
//! within the stated bound, and no Service was ever Active, no catalog entry ever present,
//! without a valid quorum for the revision it served at that moment. Figures go to stdout
//! (`cargo test --test faults -- --nocapture`).

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use charter::{
    api::{Phase, Service, revision_of},
    controller::{self, Config},
    lifecycle::Policy,
};
use charter_apiserver::Matcher;
use futures::{StreamExt, stream};
use kube::{Api, Client, api::PostParams};
use testkit::{
    chaos::{self, Process, Rng},
    expect,
    history::Recorder,
    *,
};

/// How long a run may take to converge once its last Service and approval are created.
/// Measured on 2 shared cores in debug: up to ~70 s for 1,000 Services under the server faults
/// (the operator's per-Service backoff doubles on each consecutive failure).
const CONVERGE_BOUND: Duration = Duration::from_secs(150);

fn config() -> Config {
    Config {
        catalog_namespace: CATALOG_NAMESPACE.into(),
        catalog_name: CATALOG_NAME.into(),
        ..Config::default()
    }
}

/// A server whose users (the driver) and admin (the recorder) are spared from the faults: the
/// faults are the operator's to suffer.
async fn harness() -> (Fixture, Recorder) {
    if let Ok(path) = std::env::var("CHARTER_FAULT_LOG") {
        let file = std::fs::File::create(path).expect("the log file");
        let _ = tracing_subscriber::fmt()
            .with_env_filter("charter=info,kube_runtime=warn")
            .with_writer(std::sync::Mutex::new(file))
            .with_ansi(false)
            .try_init();
    }
    let fx = Fixture::start_without_operator(false).await;
    let faults = fx.server.faults();
    for user in USERS.iter().chain(&["admin"]) {
        faults.spare(user);
    }
    let recorder = Recorder::start(fx.admin.clone(), NAMESPACE, CATALOG_NAMESPACE, CATALOG_NAME);
    (fx, recorder)
}

fn operator_kubeconfig(fx: &Fixture) -> String {
    fx.server
        .kubeconfig(&charter::deploy::operator_user())
        .expect("a kubeconfig for the operator")
}

/// Creates `n` Services as their owner, each with an approval by its allowed approver for its
/// revision (computed offline, so the approval may arrive before the Service reaches Approval).
async fn drive(fx: &Fixture, prefix: &str, n: usize) {
    let dana = fx.client("dana").await;
    let ava = fx.client("ava").await;
    let services: Api<Service> = Api::namespaced(dana, NAMESPACE);
    stream::iter(0..n)
        .for_each_concurrent(8, |i| {
            let services = services.clone();
            let ava = ava.clone();
            async move {
                let name = format!("{prefix}-{i:04}");
                let service = service(&name).build();
                let revision = revision_of(&service.spec.content);
                services
                    .create(&PostParams::default(), &service)
                    .await
                    .unwrap_or_else(|e| panic!("{name} is created: {e}"));
                approve(&ava, &name, &revision, "ava").await;
            }
        })
        .await;
}

/// The operator's counters in one line: reconciliations, failures by error, status writes.
fn counters(telemetry: &controller::Telemetry) -> String {
    telemetry
        .encode()
        .lines()
        .filter(|l| {
            l.starts_with("charter_reconciliations_total")
                || l.starts_with("charter_reconcile_failures_total")
                || l.starts_with("charter_status_writes_total")
        })
        .map(|l| l.replace("charter_", "").replace("_total", ""))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Waits until the final state is what the rules and the catalog give; returns how long it took.
/// `active` is how many Services the run ends with Active: a cheap test polled first, as the
/// full comparison (every Service walked through the rules, the catalog computed) takes seconds
/// in debug builds and would make the measured times coarse.
async fn converge(
    fx: &Fixture,
    what: &str,
    active: usize,
    telemetry: &controller::Telemetry,
) -> Duration {
    let started = Instant::now();
    let policy = Policy::default();
    let mut last = Vec::new();
    let converged = tokio::time::timeout(CONVERGE_BOUND, async {
        loop {
            let state = expect::read(&fx.admin, NAMESPACE, CATALOG_NAMESPACE, CATALOG_NAME).await;
            let entries: usize = state
                .catalog
                .values()
                .map(|d| {
                    d.keys()
                        .filter(|k| {
                            *k != charter::catalog::INDEX_KEY
                                && *k != charter::catalog::SERVICES_KEY
                        })
                        .count()
                })
                .sum();
            if state.count(Phase::Active) < active || entries < active {
                last = vec![format!(
                    "{} Active, {entries} catalog entries, of {active}",
                    state.count(Phase::Active)
                )];
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            last = state.mismatches(CATALOG_NAME, &policy);
            if last.is_empty() {
                return;
            }
            if std::env::var("DEBUG_CONVERGE").is_ok() {
                println!(
                    "{:.1}s {} {:?}",
                    started.elapsed().as_secs_f64(),
                    last.len(),
                    last.first()
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    })
    .await;
    if converged.is_err() {
        let state = expect::read(&fx.admin, NAMESPACE, CATALOG_NAMESPACE, CATALOG_NAME).await;
        last.extend(state.mismatches(CATALOG_NAME, &policy));
        last.extend(
            state
                .catalog
                .iter()
                .map(|(name, data)| format!("{name}: {} keys", data.len())),
        );
    }
    assert!(
        converged.is_ok(),
        "{what}: no convergence within {CONVERGE_BOUND:?}; {} mismatches: {:?}; operator: {}",
        last.len(),
        &last[..last.len().min(10)],
        counters(telemetry)
    );
    started.elapsed()
}

/// The final checks of every run: converged state (again, faults off) and a clean history.
async fn verdict(fx: &Fixture, recorder: Recorder, what: &str, services: usize) -> usize {
    let policy = Policy::default();
    let state = expect::read(&fx.admin, NAMESPACE, CATALOG_NAMESPACE, CATALOG_NAME).await;
    let mismatches = state.mismatches(CATALOG_NAME, &policy);
    assert!(mismatches.is_empty(), "{what}: {mismatches:?}");
    assert_eq!(
        state.count(Phase::Active),
        services,
        "{what}: every Service is Active"
    );
    let (observations, violations) = recorder.settle(&policy).await;
    recorder.stop();
    assert!(
        violations.is_empty(),
        "{what}: {} violations of the quorum invariant, first: {:?}",
        violations.len(),
        &violations[..violations.len().min(5)]
    );
    assert!(
        observations >= 2 * services,
        "{what}: the recorder saw every activation and entry ({observations} observations)"
    );
    observations
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_activations_under_server_faults_converge_without_publishing_unapproved() {
    const N: usize = 1_000;
    let seed = chaos::seed("faults");
    let (fx, recorder) = harness().await;
    let operator = Process::operator(operator_kubeconfig(&fx), config());
    let stop = Arc::new(AtomicBool::new(false));
    let driving = Arc::new(AtomicBool::new(true));
    let storm = tokio::spawn(chaos::storm(
        fx.server.faults(),
        Rng::new(seed),
        driving.clone(),
        stop.clone(),
    ));

    let started = Instant::now();
    drive(&fx, "svc", N).await;
    driving.store(false, Ordering::Relaxed);
    let driven = started.elapsed();
    let converged = converge(&fx, "under faults", N, &operator.telemetry).await;
    stop.store(true, Ordering::Relaxed);
    storm.await.expect("the storm ends");
    let injected = fx.server.faults().injected();

    let observations = verdict(&fx, recorder, "under faults", N).await;
    println!(
        "FAULTS run=server-faults seed={seed} services={N} injected_total={} errors={:?} watch_cuts={} watches_cut={} expiries={} drive_s={:.1} converge_after_drive_s={:.1} observations={observations} operator: {}",
        injected.total(),
        injected.errors,
        injected.cuts,
        injected.watches_cut,
        injected.expiries,
        driven.as_secs_f64(),
        converged.as_secs_f64(),
        counters(&operator.telemetry),
    );
    assert!(
        injected.errors.get(&500).is_some_and(|n| *n > 0)
            && injected.errors.get(&409).is_some_and(|n| *n > 0)
            && injected.errors.get(&429).is_some_and(|n| *n > 0)
            && injected.watches_cut > 0
            && injected.expiries > 0,
        "every kind of fault was injected: {injected:?}"
    );
    operator.kill();
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_killed_at_random_moments_and_restarted_loses_nothing() {
    const N: usize = 200;
    const KILLS: usize = 6;
    let seed = chaos::seed("kills");
    let mut rng = Rng::new(seed);
    let (fx, recorder) = harness().await;
    // Latency on the operator's writes keeps writes in flight, so that kills land mid-write.
    let faults = fx.server.faults();
    faults.add_latency(Matcher::new(Some("patch"), None), Duration::from_millis(30));
    let kubeconfig = operator_kubeconfig(&fx);
    let mut operator = Process::operator(kubeconfig.clone(), config());

    let started = Instant::now();
    let driver = drive(&fx, "svc", N);
    let killer = async move {
        for _ in 0..KILLS {
            tokio::time::sleep(rng.millis(200, 1_500)).await;
            operator.kill();
            operator = Process::operator(kubeconfig.clone(), config());
        }
        operator
    };
    let ((), operator) = tokio::join!(driver, killer);
    let driven = started.elapsed();
    let converged = converge(&fx, "after kills", N, &operator.telemetry).await;
    faults.clear();

    let observations = verdict(&fx, recorder, "after kills", N).await;
    println!(
        "FAULTS run=kills seed={seed} services={N} kills={KILLS} drive_s={:.1} converge_after_drive_s={:.1} observations={observations} last operator: {}",
        driven.as_secs_f64(),
        converged.as_secs_f64(),
        counters(&operator.telemetry),
    );
    operator.kill();
    fx.shutdown().await;
}

/// One replica of `charter run --leader-elect` (the same election code, a 3 s Lease): waits for
/// the Lease, then runs the operator until it loses it. `leading` tells the test who leads.
async fn replica(
    client: Client,
    telemetry: controller::Telemetry,
    identity: String,
    leading: Arc<AtomicBool>,
) {
    let election = charter::cli::leader::Election {
        namespace: charter::deploy::NAMESPACE.into(),
        name: "charter-leader".into(),
        identity,
        duration_seconds: 3,
    };
    let _ = charter::cli::leader::run(
        election,
        controller::Operator::new(client, config()).telemetry(telemetry),
        std::future::pending(),
        |now| leading.store(now, Ordering::SeqCst),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_operators_with_leader_election_survive_the_leaders_death() {
    const N: usize = 200;
    let seed = chaos::seed("leader");
    let mut rng = Rng::new(seed);
    let (fx, recorder) = harness().await;
    let kubeconfig = operator_kubeconfig(&fx);
    let leading = [
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    ];
    let mut replicas: Vec<Option<Process>> = (0..2)
        .map(|i| {
            let leading = leading[i].clone();
            Some(Process::spawn(
                kubeconfig.clone(),
                move |client, telemetry| {
                    replica(client, telemetry, format!("charter-{i}"), leading)
                },
            ))
        })
        .collect();
    let leader = eventually("one replica to lead", || {
        std::future::ready(leading.iter().position(|l| l.load(Ordering::SeqCst)))
    })
    .await;

    let started = Instant::now();
    let driver = drive(&fx, "svc", N);
    let standby = 1 - leader;
    let killer = async {
        tokio::time::sleep(rng.millis(300, 1_500)).await;
        replicas[leader].take().expect("the leader runs").kill();
        let killed = Instant::now();
        eventually("the standby to take over", || {
            std::future::ready(leading[standby].load(Ordering::SeqCst).then_some(()))
        })
        .await;
        killed.elapsed()
    };
    let ((), takeover) = tokio::join!(driver, killer);
    let driven = started.elapsed();
    let telemetry = replicas[standby]
        .as_ref()
        .expect("the standby runs")
        .telemetry
        .clone();
    let converged = converge(&fx, "after the leader's death", N, &telemetry).await;

    let observations = verdict(&fx, recorder, "after the leader's death", N).await;
    println!(
        "FAULTS run=leader seed={seed} services={N} killed=charter-{leader} takeover_s={:.1} drive_s={:.1} converge_after_drive_s={:.1} observations={observations} new leader: {}",
        takeover.as_secs_f64(),
        driven.as_secs_f64(),
        converged.as_secs_f64(),
        counters(&telemetry),
    );
    drop(replicas);
    fx.shutdown().await;
}

/// An Active status with its snapshot, as the operator writes it, for the Service `name`.
fn forged_active(name: &str, resource_version: u64) -> Service {
    let mut s = service(name).build();
    s.metadata.namespace = Some(NAMESPACE.into());
    s.metadata.resource_version = Some(resource_version.to_string());
    let revision = revision_of(&s.spec.content);
    s.status = Some(charter::api::ServiceStatus {
        phase: Some(Phase::Active),
        revision: Some(revision.clone()),
        approved_revision: Some(revision.clone()),
        snapshot: Some(charter::api::Snapshot {
            revision,
            approved_by: vec!["ava".into()],
            approved_at: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                k8s_openapi::jiff::Timestamp::now(),
            ),
            content: s.spec.content.clone(),
            revised_by: None,
            policies: Vec::new(),
        }),
        ..Default::default()
    });
    s
}

fn approval_at(name: &str, approver: &str, resource_version: u64) -> charter::api::ServiceApproval {
    let mut a = approval(&format!("{name}-{approver}-{resource_version}"))
        .of(name)
        .by(approver)
        .approves(&service(name).revision())
        .in_namespace(NAMESPACE)
        .build();
    a.metadata.uid = Some(format!("uid-{name}-{approver}-{resource_version}"));
    a.metadata.resource_version = Some(resource_version.to_string());
    a
}

#[test]
fn the_recorder_judges_each_moment_by_the_approvals_that_existed_then() {
    let policy = Policy::default();
    let mut h = testkit::history::History::default();
    // The approval (version 5) reaches the recorder after the status that counted it (version 7):
    // it existed at version 7, so the Active status was legitimate.
    h.observe_service(&forged_active("ledger", 7));
    h.observe_approval(&approval_at("ledger", "ava", 5));
    // An approval created after the Active status (version 9 > 8) cannot excuse it.
    h.observe_service(&forged_active("payments", 8));
    h.observe_approval(&approval_at("payments", "ava", 9));
    // The owner's own approval is not a quorum.
    h.observe_approval(&approval_at("billing", "dana", 2));
    h.observe_service(&forged_active("billing", 3));
    let violations = h.violations(&policy);
    assert_eq!(violations.len(), 2, "{violations:?}");
    assert!(violations[0].contains("Service default/payments Active at resourceVersion 8"));
    assert!(
        violations[1].contains("default/billing") && violations[1].contains("AwaitingApproval")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recorder_catches_a_forged_active_status() {
    use kube::api::{Patch, PatchParams};
    // A server without deploy/'s status-writer policy, and no operator: admin forges a status.
    let server = charter_apiserver::ApiServer::start(charter_apiserver::Config {
        namespaces: vec![CATALOG_NAMESPACE.into()],
        ..Default::default()
    })
    .await
    .expect("the server starts");
    server
        .install_crds(&charter::crds::yaml())
        .expect("the CRDs install");
    let admin = server.client_for("admin").await.expect("an admin client");
    let recorder = Recorder::start(admin.clone(), NAMESPACE, CATALOG_NAMESPACE, CATALOG_NAME);
    let services: Api<Service> = Api::namespaced(admin.clone(), NAMESPACE);
    let forged = forged_active("ledger", 0);
    let mut plain = forged.clone();
    plain.status = None;
    plain.metadata.resource_version = None;
    services
        .create(&PostParams::default(), &plain)
        .await
        .expect("the Service is created");
    services
        .patch_status(
            "ledger",
            &PatchParams::apply("forger").force(),
            &Patch::Apply(serde_json::json!({
                "apiVersion": "catalog.charter.dev/v1alpha1",
                "kind": "Service",
                "status": forged.status,
            })),
        )
        .await
        .expect("without the policy, admin may write status");
    let (_, violations) = recorder.settle(&Policy::default()).await;
    recorder.stop();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(
        violations[0].contains("Service default/ledger Active")
            && violations[0].contains("without a valid quorum"),
        "{violations:?}"
    );
    server.shutdown().await;
}
