//! Who is asking: a Kubernetes token from the Authorization header or the sign-in cookie,
//! checked by the API server (TokenReview), and what they may see (SubjectAccessReview);
//! signing in keeps the token in an HttpOnly cookie, signing out removes it.

use std::sync::Arc;

use askama::Template;
use axum::{
    Form,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use cookie::{Cookie, SameSite};
use serde::Deserialize;

use super::answer::{COOKIE, Denied, Format, chrome, html, removal, set_cookie};
use super::pages::Login;
use super::served::Portal;
use super::sight::Sight;
use crate::access::{Refused, bearer};

/// Who is asking and what they may see. `pipeline_namespaces` are the namespaces whose
/// unpublished Services the page would show, asked about one by one when the viewer may not
/// list Services everywhere.
pub(super) async fn sight(
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

pub(super) fn viewer_name(sight: &Sight) -> Option<String> {
    sight.viewer.as_ref().map(|v| v.name.clone())
}

pub(super) async fn login_form() -> Response {
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
pub(super) struct SignIn {
    token: String,
}

/// Checks the token once (TokenReview) and keeps it in an HttpOnly, same-site cookie.
pub(super) async fn login(State(portal): State<Arc<Portal>>, Form(form): Form<SignIn>) -> Response {
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

pub(super) async fn logout() -> Response {
    let mut response = Redirect::to("/portal/login").into_response();
    set_cookie(&mut response, removal());
    response
}
