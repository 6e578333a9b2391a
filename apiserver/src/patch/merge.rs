//! JSON merge patch (RFC 7396): maps merge recursively, `null` deletes, lists are replaced.

use super::parse_body;
use crate::error::ApiError;
use serde_json::Value;

pub(super) fn apply(current: &Value, body: &[u8]) -> Result<Value, ApiError> {
    let patch = parse_body(body)?;
    if !patch.is_object() {
        return Err(ApiError::bad_request(
            "error decoding patch: a merge patch must be a JSON object",
        ));
    }
    let mut doc = current.clone();
    ::json_patch::merge(&mut doc, &patch);
    Ok(doc)
}
