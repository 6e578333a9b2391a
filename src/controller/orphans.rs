//! Approvals whose Service does not exist — a typo in `spec.serviceName`, or a Service deleted
//! since. A reconcile request for a missing Service ends here: each approval naming it is told
//! that it counts toward nothing, in the words of `lifecycle::for_unknown_service`.

use kube::{
    Api, Resource, ResourceExt,
    api::{Patch, PatchParams},
    runtime::{
        events::{Event, EventType, Recorder},
        reflector::ObjectRef,
    },
};
use serde_json::json;
use tracing::warn;

use super::context::Context;
use crate::{api::ServiceApproval, catalog::FIELD_MANAGER, lifecycle};

/// Writes the UnknownService status on every approval naming `service` in `namespace`, once
/// the caches have synced and only if the Service is still missing then. A failed write is a
/// Warning Event on the approval; the next change to it tries again.
pub(crate) async fn tell(ctx: &Context, namespace: &str, service: &str) {
    ctx.synced().await;
    if ctx.service_exists(namespace, service) {
        return;
    }
    let api: Api<ServiceApproval> = Api::namespaced(ctx.client.clone(), namespace);
    for approval in ctx.approvals_for(namespace, service) {
        let status = lifecycle::for_unknown_service(&approval);
        if approval.status.as_ref() == Some(&status) {
            continue;
        }
        let patch = json!({
            "apiVersion": ServiceApproval::api_version(&()),
            "kind": ServiceApproval::kind(&()),
            "status": status,
        });
        match api
            .patch_status(
                &approval.name_any(),
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(patch),
            )
            .await
        {
            Ok(_) => ctx.telemetry.wrote("approval"),
            // Deleted since the cache saw it: nothing left to tell.
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(error) => {
                warn!(%error, namespace, approval = %approval.name_any(), "writing an orphan approval's status failed");
                let event = Event {
                    type_: EventType::Warning,
                    reason: "ApiError".into(),
                    note: Some(format!(
                        "writing the status of ServiceApproval {}: {error}",
                        approval.name_any()
                    )),
                    action: "Reconcile".into(),
                    secondary: None,
                };
                let recorder = Recorder::new(ctx.client.clone(), ctx.reporter.clone());
                if let Err(error) = recorder.publish(&event, &approval.object_ref(&())).await {
                    warn!(%error, "publishing an Event failed");
                }
            }
        }
    }
}

impl Context {
    /// Whether the caches hold the Service `namespace/name`.
    pub(crate) fn service_exists(&self, namespace: &str, name: &str) -> bool {
        self.scopes.iter().any(|scope| {
            scope.covers(namespace)
                && scope
                    .services
                    .get(&ObjectRef::new(name).within(namespace))
                    .is_some()
        })
    }
}
