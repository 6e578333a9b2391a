//! The operator at work on a server: the embedded API server (or kube-apiserver), the CRDs,
//! the operator (with a chosen `allow_self_approval`), a client per user, Services and
//! approvals sent as their users send them, and polling with a deadline.

use std::{
    future::Future,
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use charter::{
    api::{Decision, Phase, Service, ServiceApproval, ServiceSpec, ServiceStatus},
    controller::{self, Config},
};
use charter_apiserver::{ApiServer, Config as ServerConfig, UserSpec};
use k8s_openapi::api::{core::v1::ConfigMap, events::v1::Event};
use kube::{Api, Client, api::PostParams};
use test_programs::{Ground, kubectl::Kubeconfigs};
use tokio::{sync::oneshot, task::JoinHandle};

use crate::approval::approval;
use crate::service::ServiceBuilder;

pub const CATALOG_NAMESPACE: &str = charter::deploy::CATALOG_NAMESPACE;
pub const CATALOG_NAME: &str = "charter-catalog";
pub const NAMESPACE: &str = "default";
pub const DEADLINE: Duration = Duration::from_secs(20);
pub const USERS: &[&str] = &["dana", "ava", "bo", "cy"];
/// The group of `USERS`, bound to deploy/'s owner and approver roles.
pub const USER_GROUP: &str = "users";

struct Operator {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), controller::Error>>,
}

/// The server a [`Fixture`] runs on. The embedded one derefs to [`ApiServer`] (faults, dumps);
/// a test that reaches into it cannot run on the real ground, and panics there saying so.
pub enum Server {
    Embedded(ApiServer),
    Real {
        plane: charter::cli::control_plane::ControlPlane,
        /// A TokenRequest token of deploy/'s ServiceAccount.
        operator_token: String,
    },
}

impl std::ops::Deref for Server {
    type Target = ApiServer;
    fn deref(&self) -> &ApiServer {
        match self {
            Server::Embedded(server) => server,
            Server::Real { .. } => {
                panic!(
                    "this test reaches into the embedded API server: it cannot run on kube-apiserver"
                )
            }
        }
    }
}

impl Server {
    pub fn is_real(&self) -> bool {
        matches!(self, Server::Real { .. })
    }

    /// The bearer token `user` is known by (deploy/'s ServiceAccount's too).
    pub fn token_of(&self, user: &str) -> Result<String, String> {
        match self {
            Server::Embedded(server) => server.token_of(user).map_err(|e| e.to_string()),
            Server::Real {
                plane,
                operator_token,
            } => {
                if user == charter::deploy::operator_user() {
                    return Ok(operator_token.clone());
                }
                plane
                    .users()
                    .iter()
                    .find(|u| u.name == user)
                    .map(|u| u.token.clone())
                    .ok_or_else(|| format!("no user {user}"))
            }
        }
    }

    pub async fn client_for(&self, user: &str) -> Result<Client, String> {
        match self {
            Server::Embedded(server) => server.client_for(user).await.map_err(|e| e.to_string()),
            Server::Real { plane, .. } => plane.client_for(user).await.map_err(|e| e.to_string()),
        }
    }
}

impl Server {
    /// A kubeconfig for `user` alone (its only context, current).
    pub fn write_kubeconfig(&self, path: &std::path::Path, user: &str) -> Result<(), String> {
        match self {
            Server::Embedded(server) => server
                .write_kubeconfig(path, user)
                .map_err(|e| e.to_string()),
            Server::Real { plane, .. } => {
                let spec = UserSpec {
                    name: user.to_string(),
                    groups: Vec::new(),
                    token: self.token_of(user)?,
                };
                let mut doc =
                    charter::cli::control_plane::kubeconfig(plane.kubeconfig_cluster(), &[spec]);
                doc["current-context"] = user.into();
                std::fs::write(path, doc.to_string()).map_err(|e| e.to_string())
            }
        }
    }
}

impl Kubeconfigs for Server {
    fn write_kubeconfig(&self, path: &std::path::Path, user: &str) -> Result<(), String> {
        Server::write_kubeconfig(self, path, user)
    }
}

pub struct Fixture {
    pub server: Server,
    /// The admin client (also an approval delegate, as a GitOps pipeline would be).
    pub admin: Client,
    /// The operator's client: deploy/'s ServiceAccount with exactly deploy/'s RBAC.
    pub operator_client: Client,
    allow_self_approval: bool,
    operator: Option<Operator>,
    /// The metrics of the operator started last.
    pub telemetry: controller::Telemetry,
}

impl Fixture {
    /// Starts the API server, installs the CRDs and runs the operator.
    pub async fn start(allow_self_approval: bool) -> Fixture {
        let mut fx = Self::start_without_operator(allow_self_approval).await;
        fx.start_operator();
        fx
    }

    /// [`Fixture::start`] on `ground`.
    pub async fn start_on(ground: &Ground, allow_self_approval: bool) -> Fixture {
        let mut fx = Self::start_without_operator_on(ground, allow_self_approval).await;
        fx.start_operator();
        fx
    }

    /// [`Fixture::start_without_operator`] on `ground`: on the real one, kube-apiserver with
    /// the same users, secured by the same function as `charter sandbox --control-plane`.
    pub async fn start_without_operator_on(ground: &Ground, allow_self_approval: bool) -> Fixture {
        let Ground::Real(binaries) = ground else {
            return Self::start_without_operator(allow_self_approval).await;
        };
        let users: Vec<UserSpec> = USERS
            .iter()
            .map(|u| UserSpec::new(u, &[USER_GROUP]))
            .collect();
        let (plane, operator, admin) =
            charter::cli::sandbox::secured_control_plane(binaries, &users, None, USER_GROUP)
                .await
                .expect("kube-apiserver starts, secured as deploy/ secures a cluster");
        let operator_token = plane
            .service_account_token(
                &admin,
                charter::deploy::NAMESPACE,
                charter::deploy::SERVICE_ACCOUNT,
            )
            .await
            .expect("a token of deploy/'s ServiceAccount");
        Fixture {
            server: Server::Real {
                plane,
                operator_token,
            },
            admin,
            operator_client: operator,
            allow_self_approval,
            operator: None,
            telemetry: controller::Telemetry::default(),
        }
    }

    pub async fn start_without_operator(allow_self_approval: bool) -> Fixture {
        let (server, operator, admin) = charter::cli::sandbox::secured_server(
            ServerConfig {
                users: USERS
                    .iter()
                    .map(|u| UserSpec::new(u, &[USER_GROUP]))
                    .collect(),
                namespaces: vec![CATALOG_NAMESPACE.into()],
                ..ServerConfig::default()
            },
            USER_GROUP,
        )
        .await
        .expect("the API server starts, secured as deploy/ secures a cluster");
        Fixture {
            server: Server::Embedded(server),
            admin,
            operator_client: operator,
            allow_self_approval,
            operator: None,
            telemetry: controller::Telemetry::default(),
        }
    }

    /// Runs a (new) operator.
    pub fn start_operator(&mut self) {
        assert!(self.operator.is_none(), "an operator already runs");
        let (stop, stopped) = oneshot::channel();
        let config = Config {
            catalog_namespace: CATALOG_NAMESPACE.into(),
            catalog_name: CATALOG_NAME.into(),
            allow_self_approval: self.allow_self_approval,
            ..Config::default()
        };
        self.telemetry = controller::Telemetry::default();
        let operator = controller::Operator::new(self.operator_client.clone(), config)
            .telemetry(self.telemetry.clone());
        let task = tokio::spawn(operator.run(async move {
            let _ = stopped.await;
        }));
        self.operator = Some(Operator { stop, task });
    }

    /// Stops the operator gracefully and checks it stopped without error.
    pub async fn stop_operator(&mut self) {
        let operator = self.operator.take().expect("an operator runs");
        let _ = operator.stop.send(());
        let result = tokio::time::timeout(DEADLINE, operator.task)
            .await
            .expect("the operator shuts down gracefully")
            .expect("the operator task does not panic");
        result.expect("the operator stops without error");
    }

    /// Kills the operator: its task is dropped wherever it is, as a crashed process stops.
    pub async fn kill_operator(&mut self) {
        let operator = self.operator.take().expect("an operator runs");
        operator.task.abort();
        let _ = operator.task.await;
    }

    /// How many reconciliations the operator started last has finished (`charter_reconciliations_total`).
    pub fn reconciliations(&self) -> u64 {
        self.telemetry
            .encode()
            .lines()
            .find_map(|l| l.strip_prefix("charter_reconciliations_total "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .map_or(0, |v| v as u64)
    }

    /// Waits until the operator is idle: its reconciliation count unchanged for 300 ms (what
    /// is still in flight, such as the echo of its own last write, has been handled).
    pub async fn settled(&self) {
        let mut last = (self.reconciliations(), tokio::time::Instant::now());
        eventually("the operator to be idle", || {
            let now = (self.reconciliations(), tokio::time::Instant::now());
            let quiet = now.0 == last.0 && now.1 - last.1 >= Duration::from_millis(300);
            if now.0 != last.0 {
                last = now;
            }
            std::future::ready(quiet.then_some(()))
        })
        .await
    }

    pub async fn shutdown(mut self) {
        if self.operator.is_some() {
            self.stop_operator().await;
        }
    }

    /// A client authenticated as `user`.
    pub async fn client(&self, user: &str) -> Client {
        self.server
            .client_for(user)
            .await
            .unwrap_or_else(|e| panic!("a client for {user}: {e}"))
    }

    pub fn services(&self) -> Api<Service> {
        Api::namespaced(self.admin.clone(), NAMESPACE)
    }

    pub fn approvals(&self) -> Api<ServiceApproval> {
        Api::namespaced(self.admin.clone(), NAMESPACE)
    }

    pub fn configmaps(&self) -> Api<ConfigMap> {
        Api::namespaced(self.admin.clone(), CATALOG_NAMESPACE)
    }

    /// Creates the Service as its owner.
    pub async fn create(&self, builder: ServiceBuilder) -> Service {
        let service = builder.build();
        let owner = service.spec.content.owner.clone();
        let api: Api<Service> = Api::namespaced(self.client(&owner).await, NAMESPACE);
        api.create(&PostParams::default(), &service)
            .await
            .expect("the Service is created")
    }

    /// Replaces the Service's spec as its owner (re-reading it on conflict).
    pub async fn edit(&self, name: &str, change: impl Fn(&mut ServiceSpec)) {
        let api = self.services();
        for _ in 0..10 {
            let mut current = api.get(name).await.expect("the Service exists");
            change(&mut current.spec);
            match api.replace(name, &PostParams::default(), &current).await {
                Ok(_) => return,
                Err(kube::Error::Api(e)) if e.code == 409 => continue,
                Err(e) => panic!("cannot edit {name}: {e}"),
            }
        }
        panic!("cannot edit {name}: too many conflicts");
    }

    pub async fn status_of(&self, name: &str) -> Option<ServiceStatus> {
        self.services().get(name).await.ok()?.status
    }

    pub async fn phase_of(&self, name: &str) -> Option<Phase> {
        self.status_of(name).await?.phase
    }

    /// Waits for `name` to be in `phase` with its status up to date; returns the status.
    pub async fn wait_for_phase(&self, name: &str, phase: Phase) -> ServiceStatus {
        eventually(&format!("{name} to reach {phase}"), || async {
            let service = self.services().get(name).await.ok()?;
            let status = service.status?;
            (status.phase == Some(phase)
                && status.observed_generation == service.metadata.generation)
                .then_some(status)
        })
        .await
    }

    /// Waits for `name` to be in `phase` at `revision` (the current revision).
    pub async fn wait_for_phase_at(
        &self,
        name: &str,
        phase: Phase,
        revision: &str,
    ) -> ServiceStatus {
        eventually(
            &format!("{name} to reach {phase} at {revision}"),
            || async {
                let status = self.status_of(name).await?;
                (status.phase == Some(phase) && status.revision.as_deref() == Some(revision))
                    .then_some(status)
            },
        )
        .await
    }

    /// Waits for the Service to wait in Approval; returns its current revision.
    pub async fn revision_in_approval(&self, name: &str) -> String {
        self.wait_for_phase(name, Phase::Approval)
            .await
            .revision
            .expect("a Service in Approval has a revision")
    }

    /// The catalog ConfigMap's data.
    pub async fn catalog(&self) -> Option<std::collections::BTreeMap<String, String>> {
        Some(
            self.configmaps()
                .get(CATALOG_NAME)
                .await
                .ok()?
                .data
                .unwrap_or_default(),
        )
    }

    /// One catalog entry, e.g. `default_ledger.json`.
    pub async fn catalog_entry(&self, key: &str) -> Option<String> {
        self.catalog().await?.get(key).cloned()
    }

    /// The catalog entry of a Service in `default`, parsed.
    pub async fn published(&self, name: &str) -> Option<serde_json::Value> {
        let entry = self
            .catalog_entry(&format!("{NAMESPACE}_{name}.json"))
            .await?;
        Some(serde_json::from_str(&entry).expect("a catalog entry is JSON"))
    }

    /// The reasons of the Events about `name`, in no particular order.
    pub async fn event_reasons(&self, name: &str) -> Vec<String> {
        self.events(name)
            .await
            .into_iter()
            .map(|(reason, _)| reason)
            .filter(|reason| !reason.is_empty())
            .collect()
    }

    /// The Events about `name` as (reason, note), in no particular order.
    pub async fn events(&self, name: &str) -> Vec<(String, String)> {
        let events: Api<Event> = Api::namespaced(self.admin.clone(), NAMESPACE);
        events
            .list(&Default::default())
            .await
            .expect("Events can be listed")
            .items
            .into_iter()
            .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
            .map(|e| (e.reason.unwrap_or_default(), e.note.unwrap_or_default()))
            .collect()
    }

    /// Waits for the approval's status to be computed; returns (counted, reason).
    pub async fn approval_verdict(&self, approval: &str) -> (bool, String) {
        eventually(&format!("the verdict on {approval}"), || async {
            let status = self.approvals().get(approval).await.ok()?.status?;
            Some((status.counted, status.reason))
        })
        .await
    }

    /// Waits for the approval's status to have `reason`.
    pub async fn wait_for_verdict(&self, approval: &str, reason: &str) -> bool {
        eventually(&format!("{approval} to be {reason}"), || async {
            let status = self.approvals().get(approval).await.ok()?.status?;
            (status.reason == reason).then_some(status.counted)
        })
        .await
    }
}

static APPROVAL_SEQ: AtomicUsize = AtomicUsize::new(0);

async fn decide(
    client: &Client,
    service: &str,
    revision: &str,
    approver: &str,
    decision: Decision,
) -> String {
    let seq = APPROVAL_SEQ.fetch_add(1, Ordering::Relaxed);
    let verb = match decision {
        Decision::Approved => "approve",
        Decision::Rejected => "reject",
        Decision::Reviewed => "review",
    };
    let name = format!("{service}-{approver}-{verb}-{revision}-{seq}");
    let sent = approval(&name)
        .of(service)
        .by(approver)
        .decides(decision, revision)
        .comment(&format!("{verb}d by {approver}"))
        .build();
    let api: Api<ServiceApproval> = Api::namespaced(client.clone(), NAMESPACE);
    api.create(&PostParams::default(), &sent)
        .await
        .unwrap_or_else(|e| panic!("the approval {name} is created: {e}"));
    name
}

/// Creates an `Approved` ServiceApproval; returns its name.
pub async fn approve(client: &Client, service: &str, revision: &str, approver: &str) -> String {
    decide(client, service, revision, approver, Decision::Approved).await
}

/// Creates a `Rejected` ServiceApproval; returns its name.
pub async fn reject(client: &Client, service: &str, revision: &str, approver: &str) -> String {
    decide(client, service, revision, approver, Decision::Rejected).await
}

/// Polls `probe` until it yields a value or the deadline passes.
pub async fn eventually<T, F, Fut>(what: &str, probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    eventually_within(DEADLINE, what, probe).await
}

/// Polls `probe` until it yields a value, failing after `bound`.
pub async fn eventually_within<T, F, Fut>(bound: Duration, what: &str, probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    poll(bound, what, probe)
        .await
        .unwrap_or_else(|why| panic!("{why}"))
}

/// Polls `probe` until it yields a value; past the deadline, an error naming `what` (for a
/// caller that gathers failures rather than stopping at the first).
pub async fn eventually_result<T, F, Fut>(what: &str, probe: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    poll(DEADLINE, what, probe).await
}

async fn poll<T, F, Fut>(bound: Duration, what: &str, mut probe: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + bound;
    loop {
        if let Some(value) = probe().await {
            return Ok(value);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(format!("timed out waiting for {what}"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The status of condition `type_`, if present.
pub fn condition(status: &ServiceStatus, type_: &str) -> Option<(String, String)> {
    status
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| (c.status.clone(), c.reason.clone()))
}
