//! The HTTP front: the listener, path parsing and routing to discovery, OpenAPI and the
//! per-verb handlers, and `ApiServer`, the entry point tests and `charter sandbox` use.

use crate::auth::{Authenticator, UserSpec};
use crate::contain::contain;
use crate::error::ApiError;
use crate::faults::Faults;
use crate::handlers;
use crate::registry::Registry;
use crate::request::{RequestContext, Target, error_response, header, json_response, parse_query};
use crate::shared::{Reply, Shared};
use crate::store::Store;
use axum::body::Body;
use axum::extract::State;
use axum::http::{Method, Request};
use axum::response::Response;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How to start a server.
#[derive(Clone, Debug)]
pub struct Config {
    /// `None`: any free port.
    pub port: Option<u16>,
    /// Token-file users; `UserSpec::admin()` is always added.
    pub users: Vec<UserSpec>,
    /// How many changes the watch history keeps before old resourceVersions get 410.
    pub watch_history: usize,
    /// How often watches that allow bookmarks get one.
    pub bookmark_interval: Duration,
    /// Namespaces that exist at start (`default` always does).
    pub namespaces: Vec<String>,
    /// Serve HTTPS with a throwaway self-signed CA (in the kubeconfig); on by default. The
    /// real kubectl sends bearer tokens only over TLS: without it kubectl gets 401.
    pub tls: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: None,
            users: Vec::new(),
            watch_history: 1000,
            bookmark_interval: Duration::from_secs(10),
            namespaces: Vec::new(),
            tls: true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen: {0}")]
    Listen(#[from] std::io::Error),
    #[error("no user {0:?}")]
    NoSuchUser(String),
    #[error("kube client: {0}")]
    Client(String),
    #[error("invalid manifest: {0}")]
    Manifest(String),
    #[error("tls: {0}")]
    Tls(String),
    #[error(transparent)]
    Api(#[from] ApiError),
}

/// A running server; shut down on drop.
pub struct ApiServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
    /// The serving certificate when serving HTTPS.
    cert: Option<crate::tls::Certificate>,
}

impl ApiServer {
    pub async fn start(config: Config) -> Result<ApiServer, ServerError> {
        let mut users = config.users.clone();
        if !users.iter().any(|u| u.name == "admin") {
            users.push(UserSpec::admin());
        }
        let store = Store::new(config.watch_history);
        let shared = Arc::new(Shared {
            faults: Faults::new(store.clone()),
            store,
            registry: Registry::new(crate::kinds::builtins()),
            auth: Authenticator::new(&users),
            bookmark_interval: config.bookmark_interval,
            authz: Default::default(),
            policies: Default::default(),
            namespace_changes: Default::default(),
            observers: vec![
                crate::kinds::apiextensions::committed,
                crate::authz::committed,
                |shared, info, _, _| {
                    crate::policy::committed(&shared.policies, &shared.store, info)
                },
                crate::namespace_controller::committed,
            ],
        });
        crate::authz::bootstrap(&shared)?;
        let listener =
            tokio::net::TcpListener::bind(("127.0.0.1", config.port.unwrap_or(0))).await?;
        let addr = listener.local_addr()?;
        let stop = CancellationToken::new();
        let app = axum::Router::new()
            .fallback(route)
            .with_state(shared.clone());
        let cert = if config.tls {
            Some(crate::tls::self_signed().map_err(|e| ServerError::Tls(e.to_string()))?)
        } else {
            None
        };
        let task = match &cert {
            Some(c) => tokio::spawn(
                crate::tls::serve(listener, app, c, stop.clone())
                    .map_err(|e| ServerError::Tls(e.to_string()))?,
            ),
            None => {
                let s = stop.clone();
                tokio::spawn(async move {
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async move { s.cancelled().await })
                        .await;
                })
            }
        };
        crate::namespace_controller::spawn(shared.clone(), stop.clone());
        let server = ApiServer {
            addr,
            shared,
            stop,
            task: Some(task),
            cert,
        };
        server.create_namespace("default")?;
        for ns in &config.namespaces {
            server.create_namespace(ns)?;
        }
        Ok(server)
    }

    pub fn url(&self) -> String {
        let scheme = if self.cert.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    pub fn faults(&self) -> Faults {
        self.shared.faults.clone()
    }

    /// The kubeconfig `cluster` entry for this server: its URL and, over TLS, the CA data.
    pub fn kubeconfig_cluster(&self) -> serde_json::Value {
        match &self.cert {
            Some(c) => crate::tls::kubeconfig_cluster(&self.url(), c),
            None => json!({"server": self.url()}),
        }
    }

    /// The bearer token of `user` (random for each server run).
    pub fn token_of(&self, user: &str) -> Result<String, ServerError> {
        self.shared
            .auth
            .token_of(user)
            .ok_or_else(|| ServerError::NoSuchUser(user.into()))
    }

    /// The kubeconfig (YAML) that reaches this server as `user`.
    pub fn kubeconfig(&self, user: &str) -> Result<String, ServerError> {
        let token = self.token_of(user)?;
        let cluster = self.kubeconfig_cluster();
        let doc = json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "charter", "cluster": cluster}],
            "users": [{"name": user, "user": {"token": token}}],
            "contexts": [{"name": "charter", "context": {"cluster": "charter", "user": user, "namespace": "default"}}],
            "current-context": "charter",
        });
        // JSON is YAML: kubectl and kube read it as a kubeconfig.
        serde_json::to_string_pretty(&doc).map_err(|e| ServerError::Manifest(e.to_string()))
    }

    /// Writes `kubeconfig(user)` to `path`, readable by its owner only: it holds a token.
    pub fn write_kubeconfig(&self, path: &std::path::Path, user: &str) -> Result<(), ServerError> {
        write_private(path, self.kubeconfig(user)?.as_bytes())?;
        Ok(())
    }

    /// A kube client authenticated as `user`.
    pub async fn client_for(&self, user: &str) -> Result<kube::Client, ServerError> {
        let kc = kube::config::Kubeconfig::from_yaml(&self.kubeconfig(user)?)
            .map_err(|e| ServerError::Client(e.to_string()))?;
        let cfg =
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await
                .map_err(|e| ServerError::Client(e.to_string()))?;
        kube::Client::try_from(cfg).map_err(|e| ServerError::Client(e.to_string()))
    }

    /// Create a namespace (no error if it exists).
    pub fn create_namespace(&self, name: &str) -> Result<(), ServerError> {
        let target = self.target("", "v1", "namespaces", None)?;
        match crate::generic_store::create(
            &self.shared,
            &RequestContext::internal(),
            &target,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
        ) {
            Ok(_) => Ok(()),
            Err(e) if e.code == 409 => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    fn target(
        &self,
        group: &str,
        version: &str,
        plural: &str,
        ns: Option<&str>,
    ) -> Result<Target, ServerError> {
        let served = self
            .shared
            .registry
            .find(group, version, plural)
            .ok_or_else(|| ServerError::Manifest(format!("{plural} not served")))?;
        Ok(Target {
            served,
            namespace: ns.map(String::from),
            name: None,
            subresource: None,
        })
    }

    /// Install (create or replace) CRDs given as YAML (multi-document allowed).
    pub fn install_crds(&self, yaml: &str) -> Result<(), ServerError> {
        let docs: Vec<Value> =
            serde_saphyr::from_multiple(yaml).map_err(|e| ServerError::Manifest(e.to_string()))?;
        self.install_crd_values(docs.into_iter().filter(|d| !d.is_null()).collect())
    }

    pub fn install_crd_values(&self, crds: Vec<Value>) -> Result<(), ServerError> {
        let target = self.target(
            "apiextensions.k8s.io",
            "v1",
            "customresourcedefinitions",
            None,
        )?;
        let ctx = RequestContext::internal();
        for mut crd in crds {
            // Installing is create-or-replace of the manifest as written, whatever its version.
            if let Some(m) = crd.get_mut("metadata").and_then(Value::as_object_mut) {
                m.remove("resourceVersion");
            }
            match crate::generic_store::create(&self.shared, &ctx, &target, crd.clone()) {
                Ok(_) => {}
                Err(e) if e.code == 409 => {
                    let name = crd
                        .pointer("/metadata/name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                    let mut crd = crd;
                    if let Some(m) = crd.get_mut("metadata").and_then(Value::as_object_mut) {
                        m.remove("resourceVersion");
                    }
                    handlers::update::update(&self.shared, &ctx, &target, &name, crd, false)?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Create or replace objects of any served kind, given as YAML (multi-document allowed),
    /// as the server itself (`system:masters`): RBAC policy, namespaces, fixtures. A
    /// namespaced object without `metadata.namespace` goes to `default`.
    pub fn install_objects(&self, yaml: &str) -> Result<(), ServerError> {
        let docs: Vec<Value> =
            serde_saphyr::from_multiple(yaml).map_err(|e| ServerError::Manifest(e.to_string()))?;
        let ctx = RequestContext::internal();
        for mut obj in docs.into_iter().filter(|d| !d.is_null()) {
            // Installing is create-or-replace of the manifest as written, whatever its version.
            if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
                m.remove("resourceVersion");
            }
            let field = |k: &str| obj.get(k).and_then(Value::as_str).unwrap_or_default();
            let (group, version) = match field("apiVersion").split_once('/') {
                Some((g, v)) => (g.to_string(), v.to_string()),
                None => (String::new(), field("apiVersion").to_string()),
            };
            let kind = field("kind");
            let info = self
                .shared
                .registry
                .all()
                .into_iter()
                .find(|i| i.group == group && i.version == version && i.kind == kind)
                .ok_or_else(|| {
                    ServerError::Manifest(format!("{kind} in {group}/{version} is not served"))
                })?;
            let ns = info.namespaced.then(|| {
                crate::store::meta_str(&obj, "namespace")
                    .filter(|n| !n.is_empty())
                    .unwrap_or("default")
                    .to_string()
            });
            let target = self.target(&group, &version, &info.plural, ns.as_deref())?;
            match crate::generic_store::create(&self.shared, &ctx, &target, obj.clone()) {
                Ok(_) => {}
                Err(e) if e.code == 409 => {
                    let name = crate::store::meta_str(&obj, "name")
                        .unwrap_or_default()
                        .to_string();
                    let mut obj = obj;
                    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
                        m.remove("resourceVersion");
                    }
                    handlers::update::update(&self.shared, &ctx, &target, &name, obj, false)?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Stop serving and wait for the listener to close.
    pub async fn shutdown(mut self) {
        self.stop.cancel();
        self.shared.faults.cut_watches();
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.stop.cancel();
        self.shared.faults.cut_watches();
    }
}

/// The version info kubectl asks for first.
fn version_info() -> Value {
    json!({
        "major": "1", "minor": "32", "gitVersion": "v1.32.0-charter", "gitCommit": "", "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23", "compiler": "gc", "platform": "linux/amd64"
    })
}

async fn route(State(shared): State<Arc<Shared>>, req: Request<Body>) -> Response {
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
    let reply = match (verb, target.name.clone()) {
        ("watch", _) => return Ok(handlers::watch::handle(shared, ctx, &target)),
        ("list", _) => handlers::list::handle(shared, ctx, &target)?,
        ("get", Some(n)) => handlers::get::handle(shared, ctx, &target, &n)?,
        ("create", _) => handlers::create::handle(shared, ctx, &target, body)?,
        ("update", Some(n)) => handlers::update::handle(shared, ctx, &target, &n, body)?,
        ("patch", Some(n)) => handlers::patch::handle(shared, ctx, &target, &n, body)?,
        ("delete", Some(n)) => handlers::delete::handle(shared, ctx, &target, &n, body)?,
        ("deletecollection", _) => delete_collection(shared, ctx, &target, body)?,
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

fn delete_collection(
    shared: &Shared,
    ctx: &RequestContext,
    target: &Target,
    body: &[u8],
) -> Result<Reply, ApiError> {
    let filter = handlers::list::Filter::from_ctx(ctx, target)?;
    let (items, _) = shared
        .store
        .list(&target.bucket(), target.namespace.as_deref());
    let mut deleted = Vec::new();
    for o in items {
        let served = crate::generic_store::to_served(target, &o);
        if !filter.matches(&served) {
            continue;
        }
        let name = crate::store::meta_str(&o, "name")
            .unwrap_or_default()
            .to_string();
        let mut t = target.clone();
        t.namespace = crate::store::meta_str(&o, "namespace")
            .map(String::from)
            .or(t.namespace);
        if let Ok((r, _)) =
            crate::generic_store::delete(shared, ctx, &t, &name, &handlers::delete::options(body))
        {
            deleted.push(r.body);
        }
    }
    let info = &target.served.info;
    Ok(Reply::json(
        200,
        json!({"kind": info.list_kind, "apiVersion": info.api_version(), "metadata": {"resourceVersion": shared.store.current_rv().to_string()}, "items": handlers::list::list_items(info, deleted)}),
    ))
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

/// Writes a file only its owner may read or write (mode 0600 on Unix), as kubectl writes
/// kubeconfigs: it holds credentials. An existing file keeps its mode when opened, so it is
/// narrowed before anything is written into it.
pub fn write_private(path: &std::path::Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    #[cfg(unix)]
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_kubeconfig_is_readable_by_its_owner_only_even_over_an_open_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("kubeconfig");
        std::fs::write(&path, "old, longer content").expect("an existing file");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("0644");
        super::write_private(&path, b"new").expect("written");
        let meta = std::fs::metadata(&path).expect("metadata");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "new");
        let fresh = dir.path().join("fresh");
        super::write_private(&fresh, b"x").expect("created");
        let mode = std::fs::metadata(&fresh)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
