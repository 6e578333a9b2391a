//! The catalog: derived state. It computes the catalog ConfigMaps from the Services the
//! lifecycle made Active and keeps the cluster's copy in line. It never decides who is Active.

mod compute;
mod configmap;
mod dirty;
mod entry;
mod mirror;
mod pacing;
mod published;
mod writer;

pub use compute::{
    FORMAT, INDEX_KEY, MAX_BYTES, SERVICES_KEY, compute, key_hash, shard_name, shard_of,
};
pub use configmap::{Error, FIELD_MANAGER, LABEL};
pub use dirty::{Dirty, dirty_channel};
pub use entry::{Entry, entry, key_of};
pub use mirror::{MIRROR_LABEL, MIRROR_OF_LABEL};
pub use pacing::Pace;
pub use published::Published;
pub use writer::{CatalogTarget, Writer};
