//! The portal's HTTP routes under `/portal`: each view is a GET whose query parameters name it
//! (`?format=csv|json` exports it), sign-in and sign-out are form posts, and every answer
//! carries a strict Content-Security-Policy. Nothing here calls the API server but `Access`.

use std::sync::Arc;

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};

use super::answer::{Denied, Export, Format, chrome, csv, html, json};
use super::export::{self, CatalogRecord};
use super::listing::{Facets, PAGE_ROWS, Row, View, pages};
use super::page::Page;
use super::pages::{Catalog, Portfolios, ServicePage};
use super::portfolio::Portfolio;
use super::served::Portal;
use super::sight::Sight;
use super::viewer::{login, login_form, logout, sight, viewer_name};
use crate::api::{Phase, Service};

/// Scripts none, styles and forms from the portal only, never framed.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

const STYLE: &str = include_str!("style.css");

/// The portal's routes, to merge beside `/metrics`.
pub fn router(portal: Portal) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/portal") }))
        .route("/portal", get(catalog))
        .route("/portal/", get(|| async { Redirect::to("/portal") }))
        .route("/portal/portfolio", get(portfolio))
        .route("/portal/services/{namespace}/{name}", get(service))
        .route("/portal/login", get(login_form).post(login))
        .route("/portal/logout", post(logout))
        .route("/portal/style.css", get(style))
        .layer(middleware::map_response(secure))
        .with_state(Arc::new(portal))
}

async fn secure(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        // Pages are per viewer: no shared cache keeps them.
        (header::CACHE_CONTROL, "no-store"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// The caches, or why there is nothing to show.
fn services(portal: &Portal) -> Result<Vec<Arc<Service>>, Denied> {
    portal.window.services().ok_or_else(|| Denied {
        status: StatusCode::SERVICE_UNAVAILABLE,
        problem: "This replica does not serve the catalog right now: its caches are not \
                  filled (it is starting, or it is a standby waiting for leadership)."
            .into(),
        sign_in: false,
        viewer: None,
        clear_cookie: false,
    })
}

/// Which namespaces a view asks about beyond the catalog.
enum Asking {
    /// None: the view shows published Services only.
    Catalog,
    /// Those holding unpublished Services: the view may show the pipeline and retired ones.
    Unpublished,
}

/// The Services in the caches and what the viewer may see of them, or why nothing is shown.
async fn seen(
    portal: &Portal,
    headers: &HeaderMap,
    asking: Asking,
) -> Result<(Vec<Arc<Service>>, Sight), Denied> {
    let all = services(portal)?;
    let namespaces = match asking {
        Asking::Catalog => Default::default(),
        Asking::Unpublished => unpublished_namespaces(&all),
    };
    let sight = sight(portal, headers, namespaces).await?;
    Ok((all, sight))
}

/// The namespaces holding Services that are not published: where the pipeline and retired
/// Services are, which the viewer may or may not see.
fn unpublished_namespaces(services: &[Arc<Service>]) -> std::collections::BTreeSet<String> {
    services
        .iter()
        .filter(|s| Row::of(s).is_none())
        .filter_map(|s| s.metadata.namespace.clone())
        .collect()
}

async fn catalog(
    State(portal): State<Arc<Portal>>,
    Query(view): Query<View>,
    Query(export): Query<Export>,
    headers: HeaderMap,
) -> Response {
    let format = export.format;
    // The catalog shows published Services only: no per-namespace question is needed.
    let (all, sight) = match seen(&portal, &headers, Asking::Catalog).await {
        Ok(seen) => seen,
        Err(denied) => return denied.respond(format),
    };
    match format {
        Format::Html => html(
            StatusCode::OK,
            Ok(catalog_html(&all, &view, &sight, viewer_name(&sight))),
        ),
        Format::Csv | Format::Json => {
            let rows = visible_rows(&all, &sight);
            let selected = view.select(&rows, k8s_openapi::jiff::Timestamp::now());
            let records = selected.iter().map(CatalogRecord::of);
            if format == Format::Json {
                json(&records.collect::<Vec<_>>())
            } else {
                csv(
                    export::csv(records.map(CatalogRecord::defused)),
                    "catalog.csv",
                )
            }
        }
    }
}

fn visible_rows<'a>(all: &'a [Arc<Service>], sight: &Sight) -> Vec<Row<'a>> {
    all.iter()
        .filter_map(|s| Row::of(s))
        .filter(|r| sight.sees(r.namespace(), true))
        .collect()
}

/// The catalog page of `view` as `sight` sees it.
pub(super) fn catalog_html(
    all: &[Arc<Service>],
    view: &View,
    sight: &Sight,
    viewer: Option<String>,
) -> String {
    let rows = visible_rows(all, sight);
    let selected = view.select(&rows, k8s_openapi::jiff::Timestamp::now());
    let page = view.page_of(selected.len());
    let start = (page - 1) * PAGE_ROWS;
    let shown = &selected[start..(start + PAGE_ROWS).min(selected.len())];
    Catalog {
        chrome: chrome(viewer, "catalog"),
        view,
        rows: shown,
        total: selected.len(),
        published: rows.len(),
        page,
        pages: pages(selected.len()),
        facets: Facets::of(&rows),
    }
    .render()
    .unwrap_or_else(|error| format!("cannot render the catalog: {error}"))
}

async fn portfolio(
    State(portal): State<Arc<Portal>>,
    Query(export): Query<Export>,
    headers: HeaderMap,
) -> Response {
    let format = export.format;
    let (all, sight) = match seen(&portal, &headers, Asking::Unpublished).await {
        Ok(seen) => seen,
        Err(denied) => return denied.respond(format),
    };
    let visible = all.iter().map(AsRef::as_ref).filter(|s| {
        sight.sees(
            s.metadata.namespace.as_deref().unwrap_or_default(),
            Row::of(s).is_some(),
        )
    });
    let mut portfolio = Portfolio::of(visible);
    // What a Service waits for, its current revision and its approvals are its status, not
    // the catalog: shown only where the viewer may list Services.
    for item in &mut portfolio.catalog {
        if !sight.services_in(&item.namespace) {
            item.revision = None;
            item.approvals = None;
            item.waits_for = None;
        }
    }
    let limited = sight.services != super::sight::Namespaces::All;
    match format {
        Format::Json => json(&portfolio),
        Format::Csv => csv(export::portfolio_csv(&portfolio), "portfolio.csv"),
        Format::Html => {
            let pipeline = [Phase::Planning, Phase::Approval, Phase::Development]
                .into_iter()
                .map(|phase| (phase.as_str(), portfolio.in_phase(phase).collect()))
                .collect();
            html(
                StatusCode::OK,
                Portfolios {
                    chrome: chrome(viewer_name(&sight), "portfolio"),
                    portfolio: &portfolio,
                    pipeline,
                    limited,
                }
                .render(),
            )
        }
    }
}

async fn service(
    State(portal): State<Arc<Portal>>,
    Path((namespace, name)): Path<(String, String)>,
    Query(export): Query<Export>,
    headers: HeaderMap,
) -> Response {
    let format = export.format;
    // Its own namespace, and those of its dependencies and dependants.
    let (all, sight) = match seen(&portal, &headers, Asking::Unpublished).await {
        Ok(seen) => seen,
        Err(denied) => return denied.respond(format),
    };
    let found = all.iter().find(|s| {
        s.metadata.namespace.as_deref() == Some(namespace.as_str())
            && s.metadata.name.as_deref() == Some(name.as_str())
    });
    // Unknown and not visible read the same: the portal does not reveal what exists.
    let Some(page) = found.and_then(|s| Page::of(s, &all, &sight)) else {
        return Denied {
            status: StatusCode::NOT_FOUND,
            problem: format!("No service {namespace}/{name} that you may see."),
            sign_in: false,
            viewer: viewer_name(&sight),
            clear_cookie: false,
        }
        .respond(format);
    };
    match format {
        Format::Json | Format::Csv => json(&serde_json::json!({
            "entry": page.published.and_then(|r| crate::catalog::entry(r.service))
                .and_then(|e| serde_json::from_str::<serde_json::Value>(&e.value).ok()),
            "portfolio": page.lifecycle,
        })),
        Format::Html => html(
            StatusCode::OK,
            ServicePage {
                chrome: chrome(viewer_name(&sight), "catalog"),
                page,
            }
            .render(),
        ),
    }
}

async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response()
}
