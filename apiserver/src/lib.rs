//! An embedded, in-memory Kubernetes API server: enough of kube-apiserver for the real
//! `kubectl` and kube-rs clients, for tests and `charter sandbox`. It knows Kubernetes,
//! not Charter: it serves any CustomResourceDefinition it is given.

pub mod admission;
pub mod discovery;
pub mod error;
pub mod events;
pub mod openapi;
pub mod patch;
pub mod protobuf;
pub mod resource;
pub mod table;
