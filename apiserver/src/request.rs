//! What one API request is about once parsed: the caller, the query options, the
//! negotiated content types, and the resource path (kind, namespace, name, subresource).

use crate::auth::User;
use crate::error::ApiError;
use crate::registry::Served;
use crate::store::Bucket;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::collections::HashMap;

/// The request context every handler and admission sees.
#[derive(Clone, Debug)]
pub struct RequestContext {
    pub user: User,
    pub query: HashMap<String, String>,
    pub accept: String,
    pub content_type: String,
    pub user_agent: String,
}

impl RequestContext {
    /// A context for writes the server makes itself (install_crds, create_namespace).
    pub fn internal() -> Self {
        RequestContext {
            user: User::new("system:apiserver", &[crate::auth::MASTERS]),
            query: HashMap::new(),
            accept: "application/json".into(),
            content_type: "application/json".into(),
            user_agent: "charter-apiserver".into(),
        }
    }

    /// The context of the server's own controllers (bootstrap, ClusterRole aggregation,
    /// the namespace controller): their writes are owned by `manager`.
    pub fn internal_as(manager: &str) -> Self {
        let mut ctx = Self::internal();
        ctx.query.insert("fieldManager".into(), manager.into());
        ctx
    }

    /// The context of a controller that kube-controller-manager runs under its own
    /// ServiceAccount in kube-system (`--use-service-account-credentials`), `name`: admission
    /// sees that user, as on kube-apiserver, not the server's own. Its writes are owned by `name`.
    pub fn controller(name: &str) -> Self {
        let mut groups = crate::auth::service_account_groups("kube-system");
        groups.push(crate::auth::AUTHENTICATED.into());
        let mut ctx = Self::internal_as(name);
        ctx.user = User {
            name: crate::auth::service_account_user("kube-system", name),
            groups,
            uid: None,
        };
        ctx
    }

    pub fn param(&self, k: &str) -> Option<&str> {
        self.query.get(k).map(String::as_str)
    }

    pub fn dry_run(&self) -> bool {
        self.param("dryRun") == Some("All")
    }

    /// The field manager of a write: `fieldManager`, else the user agent's program name.
    pub fn manager(&self) -> String {
        if let Some(m) = self.param("fieldManager").filter(|m| !m.is_empty()) {
            return m.to_string();
        }
        let ua = self.user_agent.split('/').next().unwrap_or_default();
        if ua.is_empty() {
            "unknown".into()
        } else {
            ua.into()
        }
    }
}

/// The object(s) a resource request addresses.
#[derive(Clone)]
pub struct Target {
    pub served: Served,
    /// Set for namespaced requests (`/namespaces/<ns>/...`).
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

impl Target {
    /// Where the objects are stored. Core v1 Events live with events.k8s.io Events.
    pub fn bucket(&self) -> Bucket {
        self.served.info.bucket()
    }

    pub fn ns(&self) -> &str {
        self.namespace.as_deref().unwrap_or_default()
    }
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `a=1&&b=2` (kube's queries may start with `&`).
pub fn parse_query(q: Option<&str>) -> HashMap<String, String> {
    q.unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (percent_decode(k), percent_decode(v)),
            None => (percent_decode(p), String::new()),
        })
        .collect()
}

pub fn json_response(code: u16, body: &Value, content_type: &str, warnings: &[String]) -> Response {
    json_bytes_response(
        code,
        serde_json::to_vec(body).unwrap_or_default(),
        content_type,
        warnings,
    )
}

/// `json_response` of a body already written as JSON.
pub fn json_bytes_response(
    code: u16,
    bytes: Vec<u8>,
    content_type: &str,
    warnings: &[String],
) -> Response {
    let mut resp = (StatusCode::from_u16(code).unwrap_or(StatusCode::OK), bytes).into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert("content-type", v);
    }
    for w in warnings {
        let text = format!("299 - {}", serde_json::to_string(w).unwrap_or_default());
        if let Ok(v) = HeaderValue::from_str(&text) {
            h.append("warning", v);
        }
    }
    resp
}

pub fn error_response(e: &ApiError) -> Response {
    if e.no_route {
        let mut resp = (axum::http::StatusCode::NOT_FOUND, "404 page not found\n").into_response();
        resp.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        return resp;
    }
    let mut resp = json_response(e.code, &e.to_status(), "application/json", &[]);
    if let Some(s) = e.retry_after
        && let Ok(v) = HeaderValue::from_str(&s.to_string())
    {
        resp.headers_mut().insert("retry-after", v);
    }
    resp
}

pub fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}
