//! The catalog: derived state. It computes the catalog ConfigMaps from the Services the
//! lifecycle made Active and keeps the cluster's copy in line. It never decides who is Active.

mod compute;
mod writer;

pub use compute::{MAX_BYTES, compute, key_of};
pub use writer::{CatalogTarget, Dirty, Error, FIELD_MANAGER, LABEL, Writer, dirty_channel};
