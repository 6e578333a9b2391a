//! `scripts/measure-outside`, once, at N = 40 with the charter binary this build made: the
//! outside measurement (its own HTTPS client, `charter sandbox --api-only` and `charter run` as
//! processes) runs end to end and its figures are the ones a converged operator must show.
//! No timing is asserted.

use std::process::Command;

use serde_json::Value;

fn python() -> Option<&'static str> {
    let found = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    match found {
        true => Some("python3"),
        false if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("python3 is required under CI=true for scripts/measure-outside")
        }
        false => None,
    }
}

#[test]
fn the_outside_measurement_runs_and_reports_a_converged_operator() {
    let Some(python) = python() else {
        eprintln!("skipping: no python3 on PATH");
        return;
    };
    let output = Command::new(python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/measure-outside"
        ))
        .args(["40", "--approvals", "3", "--deadline", "120"])
        .args(["--charter", env!("CARGO_BIN_EXE_charter")])
        .output()
        .expect("python3 runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "measure-outside failed:\n{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().expect("a JSON line");
    let report: Value = serde_json::from_str(line).expect("the last line is JSON");

    assert_eq!(report["services"], 40);
    assert_eq!(report["ground"], "secured-sandbox-outside");
    assert!(report["converge_s"].as_f64().is_some_and(|s| s > 0.0));
    // A Service status, an approval status and an Event each, plus the catalog's writes.
    let writes = report["api_writes_per_service"].as_f64().unwrap();
    assert!((3.0..4.0).contains(&writes), "writes per Service: {writes}");
    assert!(report["catalog_writes"].as_u64().is_some_and(|w| w >= 1));
    assert_eq!(report["idle_writes"], 0, "{stderr}");
    assert_eq!(report["restart_writes"], 0, "{stderr}");
    assert!(report["rss_mib"].as_f64().is_some_and(|m| m > 1.0));
    let p50 = report["approval_p50_ms"].as_f64().unwrap();
    let p99 = report["approval_p99_ms"].as_f64().unwrap();
    assert!(p50 > 0.0 && p99 >= p50, "latencies {p50} / {p99}");
}
