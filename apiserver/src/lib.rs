//! An embedded, in-memory Kubernetes API server: enough of kube-apiserver for the real
//! `kubectl` and kube-rs clients, for tests and `charter sandbox`. It knows Kubernetes,
//! not Charter: it serves any CustomResourceDefinition it is given.

// ApiError is a full Status (causes, details); it is returned, never stored in bulk.
#![allow(clippy::result_large_err)]

mod apiextensions;
pub mod auth;
mod authz;
mod contain;
mod discovery;
mod error;
mod events;
mod faults;
mod fieldmanager;
mod generic_store;
mod handlers;
mod install;
mod kinds;
mod namespace_controller;
mod object_meta;
mod openapi;
mod patch;
mod policy;
mod protobuf;
mod registry;
mod request;
mod resource;
mod routes;
mod selectors;
pub mod server;
mod shared;
mod store;
mod table;
pub mod tls;
mod token_review;

pub use auth::{User, UserSpec};
pub use faults::{Faults, Matcher};
pub use server::{ApiServer, Config, ServerError};

/// What the crate's users compile CRD schemas with (the operator's example tests).
pub mod admission {
    pub use crate::apiextensions::CompiledSchema;
}
