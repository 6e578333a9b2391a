//! The catalog: derived state. It computes the catalog ConfigMaps from the Services the
//! lifecycle made Active and keeps the cluster's copy in line. It never decides who is Active.

mod compute;
mod entry;
mod mirror;
mod published;
mod writer;

pub use compute::{
    FORMAT, INDEX_KEY, MAX_BYTES, SERVICES_KEY, compute, key_hash, key_of, shard_name, shard_of,
};
pub use entry::{Entry, entry};
pub use mirror::{MIRROR_LABEL, MIRROR_OF_LABEL};
pub use published::Published;
pub use writer::{CatalogTarget, Dirty, Error, FIELD_MANAGER, LABEL, Pace, Writer, dirty_channel};
