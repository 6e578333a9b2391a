//! A window onto the controller's caches for readers in the same process (the portal): the
//! Service stores of every watched scope, shown once they have all listed, hidden when the
//! controller stops. Readers get what the caches hold; they never ask the API server.

use std::sync::{Arc, RwLock};

use crate::{
    api::Service,
    cached::{self, ServiceCache},
};

/// Shared between the controller, which fills it, and its readers.
#[derive(Clone, Default)]
pub struct Window {
    stores: Arc<RwLock<Option<Vec<ServiceCache>>>>,
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

    /// Every Service the caches hold, decoded, or `None` while they are not shown: before every
    /// scope has listed once, after the controller stopped, or on a standby replica.
    pub fn services(&self) -> Option<Vec<Arc<Service>>> {
        let stores = self.read();
        Some(cached::decode_all(stores.as_ref()?))
    }

    /// Shows `stores` to readers: the controller does once every cache has listed; a benchmark
    /// may with stores it filled itself.
    pub fn show(&self, stores: Vec<ServiceCache>) {
        *self.write() = Some(stores);
    }

    pub(crate) fn hide(&self) {
        *self.write() = None;
    }
}
