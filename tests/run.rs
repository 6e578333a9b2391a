//! `charter run` as deploy/ runs it: two replicas with `--leader-elect`, authenticated as
//! deploy/'s ServiceAccount with exactly its RBAC. Both serve /healthz, /readyz and /metrics
//! (to callers allowed by charter-metrics-reader only); one leads; when the leader dies the
//! other takes over and keeps the catalog.

use charter::api::{DesiredPhase, Phase};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use kube::{Api, api::PostParams};
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use testkit::{Fixture, approve, eventually, service};

const CHARTER: &str = env!("CARGO_BIN_EXE_charter");

struct Replica {
    name: &'static str,
    port: u16,
    child: Child,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn replica(name: &'static str, kubeconfig: &std::path::Path) -> Replica {
    let port = free_port();
    let child = Command::new(CHARTER)
        .args(["run", "--leader-elect", "--lease-duration-seconds", "3"])
        .arg(format!("--http-addr=127.0.0.1:{port}"))
        .arg(format!(
            "--catalog-namespace={}",
            testkit::CATALOG_NAMESPACE
        ))
        .arg(format!("--catalog-name={}", testkit::CATALOG_NAME))
        .env("KUBECONFIG", kubeconfig)
        .env("POD_NAME", name)
        .env(
            "RUST_LOG",
            std::env::var("CHARTER_TEST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("charter run starts");
    Replica { name, port, child }
}

/// `GET path` over plain HTTP/1.0, with a bearer token if given: (status code, body), or None
/// while nothing listens.
fn http_get(port: u16, path: &str, token: Option<&str>) -> Option<(u16, String)> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    let authorization = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: localhost\r\n{authorization}\r\n"
    )
    .ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    let code = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string())?;
    Some((code, body))
}

/// Binds deploy/'s charter-metrics-reader to `user`, as one binds it to Prometheus.
async fn metrics_reader(fx: &Fixture, user: &str) {
    let binding: ClusterRoleBinding = serde_json::from_value(serde_json::json!({
        "metadata": {"name": format!("{user}-reads-metrics")},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "charter-metrics-reader"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
    }))
    .expect("a ClusterRoleBinding");
    Api::<ClusterRoleBinding>::all(fx.admin.clone())
        .create(&PostParams::default(), &binding)
        .await
        .expect("the binding is created");
}

async fn holder(leases: &Api<Lease>) -> Option<String> {
    leases
        .get_opt("charter-leader")
        .await
        .ok()
        .flatten()?
        .spec?
        .holder_identity
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_elect_one_leader_and_fail_over_when_it_dies() {
    let fx = Fixture::start_without_operator(false).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("operator.kubeconfig");
    fx.server
        .write_kubeconfig(&kubeconfig, &charter::deploy::operator_user())
        .expect("kubeconfig");
    let mut replicas = vec![
        replica("charter-a", &kubeconfig),
        replica("charter-b", &kubeconfig),
    ];

    for r in &replicas {
        let port = r.port;
        eventually(
            &format!("{} serves /healthz and /readyz", r.name),
            || async move {
                let healthy = http_get(port, "/healthz", None).is_some_and(|(c, _)| c == 200);
                let ready = http_get(port, "/readyz", None).is_some_and(|(c, _)| c == 200);
                (healthy && ready).then_some(())
            },
        )
        .await;
    }
    let leases: Api<Lease> = Api::namespaced(fx.admin.clone(), charter::deploy::NAMESPACE);
    let first = eventually("a leader holds the Lease", || holder(&leases)).await;

    fx.create(
        service("ledger")
            .owner("dana")
            .desired(DesiredPhase::Active),
    )
    .await;
    let revision = fx.revision_in_approval("ledger").await;
    approve(&fx.admin, "ledger", &revision, "ava").await;
    fx.wait_for_phase("ledger", Phase::Active).await;
    eventually("the leader publishes ledger", || fx.published("ledger")).await;

    let leader = replicas
        .iter()
        .position(|r| r.name == first)
        .expect("the holder is one of the replicas");
    metrics_reader(&fx, "bo").await;
    let token = fx.server.token_of("bo").expect("bo's token");
    let (code, metrics) =
        http_get(replicas[leader].port, "/metrics", Some(&token)).expect("/metrics");
    assert_eq!(code, 200, "{metrics}");
    assert!(
        metrics.contains("charter_reconciliations_total"),
        "Prometheus metrics: {metrics}"
    );

    drop(replicas.remove(leader));
    let second = eventually("the standby takes the Lease over", || async {
        holder(&leases).await.filter(|h| *h != first)
    })
    .await;
    assert_eq!(second, replicas[0].name);

    fx.create(
        service("fx-rates")
            .owner("dana")
            .desired(DesiredPhase::Active),
    )
    .await;
    let revision = fx.revision_in_approval("fx-rates").await;
    approve(&fx.admin, "fx-rates", &revision, "ava").await;
    fx.wait_for_phase("fx-rates", Phase::Active).await;
    eventually("the new leader publishes fx-rates", || {
        fx.published("fx-rates")
    })
    .await;
    assert!(
        fx.published("ledger").await.is_some(),
        "ledger stays published"
    );
}

/// /metrics as controller-runtime serves it by default: the caller's token is reviewed by the
/// API server (TokenReview) and their right to `get /metrics` checked (SubjectAccessReview);
/// the probes stay open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_only_to_a_token_allowed_to_get_them_and_probes_stay_open() {
    let fx = Fixture::start_without_operator(false).await;
    metrics_reader(&fx, "bo").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let port = listener.local_addr().expect("an address").port();
    let access = charter::access::Access::new(fx.operator_client.clone());
    let app = charter::cli::http::router(charter::controller::Telemetry::default(), Some(access));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let token = |user: &str| fx.server.token_of(user).expect("a token");
    // (who, token, path, status)
    let cases = [
        ("nobody", None, "/metrics", 401),
        (
            "a guessed token",
            Some("bo-token".to_owned()),
            "/metrics",
            401,
        ),
        ("a viewer", Some(token("ava")), "/metrics", 403),
        (
            "the operator itself",
            Some(token(&charter::deploy::operator_user())),
            "/metrics",
            403,
        ),
        ("a metrics reader", Some(token("bo")), "/metrics", 200),
        ("again, from the cache", Some(token("bo")), "/metrics", 200),
        ("a probe", None, "/healthz", 200),
        // Open, and honest: no operator runs here.
        ("a probe", None, "/readyz", 503),
    ];
    for (who, token, path, want) in cases {
        let (code, body) =
            tokio::task::spawn_blocking(move || http_get(port, path, token.as_deref()))
                .await
                .expect("the request runs")
                .expect("the server answers");
        assert_eq!(code, want, "{who} GET {path}: {body}");
        if want == 200 && path == "/metrics" {
            assert!(body.contains("charter_reconciliations_total"), "{body}");
        }
    }
    fx.shutdown().await;
}
