//! Hostile input: malformed and forged manifests sent with the real kubectl, as the users of a
//! secured server (deploy/'s RBAC and admission policies). The cases are data, in
//! `tests/hostile/*.yaml`; each names who sends what and what must be answered:
//!
//! - `user`: dana owns `ledger` (approvers: ava), ava approves, bo is another user, admin has
//!   every RBAC right (and is an approval delegate) but not the operator's status rights;
//! - the request, one of `apply: <manifest>` (strict field validation, kubectl's default),
//!   `create: <manifest>` (no last-applied annotation doubling the object) or
//!   `kubectl: [args]`;
//! - the answer, one of `refused: [texts kubectl must print]`; `published: <name>` (accepted,
//!   then approved by ava it reaches Active and the catalog); `condition: {service, type,
//!   status, reason}` (accepted, the Service gets that condition and is not Active);
//!   `verdict: {approval, reason}` (accepted, the approval does not count, for that reason);
//!   `annotation: {service, key, value}` (accepted, the server's value, not the manifest's).
//!
//! What must stay unchanged is the same for every case, and checked after all of them: the
//! catalog holds exactly the well-formed Services (`ledger` and the `published` ones), each at
//! its approved revision, and `ledger` is still Active at the revision ava approved.
//!
//! In a request `{x*N}` stands for N x's (any character: `{0*N}`), `{list*N}` for a flow list
//! of N distinct user names (ava first), `{deps*N}` for N dependencies, `{rev}` for the current
//! revision of `ledger`, `{approval}` for the name of ava's approval of it and `{waiting}` for
//! the revision of `waiting` (a quorum of two, never reached).

use std::path::{Path, PathBuf};
use std::time::Instant;

use charter::api::Phase;
use futures::{StreamExt, stream};
use serde::Deserialize;
use testkit::kubectl::Kubectl;
use testkit::{
    Fixture, Ground, NAMESPACE, approval, approve, eventually, eventually_result, on_both_grounds,
    service,
};

const OWNER: &str = "dana";
const APPROVER: &str = "ava";
const OTHER: &str = "bo";
const ADMIN: &str = "admin";

/// One case as written in `tests/hostile/*.yaml`: exactly one request and one answer.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Case {
    case: String,
    user: String,
    apply: Option<String>,
    create: Option<String>,
    kubectl: Option<Vec<String>>,
    refused: Option<Vec<String>>,
    published: Option<String>,
    condition: Option<Condition>,
    verdict: Option<Verdict>,
    annotation: Option<Annotation>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Condition {
    service: String,
    #[serde(rename = "type")]
    type_: String,
    status: String,
    reason: String,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Verdict {
    approval: String,
    reason: String,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Annotation {
    service: String,
    key: String,
    value: String,
}

/// How the request is sent.
enum Send {
    Apply(String),
    Create(String),
    Kubectl(Vec<String>),
}

/// What must be answered.
enum Expect {
    Refused(Vec<String>),
    Published(String),
    Condition(Condition),
    Verdict(Verdict),
    Annotation(Annotation),
}

impl Case {
    /// The request and the answer; a case with none or two of either is a mistake in the file.
    fn parts(self) -> (String, String, Send, Expect) {
        let sends: Vec<Send> = [
            self.apply.map(Send::Apply),
            self.create.map(Send::Create),
            self.kubectl.map(Send::Kubectl),
        ]
        .into_iter()
        .flatten()
        .collect();
        let expects: Vec<Expect> = [
            self.refused.map(Expect::Refused),
            self.published.map(Expect::Published),
            self.condition.map(Expect::Condition),
            self.verdict.map(Expect::Verdict),
            self.annotation.map(Expect::Annotation),
        ]
        .into_iter()
        .flatten()
        .collect();
        let name = self.case;
        let [send] = <[Send; 1]>::try_from(sends).unwrap_or_else(|_| {
            panic!("{name}: one of apply, create or kubectl");
        });
        let [expect] = <[Expect; 1]>::try_from(expects).unwrap_or_else(|_| {
            panic!("{name}: one of refused, published, condition, verdict or annotation");
        });
        (name, self.user, send, expect)
    }
}

/// Every case of every file in `tests/hostile/`, in file order.
fn cases() -> Vec<(String, String, Send, Expect)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "cases in {}", dir.display());
    files
        .iter()
        .flat_map(|file| {
            let text = std::fs::read_to_string(file).expect("a case file");
            let cases: Vec<Case> =
                serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            assert!(!cases.is_empty(), "{} holds cases", file.display());
            cases.into_iter().map(Case::parts)
        })
        .collect()
}

/// What the placeholders of the module comment stand for in this run.
struct Vars {
    rev: String,
    approval: String,
    waiting: String,
}

/// Expands the placeholders described in the module comment.
fn expand(text: &str, vars: &Vars) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let token = rest[1..]
            .find('}')
            .map(|end| &rest[1..=end])
            .filter(|t| !t.contains(['{', ' ', ':', ',']));
        let replacement = match token.map(|t| (t, t.split_once('*'))) {
            Some((_, Some((what, n)))) => {
                let n: usize = n.parse().expect("{what*N} repeats N times");
                let list = |items: Vec<String>| format!("[{}]", items.join(", "));
                match what {
                    "list" => list(
                        std::iter::once("ava".to_string())
                            .chain((1..n).map(|i| format!("u{i}")))
                            .collect(),
                    ),
                    "deps" => list((0..n).map(|i| format!("{{name: d{i}}}")).collect()),
                    c => c.repeat(n),
                }
            }
            Some(("rev", None)) => vars.rev.clone(),
            Some(("approval", None)) => vars.approval.clone(),
            Some(("waiting", None)) => vars.waiting.clone(),
            _ => {
                out.push('{');
                rest = &rest[1..];
                continue;
            }
        };
        out.push_str(&replacement);
        rest = &rest[token.map_or(0, str::len) + 2..];
    }
    out.push_str(rest);
    out
}

on_both_grounds!(async hostile_manifests_are_refused_naming_the_field_and_nothing_leaks_into_the_catalog);
async fn hostile_manifests_are_refused_naming_the_field_and_nothing_leaks_into_the_catalog(
    ground: Ground,
) {
    let started = Instant::now();
    let cases = cases();
    let fx = Fixture::start_on(&ground, false).await;
    let Some(kubectl) = Kubectl::for_users(&fx.server, &[OWNER, APPROVER, OTHER, ADMIN]) else {
        fx.shutdown().await;
        return;
    };

    // A well-formed, approved, published Service that the hostile inputs aim at.
    fx.create(service("ledger")).await;
    let rev = fx.revision_in_approval("ledger").await;
    let ava = fx.client(APPROVER).await;
    let ava_approval = approve(&ava, "ledger", &rev, APPROVER).await;
    fx.wait_for_phase("ledger", Phase::Active).await;
    // A Service with a counted approval, for its owner to delete.
    fx.create(service("doomed")).await;
    let doomed = fx.revision_in_approval("doomed").await;
    let approvals: kube::Api<charter::api::ServiceApproval> =
        kube::Api::namespaced(ava.clone(), NAMESPACE);
    approvals
        .create(
            &Default::default(),
            &approval("doomed-ava")
                .of("doomed")
                .by(APPROVER)
                .approves(&doomed)
                .build(),
        )
        .await
        .expect("ava approves doomed");
    assert_eq!(
        fx.approval_verdict("doomed-ava").await,
        (true, "Counted".into())
    );
    // A Service waiting for a quorum of two.
    fx.create(service("waiting").approvers(&[APPROVER, OTHER]).quorum(2))
        .await;
    let waiting = fx.revision_in_approval("waiting").await;
    let vars = Vars {
        rev: rev.clone(),
        approval: ava_approval,
        waiting,
    };

    let total = cases.len();
    let mut failures = Vec::new();
    let mut published = vec!["ledger".to_string()];
    // Refusals and acceptances are independent: a few kubectl processes at a time.
    let outcomes: Vec<(String, Result<Option<String>, String>)> = stream::iter(cases)
        .map(|(name, user, send, expect)| {
            let (fx, kubectl, vars) = (&fx, &kubectl, &vars);
            async move {
                let outcome = run(fx, kubectl, vars, &name, &user, send, expect).await;
                (name, outcome)
            }
        })
        .buffer_unordered(4)
        .collect()
        .await;
    for (name, outcome) in outcomes {
        match outcome {
            Ok(Some(service)) => published.push(service),
            Ok(None) => {}
            Err(why) => failures.push(format!("- {name}: {why}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} hostile inputs were not answered as they should be:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Nothing published that should not be, nothing lost: the catalog holds exactly the
    // well-formed Services, each at its approved revision.
    published.sort();
    let expected: Vec<String> = published
        .iter()
        .map(|name| charter::catalog::key_of(NAMESPACE, name))
        .collect();
    let catalog = eventually(
        "the catalog to hold exactly the well-formed Services",
        || async {
            let data = fx.catalog().await?;
            let mut keys: Vec<String> = data.keys().filter(|k| k.contains('_')).cloned().collect();
            keys.sort();
            (keys == expected).then_some(data)
        },
    )
    .await;
    for (key, value) in &catalog {
        assert!(
            key.len() <= 253
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')),
            "{key} is a valid ConfigMap key"
        );
        if key.contains('_') {
            let entry: serde_json::Value = serde_json::from_str(value).expect("entry is JSON");
            let name = entry["service"]["name"]
                .as_str()
                .expect("entry names its Service");
            let status = fx
                .status_of(name)
                .await
                .expect("a published Service has a status");
            assert_eq!(
                entry["provenance"]["revision"].as_str(),
                status.approved_revision.as_deref(),
                "{key} serves the approved revision"
            );
        }
    }
    let ledger = fx.status_of("ledger").await.expect("ledger has a status");
    assert_eq!(ledger.phase, Some(Phase::Active), "ledger is still Active");
    assert_eq!(ledger.approved_revision.as_deref(), Some(rev.as_str()));

    println!(
        "{total} hostile inputs answered as expected on {ground:?} in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    fx.shutdown().await;
}

/// Runs one case; on success, the Service it published (if any).
async fn run(
    fx: &Fixture,
    kubectl: &Kubectl,
    vars: &Vars,
    name: &str,
    user: &str,
    send: Send,
    expect: Expect,
) -> Result<Option<String>, String> {
    let file_name = format!(
        "{}.yaml",
        name.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
    );
    // A manifest that names its namespace is sent as is, as `kubectl apply -f` would be.
    let (args, names_namespace): (Vec<String>, bool) = match &send {
        Send::Apply(yaml) | Send::Create(yaml) => {
            let verb = if matches!(send, Send::Apply(_)) {
                "apply"
            } else {
                "create"
            };
            let path = kubectl.file(&file_name, &expand(yaml, vars));
            let args = vec![verb.into(), "-f".into(), path.to_string_lossy().into()];
            (args, yaml.contains("namespace:"))
        }
        Send::Kubectl(args) => (args.iter().map(|a| expand(a, vars)).collect(), false),
    };
    let mut full = match names_namespace {
        true => vec![],
        false => vec!["-n".to_string(), NAMESPACE.to_string()],
    };
    full.extend(args);
    let argv: Vec<&str> = full.iter().map(String::as_str).collect();
    let out = kubectl.run(user, &argv).await;
    let printed = format!("{}{}", out.stdout, out.stderr);
    if let Expect::Refused(needles) = &expect {
        if out.ok {
            return Err(format!("accepted; kubectl printed: {printed}"));
        }
        let missing: Vec<&String> = needles.iter().filter(|n| !printed.contains(*n)).collect();
        return if missing.is_empty() {
            Ok(None)
        } else {
            Err(format!(
                "refused without {missing:?}; kubectl printed: {printed}"
            ))
        };
    }
    if !out.ok {
        return Err(format!("refused; kubectl printed: {printed}"));
    }
    match expect {
        Expect::Refused(_) => unreachable!("answered above"),
        Expect::Published(name) => {
            let name = expand(&name, vars);
            let revision = eventually_result(&format!("{name} to wait in Approval"), || async {
                let status = fx.status_of(&name).await?;
                (status.phase == Some(Phase::Approval)).then_some(status.revision?)
            })
            .await?;
            approve(&fx.client(APPROVER).await, &name, &revision, APPROVER).await;
            eventually_result(&format!("{name} to be Active"), || async {
                (fx.phase_of(&name).await? == Phase::Active).then_some(())
            })
            .await?;
            Ok(Some(name))
        }
        Expect::Condition(Condition {
            service,
            type_,
            status,
            reason,
        }) => {
            let want = (status.clone(), reason.clone());
            eventually_result(&format!("{service} {type_}={status} {reason}"), || async {
                let s = fx.status_of(&service).await?;
                testkit::condition(&s, &type_).filter(|c| *c == want)
            })
            .await?;
            match fx.phase_of(&service).await {
                Some(Phase::Active) => Err(format!("{service} is Active despite {type_}")),
                _ => Ok(None),
            }
        }
        Expect::Verdict(Verdict { approval, reason }) => {
            let counted = eventually_result(&format!("{approval} to be {reason}"), || async {
                let status = fx.approvals().get(&approval).await.ok()?.status?;
                (status.reason == reason).then_some(status.counted)
            })
            .await?;
            match counted {
                true => Err(format!("{approval} counts although it is {reason}")),
                false => Ok(None),
            }
        }
        Expect::Annotation(Annotation {
            service,
            key,
            value,
        }) => {
            let found = fx
                .services()
                .get(&service)
                .await
                .map_err(|e| e.to_string())?;
            let annotations = found.metadata.annotations.unwrap_or_default();
            match annotations.get(&key) {
                Some(v) if *v == value => Ok(None),
                other => Err(format!("{key} is {other:?}, not {value:?}")),
            }
        }
    }
}
