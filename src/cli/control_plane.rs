//! The real control plane: etcd, kube-apiserver and kube-controller-manager, run from a
//! directory of binaries (`scripts/control-plane` builds one; envtest's `KUBEBUILDER_ASSETS`
//! is one) on 127.0.0.1, as children of this process, with a throwaway data directory.
//!
//! It is secured as a cluster is: TLS with a fresh CA, static bearer tokens (random, one per
//! user, in `--token-auth-file`), RBAC authorization, ServiceAccount tokens signed by a fresh
//! key, and the admission policies served (MutatingAdmissionPolicy is switched on where the
//! release has it only behind a feature gate). What to install on it is the caller's
//! (`sandbox.rs` installs `deploy/` on both grounds).

use charter_apiserver::auth::UserSpec;
use charter_apiserver::tls::{self, Certificate};
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::api::PostParams;
use kube::{Api, Client};
use serde_json::{Value, json};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod credentials;
mod error;
mod process;
mod release;

pub use credentials::kubeconfig;
use credentials::{client_with_token, random_token, token_file};
pub use error::ControlPlaneError;
use error::io;
use process::{Process, tail};
use release::{admission_policy_flags, binary, version_of};

/// The binaries a control-plane directory must hold.
pub const ETCD: &str = "etcd";
pub const KUBE_APISERVER: &str = "kube-apiserver";
/// Optional: envtest's assets lack it. Without it namespaces never finish terminating and
/// garbage collection does not run, as on a cluster whose controller manager is down.
pub const KUBE_CONTROLLER_MANAGER: &str = "kube-controller-manager";

/// The user kube-controller-manager authenticates as (bootstrap RBAC grants it what it needs
/// to mint a token per controller, `--use-service-account-credentials`).
const CONTROLLER_MANAGER_USER: &str = "system:kube-controller-manager";

/// How long the API server gets to become ready (a cold start on a loaded 2-core machine
/// takes several seconds: the bootstrap RBAC and priority levels are written to etcd).
const READY_TIMEOUT: Duration = Duration::from_secs(90);
/// How long each process gets to exit after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// Lifetime of the operator's ServiceAccount token: the sandbox has no kubelet to refresh it,
/// so it must outlast any session.
const TOKEN_SECONDS: i64 = 7 * 24 * 3600;

/// A running etcd + kube-apiserver (+ kube-controller-manager). Stop it with [`stop`]
/// (SIGTERM, in reverse order); dropping it kills whatever still runs. The children also
/// die with this process (`PR_SET_PDEATHSIG` on Linux), so none outlives a killed sandbox.
///
/// [`stop`]: ControlPlane::stop
pub struct ControlPlane {
    /// Deleted on drop, except when the start failed: its logs say why.
    dir: Option<tempfile::TempDir>,
    data: PathBuf,
    url: String,
    cert: Certificate,
    users: Vec<UserSpec>,
    version: String,
    processes: Vec<Process>,
}

impl ControlPlane {
    /// Starts the binaries in `binaries` with `users` (and `admin`, in `system:masters`)
    /// known by random tokens; `port` fixes kube-apiserver's port.
    pub async fn start(
        binaries: &Path,
        users: &[UserSpec],
        port: Option<u16>,
    ) -> Result<ControlPlane, ControlPlaneError> {
        let etcd = binary(binaries, ETCD)?;
        let apiserver = binary(binaries, KUBE_APISERVER)?;
        let controller_manager = binary(binaries, KUBE_CONTROLLER_MANAGER).ok();
        let version = version_of(&apiserver)?;

        let dir = tempfile::Builder::new()
            .prefix("charter-control-plane-")
            .tempdir()
            .map_err(io("cannot create the control plane's data directory"))?;
        let path = dir.path().to_path_buf();
        let write = |name: &str, text: &str| -> Result<PathBuf, ControlPlaneError> {
            let file = path.join(name);
            std::fs::write(&file, text).map_err(io(format!("cannot write {}", file.display())))?;
            Ok(file)
        };

        let mut users = users.to_vec();
        if !users.iter().any(|u| u.name == "admin") {
            users.push(UserSpec::admin());
        }
        users.push(UserSpec::new(CONTROLLER_MANAGER_USER, &[]));
        for user in &mut users {
            user.token = random_token()?;
        }
        let cert = tls::self_signed()?;
        let ca = write("ca.crt", &cert.ca_pem)?;
        let serving_cert = write("apiserver.crt", &cert.cert_pem)?;
        let serving_key = write("apiserver.key", &cert.key_pem)?;
        let (private, public) = tls::signing_key_pem()?;
        let sa_key = write("service-account.key", &private)?;
        let sa_public = write("service-account.pub", &public)?;
        let tokens = write("tokens.csv", &token_file(&users))?;

        let [etcd_port, peer_port, free_port] = free_ports()?;
        let port = port.unwrap_or(free_port);
        let url = format!("https://127.0.0.1:{port}");
        let etcd_url = format!("http://127.0.0.1:{etcd_port}");
        let peer_url = format!("http://127.0.0.1:{peer_port}");

        let mut plane = ControlPlane {
            data: path.clone(),
            url,
            cert,
            users,
            version,
            processes: Vec::new(),
            dir: Some(dir),
        };
        let started = plane
            .start_processes(
                &etcd,
                &apiserver,
                controller_manager.as_deref(),
                Files {
                    ca: &ca,
                    serving_cert: &serving_cert,
                    serving_key: &serving_key,
                    sa_key: &sa_key,
                    sa_public: &sa_public,
                    tokens: &tokens,
                },
                &etcd_url,
                &peer_url,
                port,
            )
            .await;
        match started {
            Ok(()) => Ok(plane),
            Err(e) => {
                // The logs explain the failure: keep them.
                plane.kill();
                if let Some(dir) = plane.dir.take() {
                    let _ = dir.keep();
                }
                Err(e)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn start_processes(
        &mut self,
        etcd: &Path,
        apiserver: &Path,
        controller_manager: Option<&Path>,
        files: Files<'_>,
        etcd_url: &str,
        peer_url: &str,
        port: u16,
    ) -> Result<(), ControlPlaneError> {
        let dir = self.data.clone();
        let arg = |flag: &str, value: &dyn AsRef<std::ffi::OsStr>| {
            format!("--{flag}={}", value.as_ref().to_string_lossy())
        };
        self.processes.push(Process::spawn(
            ETCD,
            etcd,
            vec![
                arg("name", &"charter"),
                arg("data-dir", &dir.join("etcd")),
                arg("listen-client-urls", &etcd_url),
                arg("advertise-client-urls", &etcd_url),
                arg("listen-peer-urls", &peer_url),
                arg("initial-advertise-peer-urls", &peer_url),
                arg("initial-cluster", &format!("charter={peer_url}")),
                // A throwaway store: durability buys nothing, fsync costs every write.
                arg("unsafe-no-fsync", &"true"),
            ],
            &dir.join("etcd.log"),
        )?);
        let etcd_addr: SocketAddr =
            etcd_url
                .trim_start_matches("http://")
                .parse()
                .map_err(|_| ControlPlaneError::Io {
                    what: format!("etcd address {etcd_url}"),
                    source: std::io::ErrorKind::InvalidInput.into(),
                })?;
        self.wait_until("etcd", 0, || TcpStream::connect(etcd_addr).is_ok())
            .await?;

        let mut args = vec![
            arg("etcd-servers", &etcd_url),
            arg("bind-address", &"127.0.0.1"),
            arg("advertise-address", &"127.0.0.1"),
            // The `kubernetes` Service's endpoints may not be loopback, and nothing in the
            // sandbox runs in a pod to use them.
            arg("endpoint-reconciler-type", &"none"),
            arg("secure-port", &port.to_string()),
            arg("cert-dir", &dir.join("apiserver")),
            arg("tls-cert-file", &files.serving_cert),
            arg("tls-private-key-file", &files.serving_key),
            arg("client-ca-file", &files.ca),
            arg("token-auth-file", &files.tokens),
            arg("authorization-mode", &"RBAC"),
            arg("service-account-issuer", &"https://kubernetes.default.svc"),
            arg("service-account-key-file", &files.sa_public),
            arg("service-account-signing-key-file", &files.sa_key),
            arg("service-cluster-ip-range", &"10.0.0.0/24"),
        ];
        args.extend(admission_policy_flags(&self.version));
        self.processes.push(Process::spawn(
            KUBE_APISERVER,
            apiserver,
            args,
            &dir.join("kube-apiserver.log"),
        )?);
        let admin = self.client_for("admin").await?;
        let started = Instant::now();
        loop {
            let request = http::Request::get("/readyz")
                .body(Vec::new())
                .map_err(|e| ControlPlaneError::Io {
                    what: "readyz request".into(),
                    source: std::io::Error::other(e),
                })?;
            if admin.request_text(request).await.is_ok() {
                break;
            }
            self.check_running(1)?;
            if started.elapsed() > READY_TIMEOUT {
                return Err(ControlPlaneError::NotReady {
                    what: KUBE_APISERVER,
                    timeout: READY_TIMEOUT,
                    log: self.processes[1].log.clone(),
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }

        if let Some(controller_manager) = controller_manager {
            let config = dir.join("kube-controller-manager.kubeconfig");
            let mut doc = kubeconfig(self.kubeconfig_cluster(), &self.users);
            doc["current-context"] = json!(CONTROLLER_MANAGER_USER);
            std::fs::write(&config, doc.to_string())
                .map_err(io(format!("cannot write {}", config.display())))?;
            self.processes.push(Process::spawn(
                KUBE_CONTROLLER_MANAGER,
                controller_manager,
                vec![
                    arg("kubeconfig", &config),
                    arg("authentication-kubeconfig", &config),
                    arg("authorization-kubeconfig", &config),
                    arg("bind-address", &"127.0.0.1"),
                    // No one scrapes it; a fixed default port could clash with another run.
                    arg("secure-port", &"0"),
                    arg("leader-elect", &"false"),
                    arg("use-service-account-credentials", &"true"),
                    arg("service-account-private-key-file", &files.sa_key),
                    arg("root-ca-file", &files.ca),
                ],
                &dir.join("kube-controller-manager.log"),
            )?);
        }
        Ok(())
    }

    /// Polls `ready` until it holds, failing when process `index` exits or time runs out.
    async fn wait_until(
        &mut self,
        what: &'static str,
        index: usize,
        ready: impl Fn() -> bool,
    ) -> Result<(), ControlPlaneError> {
        let started = Instant::now();
        while !ready() {
            self.check_running(index)?;
            if started.elapsed() > READY_TIMEOUT {
                return Err(ControlPlaneError::NotReady {
                    what,
                    timeout: READY_TIMEOUT,
                    log: self.processes[index].log.clone(),
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    fn check_running(&mut self, index: usize) -> Result<(), ControlPlaneError> {
        let process = &mut self.processes[index];
        match process.child.try_wait() {
            Ok(Some(status)) => Err(ControlPlaneError::Exited {
                program: process.name,
                status,
                log: process.log.clone(),
                tail: tail(&process.log, 20),
            }),
            _ => Ok(()),
        }
    }

    /// `https://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// kube-apiserver's `--version`, e.g. `v1.37.2`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The data directory: etcd's store, the certificates and the logs.
    pub fn dir(&self) -> &Path {
        &self.data
    }

    /// Whether kube-controller-manager runs (envtest's assets have none).
    pub fn has_controller_manager(&self) -> bool {
        self.processes
            .iter()
            .any(|p| p.name == KUBE_CONTROLLER_MANAGER)
    }

    /// The log files, one per process.
    pub fn logs(&self) -> Vec<&Path> {
        self.processes.iter().map(|p| p.log.as_path()).collect()
    }

    /// The users and their tokens (`admin` and kube-controller-manager's included).
    pub fn users(&self) -> &[UserSpec] {
        &self.users
    }

    /// The `cluster` entry of a kubeconfig that reaches kube-apiserver and trusts its CA.
    pub fn kubeconfig_cluster(&self) -> Value {
        tls::kubeconfig_cluster(&self.url, &self.cert)
    }

    /// A client authenticated as `user` (one of the users it was started with, or `admin`).
    pub async fn client_for(&self, user: &str) -> Result<Client, ControlPlaneError> {
        let spec = self
            .users
            .iter()
            .find(|u| u.name == user)
            .ok_or_else(|| ControlPlaneError::NoSuchUser(user.into()))?;
        client_with_token(self.kubeconfig_cluster(), user, &spec.token).await
    }

    /// A client authenticated as ServiceAccount `namespace/name` with a token from the
    /// TokenRequest API, as a kubelet would mount it (the ServiceAccount must exist).
    pub async fn service_account_client(
        &self,
        admin: &Client,
        namespace: &str,
        name: &str,
    ) -> Result<Client, ControlPlaneError> {
        let token = self.service_account_token(admin, namespace, name).await?;
        let user = format!("system:serviceaccount:{namespace}:{name}");
        client_with_token(self.kubeconfig_cluster(), &user, &token).await
    }

    /// A token of ServiceAccount `namespace/name` from the TokenRequest API, valid for a week
    /// (for a kubeconfig: the sandbox has no kubelet to refresh it).
    pub async fn service_account_token(
        &self,
        admin: &Client,
        namespace: &str,
        name: &str,
    ) -> Result<String, ControlPlaneError> {
        let request = TokenRequest {
            spec: Some(TokenRequestSpec {
                expiration_seconds: Some(TOKEN_SECONDS),
                ..Default::default()
            }),
            ..Default::default()
        };
        let accounts: Api<ServiceAccount> = Api::namespaced(admin.clone(), namespace);
        let issued = accounts
            .create_token_request(name, &PostParams::default(), &request)
            .await
            .map_err(|source| ControlPlaneError::Kube {
                what: format!("token for ServiceAccount {namespace}/{name}"),
                source,
            })?;
        issued
            .status
            .and_then(|s| s.token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ControlPlaneError::Kubeconfig {
                user: format!("{namespace}/{name}"),
                message: "the TokenRequest answer has no token".into(),
            })
    }

    /// The process ids of etcd and kube-apiserver (for their memory).
    pub fn server_pids(&self) -> Vec<u32> {
        self.processes
            .iter()
            .filter_map(Process::server_pid)
            .collect()
    }

    /// etcd's data file: the size of what the cluster stores.
    pub fn etcd_db(&self) -> PathBuf {
        self.data.join("etcd/member/snap/db")
    }

    /// SIGTERM to each process, newest first (the controller manager and the API server
    /// before the etcd they write to), each given [`STOP_GRACE`] before it is killed.
    pub async fn stop(mut self) {
        while let Some(mut process) = self.processes.pop() {
            process.terminate();
            let deadline = Instant::now() + STOP_GRACE;
            while matches!(process.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            process.kill();
        }
    }

    fn kill(&mut self) {
        while let Some(mut process) = self.processes.pop() {
            process.kill();
        }
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        self.kill();
    }
}

struct Files<'a> {
    ca: &'a Path,
    serving_cert: &'a Path,
    serving_key: &'a Path,
    sa_key: &'a Path,
    sa_public: &'a Path,
    tokens: &'a Path,
}

/// Three distinct free ports on 127.0.0.1 (held together so none is handed out twice).
fn free_ports() -> Result<[u16; 3], ControlPlaneError> {
    let bind = || TcpListener::bind("127.0.0.1:0").map_err(io("cannot find a free port"));
    let listeners = [bind()?, bind()?, bind()?];
    let mut ports = [0; 3];
    for (port, listener) in ports.iter_mut().zip(&listeners) {
        *port = listener
            .local_addr()
            .map_err(io("cannot find a free port"))?
            .port();
    }
    Ok(ports)
}
