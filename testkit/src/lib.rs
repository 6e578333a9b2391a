//! One fixture family for every test target of the operator and for the bench: Services and
//! approvals as their users send them ([`service`], [`approval`]), the lifecycle without a
//! server ([`world`]), the operator on a server ([`Fixture`]), the built binary ([`sandbox`]),
//! and the external programs the tests drive ([`kubectl`], [`Ground`]).

pub mod approval;
pub mod bench;
pub mod chaos;
pub mod differential;
pub mod expect;
mod fixture;
pub mod history;
pub mod sandbox;
pub mod service;
pub mod sink;
pub mod world;

pub use approval::{ApprovalBuilder, PolicyBuilder, approval, approval_policy};
pub use fixture::*;
pub use service::{ServiceBuilder, draft, service};
pub use test_programs::{
    Ground, browser, control_plane, kubectl, kubernetes_validate, missing, on_both_grounds,
};
