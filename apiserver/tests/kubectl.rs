//! Conformance with the real `kubectl` (1.32): every assertion checks what kubectl prints.
//! Skipped (passing, with a note) when no `kubectl` is on PATH.

mod common;

use charter_apiserver::{ApiServer, Config};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use test_programs::kubectl::Run;

const CRD: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: services.catalog.charter.dev
spec:
  group: catalog.charter.dev
  names:
    kind: Service
    listKind: ServiceList
    plural: services
    singular: service
    shortNames: [csvc]
    categories: [charter]
  scope: Namespaced
  versions:
  - name: v1alpha1
    served: true
    storage: true
    subresources:
      status: {}
    additionalPrinterColumns:
    - name: Owner
      type: string
      jsonPath: .spec.owner
    - name: Ready
      type: string
      jsonPath: .status.conditions[?(@.type=="Ready")].status
    - name: Age
      type: date
      jsonPath: .metadata.creationTimestamp
    schema:
      openAPIV3Schema:
        type: object
        description: A catalogued service.
        properties:
          spec:
            type: object
            description: Desired state of the catalogued service.
            required: [owner]
            properties:
              owner:
                type: string
                description: The team that owns the service.
              tier:
                type: string
          status:
            type: object
            properties:
              conditions:
                type: array
                items:
                  type: object
                  properties:
                    type: {type: string}
                    status: {type: string}
"#;

const CR: &str = r#"apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata:
  name: p1
spec:
  owner: team-a
"#;

const CR_CHANGED: &str = r#"apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata:
  name: p1
spec:
  owner: team-b
  tier: gold
"#;

const CR_INVALID: &str = r#"apiVersion: catalog.charter.dev/v1alpha1
kind: Service
metadata:
  name: bad
spec:
  tier: gold
"#;

struct Kubectl {
    _server: ApiServer,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    calls: AtomicUsize,
    /// Share one discovery/OpenAPI cache between calls, as a user's `~/.kube/cache` is.
    shared_cache: bool,
}

impl Kubectl {
    /// Start a server and write a kubeconfig for it; `None` (with a note) without kubectl.
    async fn start() -> Option<Kubectl> {
        test_programs::kubectl::probe()?;
        let server = ApiServer::start(Config::default())
            .await
            .expect("server starts");
        let dir = tempfile::tempdir().expect("tempdir");
        let kubeconfig = dir.path().join("kubeconfig");
        server
            .write_kubeconfig(&kubeconfig, "admin")
            .expect("kubeconfig");
        let k = Kubectl {
            _server: server,
            dir,
            kubeconfig,
            calls: AtomicUsize::new(0),
            shared_cache: false,
        };
        // kubectl sends bearer tokens only over TLS, which the server serves by default.
        let probe = k.run(&["get", "--raw", "/api"]).await;
        assert!(probe.ok, "kubectl reaches the server: {}", probe.stderr);
        Some(k)
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).expect("write manifest");
        p
    }

    /// Base command: own kubeconfig, a fresh discovery cache for every call (so a new CRD
    /// is never hidden by a stale cache).
    fn command(&self, args: &[&str]) -> Command {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let mut c = test_programs::kubectl::command();
        c.arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(self.dir.path().join(if self.shared_cache {
                "cache".to_string()
            } else {
                format!("cache-{n}")
            }))
            .args(args)
            .env("HOME", self.dir.path())
            .stdin(Stdio::null());
        c
    }

    async fn run(&self, args: &[&str]) -> Run {
        Run::of(self.command(args)).await
    }

    /// Run, require success, return stdout.
    async fn ok(&self, args: &[&str]) -> String {
        let r = self.run(args).await;
        assert!(
            r.ok,
            "kubectl {args:?} failed\nstdout:\n{}\nstderr:\n{}",
            r.stdout, r.stderr
        );
        r.stdout
    }

    async fn install_crd(&self) {
        let crd = self.file("crd.yaml", CRD);
        let out = self.ok(&["apply", "-f", path(&crd)]).await;
        assert_eq!(
            out.trim(),
            "customresourcedefinition.apiextensions.k8s.io/services.catalog.charter.dev created"
        );
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// The header and the row of `name` in `kubectl get` output, split on runs of spaces.
fn table_row(out: &str, name: &str) -> (Vec<String>, Vec<String>) {
    let split = |l: &str| {
        l.split("   ")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let mut lines = out.lines();
    let header = lines
        .next()
        .map(|l| l.split_whitespace().map(String::from).collect())
        .unwrap_or_default();
    let row = lines
        .find(|l| l.split_whitespace().next() == Some(name))
        .map(split)
        .unwrap_or_default();
    (header, row)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_get_explain_a_custom_resource() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    k.install_crd().await;

    let cr = k.file("cr.yaml", CR);
    assert_eq!(
        k.ok(&["apply", "-f", path(&cr)]).await.trim(),
        "service.catalog.charter.dev/p1 created"
    );
    assert_eq!(
        k.ok(&["apply", "-f", path(&cr)]).await.trim(),
        "service.catalog.charter.dev/p1 unchanged"
    );
    let changed = k.file("cr2.yaml", CR_CHANGED);
    assert_eq!(
        k.ok(&["apply", "-f", path(&changed)]).await.trim(),
        "service.catalog.charter.dev/p1 configured"
    );

    // Printer columns, from the Table the server builds.
    let out = k.ok(&["get", "csvc"]).await;
    let (header, row) = table_row(&out, "p1");
    assert_eq!(header, vec!["NAME", "OWNER", "READY", "AGE"], "{out}");
    assert_eq!(row.first().map(String::as_str), Some("p1"), "{out}");
    assert_eq!(row.get(1).map(String::as_str), Some("team-b"), "{out}");
    let age = row.last().cloned().unwrap_or_default();
    assert!(
        age.ends_with('s') || age.ends_with('m'),
        "age {age:?} in {out}"
    );

    let yaml = k.ok(&["get", "csvc", "p1", "-o", "yaml"]).await;
    assert!(yaml.contains("owner: team-b"), "{yaml}");
    assert!(yaml.contains("tier: gold"), "{yaml}");
    assert!(
        yaml.contains("kubectl.kubernetes.io/last-applied-configuration"),
        "{yaml}"
    );
    assert!(yaml.contains("resourceVersion:"), "{yaml}");

    // Server-side apply on top of the client-side applied object.
    let ssa = k
        .ok(&[
            "apply",
            "--server-side",
            "--force-conflicts",
            "-f",
            path(&changed),
        ])
        .await;
    assert_eq!(
        ssa.trim(),
        "service.catalog.charter.dev/p1 serverside-applied"
    );

    let explain = k.ok(&["explain", "csvc.spec"]).await;
    assert!(explain.contains("KIND:       Service"), "{explain}");
    assert!(
        explain.contains("GROUP:      catalog.charter.dev"),
        "{explain}"
    );
    assert!(
        explain.contains("Desired state of the catalogued service."),
        "{explain}"
    );
    assert!(explain.contains("owner\t<string> -required-"), "{explain}");
    assert!(
        explain.contains("The team that owns the service."),
        "{explain}"
    );
    let explain = k.ok(&["explain", "csvc"]).await;
    assert!(explain.contains("metadata\t<ObjectMeta>"), "{explain}");

    let resources = k
        .ok(&["api-resources", "--api-group=catalog.charter.dev"])
        .await;
    assert!(
        resources
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == [
                    "services",
                    "csvc",
                    "catalog.charter.dev/v1alpha1",
                    "true",
                    "Service"
                ]),
        "{resources}"
    );

    assert_eq!(
        k.ok(&["delete", "csvc", "p1"]).await.trim(),
        "service.catalog.charter.dev \"p1\" deleted"
    );
    let r = k.run(&["get", "csvc", "p1"]).await;
    assert!(!r.ok);
    assert!(
        r.stderr.contains("Error from server (NotFound)"),
        "{}",
        r.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_manifest_is_rejected_with_the_servers_message() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    k.install_crd().await;
    let bad = k.file("bad.yaml", CR_INVALID);
    let r = k.run(&["apply", "-f", path(&bad)]).await;
    assert!(!r.ok, "{}", r.stdout);
    assert!(r.stderr.contains("is invalid"), "{}", r.stderr);
    assert!(r.stderr.contains("spec.owner"), "{}", r.stderr);
    assert!(r.stderr.contains("Required value"), "{}", r.stderr);
    let r = k.run(&["get", "csvc", "bad"]).await;
    assert!(!r.ok && r.stderr.contains("NotFound"), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_commands_send_protobuf() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    assert_eq!(
        k.ok(&["create", "namespace", "x"]).await.trim(),
        "namespace/x created"
    );
    let ns = k.ok(&["get", "namespace", "x"]).await;
    let (header, row) = table_row(&ns, "x");
    assert_eq!(header, vec!["NAME", "STATUS", "AGE"], "{ns}");
    assert_eq!(row.get(1).map(String::as_str), Some("Active"), "{ns}");

    assert_eq!(
        k.ok(&["create", "configmap", "y", "-n", "x", "--from-literal=a=b"])
            .await
            .trim(),
        "configmap/y created"
    );
    assert_eq!(
        k.ok(&[
            "get",
            "configmap",
            "y",
            "-n",
            "x",
            "-o",
            "jsonpath={.data.a}"
        ])
        .await,
        "b"
    );
    let cms = k.ok(&["get", "configmaps", "-n", "x"]).await;
    let (header, row) = table_row(&cms, "y");
    assert_eq!(header, vec!["NAME", "DATA", "AGE"], "{cms}");
    assert_eq!(row.get(1).map(String::as_str), Some("1"), "{cms}");

    assert_eq!(
        k.ok(&["label", "configmap", "y", "-n", "x", "team=a"])
            .await
            .trim(),
        "configmap/y labeled"
    );
    let selected = k
        .ok(&["get", "configmaps", "-n", "x", "-l", "team=a", "-o", "name"])
        .await;
    assert_eq!(selected.trim(), "configmap/y");
    let none = k
        .run(&["get", "configmaps", "-n", "x", "-l", "team=b"])
        .await;
    assert!(
        none.ok
            && none.stdout.is_empty()
            && none.stderr.contains("No resources found in x namespace."),
        "{}",
        none.stderr
    );

    // `kubectl auth whoami` posts a protobuf SelfSubjectReview.
    let whoami = k.ok(&["auth", "whoami"]).await;
    assert!(
        whoami
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["Username", "admin"]),
        "{whoami}"
    );

    // kubectl apply on a built-in kind computes a strategic merge patch from /openapi/v3.
    let cm = k.file(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: z\n  namespace: x\ndata:\n  k: one\n",
    );
    assert_eq!(
        k.ok(&["apply", "-f", path(&cm)]).await.trim(),
        "configmap/z created"
    );
    let cm = k.file("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: z\n  namespace: x\ndata:\n  k: two\n  l: three\n");
    let r = k.run(&["apply", "-f", path(&cm)]).await;
    assert!(r.ok, "{}", r.stderr);
    assert_eq!(r.stdout.trim(), "configmap/z configured");
    assert!(!r.stderr.contains("warning"), "{}", r.stderr);
    assert_eq!(
        k.ok(&[
            "get",
            "configmap",
            "z",
            "-n",
            "x",
            "-o",
            "jsonpath={.data.k}/{.data.l}"
        ])
        .await,
        "two/three"
    );

    assert_eq!(
        k.ok(&["delete", "configmap", "y", "-n", "x"]).await.trim(),
        "configmap \"y\" deleted"
    );
    let r = k.run(&["get", "configmap", "y", "-n", "x"]).await;
    assert!(
        !r.ok
            && r.stderr
                .contains("Error from server (NotFound): configmaps \"y\" not found"),
        "{}",
        r.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_and_wait_for_a_condition() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    k.install_crd().await;
    let cr = k.file("cr.yaml", CR);
    k.ok(&["apply", "-f", path(&cr)]).await;

    // `get -w`: the header, the existing object, then the change we make (each event
    // arrives as a one-row Table); then kill it.
    let mut watch = k.command(&["get", "csvc", "-w"]);
    watch.stdout(Stdio::piped()).stderr(Stdio::piped());
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let watcher = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        let mut child = watch.spawn().expect("kubectl get -w");
        let stdout = child.stdout.take().expect("stdout");
        let (ltx, lrx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if ltx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut lines = Vec::new();
        while lines.len() < 3 {
            match lrx.recv_timeout(Duration::from_secs(15)) {
                Ok(l) => {
                    let _ = tx.send(l.clone());
                    lines.push(l);
                }
                Err(_) => break,
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        lines
    });
    // Change the object once the watch has shown it.
    let seen = tokio::task::spawn_blocking(move || {
        (0..2).all(|_| rx.recv_timeout(Duration::from_secs(15)).is_ok())
    })
    .await
    .expect("join");
    assert!(seen, "kubectl get -w printed no header and row");
    let changed = k.file("cr2.yaml", CR_CHANGED);
    assert_eq!(
        k.ok(&["apply", "-f", path(&changed)]).await.trim(),
        "service.catalog.charter.dev/p1 configured"
    );
    let lines = watcher.await.expect("join");
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["NAME", "OWNER", "READY", "AGE"],
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with("p1 ") && lines[1].contains("team-a"),
        "{lines:?}"
    );
    assert!(
        lines[2].starts_with("p1 ") && lines[2].contains("team-b"),
        "{lines:?}"
    );

    // `wait --for=condition=Ready` returns once the status subresource says so.
    // `-v=6` logs each request as its answer arrives: the patch is sent only once kubectl's
    // watch has been answered, so that `wait` is seen waiting rather than finding Ready at once.
    let mut wait = k.command(&[
        "wait",
        "--for=condition=Ready",
        "csvc/p1",
        "--timeout=30s",
        "-v=6",
    ]);
    wait.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = wait.spawn().expect("kubectl wait starts");
    let stderr = child.stderr.take().expect("piped stderr");
    let (watching_tx, watching_rx) = std::sync::mpsc::channel();
    let log = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut log = Vec::new();
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if line.contains("watch=true") && line.contains("200 OK") {
                let _ = watching_tx.send(());
            }
            log.push(line);
        }
        log
    });
    let waiter = tokio::task::spawn_blocking(move || child.wait_with_output());
    let watching =
        tokio::task::spawn_blocking(move || watching_rx.recv_timeout(Duration::from_secs(30)))
            .await
            .expect("join");
    assert!(watching.is_ok(), "kubectl wait never started its watch");
    let patched = k
        .ok(&[
            "patch",
            "csvc",
            "p1",
            "--subresource=status",
            "--type=merge",
            "-p",
            r#"{"status":{"conditions":[{"type":"Ready","status":"True"}]}}"#,
        ])
        .await;
    assert_eq!(patched.trim(), "service.catalog.charter.dev/p1 patched");
    let out = waiter.await.expect("join").expect("kubectl wait runs");
    let log = log.join().expect("the log reader ends with kubectl");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", log.join("\n"));
    assert_eq!(
        stdout.trim(),
        "service.catalog.charter.dev/p1 condition met"
    );

    let out = k.ok(&["get", "csvc", "p1"]).await;
    let (_, row) = table_row(&out, "p1");
    assert_eq!(row.get(2).map(String::as_str), Some("True"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_events_categories_and_all_namespaces() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    k.install_crd().await;
    let cr = k.file("cr.yaml", CR);
    k.ok(&["apply", "-f", path(&cr)]).await;
    let uid = k
        .ok(&["get", "csvc", "p1", "-o", "jsonpath={.metadata.uid}"])
        .await;
    assert!(!uid.is_empty());

    // A core v1 Event about p1 (stored as events.k8s.io/v1, served through both).
    let ev = k.file(
        "ev.yaml",
        &format!(
            "apiVersion: v1\nkind: Event\nmetadata:\n  name: p1.1\n  namespace: default\ninvolvedObject:\n  apiVersion: catalog.charter.dev/v1alpha1\n  kind: Service\n  name: p1\n  namespace: default\n  uid: {uid}\nreason: Synced\nmessage: all good\ntype: Normal\nsource:\n  component: charter\nfirstTimestamp: \"2026-01-01T00:00:00Z\"\nlastTimestamp: \"2026-01-01T00:00:00Z\"\ncount: 2\n"
        ),
    );
    assert_eq!(
        k.ok(&["create", "-f", path(&ev)]).await.trim(),
        "event/p1.1 created"
    );
    let events = k.ok(&["get", "events"]).await;
    let mut lines = events.lines();
    assert_eq!(
        lines
            .next()
            .map(|l| l.split_whitespace().collect::<Vec<_>>()),
        Some(vec!["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]),
        "{events}"
    );
    let row: Vec<&str> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(
        row.get(1..),
        Some(&["Normal", "Synced", "service/p1", "all", "good"][..]),
        "{events}"
    );
    let note = k
        .ok(&[
            "get",
            "events.events.k8s.io",
            "p1.1",
            "-o",
            "jsonpath={.note}/{.regarding.name}/{.reportingController}",
        ])
        .await;
    assert_eq!(note, "all good/p1/charter");

    // And one as kube's Recorder posts it: events.k8s.io/v1, repeated (series).
    let ev2 = k.file(
        "ev2.yaml",
        &format!(
            "apiVersion: events.k8s.io/v1\nkind: Event\nmetadata:\n  name: p1.2\n  namespace: default\nregarding:\n  apiVersion: catalog.charter.dev/v1alpha1\n  kind: Service\n  name: p1\n  namespace: default\n  uid: {uid}\nreason: Degraded\nnote: owner missing\ntype: Warning\naction: Reconcile\nreportingController: charter-operator\nreportingInstance: charter-operator-0\neventTime: \"2026-01-01T00:00:00.000000Z\"\nseries:\n  count: 3\n  lastObservedTime: \"2026-01-01T00:10:00.000000Z\"\n"
        ),
    );
    assert_eq!(
        k.ok(&["create", "-f", path(&ev2)]).await.trim(),
        "event.events.k8s.io/p1.2 created"
    );
    let core = k
        .ok(&[
            "get",
            "events.v1.",
            "p1.2",
            "-o",
            "jsonpath={.message}/{.involvedObject.name}/{.source.component}/{.count}",
        ])
        .await;
    assert_eq!(core, "owner missing/p1/charter-operator/3");

    let describe = k.ok(&["describe", "csvc", "p1"]).await;
    let warning = describe
        .lines()
        .find(|l| l.contains("Degraded"))
        .unwrap_or_default();
    assert!(
        warning.contains("Warning")
            && warning.contains("(x3 over")
            && warning.contains("charter-operator")
            && warning.contains("owner missing"),
        "{describe}"
    );
    assert!(describe.contains("Owner:  team-a"), "{describe}");
    let event_line = describe
        .lines()
        .find(|l| l.contains("Synced"))
        .unwrap_or_default();
    assert!(
        event_line.contains("Normal")
            && event_line.contains("(x2 over")
            && event_line.contains("charter")
            && event_line.contains("all good"),
        "{describe}"
    );

    // All namespaces: kubectl adds NAMESPACE from each row's object metadata.
    let all = k.ok(&["get", "csvc", "-A", "--show-labels"]).await;
    assert_eq!(
        all.lines()
            .next()
            .map(|l| l.split_whitespace().collect::<Vec<_>>()),
        Some(vec!["NAMESPACE", "NAME", "OWNER", "READY", "AGE", "LABELS"]),
        "{all}"
    );
    assert!(
        all.lines().nth(1).is_some_and(|l| l.starts_with("default ")
            && l.contains(" p1 ")
            && l.trim_end().ends_with("<none>")),
        "{all}"
    );

    // The CRD's category.
    let by_category = k.ok(&["get", "charter"]).await;
    assert!(
        by_category.lines().any(|l| l.starts_with("p1 ")),
        "{by_category}"
    );

    let crds = k.ok(&["get", "crd"]).await;
    assert!(
        crds.lines()
            .next()
            .is_some_and(|l| l.split_whitespace().collect::<Vec<_>>() == ["NAME", "CREATED", "AT"]),
        "{crds}"
    );
    assert!(
        crds.lines().nth(1).is_some_and(
            |l| l.starts_with("services.catalog.charter.dev ") && l.trim_end().ends_with('Z')
        ),
        "{crds}"
    );

    assert_eq!(
        k.ok(&["delete", "-f", path(&cr)]).await.trim(),
        "service.catalog.charter.dev \"p1\" deleted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_replace_patch_annotate_and_leases() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    k.install_crd().await;
    let cr = k.file("cr.yaml", CR);
    assert_eq!(
        k.ok(&["create", "-f", path(&cr)]).await.trim(),
        "service.catalog.charter.dev/p1 created"
    );
    let again = k.run(&["create", "-f", path(&cr)]).await;
    assert!(
        !again.ok && again.stderr.contains("Error from server (AlreadyExists)"),
        "{}",
        again.stderr
    );
    assert_eq!(
        k.ok(&["replace", "-f", path(&cr)]).await.trim(),
        "service.catalog.charter.dev/p1 replaced"
    );
    let json_patch = r#"[{"op":"replace","path":"/spec/owner","value":"team-q"}]"#;
    assert_eq!(
        k.ok(&["patch", "csvc", "p1", "--type=json", "-p", json_patch])
            .await
            .trim(),
        "service.catalog.charter.dev/p1 patched"
    );
    assert_eq!(
        k.ok(&["annotate", "csvc", "p1", "note=hi"]).await.trim(),
        "service.catalog.charter.dev/p1 annotated"
    );
    let got = k
        .ok(&[
            "get",
            "csvc",
            "p1",
            "-o",
            "jsonpath={.spec.owner} {.metadata.annotations.note}",
        ])
        .await;
    assert_eq!(got, "team-q hi");

    // Server-side apply of a built-in kind, twice.
    let cm = k.file(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: z\ndata:\n  k: one\n",
    );
    assert_eq!(
        k.ok(&["apply", "--server-side", "-f", path(&cm)])
            .await
            .trim(),
        "configmap/z serverside-applied"
    );
    let cm = k.file(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: z\ndata:\n  k: two\n",
    );
    assert_eq!(
        k.ok(&["apply", "--server-side", "-f", path(&cm)])
            .await
            .trim(),
        "configmap/z serverside-applied"
    );
    assert_eq!(
        k.ok(&["get", "cm", "z", "-o", "jsonpath={.data.k}"]).await,
        "two"
    );

    let lease = k.file("lease.yaml", "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: l\nspec:\n  holderIdentity: me\n");
    assert_eq!(
        k.ok(&["apply", "-f", path(&lease)]).await.trim(),
        "lease.coordination.k8s.io/l created"
    );
    let leases = k.ok(&["get", "leases"]).await;
    let (header, row) = table_row(&leases, "l");
    assert_eq!(header, vec!["NAME", "HOLDER", "AGE"], "{leases}");
    assert_eq!(row.get(1).map(String::as_str), Some("me"), "{leases}");
    let explain = k.ok(&["explain", "lease.spec"]).await;
    assert!(explain.contains("holderIdentity\t<string>"), "{explain}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_discovery_and_openapi_follow_crd_changes() {
    let Some(mut k) = Kubectl::start().await else {
        return;
    };
    k.shared_cache = true;
    assert!(k.ok(&["get", "ns"]).await.contains("default"));
    // The CRD arrives after kubectl cached discovery: apply must still find the new kind.
    k.install_crd().await;
    let cr = k.file("cr.yaml", CR);
    assert_eq!(
        k.ok(&["apply", "-f", path(&cr)]).await.trim(),
        "service.catalog.charter.dev/p1 created"
    );
    assert!(!k.ok(&["explain", "csvc.spec"]).await.contains("region"));

    // A changed CRD (new field, new column) changes the OpenAPI hash: explain and get follow.
    let changed = CRD
        .replace(
            "              tier:\n                type: string\n",
            "              tier:\n                type: string\n              region:\n                type: string\n                description: Where it runs.\n",
        )
        .replace("    - name: Age\n", "    - name: Tier\n      type: string\n      jsonPath: .spec.tier\n    - name: Age\n");
    let crd = k.file("crd.yaml", &changed);
    assert_eq!(
        k.ok(&["apply", "-f", path(&crd)]).await.trim(),
        "customresourcedefinition.apiextensions.k8s.io/services.catalog.charter.dev configured"
    );
    let explain = k.ok(&["explain", "csvc.spec"]).await;
    assert!(
        explain.contains("region\t<string>") && explain.contains("Where it runs."),
        "{explain}"
    );
    let out = k.ok(&["get", "csvc"]).await;
    let (header, _) = table_row(&out, "p1");
    assert_eq!(
        header,
        vec!["NAME", "OWNER", "READY", "TIER", "AGE"],
        "{out}"
    );
}

/// `--sort-by` makes kubectl ask for `includeObject=Object` and sort on the full objects in
/// the Table rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sort_by_uses_full_objects_in_table_rows() {
    let Some(k) = Kubectl::start().await else {
        return;
    };
    k.install_crd().await;
    for (name, owner) in [("a", "team-z"), ("b", "team-a"), ("c", "team-m")] {
        let f = k.file(
            &format!("{name}.yaml"),
            &format!("apiVersion: catalog.charter.dev/v1alpha1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  owner: {owner}\n"),
        );
        k.ok(&["apply", "-f", path(&f)]).await;
    }
    let out = k
        .ok(&["get", "csvc", "--sort-by=.spec.owner", "--no-headers"])
        .await;
    let names: Vec<&str> = out
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(names, vec!["b", "c", "a"], "{out}");
}
