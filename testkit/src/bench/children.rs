//! The benchmark's processes: the embedded API server and the operator each run in a child
//! process of the bench binary (the same executable, told its role by an environment
//! variable), so that each one's RSS is its own. The driver talks to them over stdin/stdout.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use charter::controller::{self, Telemetry};
use charter_apiserver::{ApiServer, Config as ServerConfig};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines},
    process::{ChildStdin, ChildStdout},
};

use super::{CATALOG_NAME, CATALOG_NAMESPACE, LATENCY_NAMESPACE, NAMESPACE, RAW_NAMESPACE};

/// Which process this is.
pub const ROLE: &str = "CHARTER_BENCH_ROLE";
/// Where the server child writes the admin kubeconfig.
pub const KUBECONFIG: &str = "CHARTER_BENCH_KUBECONFIG";

/// Runs the role this process was started for; false when it is the driver.
pub fn run_role() -> bool {
    let role = match std::env::var(ROLE) {
        Ok(role) => role,
        Err(_) => return false,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match role.as_str() {
        "server" => runtime.block_on(serve()),
        "operator" => runtime.block_on(operate()),
        other => panic!("unknown bench role {other}"),
    }
    true
}

/// Which server the benchmark measures (`CHARTER_BENCH_GROUND`).
#[derive(Clone, Debug, PartialEq)]
pub enum Ground {
    /// What `charter sandbox` serves (the default): the embedded server over TLS with
    /// deploy/'s RBAC and admission policies, the operator as deploy/'s ServiceAccount.
    Secured,
    /// The embedded server over plain HTTP, no RBAC or policies: `unsecured`.
    Unsecured,
    /// etcd and kube-apiserver from `CHARTER_CONTROL_PLANE`, secured as `charter sandbox
    /// --control-plane` secures them: `real`.
    Real(PathBuf),
}

impl Ground {
    pub fn from_env() -> Ground {
        match std::env::var("CHARTER_BENCH_GROUND").as_deref() {
            Ok("unsecured") => Ground::Unsecured,
            Ok("real") => Ground::Real(
                std::env::var_os("CHARTER_CONTROL_PLANE")
                    .map(PathBuf::from)
                    .expect("CHARTER_BENCH_GROUND=real needs CHARTER_CONTROL_PLANE (scripts/control-plane)"),
            ),
            Ok("secured") | Err(_) => Ground::Secured,
            Ok(other) => panic!("CHARTER_BENCH_GROUND is secured, unsecured or real, not {other}"),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Ground::Secured => "secured",
            Ground::Unsecured => "unsecured",
            Ground::Real(_) => "real",
        }
    }
}

/// The kubeconfig the operator child uses: deploy/'s ServiceAccount on a secured ground.
pub fn operator_kubeconfig(admin: &Path) -> PathBuf {
    admin.with_extension("operator")
}

const NAMESPACES: [&str; 4] = [
    CATALOG_NAMESPACE,
    NAMESPACE,
    LATENCY_NAMESPACE,
    RAW_NAMESPACE,
];

/// The server child: the ground `CHARTER_BENCH_GROUND` names, serving until its stdin closes.
/// Writes the admin kubeconfig and the operator's beside it, prints `ready`, then answers
/// `stats` with the server's memory (and etcd's database size on the real ground).
async fn serve() {
    let path = PathBuf::from(std::env::var(KUBECONFIG).expect("a kubeconfig path"));
    let operator_path = operator_kubeconfig(&path);
    let operator_user = charter::deploy::operator_user();
    let server_config = || ServerConfig {
        namespaces: NAMESPACES.iter().map(|n| n.to_string()).collect(),
        // The history is bounded by bytes as well (store.rs); the count must not make
        // watchers that fall a few seconds behind relist 10,000 objects.
        watch_history: 1_000_000,
        ..ServerConfig::default()
    };
    match Ground::from_env() {
        Ground::Unsecured => {
            let server = ApiServer::start(ServerConfig {
                tls: false,
                ..server_config()
            })
            .await
            .expect("the API server starts");
            server
                .install_crds(&charter::crds::yaml())
                .expect("the CRDs install");
            for file in [&path, &operator_path] {
                server.write_kubeconfig(file, "admin").expect("kubeconfig");
            }
            answer(vec![std::process::id()], None).await;
            server.shutdown().await;
        }
        Ground::Secured => {
            let (server, _, _) =
                charter::cli::sandbox::secured_server(server_config(), "charter:users")
                    .await
                    .expect("the secured API server starts");
            server.write_kubeconfig(&path, "admin").expect("kubeconfig");
            server
                .write_kubeconfig(&operator_path, &operator_user)
                .expect("kubeconfig");
            answer(vec![std::process::id()], None).await;
            server.shutdown().await;
        }
        Ground::Real(binaries) => {
            let (plane, _, admin) =
                charter::cli::sandbox::secured_control_plane(&binaries, &[], None, "charter:users")
                    .await
                    .expect("the control plane starts");
            let namespaces: Vec<Value> = NAMESPACES
                .iter()
                .map(|n| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}}))
                .collect();
            charter::cli::apply::apply_all(&admin, &namespaces)
                .await
                .expect("the namespaces are created");
            let cluster = plane.kubeconfig_cluster();
            let admins: Vec<_> = plane
                .users()
                .iter()
                .filter(|u| u.name == "admin")
                .cloned()
                .collect();
            write(
                &path,
                &charter::cli::control_plane::kubeconfig(cluster.clone(), &admins),
            );
            let token = plane
                .service_account_token(
                    &admin,
                    charter::deploy::NAMESPACE,
                    charter::deploy::SERVICE_ACCOUNT,
                )
                .await
                .expect("a token for the operator");
            let operator = charter_apiserver::auth::UserSpec {
                name: operator_user.clone(),
                token,
                groups: Vec::new(),
            };
            let mut doc = charter::cli::control_plane::kubeconfig(cluster, &[operator]);
            doc["current-context"] = json!(operator_user);
            write(&operator_path, &doc);
            answer(plane.server_pids(), Some(plane.etcd_db())).await;
            plane.stop().await;
        }
    }
}

fn write(path: &Path, doc: &Value) {
    std::fs::write(path, serde_json::to_string_pretty(doc).expect("json")).expect("kubeconfig");
}

/// Says `ready`, then answers `stats` until stdin closes: the summed memory of `pids` (the
/// server's processes) and the size of `db` (etcd's data file), if any.
async fn answer(pids: Vec<u32>, db: Option<PathBuf>) {
    println!("ready");
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if line.trim() == "stats" {
            let rss = pids
                .iter()
                .map(|p| Rss::of(*p))
                .fold(Rss::default(), |a, b| Rss {
                    current_mib: a.current_mib + b.current_mib,
                    peak_mib: a.peak_mib + b.peak_mib,
                });
            let db_bytes = db
                .as_ref()
                .and_then(|d| std::fs::metadata(d).ok())
                .map(|m| m.len());
            println!(
                "{}",
                json!({"rss_mib": rss.current_mib, "peak_rss_mib": rss.peak_mib, "etcd_db_bytes": db_bytes})
            );
        }
    }
}

/// API writes (anything but GET) the operator's client sent, by what they wrote.
#[derive(Default)]
struct Writes {
    service_status: AtomicU64,
    approval_status: AtomicU64,
    events: AtomicU64,
    configmaps: AtomicU64,
    other: AtomicU64,
}

impl Writes {
    fn count(&self, method: &http::Method, path: &str) {
        if method == http::Method::GET {
            return;
        }
        let counter = if path.contains("/configmaps") {
            &self.configmaps
        } else if path.contains("/events") {
            &self.events
        } else if path.contains("/serviceapprovals/") && path.ends_with("/status") {
            &self.approval_status
        } else if path.contains("/services/") && path.ends_with("/status") {
            &self.service_status
        } else {
            &self.other
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn json(&self) -> Value {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let by = json!({
            "service_status": get(&self.service_status),
            "approval_status": get(&self.approval_status),
            "events": get(&self.events),
            "configmaps": get(&self.configmaps),
            "other": get(&self.other),
        });
        let total: u64 = by
            .as_object()
            .map(|m| m.values().filter_map(Value::as_u64).sum())
            .unwrap_or(0);
        json!({"total": total, "by": by})
    }
}

/// The operator child: `controller::Operator` with a client that counts its writes.
/// Answers `stats` with one JSON line; stops gracefully on `stop` or when stdin closes.
async fn operate() {
    if let Ok(filter) = std::env::var("CHARTER_BENCH_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .try_init();
    }
    let path = std::env::var(KUBECONFIG).expect("a kubeconfig path");
    let path = operator_kubeconfig(Path::new(&path));
    let kubeconfig = kube::config::Kubeconfig::read_from(&path).expect("the kubeconfig reads");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .expect("a client config");
    let writes = Arc::new(Writes::default());
    let counting = {
        let writes = writes.clone();
        tower::util::MapRequestLayer::new(move |request: http::Request<kube::client::Body>| {
            writes.count(request.method(), request.uri().path());
            request
        })
    };
    let client = kube::client::ClientBuilder::try_from(config)
        .expect("a client builder")
        .with_layer(&counting)
        .build();
    let streaming_lists = match std::env::var("CHARTER_BENCH_STREAMING").as_deref() {
        Ok("0") => false,
        Ok("1") => true,
        _ => controller::streaming_lists_served(&client, Some(NAMESPACE)).await,
    };
    let telemetry = Telemetry::default();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let operator = controller::Operator::new(
        client,
        controller::Config {
            namespaces: Some(vec![NAMESPACE.into(), LATENCY_NAMESPACE.into()]),
            catalog_namespace: CATALOG_NAMESPACE.into(),
            catalog_name: CATALOG_NAME.into(),
            // As `charter run`: CHARTER_CONCURRENCY, else the default.
            concurrency: match std::env::var("CHARTER_CONCURRENCY") {
                Err(_) => controller::DEFAULT_CONCURRENCY,
                Ok(v) => v.parse().ok().filter(|n| *n > 0).unwrap_or_else(|| {
                    panic!("CHARTER_CONCURRENCY={v:?}: a whole number from 1 to 65535, as for charter run")
                }),
            },
            ..controller::Config::default()
        },
    )
    // As `charter run` by default: streaming lists where the server serves them;
    // CHARTER_BENCH_STREAMING=0 (or 1) decides instead.
    .streaming_lists(streaming_lists)
    .telemetry(telemetry.clone());
    let operator = tokio::spawn(operator.run(async move {
        let _ = stopped.await;
    }));
    let stats = || {
        let mut s = writes.json();
        s["reconciliations"] = json!(reconciliations(&telemetry));
        s["ready"] = json!(telemetry.ready());
        s.to_string()
    };
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        match line.trim() {
            "stats" => println!("{}", stats()),
            "stop" => break,
            _ => {}
        }
    }
    let _ = stop.send(());
    let result = operator.await.expect("the operator task does not panic");
    result.expect("the operator stops without error");
    println!("{}", stats());
}

fn reconciliations(telemetry: &Telemetry) -> u64 {
    telemetry
        .encode()
        .lines()
        .find_map(|l| l.strip_prefix("charter_reconciliations_total "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

/// A child process of the driver.
pub struct Child {
    child: tokio::process::Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

/// Resident memory of a process, from /proc: now and at its peak.
#[derive(Clone, Copy, Debug, Default)]
pub struct Rss {
    pub current_mib: f64,
    pub peak_mib: f64,
}

impl Rss {
    pub fn of(pid: u32) -> Rss {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
                .map_or(0.0, |kib| kib / 1024.0)
        };
        Rss {
            current_mib: field("VmRSS:"),
            peak_mib: field("VmHWM:"),
        }
    }
}

impl Child {
    pub async fn spawn(role: &str, kubeconfig: &Path) -> Child {
        Child::spawn_on(role, kubeconfig, &Ground::from_env()).await
    }

    /// A child for `ground` (which the child reads from `CHARTER_BENCH_GROUND`).
    pub async fn spawn_on(role: &str, kubeconfig: &Path, ground: &Ground) -> Child {
        let exe = std::env::current_exe().expect("the bench executable");
        // `CHARTER_BENCH_WRAP_OPERATOR=script` runs the operator child as `script <exe>` (e.g.
        // a script that execs it under a heap profiler's LD_PRELOAD); the same for `SERVER`.
        let mut command =
            match std::env::var_os(format!("CHARTER_BENCH_WRAP_{}", role.to_uppercase())) {
                Some(wrapper) => {
                    let mut command = tokio::process::Command::new(wrapper);
                    command.arg(exe);
                    command
                }
                None => tokio::process::Command::new(exe),
            };
        let mut child = command
            .env(ROLE, role)
            .env(KUBECONFIG, kubeconfig)
            .env("CHARTER_BENCH_GROUND", ground.name())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("the {role} child starts: {e}"));
        let stdin = child.stdin.take().expect("piped stdin");
        let lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        Child {
            child,
            stdin,
            lines,
        }
    }

    /// The next line the child prints.
    pub async fn line(&mut self) -> String {
        tokio::time::timeout(Duration::from_secs(120), self.lines.next_line())
            .await
            .expect("the child answers in time")
            .expect("the child's stdout reads")
            .expect("the child is alive")
    }

    pub async fn request(&mut self, command: &str) -> Value {
        self.stdin
            .write_all(format!("{command}\n").as_bytes())
            .await
            .expect("the child reads its stdin");
        let line = self.line().await;
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("a JSON answer ({e}): {line}"))
    }

    pub fn rss(&self) -> Rss {
        self.child.id().map(Rss::of).unwrap_or_default()
    }

    /// Asks the child to stop and waits for it; returns its last line (the operator's final
    /// stats), if any.
    pub async fn stop(mut self) -> Option<String> {
        let _ = self.stdin.write_all(b"stop\n").await;
        drop(self.stdin);
        let mut last = None;
        while let Ok(Ok(Some(line))) =
            tokio::time::timeout(Duration::from_secs(60), self.lines.next_line()).await
        {
            last = Some(line);
        }
        let _ = tokio::time::timeout(Duration::from_secs(60), self.child.wait()).await;
        last
    }
}

/// A scratch directory for the kubeconfig, removed at the end.
pub fn scratch() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let path = dir.path().join("kubeconfig");
    (dir, path)
}
