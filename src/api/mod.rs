//! The API: the `Service`, `ServiceApproval`, `ApprovalPolicy` and
//! `NotificationSubscription` custom resources of
//! `catalog.charter.dev/v1alpha1`.
//! Field names follow DESIGN.md; every field is documented so `kubectl explain` is useful.

mod approval;
mod approval_policy;
pub mod identity;
mod notification;
mod reach;
mod revision;
mod service;
mod service_level;

pub use approval::*;
pub use approval_policy::*;
pub use notification::*;
pub use reach::{Contact, Request, Support};
pub use revision::revision_of;
pub use service::*;
pub use service_level::{PriorityTarget, ServiceLevel};

/// The API group of every Charter resource.
pub const GROUP: &str = "catalog.charter.dev";
/// The API version served.
pub const VERSION: &str = "v1alpha1";
