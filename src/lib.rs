//! Charter: a Kubernetes operator that runs a service catalog the declarative way.

pub mod access;
pub mod allocator;
pub mod api;
pub mod cached;
pub mod catalog;
pub mod cli;
pub mod controller;
pub mod crds;
pub mod deploy;
#[cfg(test)]
mod fixtures;
pub mod lifecycle;
pub mod manifests;
pub mod notify;
pub mod portal;
