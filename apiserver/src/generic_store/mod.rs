//! The one store path every write takes, as kube-apiserver's generic registry store
//! (`pkg/registry/generic/registry`): decode → prepare → mutating admission → the kind's
//! validation → validating admission → store → the server's observers, with the kind's
//! rules supplied by its `crate::resource::Strategy`.

mod admission;
mod create;
mod decode;
mod delete;
mod managed_fields;
mod namespace_lifecycle;
mod preconditions;
mod prepare;
mod served_shape;
mod update;
mod update_outcome;

pub use create::create;
pub use delete::delete;
pub(crate) use namespace_lifecycle::require_namespace;
pub use preconditions::{
    check_resource_version, check_uid, not_found_for, require_resource_version,
};
pub use served_shape::{from_served, frozen_to_served, into_served, served_json, to_served};
pub use update::{Updated, update};
