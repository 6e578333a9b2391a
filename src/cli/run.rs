//! `charter run`: the controller against the cluster in KUBECONFIG or the in-cluster config,
//! with `/metrics` (authenticated), `/healthz`, `/readyz`, the portal, optional lease-based leader
//! election, and a graceful stop on SIGTERM.

use crate::controller::{self, Telemetry};
use std::net::SocketAddr;

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Namespaces to watch, comma-separated (default: all).
    #[arg(long, env = "CHARTER_NAMESPACES", value_delimiter = ',')]
    pub namespaces: Vec<String>,
    /// Namespace of the catalog ConfigMap(s).
    #[arg(
        long,
        env = "CHARTER_CATALOG_NAMESPACE",
        default_value = crate::deploy::CATALOG_NAMESPACE
    )]
    pub catalog_namespace: String,
    /// Name of the catalog ConfigMap; spill-overs are `<name>-1`, `<name>-2`, …
    #[arg(long, env = "CHARTER_CATALOG_NAME", default_value = "charter-catalog")]
    pub catalog_name: String,
    /// How many Services are reconciled at once.
    #[arg(long, env = "CHARTER_CONCURRENCY", default_value_t = controller::DEFAULT_CONCURRENCY, value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,
    /// Count a Service owner's approval of their own Service (off: separation of duties).
    #[arg(long, env = "CHARTER_ALLOW_SELF_APPROVAL")]
    pub allow_self_approval: bool,
    /// Log format.
    #[arg(long, env = "CHARTER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Serve /metrics, /healthz, /readyz and the portal (/portal) here.
    #[arg(long, env = "CHARTER_HTTP_ADDR", default_value = "0.0.0.0:8080")]
    pub http_addr: SocketAddr,
    /// Serve /metrics to anyone who reaches the port, without asking the API server who they
    /// are (TokenReview) and whether they may (SubjectAccessReview). For local use only.
    #[arg(long, env = "CHARTER_METRICS_INSECURE")]
    pub metrics_insecure: bool,
    /// Show the portal's catalog (only the catalog: never the pipeline or retired Services) to
    /// viewers without a token. Viewers with a token still see what RBAC lets them read.
    #[arg(long, env = "CHARTER_PORTAL_ANONYMOUS_CATALOG")]
    pub portal_anonymous_catalog: bool,
    /// Take a Lease before reconciling, so that only one of several replicas is active.
    #[arg(long, env = "CHARTER_LEADER_ELECT")]
    pub leader_elect: bool,
    /// How to list the caches at start: `auto` (the default) asks the API server once and
    /// streams them where it serves streaming lists (the WatchList feature: kube-apiserver 1.35
    /// and 1.37 do, as does the embedded server), in pages of 500 where it does not; `true`
    /// always streams, `false` always pages. Streaming is faster and lighter at start with
    /// many Services (a restart at 10,000: ready in ~2.5 s instead of ~8 s on a busy machine).
    #[arg(long, env = "CHARTER_STREAMING_LISTS", value_enum, default_value_t = Streaming::Auto, num_args = 0..=1, default_missing_value = "true")]
    pub streaming_lists: Streaming,
    /// The kubeconfig context to run as (default: the current one; in a pod, the in-cluster
    /// config). `charter sandbox --api-only` writes the context `operator`.
    #[arg(long, env = "CHARTER_CONTEXT")]
    pub context: Option<String>,
    /// Namespace of the leader-election Lease: the operator's own, not the catalog's.
    #[arg(long, env = "CHARTER_LEASE_NAMESPACE", default_value = crate::deploy::NAMESPACE)]
    pub lease_namespace: String,
    /// How long a leader's Lease lasts without renewal: a standby takes over within it.
    #[arg(long, env = "CHARTER_LEASE_DURATION_SECONDS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(2..))]
    pub lease_duration_seconds: u64,
}

/// `--streaming-lists`: ask the server (`auto`), or say.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Streaming {
    Auto,
    True,
    False,
}

impl Streaming {
    /// Whether to stream, asking the server when `auto`.
    pub async fn resolve(self, client: &kube::Client, namespaces: &[String]) -> bool {
        match self {
            Streaming::True => true,
            Streaming::False => false,
            Streaming::Auto => {
                let namespace = namespaces.first().map(String::as_str);
                controller::streaming_lists_served(client, namespace).await
            }
        }
    }
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Install the tracing subscriber (RUST_LOG, default `info`). Colours only on a terminal (and
/// not under `NO_COLOR`): a log redirected to a file or collected from a pod reads as text.
pub fn init_logging(format: LogFormat) {
    use std::io::IsTerminal;
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let colour = std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    init_logging(args.log_format);
    let client = kube::Client::try_from(super::context::config(args.context.as_deref()).await?)?;
    // Listening for SIGTERM from the start, before anything is served: the signal used to be
    // heard only once the Lease manager had started, so a SIGTERM soon after /healthz answered
    // killed a standby outright (tests/shutdown.rs failed so once, under load).
    let stopping = tokio_util::sync::CancellationToken::new();
    tokio::spawn({
        let stopping = stopping.clone();
        async move {
            super::sandbox::shutdown_signal().await;
            stopping.cancel();
        }
    });
    tokio::task::yield_now().await;
    let telemetry = Telemetry::default();
    let listener = tokio::net::TcpListener::bind(args.http_addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.http_addr))?;
    let access = (!args.metrics_insecure).then(|| crate::access::Access::new(client.clone()));
    if access.is_none() {
        tracing::warn!("serving /metrics without authentication (--metrics-insecure)");
    }
    let window = controller::Window::default();
    let portal = crate::portal::Portal {
        window: window.clone(),
        access: crate::access::Access::new(client.clone()),
        catalog_namespace: args.catalog_namespace.clone(),
        anonymous_catalog: args.portal_anonymous_catalog,
    };
    let app = super::http::router(telemetry.clone(), access).merge(crate::portal::router(portal));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    tracing::info!(addr = %args.http_addr, "serving /metrics, /healthz, /readyz and the portal at /portal");

    let config = controller::Config {
        namespaces: (!args.namespaces.is_empty()).then(|| args.namespaces.clone()),
        catalog_namespace: args.catalog_namespace.clone(),
        catalog_name: args.catalog_name.clone(),
        concurrency: args.concurrency,
        allow_self_approval: args.allow_self_approval,
    };
    let streaming_lists = args
        .streaming_lists
        .resolve(&client, &args.namespaces)
        .await;
    let operator = controller::Operator::new(client, config)
        .telemetry(telemetry)
        .window(window)
        .streaming_lists(streaming_lists);

    if !args.leader_elect {
        operator.run(stopping.clone().cancelled_owned()).await?;
        return Ok(());
    }

    let identity = std::env::var("POD_NAME")
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| format!("charter-{}", std::process::id()));
    let lease_namespace = args.lease_namespace.clone();
    super::leader::run(
        super::leader::Election {
            namespace: lease_namespace,
            name: "charter-leader".into(),
            identity,
            duration_seconds: args.lease_duration_seconds,
        },
        operator,
        stopping.clone().cancelled_owned(),
        |_| {},
    )
    .await
}
