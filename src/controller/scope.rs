//! A watched scope (a namespace, or the whole cluster) with its caches, and the way back into
//! its reconcile queue: what the reconciliations, the watch streams and the policies' stream
//! all share about where a Service belongs.

use std::sync::Arc;

use futures::channel::mpsc::UnboundedSender;
use kube::runtime::reflector::{ObjectRef, Store};

use super::{approvals::ApprovalIndex, unreadable::Skipped};
use crate::{
    api::{Service, ServiceApproval, ServiceRef},
    cached::{Cached, Key},
};

/// One watched scope: a namespace, or the whole cluster (`None`).
pub(crate) struct Scope {
    pub namespace: Option<String>,
    pub services: Store<Cached<Service>>,
    pub approvals: Store<Cached<ServiceApproval>>,
    pub approval_index: Arc<ApprovalIndex>,
    /// The Services skipped because the operator cannot read them.
    pub skipped_services: Arc<Skipped>,
}

impl Scope {
    pub(crate) fn covers(&self, namespace: &str) -> bool {
        covers(self.namespace.as_deref(), namespace)
    }
}

/// Whether a scope watching `scope` (`None`: every namespace) sees `namespace`.
pub(crate) fn covers(scope: Option<&str>, namespace: &str) -> bool {
    scope.is_none_or(|ns| ns == namespace)
}

/// Where to send a Service to be reconciled again: its scope's queue.
pub(crate) struct Wake(pub Vec<(Option<String>, UnboundedSender<Key<Service>>)>);

impl Wake {
    pub(crate) fn send(&self, services: Vec<ServiceRef>) {
        for service in services {
            let Some(namespace) = service.namespace.as_deref() else {
                continue;
            };
            if let Some((_, queue)) = self.0.iter().find(|(s, _)| covers(s.as_deref(), namespace)) {
                let _ = queue.unbounded_send(ObjectRef::new(&service.name).within(namespace));
            }
        }
    }
}
