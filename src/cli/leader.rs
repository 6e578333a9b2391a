//! Leader election for `charter run --leader-elect`: a replica takes the Lease (through
//! kube-lease-manager), runs the operator while it holds it, and stops when it loses it or is
//! told to stop. The fault suite runs its replicas through this same function.

use std::{future::Future, time::Duration};

use futures::FutureExt;

use crate::controller::Operator;

/// How long a stopping replica waits for its Lease to be released: a stop must stay prompt
/// when the API server does not answer, and an unreleased Lease only expires later.
const RELEASE_BOUND: Duration = Duration::from_secs(3);

/// Which Lease, and who is asking.
#[derive(Clone, Debug)]
pub struct Election {
    pub namespace: String,
    pub name: String,
    pub identity: String,
    /// How long a Lease lasts without renewal: a standby takes over within it.
    pub duration_seconds: u64,
}

/// Waits for the Lease (as a ready standby), then runs the operator until `shutdown` or the
/// loss of the Lease; releases it on a clean stop. `leading` is told each change of leadership.
pub async fn run(
    election: Election,
    operator: Operator,
    shutdown: impl Future<Output = ()> + Send + 'static,
    leading: impl Fn(bool),
) -> anyhow::Result<()> {
    let shutdown = shutdown.boxed().shared();
    let client = operator.client().clone();
    let telemetry = operator.reports().clone();
    let manager = kube_lease_manager::LeaseManagerBuilder::new(client.clone(), &election.name)
        .with_namespace(election.namespace.clone())
        .with_identity(election.identity.clone())
        .with_duration(election.duration_seconds)
        .with_grace((election.duration_seconds / 3).max(1))
        .build()
        .await?;
    let (mut leader, lease_task) = manager.watch().await;
    // A standby is ready: it serves /metrics and is what a rollout waits for; the leader
    // turns ready again once its caches have synced.
    telemetry.set_ready(true);
    tracing::info!(identity = %election.identity, namespace = %election.namespace, "waiting for leadership");
    let became_leader = tokio::select! {
        _ = shutdown.clone() => false,
        r = leader.wait_for(|is_leader| *is_leader) => {
            r.map_err(|_| anyhow::anyhow!("lease manager stopped"))?;
            true
        }
    };
    if !became_leader {
        drop(leader);
        let _ = tokio::time::timeout(RELEASE_BOUND, lease_task).await;
        return Ok(());
    }
    tracing::info!(identity = %election.identity, "became leader");
    telemetry.set_ready(false);
    leading(true);
    let mut lost = leader.clone();
    let stop = async move {
        tokio::select! {
            _ = shutdown => {},
            _ = lost.wait_for(|is_leader| !*is_leader) => { tracing::warn!("lost leadership; stopping"); },
        }
    };
    let result = operator.run(stop).await;
    leading(false);
    result?;
    drop(leader);
    // Closing the channel makes the manager's task release the Lease and end.
    let _ = tokio::time::timeout(RELEASE_BOUND, lease_task).await;
    Ok(())
}
