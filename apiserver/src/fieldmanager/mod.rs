//! Field management as k8s.io/apiserver's `handlers/fieldmanager`: server-side apply with
//! managedFields and conflicts, and the ownership an update records.
//!
//! Field ownership (managedFields, FieldsV1) is tracked per leaf: `f:<field>` for map keys,
//! `k:{"name":"x"}` for items of map lists, `v:"x"` for items of sets; atomic lists and maps
//! are owned as one field. List and map types come from the schema (`schema.rs`). Owned
//! metadata is `labels`, `annotations`, `finalizers` and `ownerReferences`.

// The signatures return the shared `ApiError` by value, as agreed with the server core.
#![allow(clippy::result_large_err)]

mod apply;
mod fieldset;
mod managed_fields;
mod merge;
mod owned;
mod schema;
mod update;

pub use apply::{ApplyRequest, server_side_apply};
pub(crate) use merge::apply_merge;
pub use update::record_update;

#[cfg(test)]
mod tests;
