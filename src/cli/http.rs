//! The operator's HTTP endpoints: `/healthz` and `/readyz` open, for the kubelet's probes, and
//! `/metrics` only to callers the API server authenticates and allows to `get /metrics`
//! (the `charter-metrics-reader` role), unless started with `--metrics-insecure`.

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, StatusCode, header::AUTHORIZATION},
    response::{IntoResponse, Response},
    routing::get,
};

use crate::access::Access;
use crate::controller::Telemetry;

/// The path Prometheus scrapes, and the non-resource URL RBAC grants.
pub const METRICS_PATH: &str = "/metrics";

#[derive(Clone)]
struct Endpoints {
    telemetry: Telemetry,
    /// `None`: metrics open to anyone who reaches the port (`--metrics-insecure`).
    access: Option<Access>,
}

/// The routes, ready to serve. `access: None` leaves `/metrics` open.
pub fn router(telemetry: Telemetry, access: Option<Access>) -> Router {
    Router::new()
        .route(METRICS_PATH, get(metrics))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(Endpoints { telemetry, access })
}

async fn metrics(State(endpoints): State<Endpoints>, headers: HeaderMap) -> Response {
    if let Some(access) = &endpoints.access {
        let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
        if let Err(refused) = access.check(authorization, "get", METRICS_PATH).await {
            let status = refused.status();
            if status == StatusCode::SERVICE_UNAVAILABLE {
                tracing::warn!(error = %refused, "cannot authorize a request for /metrics");
            } else {
                tracing::debug!(reason = %refused, "refused a request for /metrics");
            }
            return (status, format!("{refused}\n")).into_response();
        }
    }
    endpoints.telemetry.encode().into_response()
}

async fn readyz(State(endpoints): State<Endpoints>) -> (StatusCode, &'static str) {
    if endpoints.telemetry.ready() {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready")
    }
}
