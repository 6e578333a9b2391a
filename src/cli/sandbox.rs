//! `charter sandbox`: the embedded default. An in-process Kubernetes API server on
//! 127.0.0.1 with the CRDs installed, the operator running against it, manifests applied,
//! and a kubeconfig written so the real `kubectl` works against it. No cluster needed.

use charter_apiserver::auth::UserSpec;
use charter_apiserver::server::{ApiServer, Config};
use serde_json::json;
use std::path::{Path, PathBuf};

/// Users the sandbox knows besides `admin`: the owners and approvers of `examples/`, so the
/// walkthrough can act as each of them (`kubectl --context erin`, `charter approve`).
pub const DEMO_USERS: &[&str] = &[
    "dana", "erin", "frank", "gus", "lee", "omar", "priya", "sam",
];

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
    /// Let a Service's owner approve their own Service.
    #[arg(long)]
    pub allow_self_approval: bool,
}

/// The group of the demo users, bound to the owner and approver roles of `deploy/`.
pub const DEMO_GROUP: &str = "charter:users";

/// An API server secured as `deploy/` secures a cluster: its namespaces created, its RBAC and
/// admission policies installed, `users` bound to the owner and approver roles through `group`, and `admin`
/// listed as an approval delegate (it stands in for a GitOps pipeline: `--apply` creates
/// approvals in their approvers' names). Returns the operator's client, authenticated as
/// deploy/'s ServiceAccount and holding exactly deploy/'s RBAC, and the admin client.
pub async fn secured_server(
    config: Config,
    group: &str,
) -> anyhow::Result<(ApiServer, kube::Client, kube::Client)> {
    let mut config = config;
    config.users.push(UserSpec::service_account(
        crate::deploy::NAMESPACE,
        crate::deploy::SERVICE_ACCOUNT,
    ));
    if !config.users.iter().any(|u| u.name == "admin") {
        config.users.push(UserSpec::admin());
    }
    for namespace in [crate::deploy::NAMESPACE, crate::deploy::CATALOG_NAMESPACE] {
        if !config.namespaces.iter().any(|n| n == namespace) {
            config.namespaces.push(namespace.to_string());
        }
    }
    let server = ApiServer::start(config).await?;
    server.install_crds(&crate::crds::yaml())?;
    let admin = server.client_for("admin").await?;
    let mut objects = crate::deploy::security_objects(&["admin"]);
    objects.extend(crate::deploy::user_bindings(group));
    super::apply::apply_all(&admin, &objects).await?;
    let operator = server.client_for(&crate::deploy::operator_user()).await?;
    Ok((server, operator, admin))
}

pub async fn run(args: SandboxArgs) -> anyhow::Result<()> {
    let mut users: Vec<UserSpec> = DEMO_USERS
        .iter()
        .map(|u| UserSpec::new(u, &[DEMO_GROUP]))
        .collect();
    users.push(UserSpec::admin());
    let (server, operator_client, client) = secured_server(
        Config {
            port: args.port,
            users: users.clone(),
            namespaces: vec![OPERATOR_NAMESPACE.to_string()],
            ..Config::default()
        },
        DEMO_GROUP,
    )
    .await?;
    write_kubeconfig(&args.kubeconfig, server.kubeconfig_cluster(), &users)?;

    let operator = if args.api_only {
        None
    } else {
        let config = crate::controller::Config {
            namespaces: None,
            catalog_namespace: CATALOG_NAMESPACE.to_string(),
            catalog_name: "charter-catalog".to_string(),
            concurrency: 4,
            allow_self_approval: args.allow_self_approval,
        };
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            crate::controller::run(operator_client, config, async move {
                let _ = stop_rx.await;
            })
            .await
        });
        Some((stop_tx, task))
    };

    for path in &args.apply {
        let objects = crate::manifests::load(path)?;
        for line in super::apply::apply_all(&client, &objects).await? {
            println!("{line}");
        }
    }

    let kubeconfig = std::fs::canonicalize(&args.kubeconfig).unwrap_or(args.kubeconfig.clone());
    println!();
    println!(
        "Charter sandbox: API server at {}{}",
        server.url(),
        if args.api_only {
            " (API only)"
        } else {
            ", operator running"
        }
    );
    println!("kubeconfig: {}", kubeconfig.display());
    println!();
    println!("Try:");
    println!("  export KUBECONFIG={}", kubeconfig.display());
    println!("  kubectl get charter -A");
    println!("  kubectl get csvc -A -w");
    println!("  kubectl describe csvc -n payments ledger");
    println!("  kubectl --context frank -n payments get csvc ledger   # act as frank");
    println!(
        "  charter approve ledger -n payments --context frank   # or: KUBECONFIG=... cargo run -- approve ..."
    );
    println!("  kubectl get configmap -n {CATALOG_NAMESPACE} charter-catalog -o yaml");
    println!();
    println!("Press Ctrl-C to stop.");

    shutdown_signal().await;
    println!("stopping");
    if let Some((stop, task)) = operator {
        let _ = stop.send(());
        let _ = task.await;
    }
    drop(server);
    Ok(())
}

/// A kubeconfig with one context per user (`admin` current), with the tokens the server drew for
/// this run: the only place they are written, readable by its owner only.
fn write_kubeconfig(
    path: &Path,
    cluster: serde_json::Value,
    users: &[UserSpec],
) -> anyhow::Result<()> {
    let doc = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "charter-sandbox", "cluster": cluster}],
        "users": users.iter().map(|u| json!({"name": u.name, "user": {"token": u.token}})).collect::<Vec<_>>(),
        "contexts": users.iter().map(|u| json!({"name": u.name, "context": {"cluster": "charter-sandbox", "user": u.name, "namespace": "default"}})).collect::<Vec<_>>(),
        "current-context": "admin",
    });
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
