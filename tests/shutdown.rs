//! `charter run` ends promptly on SIGTERM in every state: while its first list keeps failing,
//! as a standby waiting for the Lease, and as a leader whose lists keep failing.

use std::{
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use charter_apiserver::Matcher;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::{Api, api::PostParams};
use testkit::{Fixture, eventually};

const CHARTER: &str = env!("CARGO_BIN_EXE_charter");

/// What "promptly" means: well inside a kubelet's default 30 s grace period, and far below the
/// list backoff and the Lease duration the operator would otherwise wait out.
const PROMPTLY: Duration = Duration::from_secs(5);

struct Operator(Child);

impl Drop for Operator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn start(kubeconfig: &std::path::Path, extra: &[&str]) -> (Operator, u16) {
    let port = free_port();
    let child = Command::new(CHARTER)
        .arg("run")
        .args(extra)
        .arg(format!("--http-addr=127.0.0.1:{port}"))
        .arg(format!(
            "--catalog-namespace={}",
            testkit::CATALOG_NAMESPACE
        ))
        .arg(format!("--catalog-name={}", testkit::CATALOG_NAME))
        .env("KUBECONFIG", kubeconfig)
        .env("POD_NAME", "charter-under-test")
        .env(
            "RUST_LOG",
            std::env::var("CHARTER_TEST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("charter run starts");
    (Operator(child), port)
}

/// Whether something answers on the port's /healthz: the process is up and serving.
fn serving(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let mut text = String::new();
    write!(stream, "GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n").is_ok()
        && stream.read_to_string(&mut text).is_ok()
        && text.split_whitespace().nth(1) == Some("200")
}

/// Sends SIGTERM and returns how the process ended and how long it took.
async fn terminate(operator: &mut Operator) -> (ExitStatus, Duration) {
    let pid = operator.0.id().to_string();
    let sent = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(sent.success(), "SIGTERM is delivered to {pid}");
    let started = Instant::now();
    let status = eventually("charter run to exit after SIGTERM", || {
        std::future::ready(operator.0.try_wait().ok().flatten())
    })
    .await;
    (status, started.elapsed())
}

/// A fixture whose operator user fails every list of Services (a 500 from the server), paged or
/// streamed (a streaming list is a watch), and a kubeconfig for that user.
async fn failing_lists() -> (Fixture, tempfile::TempDir, std::path::PathBuf) {
    let fx = Fixture::start_without_operator(false).await;
    let faults = fx.server.faults();
    for user in testkit::USERS.iter().copied().chain(["admin"]) {
        faults.spare(user);
    }
    for verb in ["list", "watch"] {
        faults.fail_fraction(Matcher::new(Some(verb), Some("services")), 500, 1.0);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("operator.kubeconfig");
    fx.server
        .write_kubeconfig(&kubeconfig, &charter::deploy::operator_user())
        .expect("kubeconfig");
    (fx, dir, kubeconfig)
}

/// Waits until the operator has failed to list Services a few times: it is retrying.
async fn until_lists_fail(fx: &Fixture) {
    eventually("the operator's lists of Services to fail", || {
        let errors = fx.server.faults().injected().errors;
        std::future::ready((errors.get(&500).copied().unwrap_or(0) >= 2).then_some(()))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_the_operator_promptly_while_its_first_list_keeps_failing() {
    let (fx, _dir, kubeconfig) = failing_lists().await;
    let (mut operator, port) = start(&kubeconfig, &[]);
    eventually("charter run to serve /healthz", || {
        std::future::ready(serving(port).then_some(()))
    })
    .await;
    until_lists_fail(&fx).await;

    let (status, took) = terminate(&mut operator).await;
    assert!(status.success(), "a clean exit: {status}");
    assert!(took < PROMPTLY, "SIGTERM took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_a_leader_promptly_while_its_first_list_keeps_failing() {
    let (fx, _dir, kubeconfig) = failing_lists().await;
    let (mut operator, _port) = start(
        &kubeconfig,
        &["--leader-elect", "--lease-duration-seconds", "15"],
    );
    let leases: Api<Lease> = Api::namespaced(fx.admin.clone(), charter::deploy::NAMESPACE);
    eventually("the operator to lead", || async {
        let spec = leases
            .get_opt("charter-leader")
            .await
            .ok()
            .flatten()?
            .spec?;
        (spec.holder_identity.as_deref() == Some("charter-under-test")).then_some(())
    })
    .await;
    until_lists_fail(&fx).await;

    let (status, took) = terminate(&mut operator).await;
    assert!(status.success(), "a clean exit: {status}");
    assert!(took < PROMPTLY, "SIGTERM took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_a_standby_promptly() {
    let fx = Fixture::start_without_operator(false).await;
    // Another replica holds the Lease for an hour: this one waits as a standby.
    let leases: Api<Lease> = Api::namespaced(fx.admin.clone(), charter::deploy::NAMESPACE);
    let mut lease = Lease::default();
    lease.metadata.name = Some("charter-leader".into());
    lease.spec = Some(LeaseSpec {
        holder_identity: Some("another-replica".into()),
        lease_duration_seconds: Some(3600),
        acquire_time: Some(MicroTime(k8s_openapi::jiff::Timestamp::now())),
        renew_time: Some(MicroTime(k8s_openapi::jiff::Timestamp::now())),
        ..Default::default()
    });
    leases
        .create(&PostParams::default(), &lease)
        .await
        .expect("the other replica's Lease is created");
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("operator.kubeconfig");
    fx.server
        .write_kubeconfig(&kubeconfig, &charter::deploy::operator_user())
        .expect("kubeconfig");
    let (mut operator, port) = start(
        &kubeconfig,
        &["--leader-elect", "--lease-duration-seconds", "15"],
    );
    eventually("the standby to serve /healthz", || {
        std::future::ready(serving(port).then_some(()))
    })
    .await;

    let (status, took) = terminate(&mut operator).await;
    assert!(status.success(), "a clean exit: {status}");
    assert!(took < PROMPTLY, "SIGTERM took {took:?}");
    let holder = leases
        .get("charter-leader")
        .await
        .expect("the Lease")
        .spec
        .and_then(|s| s.holder_identity);
    assert_eq!(
        holder.as_deref(),
        Some("another-replica"),
        "a standby leaves the Lease alone"
    );
}
