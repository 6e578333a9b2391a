//! Approvals whose Service does not exist (a typo in `spec.serviceName`, or a Service deleted
//! since): no Service reconcile ever sees them, so this small controller of its own gives them
//! the status `UnknownService`. It is woken by the approval's own watch events and, through the
//! approvals index, by the deletion of the Service they name; a Service that appears judges its
//! approvals in its own reconcile.

use std::sync::Arc;

use kube::{
    Api, Resource, ResourceExt,
    runtime::{
        controller::Action,
        events::{Event, EventType, Recorder},
    },
};
use tracing::{instrument, warn};

use super::{
    context::{Context, backoff},
    error::Error,
};
use crate::{
    api::{Service, ServiceApproval},
    cached::{Cached, Key},
    lifecycle::{self, reason},
};

#[instrument(skip_all, fields(namespace = %cached.namespace().unwrap_or_default(), name = %cached.name_any()))]
pub(crate) async fn reconcile(
    cached: Arc<Cached<ServiceApproval>>,
    ctx: Arc<Context>,
) -> Result<Action, Error> {
    let approval = cached.get();
    let Some(namespace) = approval.namespace() else {
        return Ok(Action::await_change());
    };
    ctx.synced().await;
    let service = Key::<Service>::new(&approval.spec.service_name).within(&namespace);
    if ctx.service_exists(&service) {
        // Its Service's reconcile judges it.
        return Ok(Action::await_change());
    }
    if ctx.service_unreadable(&service) {
        // Its Service exists: an UnknownService verdict would be false. The Service's own
        // reconcile judges it once it can be read again.
        return Ok(Action::await_change());
    }
    let status = lifecycle::for_unknown_service(&approval);
    if approval.status.as_ref() == Some(&status)
        || ctx.memory.approval_status_written(&approval, &status)
    {
        return Ok(Action::await_change());
    }
    let name = approval.name_any();
    let api: Api<ServiceApproval> = Api::namespaced(ctx.client.clone(), &namespace);
    match super::status::apply(&api, &name, &status).await {
        Ok(written) => {
            ctx.telemetry.wrote("approval");
            ctx.memory.await_approval_echo(&approval, &written, &status);
            Ok(Action::await_change())
        }
        // Deleted since the cache saw it: nothing left to tell.
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(Action::await_change()),
        Err(source) => {
            let error = Error::ApprovalStatus { name, source };
            ctx.telemetry.failed(error.label());
            if !error.is_conflict() {
                ctx.telemetry.write_failed();
            }
            tell(&ctx, &approval, &error).await;
            Err(error)
        }
    }
}

pub(crate) fn error_policy(
    approval: Arc<Cached<ServiceApproval>>,
    error: &Error,
    _: Arc<Context>,
) -> Action {
    warn!(%error, namespace = ?approval.namespace(), name = %approval.name_any(), "approval status failed");
    Action::requeue(backoff(3))
}

/// A Kubernetes error surfaces as a Warning Event on the approval it concerns.
async fn tell(ctx: &Context, approval: &ServiceApproval, error: &Error) {
    let event = Event {
        type_: EventType::Warning,
        reason: reason::API_ERROR.into(),
        note: Some(error.to_string().chars().take(1000).collect()),
        action: "Reconcile".into(),
        secondary: None,
    };
    let recorder = Recorder::new(ctx.client.clone(), ctx.reporter.clone());
    if let Err(error) = recorder.publish(&event, &approval.object_ref(&())).await {
        warn!(%error, "publishing an Event failed");
    }
}
