//! The portal: a read-only web view of the catalog, each service and the portfolio, served by
//! the operator from its caches beside `/metrics`. Viewers authenticate with a Kubernetes token
//! and see only what the API server lets them read (`sight`); pages are askama templates
//! (`pages`), with a strict Content-Security-Policy and no script at all.

mod answer;
mod export;
mod listing;
mod page;
mod pages;
pub mod portfolio;
mod routes;
mod served;
mod sight;
mod viewer;

pub use answer::COOKIE;
pub use listing::{PAGE_ROWS, View};
pub use routes::router;
pub use served::Portal;

/// Renders the catalog page of `services` as a viewer who sees everything: what a page view
/// costs besides the access checks (the benchmark measures it at 10,000 Services).
pub fn render_catalog(services: &[std::sync::Arc<crate::api::Service>], view: &View) -> String {
    routes::catalog_html(services, view, &sight::Sight::everything(), None)
}
