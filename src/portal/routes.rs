//! The portal's HTTP routes under `/portal`: each view is a GET whose query parameters name it
//! (`?format=csv|json` exports it), sign-in and sign-out are form posts, and every answer
//! carries a strict Content-Security-Policy. Nothing here calls the API server but `Access`.

use std::sync::Arc;

use askama::Template;
use axum::{
    Form, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use cookie::{Cookie, SameSite};
use serde::Deserialize;

use super::export::{self, CatalogRecord};
use super::listing::{Facets, PAGE_ROWS, Row, View, pages};
use super::page::Page;
use super::pages::{Catalog, Chrome, Login, Portfolios, Refusal, ServicePage};
use super::portfolio::Portfolio;
use super::sight::Sight;
use crate::access::{Access, Refused, bearer};
use crate::api::{Phase, Service};
use crate::controller::Window;

/// The cookie that carries a signed-in viewer's token (HttpOnly: no script reads it).
pub const COOKIE: &str = "charter-portal-token";

/// Scripts none, styles and forms from the portal only, never framed.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

const STYLE: &str = include_str!("style.css");

/// What the portal serves from, and to whom.
#[derive(Clone)]
pub struct Portal {
    pub window: Window,
    pub access: Access,
    /// Where the catalog ConfigMaps are: reading them is what "may see the catalog" means.
    pub catalog_namespace: String,
    /// Serve the catalog (only the catalog) to viewers without a token.
    pub anonymous_catalog: bool,
}

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

/// `?format=` of any view.
#[derive(Deserialize, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Format {
    #[default]
    Html,
    Csv,
    Json,
}

#[derive(Deserialize, Default)]
struct Export {
    #[serde(default)]
    format: Format,
}

/// Why a page is not shown, as a page (or as text for an export).
struct Denied {
    status: StatusCode,
    problem: String,
    /// Ask for a token (the sign-in form) rather than just saying no.
    sign_in: bool,
    viewer: Option<String>,
    clear_cookie: bool,
}

impl Denied {
    fn from(refused: Refused, from_cookie: bool) -> Denied {
        let status = refused.status();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            tracing::warn!(error = %refused, "cannot authorize a portal request");
        }
        let problem = match &refused {
            Refused::NoToken => "Sign in with a Kubernetes token to see the catalog.".to_owned(),
            Refused::InvalidToken if from_cookie => {
                "Your token is no longer accepted by the API server: sign in again.".to_owned()
            }
            Refused::InvalidToken => "The API server does not accept this token.".to_owned(),
            Refused::Forbidden { .. } => refused.to_string(),
            Refused::Review(_) | Refused::NoAnswer => {
                "The portal cannot reach the API server to check who you are; try again shortly."
                    .to_owned()
            }
        };
        Denied {
            status,
            sign_in: status == StatusCode::UNAUTHORIZED,
            clear_cookie: from_cookie && matches!(refused, Refused::InvalidToken),
            problem,
            viewer: None,
        }
    }

    fn respond(self, format: Format) -> Response {
        let mut response = if format != Format::Html {
            (self.status, format!("{}\n", self.problem)).into_response()
        } else if self.sign_in {
            html(
                self.status,
                Login {
                    chrome: chrome(None, "login"),
                    problem: Some(self.problem),
                }
                .render(),
            )
        } else {
            html(
                self.status,
                Refusal {
                    chrome: chrome(self.viewer, ""),
                    heading: if self.status == StatusCode::NOT_FOUND {
                        "Not found"
                    } else {
                        "Not shown"
                    },
                    problem: self.problem,
                }
                .render(),
            )
        };
        if self.clear_cookie {
            set_cookie(&mut response, removal());
        }
        response
    }
}

fn chrome(viewer: Option<String>, section: &'static str) -> Chrome {
    Chrome { viewer, section }
}

fn html(status: StatusCode, rendered: Result<String, askama::Error>) -> Response {
    match rendered {
        Ok(body) => (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "cannot render a portal page");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "cannot render the page\n",
            )
                .into_response()
        }
    }
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

/// Who is asking and what they may see. `pipeline_namespaces` are the namespaces whose
/// unpublished Services the page would show, asked about one by one when the viewer may not
/// list Services everywhere.
async fn sight(
    portal: &Portal,
    headers: &HeaderMap,
    pipeline_namespaces: impl IntoIterator<Item = String>,
) -> Result<Sight, Denied> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let (token, from_cookie) = match bearer(authorization) {
        Some(token) => (Some(token.to_owned()), false),
        None => (cookie_token(headers), true),
    };
    let Some(token) = token else {
        return if portal.anonymous_catalog {
            Ok(Sight::anonymous())
        } else {
            Err(Denied::from(Refused::NoToken, false))
        };
    };
    let viewer = portal
        .access
        .authenticate(&token)
        .await
        .map_err(|r| Denied::from(r, from_cookie))?;
    let name = viewer.name.clone();
    let sight = Sight::of(
        &portal.access,
        viewer,
        &portal.catalog_namespace,
        pipeline_namespaces,
    )
    .await
    .map_err(|r| Denied::from(r, from_cookie))?;
    if !sight.catalog && sight.services == super::sight::Namespaces::Only(Default::default()) {
        return Err(Denied {
            status: StatusCode::FORBIDDEN,
            problem: format!(
                "{name} may neither read the catalog (list ConfigMaps in {}) nor list Services.",
                portal.catalog_namespace
            ),
            sign_in: false,
            viewer: Some(name),
            clear_cookie: false,
        });
    }
    Ok(sight)
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|t| !t.is_empty())
}

fn viewer_name(sight: &Sight) -> Option<String> {
    sight.viewer.as_ref().map(|v| v.name.clone())
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
    let all = match services(&portal) {
        Ok(all) => all,
        Err(denied) => return denied.respond(format),
    };
    // The catalog shows published Services only: no per-namespace question is needed.
    let sight = match sight(&portal, &headers, []).await {
        Ok(sight) => sight,
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
    let all = match services(&portal) {
        Ok(all) => all,
        Err(denied) => return denied.respond(format),
    };
    let sight = match sight(&portal, &headers, unpublished_namespaces(&all)).await {
        Ok(sight) => sight,
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
    let all = match services(&portal) {
        Ok(all) => all,
        Err(denied) => return denied.respond(format),
    };
    // Its own namespace, and those of its dependencies and dependants.
    let sight = match sight(&portal, &headers, unpublished_namespaces(&all)).await {
        Ok(sight) => sight,
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

fn json<T: serde::Serialize>(value: &T) -> Response {
    match serde_json::to_string_pretty(value) {
        Ok(body) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            body + "\n",
        )
            .into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n")).into_response(),
    }
}

fn csv(body: Result<String, csv::Error>, filename: &'static str) -> Response {
    match body {
        Ok(body) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    match filename {
                        "portfolio.csv" => "attachment; filename=\"portfolio.csv\"",
                        _ => "attachment; filename=\"catalog.csv\"",
                    },
                ),
            ],
            body,
        )
            .into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n")).into_response(),
    }
}

async fn login_form() -> Response {
    html(
        StatusCode::OK,
        Login {
            chrome: chrome(None, "login"),
            problem: None,
        }
        .render(),
    )
}

#[derive(Deserialize)]
struct SignIn {
    token: String,
}

/// Checks the token once (TokenReview) and keeps it in an HttpOnly, same-site cookie.
async fn login(State(portal): State<Arc<Portal>>, Form(form): Form<SignIn>) -> Response {
    let token = form.token.trim().to_owned();
    if token.is_empty() {
        return Denied::from(Refused::NoToken, false).respond(Format::Html);
    }
    if let Err(refused) = portal.access.authenticate(&token).await {
        return Denied::from(refused, false).respond(Format::Html);
    }
    let mut response = Redirect::to("/portal").into_response();
    let cookie = Cookie::build((COOKIE, token))
        .path("/portal")
        .http_only(true)
        .same_site(SameSite::Strict)
        .build();
    set_cookie(&mut response, cookie);
    response
}

async fn logout() -> Response {
    let mut response = Redirect::to("/portal/login").into_response();
    set_cookie(&mut response, removal());
    response
}

fn removal() -> Cookie<'static> {
    let mut gone = Cookie::build((COOKIE, "")).path("/portal").build();
    gone.make_removal();
    gone
}

fn set_cookie(response: &mut Response, cookie: Cookie<'_>) {
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response()
}
