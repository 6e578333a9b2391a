//! The differential suite: one corpus of request sequences (`tests/differential/*.yaml`) run
//! against the embedded API server and a real kube-apiserver (both as `charter sandbox
//! --api-only` serves them: deploy/'s CRDs, RBAC and policies, the demo users), the answers
//! compared after normalising only what legitimately differs: uids, resourceVersions (mapped by
//! order of appearance), timestamps and ages, generated names, continue tokens. Every difference
//! is a bug of the embedded server unless `tests/differential/allowlist.yaml` gives its reason,
//! which `apiserver/README.md` must state too.
//!
//! Needs the real control plane (`scripts/control-plane`, or `CHARTER_CONTROL_PLANE` /
//! `KUBEBUILDER_ASSETS`): fails under `CI=true` without it, and elsewhere skips.

use testkit::differential;

use differential::{Allowlist, Corpus, Ground, Verdict};
use testkit::sandbox::Sandbox;

fn corpus_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/differential")
}

/// Every allowed deviation is written down where readers of the embedded server look.
#[test]
fn the_allowlist_agrees_with_the_embedded_servers_readme() {
    let allowlist = Allowlist::load(&corpus_dir().join("allowlist.yaml"));
    let readme = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("apiserver/README.md"),
    )
    .expect("apiserver/README.md");
    let flat = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    for entry in &allowlist.entries {
        let phrase = entry
            .readme
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            flat.contains(&phrase),
            "allowlist entry {:?} cites {:?}, which apiserver/README.md does not say",
            entry.case,
            entry.readme
        );
    }
    let corpus = Corpus::load(&corpus_dir());
    for entry in &allowlist.entries {
        assert!(
            corpus.cases.iter().any(|c| c.case == entry.case),
            "allowlist entry {:?} names no case of the corpus",
            entry.case
        );
    }
}

#[test]
fn the_embedded_server_answers_as_kube_apiserver() {
    let Some(control_plane) = testkit::control_plane() else {
        return;
    };
    let corpus = Corpus::load(&corpus_dir());
    let allowlist = Allowlist::load(&corpus_dir().join("allowlist.yaml"));
    let embedded = Sandbox::launch(&["--api-only"]);
    let control_plane = control_plane.to_str().expect("utf-8 path").to_owned();
    let real = Sandbox::launch(&["--api-only", "--control-plane", &control_plane]);
    let runtime = tokio::runtime::Runtime::new().expect("tokio");
    let report = runtime.block_on(async {
        let embedded = Ground::connect("embedded", &embedded.kubeconfig).await;
        let real = Ground::connect("kube-apiserver", &real.kubeconfig).await;
        differential::run(&corpus, &allowlist, &embedded, &real).await
    });
    let (mut identical, mut allowed, mut failures) = (0, 0, Vec::new());
    for (case, verdict) in &report {
        match verdict {
            Verdict::Identical => identical += 1,
            Verdict::Allowed => allowed += 1,
            Verdict::Differs(diff) => failures.push(format!("case {case}:\n{diff}")),
        }
    }
    println!(
        "differential: {} cases, {identical} identical, {allowed} allowed deviations",
        report.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases answer differently from kube-apiserver:\n\n{}",
        failures.len(),
        report.len(),
        failures.join("\n\n")
    );
}

/// The normalisation hides only what differs between runs: two embedded servers answer the
/// whole corpus identically, uids, resourceVersions, times and generated names included.
#[test]
fn two_runs_of_the_embedded_server_answer_identically() {
    let corpus = Corpus::load(&corpus_dir());
    let none = Allowlist {
        entries: Vec::new(),
    };
    let first = Sandbox::launch(&["--api-only"]);
    let second = Sandbox::launch(&["--api-only"]);
    let runtime = tokio::runtime::Runtime::new().expect("tokio");
    let report = runtime.block_on(async {
        let first = Ground::connect("first", &first.kubeconfig).await;
        let second = Ground::connect("second", &second.kubeconfig).await;
        differential::run(&corpus, &none, &first, &second).await
    });
    let differs: Vec<String> = report
        .iter()
        .filter_map(|(case, v)| match v {
            Verdict::Differs(diff) => Some(format!("case {case}:\n{diff}")),
            _ => None,
        })
        .collect();
    assert!(differs.is_empty(), "{}", differs.join("\n\n"));
    assert_eq!(report.len(), corpus.cases.len());
}
