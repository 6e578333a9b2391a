//! Charter: a Kubernetes operator that runs a service catalog the declarative way.

pub mod api;
pub mod catalog;
pub mod cli;
pub mod crds;
pub mod manifests;
