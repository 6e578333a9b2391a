//! The throughput benchmark, once, at N = 50: it runs end to end and reports every figure.
//! No timing is asserted: this only keeps the benchmark working.

use testkit::bench;

const KEYS: &[&str] = &[
    "services",
    "converge_s",
    "services_per_s",
    "raw_patch_per_s",
    "ratio_to_raw",
    "api_writes_per_service",
    "catalog_writes",
    "catalog_bytes_written",
    "catalog_bytes",
    "idle_writes",
    "restart_writes",
    "restart_ready_s",
    "rss_mib",
    "server_rss_mib",
    "approval_p50_ms",
    "approval_p99_ms",
    "etcd_db_bytes",
    "ground",
    "unsecured_converge_s",
];

fn main() {
    let Some(report) = bench::main_with(bench::Options {
        services: 50,
        curve: false,
        approvals: 10,
        ..bench::Options::from_env()
    }) else {
        // A child process of the benchmark (server or operator) has done its part.
        return;
    };
    let keys: Vec<&str> = report
        .as_object()
        .expect("the report is a JSON object")
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = KEYS.to_vec();
    expected.sort_unstable();
    assert_eq!(keys, expected, "the report has exactly the documented keys");
    assert_eq!(report["services"], 50);
    assert!(
        report["unsecured_converge_s"].as_f64().unwrap_or(0.0) > 0.0,
        "the unsecured ground is measured beside the secured one"
    );
    assert!(
        report["catalog_bytes"].as_u64().unwrap_or(0) > 0,
        "the catalog holds the Services"
    );
}
