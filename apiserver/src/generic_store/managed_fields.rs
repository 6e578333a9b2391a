//! managedFields for a create, update or non-apply patch (apply records its own).

use crate::contain::contain;
use crate::fieldmanager;
use crate::object_meta::now_rfc3339;
use crate::resource::ResourceInfo;
use serde_json::Value;

/// Record managedFields for a create, update or non-apply patch. A failure in the
/// recorder leaves managedFields as they were rather than failing the write.
pub(super) fn record_update(
    info: Option<&ResourceInfo>,
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    subresource: Option<&str>,
) {
    let now = now_rfc3339();
    let mut attempt = new.clone();
    if contain("fieldmanager::record_update", || {
        fieldmanager::record_update(info, old, &mut attempt, manager, subresource, &now)
    })
    .is_ok()
    {
        *new = attempt;
    }
}
