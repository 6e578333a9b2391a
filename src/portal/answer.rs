//! How a portal view answers: as a page, as a CSV or JSON export (`?format=`), or as a refusal
//! that says why (and asks for a token where one would help).

use askama::Template;
use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use cookie::Cookie;
use serde::Deserialize;

use super::pages::{Chrome, Login, Refusal};
use crate::access::Refused;

/// The cookie that carries a signed-in viewer's token (HttpOnly: no script reads it).
pub const COOKIE: &str = "charter-portal-token";

/// `?format=` of any view.
#[derive(Deserialize, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(super) enum Format {
    #[default]
    Html,
    Csv,
    Json,
}

#[derive(Deserialize, Default)]
pub(super) struct Export {
    #[serde(default)]
    pub format: Format,
}

/// Why a page is not shown, as a page (or as text for an export).
pub(super) struct Denied {
    pub status: StatusCode,
    pub problem: String,
    /// Ask for a token (the sign-in form) rather than just saying no.
    pub sign_in: bool,
    pub viewer: Option<String>,
    pub clear_cookie: bool,
}

impl Denied {
    pub(super) fn from(refused: Refused, from_cookie: bool) -> Denied {
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

    pub(super) fn respond(self, format: Format) -> Response {
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

pub(super) fn chrome(viewer: Option<String>, section: &'static str) -> Chrome {
    Chrome { viewer, section }
}

pub(super) fn html(status: StatusCode, rendered: Result<String, askama::Error>) -> Response {
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

pub(super) fn json<T: serde::Serialize>(value: &T) -> Response {
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

pub(super) fn csv(body: Result<String, csv::Error>, filename: &'static str) -> Response {
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

pub(super) fn removal() -> Cookie<'static> {
    let mut gone = Cookie::build((COOKIE, "")).path("/portal").build();
    gone.make_removal();
    gone
}

pub(super) fn set_cookie(response: &mut Response, cookie: Cookie<'_>) {
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}
