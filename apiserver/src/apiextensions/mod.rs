//! What kube's apiextensions-apiserver does for custom resources, beside the CRD kind itself
//! (`crate::kinds::apiextensions`): a version's schema compiled once (pruning, defaults,
//! Draft 4 validation, list types and formats), its CEL rules with their cost, and the
//! validation of a CustomResourceDefinition.

mod cel_cost;
mod cel_rules;
pub(crate) mod crd_validation;
mod list_types;
mod prune;
mod schema;
mod schema_errors;
mod walk;

pub use schema::CompiledSchema;
