//! The two grounds secured as `deploy/` secures a cluster: the CRDs, the namespaces, RBAC and
//! the admission policies installed, and on the real control plane the wait until each is in
//! effect, since kube-apiserver takes them up a moment after they are created.

use std::path::Path;
use std::time::{Duration, Instant};

use charter_apiserver::auth::UserSpec;
use charter_apiserver::server::{ApiServer, Config};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::PostParams;
use kube::{Api, Client};

use super::PLATFORM_ADMIN_GROUP;
use crate::api::identity;
use crate::cli::control_plane::ControlPlane;

/// How long the real server gets to establish the CRDs and put the policies in effect.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(60);

/// An API server secured as `deploy/` secures a cluster: its namespaces created, its RBAC and
/// admission policies installed, `users` bound to the owner and approver roles through `group`, and `admin`
/// listed as an approval delegate (it stands in for a GitOps pipeline: `--apply` creates
/// approvals in their approvers' names). Returns the operator's client, authenticated as
/// deploy/'s ServiceAccount and holding exactly deploy/'s RBAC, and the admin client.
pub async fn secured_server(
    config: Config,
    group: &str,
) -> anyhow::Result<(ApiServer, kube::Client, kube::Client)> {
    let mut config = config;
    config.users.push(UserSpec::service_account(
        crate::deploy::NAMESPACE,
        crate::deploy::SERVICE_ACCOUNT,
    ));
    if !config.users.iter().any(|u| u.name == "admin") {
        config.users.push(UserSpec::admin());
    }
    for namespace in [crate::deploy::NAMESPACE, crate::deploy::CATALOG_NAMESPACE] {
        if !config.namespaces.iter().any(|n| n == namespace) {
            config.namespaces.push(namespace.to_string());
        }
    }
    let server = ApiServer::start(config).await?;
    server.install_crds(&crate::crds::yaml())?;
    let admin = server.client_for("admin").await?;
    install_deploy(&admin, group, NEWEST).await?;
    let operator = server.client_for(&crate::deploy::operator_user()).await?;
    Ok((server, operator, admin))
}

/// The real control plane in `binaries`, secured as [`secured_server`] secures the embedded
/// one: `deploy/`'s namespace, the CRDs, its RBAC and admission policies, `users` bound
/// through `group`. The operator's client holds a TokenRequest token of deploy/'s
/// ServiceAccount. Returns the control plane, the operator's client and the admin client.
pub async fn secured_control_plane(
    binaries: &Path,
    users: &[UserSpec],
    port: Option<u16>,
    group: &str,
) -> anyhow::Result<(ControlPlane, Client, Client)> {
    let plane = ControlPlane::start(binaries, users, port).await?;
    let admin = plane.client_for("admin").await?;
    // In `kubectl apply -k deploy/`'s order: the namespace and the CRDs first.
    crate::cli::apply::apply_all(&admin, &crate::deploy::namespaces()).await?;
    let crds = crate::crds::all()
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<Vec<_>, _>>()?;
    crate::cli::apply::apply_all(&admin, &crds).await?;
    crds_established(&admin).await?;
    install_deploy(&admin, group, plane.version()).await?;
    policies_in_effect(&admin).await?;
    if plane.has_controller_manager() {
        roles_aggregated(&admin).await?;
    }
    let operator = plane
        .service_account_client(
            &admin,
            crate::deploy::NAMESPACE,
            crate::deploy::SERVICE_ACCOUNT,
        )
        .await?;
    Ok((plane, operator, admin))
}

/// The version the embedded server answers as far as `deploy/` is concerned: the newest.
const NEWEST: &str = "v1.37.2";

/// `deploy/`'s ServiceAccount, RBAC, user roles and admission policies, as a user installs
/// them on a kube-apiserver of `version` (`deploy/`, or `deploy-kubernetes-1.35/` before
/// 1.36), with `admin` as an approval delegate and `group` bound to the user roles.
async fn install_deploy(admin: &Client, group: &str, version: &str) -> anyhow::Result<()> {
    let mut objects =
        crate::deploy::for_version(crate::deploy::security_objects(&["admin"]), version);
    objects.extend(crate::deploy::user_bindings(group));
    objects.push(crate::deploy::platform_admin_binding(PLATFORM_ADMIN_GROUP));
    crate::cli::apply::apply_all(admin, &objects).await?;
    Ok(())
}

/// Waits until kube-apiserver serves every CRD (condition `Established`): applying a custom
/// resource before then is a 404.
async fn crds_established(admin: &Client) -> anyhow::Result<()> {
    let api: Api<CustomResourceDefinition> = Api::all(admin.clone());
    let deadline = Instant::now() + INSTALL_TIMEOUT;
    for crd in crate::crds::all() {
        let name = crd.metadata.name.unwrap_or_default();
        loop {
            let established = api.get(&name).await?.status.is_some_and(|s| {
                s.conditions
                    .unwrap_or_default()
                    .iter()
                    .any(|c| c.type_ == "Established" && c.status == "True")
            });
            if established {
                break;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "CRD {name} not established after {}s",
                INSTALL_TIMEOUT.as_secs()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}

/// Waits until deploy/'s admission policies are in effect: a Service created (dry run) comes
/// back with its creator recorded by the MutatingAdmissionPolicy. kube-apiserver loads new
/// policies from a watch, a moment after they are created, and the operator trusts that
/// record (a creator never approves their own Service): nothing may be created before.
async fn policies_in_effect(admin: &Client) -> anyhow::Result<()> {
    let mutating = crate::deploy::security_objects(&[])
        .iter()
        .any(|o| o["kind"] == "MutatingAdmissionPolicy");
    if !mutating {
        return Ok(());
    }
    let probe: crate::api::Service = serde_json::from_value(serde_json::json!({
        "apiVersion": "catalog.charter.dev/v1alpha1",
        "kind": "Service",
        "metadata": {"name": "charter-sandbox-probe"},
        "spec": {"owner": "admin"},
    }))?;
    let api: Api<crate::api::Service> = Api::namespaced(admin.clone(), crate::deploy::NAMESPACE);
    let dry_run = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    let deadline = Instant::now() + INSTALL_TIMEOUT;
    loop {
        let created = api.create(&dry_run, &probe).await.map_err(|e| {
            anyhow::anyhow!("a dry-run Service probing deploy/'s admission policies: {e}")
        })?;
        if identity::recorded(&created.metadata, identity::CREATED_BY).is_some() {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "deploy/'s MutatingAdmissionPolicies not in effect after {}s",
            INSTALL_TIMEOUT.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until kube-controller-manager has aggregated deploy/'s `charter-platform-admin`
/// (an aggregated role grants nothing until its controller fills in its rules).
async fn roles_aggregated(admin: &Client) -> anyhow::Result<()> {
    use k8s_openapi::api::rbac::v1::ClusterRole;
    let api: Api<ClusterRole> = Api::all(admin.clone());
    let deadline = Instant::now() + INSTALL_TIMEOUT;
    loop {
        let role = api.get(PLATFORM_ADMIN_ROLE).await?;
        if role.rules.is_some_and(|r| !r.is_empty()) {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "ClusterRole {PLATFORM_ADMIN_ROLE} not aggregated after {}s",
            INSTALL_TIMEOUT.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// deploy/'s aggregated role for platform admins.
const PLATFORM_ADMIN_ROLE: &str = "charter-platform-admin";
