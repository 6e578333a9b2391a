//! The HTTP front door: authentication, impersonation and authorization of every request,
//! then routing by path to version, discovery, OpenAPI and the per-verb handlers.

use crate::contain::contain;
use crate::error::ApiError;
use crate::handlers;
use crate::request::{RequestContext, Target, error_response, header, json_response, parse_query};
use crate::shared::Shared;
use axum::body::Body;
use axum::extract::State;
use axum::http::{Method, Request};
use axum::response::Response;
use serde_json::{Value, json};
use std::sync::Arc;

/// The version info kubectl asks for first.
fn version_info() -> Value {
    json!({
        "major": "1", "minor": "32", "gitVersion": "v1.32.0-charter", "gitCommit": "", "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23", "compiler": "gc", "platform": "linux/amd64"
    })
}

pub(crate) async fn route(State(shared): State<Arc<Shared>>, req: Request<Body>) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let ctx_base = (
        parse_query(parts.uri.query()),
        header(&parts.headers, "accept").to_string(),
        header(&parts.headers, "content-type").to_string(),
        header(&parts.headers, "user-agent").to_string(),
    );
    let user = match shared.auth.authenticate(
        parts
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok()),
    ) {
        Ok(u) => u,
        Err(e) => return error_response(&e),
    };
    // As the real handler chain: impersonation, then authorization, then the handlers.
    let user =
        match crate::authz::impersonate::act_as(&shared, user, &parts.headers).and_then(|u| {
            crate::authz::check_request(&shared, &u, parts.method.as_str(), &path, &ctx_base.0)
                .map(|()| u)
        }) {
            Ok(u) => u,
            Err(e) => return error_response(&e),
        };
    if matches!(
        path.as_str(),
        "/version" | "/healthz" | "/readyz" | "/livez"
    ) {
        return if path == "/version" {
            json_response(200, &version_info(), "application/json", &[])
        } else {
            (axum::http::StatusCode::OK, "ok").into_response_ok()
        };
    }
    let ctx = RequestContext {
        user,
        query: ctx_base.0,
        accept: ctx_base.1,
        content_type: ctx_base.2,
        user_agent: ctx_base.3,
    };
    let body = match axum::body::to_bytes(body, 64 * 1024 * 1024).await {
        Ok(b) => b,
        Err(e) => return error_response(&ApiError::bad_request(format!("cannot read body: {e}"))),
    };
    let segs: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    match serve(&shared, &ctx, &parts.method, &segs, &body).await {
        Ok(r) => r,
        Err(e) => error_response(&e),
    }
}

trait OkText {
    fn into_response_ok(self) -> Response;
}
impl OkText for (axum::http::StatusCode, &'static str) {
    fn into_response_ok(self) -> Response {
        axum::response::IntoResponse::into_response(self)
    }
}

fn not_found_path() -> ApiError {
    ApiError::no_route()
}

fn discovery(ctx: &RequestContext, shared: &Shared, core: bool) -> Result<Response, ApiError> {
    let resources = shared.registry.all();
    if let Some(api_version) = crate::discovery::wants_aggregated(&ctx.accept) {
        let doc = contain("discovery::aggregated", || {
            crate::discovery::aggregated(&resources, core, api_version)
        })?;
        let ct = crate::discovery::aggregated_content_type(api_version);
        return Ok(json_response(200, &doc, &ct, &[]));
    }
    let doc = if core {
        contain("discovery::api_versions", crate::discovery::api_versions)?
    } else {
        contain("discovery::api_group_list", || {
            crate::discovery::api_group_list(&resources)
        })?
    };
    Ok(json_response(200, &doc, "application/json", &[]))
}

async fn serve(
    shared: &Shared,
    ctx: &RequestContext,
    method: &Method,
    segs: &[&str],
    body: &[u8],
) -> Result<Response, ApiError> {
    let ok = |v: Value| Ok(json_response(200, &v, "application/json", &[]));
    match segs {
        ["api"] => return discovery(ctx, shared, true),
        ["apis"] => return discovery(ctx, shared, false),
        ["openapi", "v2"] => return Err(not_found_path()),
        ["openapi", "v3"] => {
            return ok(contain("openapi::index", || {
                crate::openapi::index(&shared.registry.all())
            })?);
        }
        ["openapi", "v3", "api", v] => {
            let v = v.to_string();
            return contain("openapi::group_version", || {
                crate::openapi::group_version(&shared.registry.all(), "", &v)
            })?
            .map_or_else(|| Err(not_found_path()), ok);
        }
        ["openapi", "v3", "apis", g, v] => {
            let (g, v) = (g.to_string(), v.to_string());
            return contain("openapi::group_version", || {
                crate::openapi::group_version(&shared.registry.all(), &g, &v)
            })?
            .map_or_else(|| Err(not_found_path()), ok);
        }
        ["api", v] => {
            let v = v.to_string();
            return contain("discovery::api_resource_list", || {
                crate::discovery::api_resource_list(&shared.registry.all(), "", &v)
            })?
            .map_or_else(|| Err(not_found_path()), ok);
        }
        ["apis", g, v] => {
            let (g, v) = (g.to_string(), v.to_string());
            return contain("discovery::api_resource_list", || {
                crate::discovery::api_resource_list(&shared.registry.all(), &g, &v)
            })?
            .map_or_else(|| Err(not_found_path()), ok);
        }
        ["apis", g] => {
            let all = shared.registry.all();
            let list = contain("discovery::api_group_list", || {
                crate::discovery::api_group_list(&all)
            })?;
            let group = list.get("groups").and_then(Value::as_array).and_then(|gs| {
                gs.iter()
                    .find(|x| x.get("name").and_then(Value::as_str) == Some(*g))
                    .cloned()
            });
            return match group {
                Some(mut grp) => {
                    grp["kind"] = json!("APIGroup");
                    grp["apiVersion"] = json!("v1");
                    ok(grp)
                }
                None => Err(not_found_path()),
            };
        }
        _ => {}
    }
    let (group, version, rest) = match segs {
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Err(not_found_path()),
    };
    let target = parse_target(shared, group, version, rest)?;
    let verb = verb_of(method, &target, ctx);
    shared
        .faults
        .before(&ctx.user.name, verb, &target.served.info.plural)
        .await?;
    if !target.served.info.verbs.iter().any(|v| v == verb) {
        return Err(ApiError::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        ));
    }
    if let Some(sub) = &target.subresource
        && !(sub == "status" && target.served.info.status_subresource)
    {
        return Err(not_found_path());
    }
    handlers::validate_dry_run(ctx, verb)?;
    let call = handlers::Call {
        shared,
        ctx,
        target: &target,
        body,
    };
    let reply = match (verb, target.name.clone()) {
        ("watch", _) => return Ok(handlers::watch::handle(shared, ctx, &target)),
        ("list", _) => return handlers::list::handle(shared, ctx, &target),
        ("get", Some(n)) => handlers::get::handle(shared, ctx, &target, &n)?,
        ("create", _) => handlers::create::handle(call)?,
        ("update", Some(n)) => handlers::update::handle(call, &n)?,
        ("patch", Some(n)) => handlers::patch::handle(call, &n)?,
        ("delete", Some(n)) => handlers::delete::handle(call, &n)?,
        ("deletecollection", _) => handlers::delete_collection::handle(call)?,
        _ => {
            return Err(ApiError::new(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
            ));
        }
    };
    Ok(reply.into_response())
}

fn verb_of(method: &Method, target: &Target, ctx: &RequestContext) -> &'static str {
    // The parameter codec's bool: anything but "false" or "0" is true.
    let watch = ctx
        .param("watch")
        .is_some_and(|w| !matches!(w.to_ascii_lowercase().as_str(), "false" | "0"));
    match (method.as_str(), target.name.is_some()) {
        ("GET", _) if watch => "watch",
        ("GET", false) => "list",
        ("GET", true) => "get",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        _ => "unknown",
    }
}

/// `[namespaces/<ns>/]<plural>[/<name>[/<subresource>]]` under a group version.
fn parse_target(
    shared: &Shared,
    group: &str,
    version: &str,
    rest: &[&str],
) -> Result<Target, ApiError> {
    let find = |plural: &str| {
        shared
            .registry
            .find(group, version, plural)
            .ok_or_else(not_found_path)
    };
    let (namespace, rest): (Option<String>, &[&str]) = match rest {
        ["namespaces", ns, plural, tail @ ..]
            if !(group.is_empty()
                && matches!(*plural, "status" | "finalize")
                && tail.is_empty()) =>
        {
            let served = find(plural)?;
            if !served.info.namespaced {
                return Err(not_found_path());
            }
            (Some(ns.to_string()), &rest[2..])
        }
        _ => (None, rest),
    };
    let (plural, name, sub) = match rest {
        [p] => (*p, None, None),
        [p, n] => (*p, Some(n.to_string()), None),
        [p, n, s] => (*p, Some(n.to_string()), Some(s.to_string())),
        _ => return Err(not_found_path()),
    };
    let served = find(plural)?;
    if served.info.namespaced && namespace.is_none() && name.is_some() {
        return Err(not_found_path());
    }
    Ok(Target {
        served,
        namespace,
        name,
        subresource: sub,
    })
}
