//! Events about what the watch streams see rather than what a reconcile decides: an object the
//! operator cannot read, a counted approval deleted. Each is published in a task of its own, so
//! a stream never waits on the API server.

use k8s_openapi::api::core::v1::ObjectReference;
use kube::{
    Client,
    runtime::events::{Event, EventType, Recorder, Reporter},
};

/// Publishes Warning Events as the operator.
#[derive(Clone)]
pub(crate) struct Announcer {
    pub client: Client,
    pub reporter: Reporter,
}

impl Announcer {
    pub(crate) fn warn(&self, regarding: ObjectReference, reason: &str, note: &str) {
        let event = Event {
            type_: EventType::Warning,
            reason: reason.into(),
            // An Event note is at most 1 kB.
            note: Some(
                note.char_indices()
                    .take_while(|(i, _)| *i < 1000)
                    .map(|(_, c)| c)
                    .collect(),
            ),
            action: "Watch".into(),
            secondary: None,
        };
        // A recorder per Event, as in `reconcile::publish`: one shared would fold different
        // notes with the same reason into one series.
        let recorder = Recorder::new(self.client.clone(), self.reporter.clone());
        tokio::spawn(async move {
            if let Err(error) = recorder.publish(&event, &regarding).await {
                tracing::warn!(%error, reason = %event.reason, "publishing an Event failed");
            }
        });
    }
}
