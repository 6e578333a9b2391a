//! The approvals of each Service, by name: an index kept in step with the ServiceApproval watch
//! stream, so that a reconcile reads its Service's approvals without scanning them all.

use std::{
    collections::HashMap,
    sync::{RwLock, RwLockWriteGuard},
};

use kube::ResourceExt;

use crate::api::ServiceApproval;

/// The approvals naming one Service, sorted: almost always one or two, so a sorted vector
/// (a `BTreeSet` allocated a ~300-byte node for each Service).
type Names = Vec<String>;

/// `(namespace, service name)` → the names of the approvals naming that Service.
#[derive(Default)]
pub(crate) struct ApprovalIndex {
    by_service: RwLock<HashMap<(String, String), Names>>,
}

impl ApprovalIndex {
    fn write(&self) -> RwLockWriteGuard<'_, HashMap<(String, String), Names>> {
        self.by_service.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn upsert(&self, approval: &ServiceApproval) {
        let Some(namespace) = approval.namespace() else {
            return;
        };
        let name = approval.name_any();
        let mut index = self.write();
        let names = index
            .entry((namespace, approval.spec.service_name.clone()))
            .or_default();
        if let Err(at) = names.binary_search(&name) {
            names.insert(at, name);
        }
    }

    pub fn remove(&self, approval: &ServiceApproval) {
        let Some(namespace) = approval.namespace() else {
            return;
        };
        let key = (namespace, approval.spec.service_name.clone());
        let mut index = self.write();
        if let Some(names) = index.get_mut(&key) {
            if let Ok(at) = names.binary_search(&approval.name_any()) {
                names.remove(at);
            }
            if names.is_empty() {
                index.remove(&key);
            }
        }
    }

    /// After a relist: keeps the approvals `keep(namespace, service, name)` says still exist.
    pub fn retain(&self, keep: impl Fn(&str, &str, &str) -> bool) {
        self.write().retain(|(namespace, service), names| {
            names.retain(|name| keep(namespace, service, name));
            !names.is_empty()
        });
    }

    /// Every `(namespace, service)` some approval names, with those approvals' names.
    pub fn all(&self) -> Vec<((String, String), Vec<String>)> {
        self.by_service
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(key, names)| (key.clone(), names.to_vec()))
            .collect()
    }

    /// The names of the approvals naming `service` in `namespace`, sorted.
    pub fn names_for(&self, namespace: &str, service: &str) -> Vec<String> {
        self.by_service
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(namespace.to_owned(), service.to_owned()))
            .map(|names| names.to_vec())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    fn approval(name: &str, service: &str) -> ServiceApproval {
        fixtures::approval(name).of(service).build()
    }

    #[test]
    fn approvals_are_found_by_their_service() {
        let index = ApprovalIndex::default();
        index.upsert(&approval("b", "ledger"));
        index.upsert(&approval("a", "ledger"));
        index.upsert(&approval("c", "payments"));
        index.upsert(&approval("a", "ledger"));
        assert_eq!(index.names_for("ns", "ledger"), vec!["a", "b"]);
        assert!(index.names_for("other", "ledger").is_empty());
        index.remove(&approval("a", "ledger"));
        assert_eq!(index.names_for("ns", "ledger"), vec!["b"]);
        index.retain(|_, _, name| name != "c");
        assert!(index.names_for("ns", "payments").is_empty());
    }
}
