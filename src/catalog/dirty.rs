//! The catalog's dirty marks: the Service streams mark the catalog when a published entry
//! changes, the ConfigMap and Namespace watches when what is stored may differ; the writer
//! wakes on them and compares.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use tokio::sync::mpsc;

/// A handle that marks the catalog dirty. Marks coalesce: however many arrive while a write
/// is pending, one comparison follows.
#[derive(Clone, Debug)]
pub struct Dirty {
    wake: mpsc::Sender<()>,
    /// Set when the published entries changed: only those changes pace the writes.
    changed: Arc<AtomicBool>,
}

impl Dirty {
    /// The published entries changed.
    pub fn mark(&self) {
        self.changed.store(true, Ordering::Release);
        self.verify();
    }

    /// The stored ConfigMaps may differ from the entries (a ConfigMap changed): compare again.
    pub fn verify(&self) {
        // A full channel already holds a pending wake: dropping this one is the coalescing.
        let _ = self.wake.try_send(());
    }

    pub(crate) fn take_changed(&self) -> bool {
        self.changed.swap(false, Ordering::AcqRel)
    }
}

/// A dirty handle and the receiver the `Writer` consumes.
pub fn dirty_channel() -> (Dirty, mpsc::Receiver<()>) {
    let (wake, rx) = mpsc::channel(1);
    (
        Dirty {
            wake,
            changed: Arc::default(),
        },
        rx,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dirty_marks_coalesce() {
        let (dirty, mut marks) = dirty_channel();
        for _ in 0..100 {
            dirty.mark();
        }
        assert!(marks.try_recv().is_ok());
        assert!(marks.try_recv().is_err());
    }
}
