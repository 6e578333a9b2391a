//! The throughput benchmark (`cargo bench --bench throughput`; `tests/bench_smoke.rs` runs it
//! once at a small N). N Services, each with an Approved ServiceApproval for its revision, are
//! created before the operator starts; then it measures convergence (every Service in the
//! catalog), API writes, catalog writes and bytes, idle and restart writes, approval → catalog
//! latency, and the peak RSS of the operator and of the server, each in its own process.

mod catalog_view;
mod children;
mod fixtures;

use std::{
    future::Future,
    time::{Duration, Instant},
};

use charter::api::{Phase, Service, ServiceApproval};
use futures::{StreamExt, TryStreamExt, stream};
use kube::{
    Api, Client,
    api::{ListParams, Patch, PatchParams, PostParams},
};
use serde_json::{Value, json};

use catalog_view::CatalogView;
use children::{Child, Ground, Rss};

pub const CATALOG_NAMESPACE: &str = charter::deploy::CATALOG_NAMESPACE;
pub const CATALOG_NAME: &str = "charter-catalog";
/// The N Services.
pub const NAMESPACE: &str = "bench";
/// The Services approved one at a time for the latency figures (also watched).
pub const LATENCY_NAMESPACE: &str = "bench-latency";
/// Services the operator does not watch, for the plain client's status-patch rate.
pub const RAW_NAMESPACE: &str = "bench-raw";

/// How long the operator is left alone before each single approval (the catalog writer's
/// minimum gap under load is 200 ms).
const IDLE: Duration = Duration::from_millis(250);

/// Concurrency of the driver's own requests (seeding, raw patches).
const CONCURRENCY: usize = 16;

/// What to run.
#[derive(Clone, Debug)]
pub struct Options {
    pub services: usize,
    /// Also run N = 1,000 and 3,000 first and print the curve.
    pub curve: bool,
    /// How many single approvals the latency figures come from.
    pub approvals: usize,
    /// How long convergence may take before the run is declared failed.
    pub deadline: Duration,
    /// Also converge the same N on the unsecured embedded server (`unsecured_converge_s`),
    /// to show what the secured ground costs.
    pub unsecured: bool,
}

impl Options {
    /// From `CHARTER_BENCH_N` (default 10,000), `CHARTER_BENCH_CURVE=1`,
    /// `CHARTER_BENCH_APPROVALS` (default 200) and `CHARTER_BENCH_DEADLINE_S` (default 600).
    pub fn from_env() -> Options {
        let number = |name: &str, default: usize| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.replace('_', "").parse().ok())
                .unwrap_or(default)
        };
        Options {
            services: number("CHARTER_BENCH_N", 10_000),
            curve: std::env::var("CHARTER_BENCH_CURVE").is_ok_and(|v| v == "1"),
            approvals: number("CHARTER_BENCH_APPROVALS", 200),
            deadline: Duration::from_secs(number("CHARTER_BENCH_DEADLINE_S", 600) as u64),
            unsecured: std::env::var("CHARTER_BENCH_UNSECURED").as_deref() != Ok("0"),
        }
    }
}

/// Runs the role of a child process if this is one (then returns `None`), else the benchmark:
/// prints the table (and the curve) and, as its very last line, the JSON report, and returns it.
pub fn main_with(options: Options) -> Option<Value> {
    if children::run_role() {
        return None;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    Some(runtime.block_on(drive(options)))
}

async fn drive(options: Options) -> Value {
    let mut sizes = Vec::new();
    if options.curve {
        sizes.extend([1_000, 3_000].into_iter().filter(|n| *n < options.services));
    }
    sizes.push(options.services);
    let mut reports = Vec::new();
    for n in sizes {
        let report = run(n, &options).await;
        print_table(&report);
        reports.push(report);
    }
    if reports.len() > 1 {
        print_curve(&reports);
    }
    let mut last = reports.pop().expect("one run at least");
    if let Some(map) = last.as_object_mut() {
        map.remove("_detail");
    }
    println!("{last}");
    last
}

async fn run(n: usize, options: &Options) -> Value {
    let ground = Ground::from_env();
    eprintln!("bench: N = {n}: starting the {} ground", ground.name());
    let (_dir, kubeconfig) = children::scratch();
    let mut server = Child::spawn("server", &kubeconfig).await;
    assert_eq!(server.line().await, "ready", "the server child starts");
    // The operator's identity: on a secured ground only it may write status.
    let operator_client = client(&children::operator_kubeconfig(&kubeconfig)).await;
    let client = client(&kubeconfig).await;

    eprintln!("bench: measuring the plain client's status-patch rate");
    let raw_patch_per_s = raw_patch_rate(&client, &operator_client, n.clamp(50, 2_000)).await;

    eprintln!("bench: creating {n} Services and their approvals");
    let started = Instant::now();
    seed(&client, NAMESPACE, n, true).await;
    eprintln!("bench: seeded in {:.1} s", started.elapsed().as_secs_f64());

    let (catalog, watch) = CatalogView::start(client.clone()).await;
    let before = catalog.counts();
    let started = Instant::now();
    let mut operator = Child::spawn("operator", &kubeconfig).await;
    let converged = catalog
        .wait_until(options.deadline, |c| c.counts().entries >= n)
        .await;
    let converge_s = started.elapsed().as_secs_f64();
    assert!(
        converged,
        "{n} Services did not all reach the catalog within {:?} ({} did)",
        options.deadline,
        catalog.counts().entries
    );
    let at_convergence = operator.request("stats").await;
    let burst = catalog.counts();
    eprintln!("bench: converged in {converge_s:.2} s");

    // Writes still in flight (Events, approval statuses) belong to the convergence.
    let settled = settle(&mut operator).await;
    let converge_rss = operator.rss();
    let writes = total(&settled);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_writes = total(&operator.request("stats").await) - writes;

    eprintln!("bench: restarting the operator");
    operator.stop().await;
    let restarted = Instant::now();
    let mut operator = Child::spawn("operator", &kubeconfig).await;
    let restart_ready_s = loop {
        let stats = operator.request("stats").await;
        if stats["ready"] == json!(true) {
            break restarted.elapsed().as_secs_f64();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while operator.request("stats").await["reconciliations"]
        .as_u64()
        .unwrap_or(0)
        < n as u64
    {
        assert!(
            Instant::now() < deadline,
            "the restarted operator reconciles every Service"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let restart_stats = settle(&mut operator).await;
    let restart_writes = total(&restart_stats);

    eprintln!("bench: {} single approvals", options.approvals);
    let latency = approval_latencies(&client, &catalog, options.approvals).await;
    let operator_rss = operator.rss();
    let server_stats = server.request("stats").await;
    operator.stop().await;
    watch.abort();
    server.stop().await;

    let unsecured_converge_s = match ground {
        Ground::Unsecured => Some(converge_s),
        _ if options.unsecured => Some(unsecured_converge(n, options).await),
        _ => None,
    };

    let final_counts = catalog.counts();
    let convergence_writes = total(&at_convergence);
    let services_per_s = n as f64 / converge_s;
    let writes_per_s = convergence_writes as f64 / converge_s;
    let rss = |r: Rss| r.peak_mib;
    json!({
        "services": n,
        "converge_s": round(converge_s, 2),
        "services_per_s": round(services_per_s, 0),
        "raw_patch_per_s": round(raw_patch_per_s, 0),
        "ratio_to_raw": round(writes_per_s / raw_patch_per_s, 2),
        "api_writes_per_service": round(writes as f64 / n as f64, 3),
        "catalog_writes": burst.writes - before.writes,
        "catalog_bytes_written": burst.bytes_written - before.bytes_written,
        "catalog_bytes": burst.bytes,
        "idle_writes": idle_writes,
        "restart_writes": restart_writes,
        "restart_ready_s": round(restart_ready_s, 2),
        "rss_mib": round(rss(converge_rss).max(rss(operator_rss)), 1),
        "server_rss_mib": round(server_stats["peak_rss_mib"].as_f64().unwrap_or(0.0), 1),
        "etcd_db_bytes": server_stats["etcd_db_bytes"],
        "ground": ground.name(),
        "unsecured_converge_s": unsecured_converge_s.map(|s| round(s, 2)),
        "approval_p50_ms": round(latency.p50_ms, 1),
        "approval_p99_ms": round(latency.p99_ms, 1),
        // Extra detail for the table; the JSON line keeps only the keys above.
        "_detail": {
            "writes_by_kind": settled["by"],
            "configmaps": final_counts.configmaps,
            "configmaps_per_approval_max": latency.configmaps_max,
            "configmaps_per_approval_mean": round(latency.configmaps_mean, 2),
            "operator_rss_after_convergence_mib": round(converge_rss.current_mib, 1),
            "operator_rss_after_restart_mib": round(operator_rss.peak_mib, 1),
            "ms_per_service": round(1000.0 * converge_s / n as f64, 3),
            "operator_writes_per_s": round(writes_per_s, 0),
        }
    })
}

/// The same N converging on the embedded server with no TLS, RBAC or admission policies:
/// only the convergence is measured.
async fn unsecured_converge(n: usize, options: &Options) -> f64 {
    eprintln!("bench: N = {n}: converging on the unsecured ground for comparison");
    let ground = Ground::Unsecured;
    let (_dir, kubeconfig) = children::scratch();
    let mut server = Child::spawn_on("server", &kubeconfig, &ground).await;
    assert_eq!(server.line().await, "ready", "the server child starts");
    let client = client(&kubeconfig).await;
    seed(&client, NAMESPACE, n, true).await;
    let (catalog, watch) = CatalogView::start(client.clone()).await;
    let started = Instant::now();
    let operator = Child::spawn_on("operator", &kubeconfig, &ground).await;
    let converged = catalog
        .wait_until(options.deadline, |c| c.counts().entries >= n)
        .await;
    let converge_s = started.elapsed().as_secs_f64();
    assert!(
        converged,
        "{n} Services converge on the unsecured ground too"
    );
    operator.stop().await;
    watch.abort();
    server.stop().await;
    converge_s
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

fn total(stats: &Value) -> u64 {
    stats["total"].as_u64().unwrap_or(0)
}

/// Polls the operator until its write count has not moved for a second (at most a minute).
async fn settle(operator: &mut Child) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = operator.request("stats").await;
    let mut since = Instant::now();
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let stats = operator.request("stats").await;
        if total(&stats) != total(&last) {
            since = Instant::now();
            last = stats;
        } else if since.elapsed() >= Duration::from_secs(1) {
            return stats;
        }
    }
    last
}

async fn poll<T, F, Fut>(timeout: Duration, mut probe: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some(value) = probe().await {
            return Some(value);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

async fn client(kubeconfig: &std::path::Path) -> Client {
    let kubeconfig = kube::config::Kubeconfig::read_from(kubeconfig).expect("the kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .expect("a client config");
    Client::try_from(config).expect("a client")
}

/// Creates `n` Services in `namespace` and, when `approved`, an Approved ServiceApproval for
/// each one's revision. Returns the names.
async fn seed(client: &Client, namespace: &str, n: usize, approved: bool) -> Vec<String> {
    let services: Api<Service> = Api::namespaced(client.clone(), namespace);
    let approvals: Api<ServiceApproval> = Api::namespaced(client.clone(), namespace);
    let names: Vec<String> = (0..n).map(|i| format!("svc-{i:05}")).collect();
    stream::iter(names.clone())
        .map(|name| {
            let (services, approvals) = (services.clone(), approvals.clone());
            async move {
                let service = fixtures::service(&name);
                services.create(&PostParams::default(), &service).await?;
                if approved {
                    let revision = fixtures::revision(&service);
                    approvals
                        .create(
                            &PostParams::default(),
                            &fixtures::approval(&name, &revision),
                        )
                        .await?;
                }
                Ok::<_, kube::Error>(())
            }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await
        .expect("seeding succeeds");
    names
}

/// Status patches per second from a plain client with the operator's identity: server-side
/// apply of an operator-shaped status on Services the operator does not watch (created by
/// `admin`), each patch a real change.
async fn raw_patch_rate(admin: &Client, operator: &Client, n: usize) -> f64 {
    let names = seed(admin, RAW_NAMESPACE, n, false).await;
    let api: Api<Service> = Api::namespaced(operator.clone(), RAW_NAMESPACE);
    let started = Instant::now();
    stream::iter(names)
        .map(|name| {
            let api = api.clone();
            async move {
                let status = fixtures::active_status(&fixtures::service(&name));
                let patch = json!({
                    "apiVersion": "catalog.charter.dev/v1alpha1",
                    "kind": "Service",
                    "status": status,
                });
                api.patch_status(
                    &name,
                    &PatchParams::apply("bench-raw").force(),
                    &Patch::Apply(patch),
                )
                .await
                .map(|_| ())
            }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await
        .expect("raw status patches succeed");
    n as f64 / started.elapsed().as_secs_f64()
}

struct Latency {
    p50_ms: f64,
    p99_ms: f64,
    configmaps_max: u64,
    configmaps_mean: f64,
}

/// One approval at a time on the converged catalog: approval created → entry published.
async fn approval_latencies(client: &Client, catalog: &CatalogView, count: usize) -> Latency {
    let names = seed(client, LATENCY_NAMESPACE, count, false).await;
    let services: Api<Service> = Api::namespaced(client.clone(), LATENCY_NAMESPACE);
    let approvals: Api<ServiceApproval> = Api::namespaced(client.clone(), LATENCY_NAMESPACE);
    let revisions = poll(Duration::from_secs(120), || {
        let services = services.clone();
        async move {
            let list = services.list(&ListParams::default()).await.ok()?;
            let waiting: Vec<(String, String)> = list
                .items
                .into_iter()
                .filter_map(|s| {
                    let status = s.status?;
                    let revision = status.revision?;
                    (status.phase == Some(Phase::Approval))
                        .then(|| (s.metadata.name.unwrap_or_default(), revision))
                })
                .collect();
            (waiting.len() == count).then_some(waiting)
        }
    })
    .await
    .expect("every latency Service waits in Approval");
    // Let the writes of getting there settle, so each approval meets an idle operator.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = names;

    let mut millis = Vec::new();
    let mut configmaps = Vec::new();
    for (name, revision) in revisions {
        // Each approval meets an idle operator: the catalog writer spaces writes under load.
        tokio::time::sleep(IDLE).await;
        let key = format!("{LATENCY_NAMESPACE}_{name}.json");
        let writes_before = catalog.counts().writes;
        let started = Instant::now();
        approvals
            .create(
                &PostParams::default(),
                &fixtures::approval(&name, &revision),
            )
            .await
            .expect("the approval is created");
        let published = catalog
            .wait_until(Duration::from_secs(30), |c| c.contains(&key))
            .await;
        assert!(published, "{key} reaches the catalog");
        millis.push(started.elapsed().as_secs_f64() * 1000.0);
        configmaps.push(catalog.counts().writes - writes_before);
    }
    millis.sort_by(f64::total_cmp);
    let pick =
        |q: f64| millis[((millis.len() as f64 * q).ceil() as usize).clamp(1, millis.len()) - 1];
    Latency {
        p50_ms: pick(0.50),
        p99_ms: pick(0.99),
        configmaps_max: configmaps.iter().copied().max().unwrap_or(0),
        configmaps_mean: configmaps.iter().sum::<u64>() as f64 / configmaps.len().max(1) as f64,
    }
}

fn print_table(r: &Value) {
    let d = &r["_detail"];
    let rows: Vec<(&str, String)> = vec![
        ("Services", r["services"].to_string()),
        (
            "converge (all in the catalog)",
            format!("{} s", r["converge_s"]),
        ),
        (
            "  unsecured embedded server",
            format!("{} s", r["unsecured_converge_s"]),
        ),
        ("Services/s", r["services_per_s"].to_string()),
        ("ms per Service", d["ms_per_service"].to_string()),
        (
            "plain client status patches/s",
            r["raw_patch_per_s"].to_string(),
        ),
        (
            "operator writes/s while converging",
            d["operator_writes_per_s"].to_string(),
        ),
        ("ratio to raw", r["ratio_to_raw"].to_string()),
        (
            "API writes per Service",
            r["api_writes_per_service"].to_string(),
        ),
        ("  by kind", d["writes_by_kind"].to_string()),
        (
            "catalog ConfigMap writes (burst)",
            r["catalog_writes"].to_string(),
        ),
        (
            "catalog bytes written (burst)",
            r["catalog_bytes_written"].to_string(),
        ),
        ("catalog bytes (final)", r["catalog_bytes"].to_string()),
        ("catalog ConfigMaps", d["configmaps"].to_string()),
        ("idle writes (2 s)", r["idle_writes"].to_string()),
        ("restart writes", r["restart_writes"].to_string()),
        ("restart ready", format!("{} s", r["restart_ready_s"])),
        ("operator peak RSS", format!("{} MiB", r["rss_mib"])),
        (
            "  after convergence / after restart",
            format!(
                "{} MiB now / {} MiB peak",
                d["operator_rss_after_convergence_mib"], d["operator_rss_after_restart_mib"]
            ),
        ),
        ("server peak RSS", format!("{} MiB", r["server_rss_mib"])),
        (
            "ground",
            r["ground"].as_str().unwrap_or_default().to_owned(),
        ),
        ("etcd database", format!("{} bytes", r["etcd_db_bytes"])),
        (
            "approval → catalog p50",
            format!("{} ms", r["approval_p50_ms"]),
        ),
        (
            "approval → catalog p99",
            format!("{} ms", r["approval_p99_ms"]),
        ),
        (
            "ConfigMaps written per approval",
            format!(
                "mean {}, max {}",
                d["configmaps_per_approval_mean"], d["configmaps_per_approval_max"]
            ),
        ),
    ];
    println!();
    for (label, value) in rows {
        println!("  {label:<38} {value}");
    }
    println!();
}

fn print_curve(reports: &[Value]) {
    println!(
        "  {:>8} {:>10} {:>12} {:>10} {:>10} {:>12}",
        "N", "converge s", "ms/Service", "writes/N", "RSS MiB", "server MiB"
    );
    for r in reports {
        let cell = |v: &Value| v.to_string();
        println!(
            "  {:>8} {:>10} {:>12} {:>10} {:>10} {:>12}",
            cell(&r["services"]),
            cell(&r["converge_s"]),
            cell(&r["_detail"]["ms_per_service"]),
            cell(&r["api_writes_per_service"]),
            cell(&r["rss_mib"]),
            cell(&r["server_rss_mib"])
        );
    }
    println!();
}
