//! The controller: kube glue. It turns watch events into calls of `lifecycle::evaluate` and
//! its answer into status writes, Events, requeues and catalog refreshes. It decides nothing.

mod announce;
mod approvals;
mod context;
mod credentials;
mod decoded;
mod error;
mod follow;
mod graph;
mod memory;
mod narrate;
mod notifications;
mod operator;
mod orphans;
mod policies;
mod reconcile;
mod scope;
mod status;
mod streams;
pub mod telemetry;
mod unreadable;
mod watch_list;
mod window;

pub use error::Error;
pub use operator::Operator;
pub use telemetry::Telemetry;
pub use watch_list::streaming_lists_served;
pub use window::Window;

/// What `charter run` configures.
#[derive(Clone, Debug)]
pub struct Config {
    /// The namespaces watched; `None` (or an empty list) watches the whole cluster.
    pub namespaces: Option<Vec<String>>,
    /// Where the catalog ConfigMaps live.
    pub catalog_namespace: String,
    /// The name of the first catalog ConfigMap (shard 0, with the index); the other shards
    /// are `<name>-1`, `<name>-2`, …
    pub catalog_name: String,
    /// How many Services are reconciled at the same time.
    pub concurrency: u16,
    /// Whether the owner's own approval counts (separation of duties is the default).
    pub allow_self_approval: bool,
}

/// How many Services are reconciled at the same time unless told: `charter run`'s default, and
/// what the tests and the bench run with, so that they measure what users run.
pub const DEFAULT_CONCURRENCY: u16 = 16;

impl Default for Config {
    fn default() -> Self {
        Self {
            namespaces: None,
            catalog_namespace: crate::deploy::CATALOG_NAMESPACE.into(),
            catalog_name: "charter-catalog".into(),
            concurrency: DEFAULT_CONCURRENCY,
            allow_self_approval: false,
        }
    }
}
