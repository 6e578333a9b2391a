//! One reconciliation: read the caches, ask the lifecycle, apply its answer. Decides nothing.

use std::{sync::Arc, time::Duration};

use k8s_openapi::jiff::Timestamp;
use kube::{
    Api, Resource, ResourceExt,
    runtime::{
        controller::Action,
        events::{Event, EventType, Recorder},
    },
};
use tracing::{debug, instrument, warn};

use super::{
    context::{Context, backoff},
    error::Error,
    narrate, status,
};
use crate::{
    api::{Service, ServiceApproval},
    cached::Cached,
    lifecycle::{self, Input, Note},
};

/// How long a reconciliation may wait for the caches to sync before failing.
const SYNC_TIMEOUT: Duration = Duration::from_secs(60);

#[instrument(skip_all, fields(namespace = %cached.namespace().unwrap_or_default(), name = %cached.name_any()))]
pub(crate) async fn reconcile(
    cached: Arc<Cached<Service>>,
    ctx: Arc<Context>,
) -> Result<Action, Error> {
    let started = std::time::Instant::now();
    let result = apply_lifecycle(&cached, &ctx).await;
    ctx.telemetry.reconciled(started.elapsed().as_secs_f64());
    match &result {
        Ok(_) => ctx.memory.reset_failures(&cached.key()),
        Err(error) => {
            ctx.telemetry.failed(error.label());
            if error.kube_error().is_some() {
                if !error.is_conflict() {
                    ctx.telemetry.write_failed();
                }
                let note = Note {
                    warning: true,
                    reason: lifecycle::reason::API_ERROR.into(),
                    // The error's text names its source already.
                    message: truncate(&error.to_string()),
                };
                publish(&ctx, cached.as_ref(), &note).await;
            }
        }
    }
    result
}

/// How soon a reconcile that met a 409 Conflict is retried.
const CONFLICT_RETRY: std::time::Duration = std::time::Duration::from_secs(1);

pub(crate) fn error_policy(
    service: Arc<Cached<Service>>,
    error: &Error,
    ctx: Arc<Context>,
) -> Action {
    // A conflict says a newer version exists: its watch event triggers the next reconcile, and
    // this retry is only a safety net. It is no failure to back off from (under a storm of
    // conflicts the doubling reached minutes).
    if error.is_conflict() {
        debug!(%error, namespace = ?service.namespace(), name = %service.name_any(), "conflict; retrying");
        return Action::requeue(CONFLICT_RETRY);
    }
    let failures = ctx.memory.record_failure(&service.key());
    let delay = backoff(failures);
    warn!(%error, failures, ?delay, namespace = ?service.namespace(), name = %service.name_any(), "reconcile failed");
    Action::requeue(delay)
}

async fn apply_lifecycle(cached: &Cached<Service>, ctx: &Context) -> Result<Action, Error> {
    // Never panic on API data: a Service without a namespace is not ours to handle.
    let Some(namespace) = cached.namespace() else {
        return Ok(Action::await_change());
    };
    let name = cached.name_any();
    tokio::time::timeout(SYNC_TIMEOUT, ctx.synced())
        .await
        .map_err(|_| Error::NotSynced(SYNC_TIMEOUT))?;

    // Triggered (by our approval status write, say) before the echo of our own status write
    // reached the cache: evaluating this older version would write and tell it all again.
    // The echo triggers the next reconcile.
    if ctx.memory.is_before_echo(cached) {
        return Ok(Action::await_change());
    }
    let service = &cached.get();
    let revision = cached.memo(|| crate::api::revision_of(&service.spec.content));

    let approvals = ctx.approvals_for(&namespace, &name);
    let dependencies = ctx.dependencies_of(service);
    let dependency_cycle = ctx.dependency_cycle_of(service);
    let active_dependants = ctx.active_dependants_of(service);
    let approval_policies = ctx.approval_policies();
    let now = Timestamp::now();
    let outcome = lifecycle::evaluate(&Input {
        service,
        approvals: &approvals,
        dependencies: &dependencies,
        dependency_cycle: &dependency_cycle,
        active_dependants: &active_dependants,
        approval_policies: &approval_policies,
        now,
        policy: &ctx.policy,
        revision: Some(revision),
    });

    let overdue = outcome
        .status
        .conditions
        .iter()
        .any(|c| c.type_ == lifecycle::REVIEW_DUE && c.status == "True");
    ctx.memory.review_overdue(service, overdue);

    if service.status.as_ref() != Some(&outcome.status) {
        let api: Api<Service> = Api::namespaced(ctx.client.clone(), &namespace);
        let written = status::apply(&api, &name, &outcome.status)
            .await
            .map_err(|source| Error::ServiceStatus {
                name: name.clone(),
                source,
            })?;
        ctx.telemetry.wrote("service");
        ctx.memory.await_echo(service, &written);
    }

    let approval_api: Api<ServiceApproval> = Api::namespaced(ctx.client.clone(), &namespace);
    for (approval_name, status) in &outcome.approvals {
        let Some(cached) = approvals.iter().find(|a| a.name_any() == *approval_name) else {
            continue;
        };
        if cached.status.as_ref() == Some(status)
            || ctx.memory.approval_status_written(cached, status)
        {
            continue;
        }
        match status::apply(&approval_api, approval_name, status).await {
            Ok(written) => {
                ctx.telemetry.wrote("approval");
                ctx.memory.await_approval_echo(cached, &written, status);
            }
            // Deleted since the cache saw it: nothing left to tell.
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(source) => {
                return Err(Error::ApprovalStatus {
                    name: approval_name.clone(),
                    source,
                });
            }
        }
    }

    // Events only after the writes succeeded: a retry evaluates again and emits them then.
    // Dependants and the catalog follow from the watch event of the status write.
    for note in narrate::events_of(service.status.as_ref(), &outcome) {
        publish(ctx, service, &note).await;
    }

    Ok(match outcome.requeue_at {
        Some(at) => Action::requeue(until(now, at)),
        None => Action::await_change(),
    })
}

/// Time from `now` to `at`, at least one second so a due time in the past does not spin.
fn until(now: Timestamp, at: Timestamp) -> Duration {
    let seconds = at.as_second().saturating_sub(now.as_second());
    Duration::from_secs(u64::try_from(seconds).unwrap_or(0).max(1))
}

fn truncate(message: &str) -> String {
    // An Event note is at most 1 kB.
    message
        .char_indices()
        .take_while(|(i, _)| *i < 1000)
        .map(|(_, c)| c)
        .collect()
}

async fn publish(ctx: &Context, service: &impl Resource<DynamicType = ()>, note: &Note) {
    let event = Event {
        type_: if note.warning {
            EventType::Warning
        } else {
            EventType::Normal
        },
        reason: note.reason.clone(),
        note: Some(truncate(&note.message)),
        action: "Reconcile".into(),
        secondary: None,
    };
    // A recorder per Event. kube-runtime's Recorder folds Events into a series by type, action,
    // reason and object, not by note, keeping the first note (tests/events.rs shows it): shared,
    // it would tell "QuorumReached (x3)" for three revisions and approvers. Every note here names
    // one revision and its people, so no two are the same Event. (Its cache is also scanned in
    // full on every publish and kept for minutes: a scan per reconcile at 10,000 Services.)
    let recorder = Recorder::new(ctx.client.clone(), ctx.reporter.clone());
    if let Err(error) = recorder.publish(&event, &service.object_ref(&())).await {
        warn!(%error, reason = %note.reason, "publishing an Event failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_due_time_in_the_past_requeues_after_a_second() {
        let now = Timestamp::from_second(1_000).unwrap();
        assert_eq!(
            until(now, Timestamp::from_second(900).unwrap()),
            Duration::from_secs(1)
        );
        assert_eq!(
            until(now, Timestamp::from_second(1_090).unwrap()),
            Duration::from_secs(90)
        );
    }

    #[test]
    fn event_notes_are_bounded() {
        assert_eq!(truncate(&"é".repeat(2_000)).len(), 1_000);
    }
}
