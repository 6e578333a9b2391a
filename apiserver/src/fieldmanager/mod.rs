//! Field management as k8s.io/apiserver's `handlers/fieldmanager`: server-side apply with
//! managedFields and conflicts, and the ownership an update records.
//!
//! Field ownership (managedFields, FieldsV1) is tracked per leaf: `f:<field>` for map keys;
//! lists whose items are all objects with a `name` are merged by name (`k:{"name":"x"}`
//! with a `.` entry for the item itself); every other list is atomic (owned as one leaf).
//! Owned metadata is `labels`, `annotations`, `finalizers` and `ownerReferences`.

// The signatures return the shared `ApiError` by value, as agreed with the server core.
#![allow(clippy::result_large_err)]

mod apply;
mod fieldset;
mod managed_fields;
mod update;

pub(crate) use apply::apply_merge;
pub use apply::{ApplyRequest, server_side_apply};
pub use update::record_update;

#[cfg(test)]
mod tests;
