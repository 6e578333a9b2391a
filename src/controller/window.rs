//! A window onto the controller's caches for readers in the same process (the portal): the
//! Service stores of every watched scope, shown once they have all listed, hidden when the
//! controller stops. Readers get what the caches hold; they never ask the API server.
//!
//! The caches hold each Service compressed (`crate::cached`); the portal reads every one of them
//! on every page (to filter, sort and count), so the window keeps the Services it handed out
//! decoded and decodes again only those whose resourceVersion moved since. That copy costs what
//! the caches spare (~6 KB per Service) once the portal has been read, and goes when the
//! controller stops.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, RwLock},
};

use kube::{ResourceExt, runtime::reflector::Store};

use crate::{
    api::Service,
    cached::{Key, ServiceCache},
};

/// The Services last handed out, decoded, with the resourceVersion each was decoded at.
type Copies = HashMap<Key<Service>, (Option<String>, Arc<Service>)>;

/// Shared between the controller, which fills it, and its readers.
#[derive(Clone, Default)]
pub struct Window {
    stores: Arc<RwLock<Option<Vec<ServiceCache>>>>,
    copies: Arc<Mutex<Copies>>,
}

impl std::fmt::Debug for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Window")
            .field("shown", &self.read().is_some())
            .finish()
    }
}

impl Window {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Option<Vec<ServiceCache>>> {
        self.stores.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Option<Vec<ServiceCache>>> {
        self.stores.write().unwrap_or_else(|e| e.into_inner())
    }

    fn copies(&self) -> std::sync::MutexGuard<'_, Copies> {
        self.copies.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every Service the caches hold, decoded, or `None` while they are not shown: before every
    /// scope has listed once, after the controller stopped, or on a standby replica.
    pub fn services(&self) -> Option<Vec<Arc<Service>>> {
        let stores = self.read();
        let stores = stores.as_ref()?;
        let mut copies = self.copies();
        let mut kept = Copies::with_capacity(copies.len());
        let mut services = Vec::with_capacity(copies.len());
        for cached in stores.iter().flat_map(Store::state) {
            let key = cached.key();
            let version = cached.resource_version();
            let service = match copies.remove(&key) {
                Some((at, service)) if at == version => service,
                _ => Arc::new(cached.get()),
            };
            services.push(service.clone());
            kept.insert(key, (version, service));
        }
        // What is not in the caches any more is dropped with the rest of the old map.
        *copies = kept;
        Some(services)
    }

    /// Shows `stores` to readers: the controller does once every cache has listed; a benchmark
    /// may with stores it filled itself.
    pub fn show(&self, stores: Vec<ServiceCache>) {
        *self.write() = Some(stores);
    }

    pub(crate) fn hide(&self) {
        *self.write() = None;
        self.copies().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{api::Phase, cached, fixtures::service};
    use kube::runtime::{reflector, watcher};

    #[test]
    fn a_service_is_decoded_again_only_when_it_changed_and_forgotten_when_gone() {
        let (store, writer) = reflector::store();
        let mut reflect = cached::reflect(writer);
        let ledger = |version: &str, phase: Phase| {
            service("ledger")
                .resource_version(version)
                .phase(phase)
                .build()
        };
        reflect(&Ok(watcher::Event::Apply(ledger("1", Phase::Planning))));
        reflect(&Ok(watcher::Event::Apply(
            service("fx").resource_version("2").build(),
        )));
        let window = Window::default();
        assert!(window.services().is_none(), "not shown yet");
        window.show(vec![store]);

        let by_name = |services: Vec<Arc<Service>>| -> HashMap<String, Arc<Service>> {
            services.into_iter().map(|s| (s.name_any(), s)).collect()
        };
        let first = by_name(window.services().expect("shown"));
        let again = by_name(window.services().expect("shown"));
        assert!(
            Arc::ptr_eq(&first["ledger"], &again["ledger"]),
            "unchanged: the same copy"
        );

        reflect(&Ok(watcher::Event::Apply(ledger("3", Phase::Approval))));
        let moved = by_name(window.services().expect("shown"));
        assert!(!Arc::ptr_eq(&first["ledger"], &moved["ledger"]));
        let phase = moved["ledger"].status.as_ref().and_then(|s| s.phase);
        assert_eq!(phase, Some(Phase::Approval));
        assert!(Arc::ptr_eq(&first["fx"], &moved["fx"]));

        reflect(&Ok(watcher::Event::Delete(service("fx").build())));
        assert_eq!(window.services().expect("shown").len(), 1);
        assert_eq!(window.copies().len(), 1, "fx is forgotten");
        window.hide();
        assert!(window.services().is_none());
        assert!(window.copies().is_empty());
    }
}
