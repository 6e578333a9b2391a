//! `charter sandbox`: the CRDs and `deploy/` installed, the operator running, manifests
//! applied, and a kubeconfig written so the real `kubectl` works against it. On one of two
//! grounds: the embedded API server on 127.0.0.1 (the default: no cluster, no Go, up in a
//! second), or with `--control-plane DIR` the real etcd, kube-apiserver and
//! kube-controller-manager (`control_plane.rs`). This module is the one place that installs
//! `deploy/` and starts the operator, for both.

use super::control_plane::{self, ControlPlane};
use charter_apiserver::auth::UserSpec;
use charter_apiserver::server::{ApiServer, Config};
use kube::Client;
use std::path::{Path, PathBuf};
use std::time::Instant;

mod secured;

pub use secured::{secured_control_plane, secured_server};

/// Users the sandbox knows besides `admin`: the owners and approvers of `examples/`, so the
/// walkthrough can act as each of them (`kubectl --context erin`, `charter approve`).
pub const DEMO_USERS: &[&str] = &[
    "dana", "erin", "frank", "gus", "lee", "omar", "pat", "priya", "sam",
];

/// The groups the sandbox authenticates demo users in besides [`DEMO_GROUP`]: lee and sam are
/// SRE leads (the group the example ApprovalPolicy requires), pat is a platform admin.
pub const DEMO_EXTRA_GROUPS: &[(&str, &str)] = &[
    ("lee", "sre-leads"),
    ("sam", "sre-leads"),
    ("pat", PLATFORM_ADMIN_GROUP),
];

/// The group the sandbox binds to `deploy/`'s charter-platform-admin role.
pub const PLATFORM_ADMIN_GROUP: &str = "charter:platform-admins";

/// A demo user in [`DEMO_GROUP`] and their extra groups.
pub fn demo_user(name: &str) -> UserSpec {
    let mut groups = vec![DEMO_GROUP];
    groups.extend(
        DEMO_EXTRA_GROUPS
            .iter()
            .filter(|(user, _)| *user == name)
            .map(|(_, group)| *group),
    );
    UserSpec::new(name, &groups)
}

/// A user with no role at all, only authenticated: a consumer of the catalog. The portal
/// shows them the catalog and nothing else; `kubectl --context visitor get csvc -A` is refused.
pub const VISITOR: &str = "visitor";

/// The namespace the operator runs in.
pub const OPERATOR_NAMESPACE: &str = crate::deploy::NAMESPACE;
/// The namespace the operator publishes the catalog to.
pub const CATALOG_NAMESPACE: &str = crate::deploy::CATALOG_NAMESPACE;

#[derive(clap::Args, Debug)]
pub struct SandboxArgs {
    /// Where to write the kubeconfig for kubectl.
    #[arg(long, default_value = "charter-sandbox.kubeconfig")]
    pub kubeconfig: PathBuf,
    /// Apply the manifests in this file or directory (repeatable), in name order.
    #[arg(long = "apply", value_name = "PATH")]
    pub apply: Vec<PathBuf>,
    /// Start only the API server, not the operator.
    #[arg(long)]
    pub api_only: bool,
    /// Port to listen on (127.0.0.1 only); a free one by default.
    #[arg(long)]
    pub port: Option<u16>,
    /// Port of the operator's portal (127.0.0.1 only); a free one by default.
    #[arg(long)]
    pub portal_port: Option<u16>,
    /// Let a Service's owner approve their own Service.
    #[arg(long)]
    pub allow_self_approval: bool,
    /// Run on the real control plane: etcd, kube-apiserver and kube-controller-manager from
    /// DIR (`scripts/control-plane` builds them and prints DIR); without DIR, from
    /// KUBEBUILDER_ASSETS (envtest's convention).
    #[arg(long, value_name = "DIR", num_args = 0..=1)]
    pub control_plane: Option<Option<PathBuf>>,
}

/// The group of the demo users, bound to the owner and approver roles of `deploy/`.
pub const DEMO_GROUP: &str = "charter:users";

/// Where the sandbox runs.
enum Ground {
    Embedded(ApiServer),
    ControlPlane(ControlPlane),
}

impl Ground {
    fn describe(&self) -> String {
        match self {
            Ground::Embedded(server) => format!("API server at {}", server.url()),
            Ground::ControlPlane(plane) => format!(
                "kube-apiserver {} at {} (etcd, {})",
                plane.version(),
                plane.url(),
                if plane.has_controller_manager() {
                    "kube-controller-manager"
                } else {
                    "no kube-controller-manager: namespaces never finish terminating"
                }
            ),
        }
    }

    async fn stop(self) {
        match self {
            Ground::Embedded(server) => drop(server),
            Ground::ControlPlane(plane) => plane.stop().await,
        }
    }
}

/// The directory of `--control-plane [DIR]`: DIR, else KUBEBUILDER_ASSETS.
fn control_plane_dir(flag: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    match flag {
        Some(dir) => Ok(dir),
        None => std::env::var_os("KUBEBUILDER_ASSETS")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "--control-plane needs a DIR (try --control-plane \"$(scripts/control-plane)\") \
                     or KUBEBUILDER_ASSETS set"
                )
            }),
    }
}

/// The ground started and secured, with the operator's and admin's clients, the kubeconfig's
/// cluster entry, and `users` with the tokens the server knows them by.
struct Started {
    ground: Ground,
    operator: Client,
    admin: Client,
    cluster: serde_json::Value,
    users: Vec<UserSpec>,
    /// The operator's token, for the kubeconfig's `operator` context (`--api-only`).
    operator_token: Option<String>,
}

/// The context `--api-only` writes for deploy/'s ServiceAccount, to run `charter run
/// --context operator` against the sandbox as the operator runs on a cluster.
pub const OPERATOR_CONTEXT: &str = "operator";

async fn start(args: &SandboxArgs, users: Vec<UserSpec>) -> anyhow::Result<Started> {
    match &args.control_plane {
        None => {
            let (server, operator, admin) = secured_server(
                Config {
                    port: args.port,
                    users: users.clone(),
                    namespaces: vec![OPERATOR_NAMESPACE.to_string()],
                    ..Config::default()
                },
                DEMO_GROUP,
            )
            .await?;
            let operator_token = match args.api_only {
                true => Some(server.token_of(&crate::deploy::operator_user())?),
                false => None,
            };
            Ok(Started {
                cluster: server.kubeconfig_cluster(),
                ground: Ground::Embedded(server),
                operator,
                admin,
                users,
                operator_token,
            })
        }
        Some(dir) => {
            let dir = control_plane_dir(dir.clone())?;
            let (plane, operator, admin) =
                secured_control_plane(&dir, &users, args.port, DEMO_GROUP).await?;
            let users = plane
                .users()
                .iter()
                .filter(|u| users.iter().any(|d| d.name == u.name))
                .cloned()
                .collect();
            let operator_token = match args.api_only {
                true => Some(
                    plane
                        .service_account_token(
                            &admin,
                            crate::deploy::NAMESPACE,
                            crate::deploy::SERVICE_ACCOUNT,
                        )
                        .await?,
                ),
                false => None,
            };
            Ok(Started {
                cluster: plane.kubeconfig_cluster(),
                ground: Ground::ControlPlane(plane),
                operator,
                admin,
                users,
                operator_token,
            })
        }
    }
}

pub async fn run(args: SandboxArgs) -> anyhow::Result<()> {
    let mut users: Vec<UserSpec> = DEMO_USERS.iter().map(|u| demo_user(u)).collect();
    users.push(UserSpec::new(VISITOR, &[]));
    users.push(UserSpec::admin());
    // Listening from the start: a Ctrl-C while the control plane starts (seconds) drops the
    // start, which stops what already runs and removes its data directory.
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    let started = Instant::now();
    let Started {
        ground,
        operator: operator_client,
        admin: client,
        cluster,
        users,
        operator_token,
    } = tokio::select! {
        result = start(&args, users) => result?,
        () = &mut shutdown => {
            println!("stopping");
            return Ok(());
        }
    };
    let ready_in = started.elapsed();
    write_kubeconfig(&args.kubeconfig, cluster, &users, operator_token.as_deref())?;

    let operator = if args.api_only {
        None
    } else {
        let config = crate::controller::Config {
            namespaces: None,
            catalog_namespace: CATALOG_NAMESPACE.to_string(),
            catalog_name: "charter-catalog".to_string(),
            concurrency: crate::controller::DEFAULT_CONCURRENCY,
            allow_self_approval: args.allow_self_approval,
        };
        let window = crate::controller::Window::default();
        let portal = serve_portal(args.portal_port, &operator_client, &window).await?;
        // As `charter run` does by default: streaming lists where the server serves them.
        let streaming_lists =
            crate::controller::streaming_lists_served(&operator_client, None).await;
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let operator = crate::controller::Operator::new(operator_client, config)
            .window(window)
            .streaming_lists(streaming_lists);
        let task = tokio::spawn(async move {
            operator
                .run(async move {
                    let _ = stop_rx.await;
                })
                .await
        });
        Some((stop_tx, task, portal))
    };

    let mut applied = Vec::new();
    for path in &args.apply {
        let objects = crate::manifests::load(path)?;
        for line in super::apply::apply_all(&client, &objects).await? {
            println!("{line}");
            applied.push(line);
        }
    }

    let kubeconfig = std::fs::canonicalize(&args.kubeconfig).unwrap_or(args.kubeconfig.clone());
    println!();
    println!(
        "Charter sandbox: {}, ready in {:.1}s{}",
        ground.describe(),
        ready_in.as_secs_f64(),
        if args.api_only {
            " (API only)"
        } else {
            ", operator running"
        }
    );
    if let Ground::ControlPlane(plane) = &ground {
        println!("data and logs: {}", plane.dir().display());
        for log in plane.logs() {
            println!("  {}", log.display());
        }
    }
    println!("kubeconfig: {}", kubeconfig.display());
    println!();
    println!("Try:");
    println!("  export KUBECONFIG={}", kubeconfig.display());
    if args.api_only {
        println!(
            "  charter run --context {OPERATOR_CONTEXT} --http-addr 127.0.0.1:8080   # the operator, as deploy/'s ServiceAccount"
        );
    }
    println!("  kubectl get charter -A");
    println!("  kubectl get csvc -A -w");
    for line in try_lines(&applied) {
        println!("  {line}");
    }
    println!("  kubectl get configmap -n {CATALOG_NAMESPACE} charter-catalog -o yaml");
    println!("  charter portfolio                                  # pipeline, catalog, retired");
    if let Some((_, _, portal)) = &operator {
        println!();
        println!("Portal: {portal}");
        println!(
            "  sign in with a user's token, e.g. dana's (owner), or {VISITOR}'s (the catalog only):"
        );
        println!(
            "  kubectl config view --raw -o jsonpath='{{.users[?(@.name==\"dana\")].user.token}}'"
        );
    }
    println!();
    println!("Press Ctrl-C to stop.");

    shutdown.await;
    println!("stopping");
    if let Some((stop, task, _)) = operator {
        let _ = stop.send(());
        let _ = task.await;
    }
    ground.stop().await;
    Ok(())
}

/// What to try on the Services applied: the examples' ledger when it was applied, else how to
/// apply some (a Service that was never applied cannot be described).
fn try_lines(applied: &[String]) -> Vec<&'static str> {
    if applied
        .iter()
        .any(|l| l.contains("services.catalog.charter.dev/ledger"))
    {
        vec![
            "kubectl describe csvc -n payments ledger",
            "kubectl --context frank -n payments get csvc ledger   # act as frank",
            "charter approve ledger -n payments --context frank   # or: KUBECONFIG=... cargo run -- approve ...",
        ]
    } else {
        vec![
            "kubectl apply -f examples/                          # the examples' Services and approvals",
            "kubectl describe csvc -n payments ledger            # once applied",
        ]
    }
}

/// The operator's portal on 127.0.0.1, answering from `window` onto the caches and
/// checking viewers as the operator (which may create TokenReviews and SubjectAccessReviews).
/// Returns its address.
async fn serve_portal(
    port: Option<u16>,
    operator: &Client,
    window: &crate::controller::Window,
) -> anyhow::Result<String> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port.unwrap_or(0)));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr} for the portal: {e}"))?;
    let bound = listener.local_addr()?;
    let app = crate::portal::router(crate::portal::Portal {
        window: window.clone(),
        access: crate::access::Access::new(operator.clone()),
        catalog_namespace: CATALOG_NAMESPACE.to_string(),
        anonymous_catalog: false,
    });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(format!("http://{bound}/portal"))
}

/// A kubeconfig with one context per user (`admin` current), with the tokens the server drew for
/// this run: the only place they are written, readable by its owner only. With the operator's
/// token, also the context [`OPERATOR_CONTEXT`] as deploy/'s ServiceAccount.
fn write_kubeconfig(
    path: &Path,
    cluster: serde_json::Value,
    users: &[UserSpec],
    operator_token: Option<&str>,
) -> anyhow::Result<()> {
    let mut doc = control_plane::kubeconfig(cluster, users);
    if let Some(token) = operator_token {
        let user = crate::deploy::operator_user();
        if let Some(users) = doc["users"].as_array_mut() {
            users.push(serde_json::json!({"name": user, "user": {"token": token}}));
        }
        if let Some(contexts) = doc["contexts"].as_array_mut() {
            contexts.push(serde_json::json!({
                "name": OPERATOR_CONTEXT,
                "context": {"cluster": "charter-sandbox", "user": user, "namespace": OPERATOR_NAMESPACE},
            }));
        }
    }
    charter_apiserver::server::write_private(path, serde_json::to_string_pretty(&doc)?.as_bytes())
        .map_err(|e| anyhow::anyhow!("cannot write kubeconfig {}: {e}", path.display()))
}

/// SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_banner_suggests_describing_a_service_only_once_it_was_applied() {
        let none = try_lines(&[]);
        assert!(
            none[0].starts_with("kubectl apply -f examples/"),
            "{none:?}"
        );
        let examples = try_lines(&["services.catalog.charter.dev/ledger applied".into()]);
        assert!(examples[0].starts_with("kubectl describe csvc -n payments ledger"));
    }
}
