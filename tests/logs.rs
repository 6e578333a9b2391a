//! `charter run`'s log, redirected to a file as a pod's is: plain text without colour codes, and
//! each failed reconcile logged once, in one line without a debug dump.

use std::process::{Command, Stdio};

use charter_apiserver::Matcher;
use testkit::*;

const CHARTER: &str = env!("CARGO_BIN_EXE_charter");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirected_log_has_no_colour_and_tells_each_failure_once() {
    let fx = Fixture::start_without_operator(false).await;
    let faults = fx.server.faults();
    for user in USERS.iter().copied().chain(["admin"]) {
        faults.spare(user);
    }
    faults.fail_fraction(Matcher::new(Some("patch"), Some("services")), 403, 1.0);
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("operator.kubeconfig");
    fx.server
        .write_kubeconfig(&kubeconfig, &charter::deploy::operator_user())
        .expect("kubeconfig");
    let log = dir.path().join("charter.log");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let mut child = Command::new(CHARTER)
        .arg("run")
        .arg(format!("--http-addr=127.0.0.1:{port}"))
        .arg(format!("--catalog-namespace={CATALOG_NAMESPACE}"))
        .arg(format!("--catalog-name={CATALOG_NAME}"))
        .env("KUBECONFIG", &kubeconfig)
        .env("RUST_LOG", "warn")
        .env_remove("NO_COLOR")
        .stdout(std::fs::File::create(&log).expect("the log file"))
        .stderr(Stdio::inherit())
        .spawn()
        .expect("charter run starts");

    fx.create(service("ledger")).await;
    let text = eventually("three failed reconciles in the log", || {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        std::future::ready((text.matches("reconcile failed").count() >= 3).then_some(text))
    })
    .await;
    let _ = child.kill();
    let _ = child.wait();

    assert!(!text.contains('\u{1b}'), "no colour codes: {text}");
    let failures: Vec<&str> = text.lines().filter(|l| l.contains("403")).collect();
    assert!(
        failures.iter().all(|l| l.contains("reconcile failed")),
        "each failure is one line, from the error policy: {failures:#?}"
    );
    assert!(
        !text.contains("ErrorResponse") && !text.contains("Status {"),
        "no debug dump: {text}"
    );
}
