//! JSON patch (RFC 6902), with the real server's lenient `test` of a missing path against null.

use super::patch_rejected;
use crate::error::ApiError;
use serde_json::Value;

pub(super) fn apply(current: &Value, body: &[u8]) -> Result<Value, ApiError> {
    let ops: ::json_patch::Patch = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
    let mut doc = current.clone();
    for op in ops.0 {
        if let ::json_patch::PatchOperation::Test(t) = &op
            && t.value.is_null()
            && doc.pointer(t.path.as_str()).is_none()
        {
            // The real server treats a missing path as null.
            continue;
        }
        ::json_patch::patch(&mut doc, std::slice::from_ref(&op))
            .map_err(|e| patch_rejected(e.to_string()))?;
    }
    Ok(doc)
}
