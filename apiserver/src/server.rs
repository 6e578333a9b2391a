//! `ApiServer`, the entry point tests and `charter sandbox` use: its configuration, the
//! listener (plain or TLS) over the front door (`crate::routes`), the observers it wires
//! in, and what a user of the crate may ask of a running server.

use crate::auth::{Authenticator, UserSpec};
use crate::error::ApiError;
use crate::faults::Faults;
use crate::registry::Registry;
use crate::shared::Shared;
use crate::store::Store;
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
            .fallback(crate::routes::route)
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
    /// Create a namespace (no error if it exists).
    pub fn create_namespace(&self, name: &str) -> Result<(), ServerError> {
        Ok(crate::install::namespace(&self.shared, name)?)
    }

    /// Install (create or replace) CRDs given as YAML (multi-document allowed).
    pub fn install_crds(&self, yaml: &str) -> Result<(), ServerError> {
        self.install_crd_values(documents(yaml)?)
    }

    pub fn install_crd_values(&self, crds: Vec<Value>) -> Result<(), ServerError> {
        Ok(crate::install::crds(&self.shared, crds)?)
    }

    /// Create or replace objects of any served kind, given as YAML (multi-document allowed),
    /// as the server itself (`system:masters`): RBAC policy, namespaces, fixtures. A
    /// namespaced object without `metadata.namespace` goes to `default`.
    pub fn install_objects(&self, yaml: &str) -> Result<(), ServerError> {
        Ok(crate::install::objects(&self.shared, documents(yaml)?)?)
    }

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

/// The documents of a YAML stream, empty ones skipped.
fn documents(yaml: &str) -> Result<Vec<Value>, ServerError> {
    let docs: Vec<Value> =
        serde_saphyr::from_multiple(yaml).map_err(|e| ServerError::Manifest(e.to_string()))?;
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

impl From<crate::install::InstallError> for ServerError {
    fn from(e: crate::install::InstallError) -> Self {
        match e {
            crate::install::InstallError::NotServed(m) => ServerError::Manifest(m),
            crate::install::InstallError::Api(e) => ServerError::Api(e),
        }
    }
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
