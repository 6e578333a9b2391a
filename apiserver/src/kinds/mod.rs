//! The built-in kinds, by family: each family's module registers its kinds with the
//! strategy that owns their rules (validation, defaults, table, OpenAPI properties, name
//! rule, field labels, decoding). Custom resources get theirs from `apiextensions`.

mod admissionregistration;
pub(crate) mod apiextensions;
mod authentication;
mod authorization;
mod config_map;
mod coordination;
mod core_v1;
mod events;
mod field_errors;
pub(crate) mod namespace;
mod rbac;
mod rbac_validation;
#[cfg(test)]
mod tests;

use crate::resource::ResourceInfo;

/// Every built-in kind, family by family (discovery lists groups in this order).
pub(crate) fn builtins() -> Vec<ResourceInfo> {
    [
        core_v1::kinds(),
        events::kinds(),
        coordination::kinds(),
        apiextensions::kinds(),
        authentication::kinds(),
        rbac::kinds(),
        authorization::kinds(),
        admissionregistration::kinds(),
    ]
    .concat()
}
