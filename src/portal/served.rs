//! What the portal serves from (the controller's caches, through its window) and to whom (the
//! viewers the API server knows), as every route shares it.

use crate::access::Access;
use crate::controller::Window;

/// What the portal serves from, and to whom.
#[derive(Clone)]
pub struct Portal {
    pub window: Window,
    pub access: Access,
    /// Where the catalog ConfigMaps are: reading them is what "may see the catalog" means.
    pub catalog_namespace: String,
    /// Serve the catalog (only the catalog) to viewers without a token.
    pub anonymous_catalog: bool,
}
