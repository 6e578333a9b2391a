//! Patches as the real server applies them (k8s.io/apiserver `handlers/patch.go`): JSON merge
//! (RFC 7396), JSON patch (RFC 6902) and strategic merge for the built-in kinds served here.
//! Server-side apply lives in `fieldmanager`.

// The signatures return the shared `ApiError` by value, as agreed with the server core.
#![allow(clippy::result_large_err)]

mod json_patch;
mod merge;
mod strategic;

use crate::error::{ApiError, Cause};
use crate::resource::ResourceInfo;
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchType {
    Merge,
    Json,
    Strategic,
    Apply,
}

impl PatchType {
    /// From the request's Content-Type (parameters such as `; charset=utf-8` ignored).
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/json-patch+json" => Some(PatchType::Json),
            "application/strategic-merge-patch+json" => Some(PatchType::Strategic),
            "application/apply-patch+yaml"
            | "application/apply-patch+json"
            | "application/apply-patch+cbor" => Some(PatchType::Apply),
            _ => None,
        }
    }
}

/// The 422 the real server sends when a JSON patch cannot be applied (e.g. a failed `test`).
fn patch_rejected(message: String) -> ApiError {
    let mut e = ApiError::new(
        422,
        "Invalid",
        "the server rejected our request due to an error in our request",
    );
    e.causes = vec![Cause {
        reason: "UnexpectedServerResponse".into(),
        message,
        field: String::new(),
    }];
    e
}

fn parse_body(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))
}

/// Apply a merge, JSON or strategic-merge patch to `current`, returning the patched object.
/// Strategic merge on a custom resource (`info.custom`) is 415 UnsupportedMediaType.
pub fn apply_patch(
    info: &ResourceInfo,
    current: &Value,
    patch_type: PatchType,
    body: &[u8],
) -> Result<Value, ApiError> {
    match patch_type {
        PatchType::Merge => merge::apply(current, body),
        PatchType::Json => json_patch::apply(current, body),
        PatchType::Strategic => {
            if info.custom {
                return Err(ApiError::unsupported_patch_type());
            }
            strategic::apply(current, body)
        }
        PatchType::Apply => Err(ApiError::internal(
            "apply patches go through server_side_apply",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn info(kind: &str, custom: bool, status_subresource: bool) -> ResourceInfo {
        ResourceInfo::for_tests(kind, custom, status_subresource)
    }

    #[test]
    fn content_types() {
        assert_eq!(
            PatchType::from_content_type("application/merge-patch+json; charset=utf-8"),
            Some(PatchType::Merge)
        );
        assert_eq!(
            PatchType::from_content_type("application/json-patch+json"),
            Some(PatchType::Json)
        );
        assert_eq!(
            PatchType::from_content_type("application/strategic-merge-patch+json"),
            Some(PatchType::Strategic)
        );
        assert_eq!(
            PatchType::from_content_type("application/apply-patch+yaml"),
            Some(PatchType::Apply)
        );
        assert_eq!(PatchType::from_content_type("application/json"), None);
    }

    #[test]
    fn merge_null_deletes() {
        let i = info("Thing", true, false);
        let cur =
            json!({"metadata": {"name": "a", "labels": {"x": "1", "y": "2"}}, "spec": {"a": 1}});
        let out = apply_patch(
            &i,
            &cur,
            PatchType::Merge,
            br#"{"metadata":{"labels":{"x":null}},"spec":{"b":2}}"#,
        )
        .unwrap();
        assert_eq!(out["metadata"]["labels"], json!({"y": "2"}));
        assert_eq!(out["spec"], json!({"a": 1, "b": 2}));
        let err = apply_patch(&i, &cur, PatchType::Merge, b"{not json").unwrap_err();
        assert_eq!(err.code, 400);
    }

    #[test]
    fn json_patch_test_missing_is_null() {
        let i = info("Thing", true, false);
        let cur = json!({"metadata": {"name": "a"}});
        // kube's finalizer helper: test that finalizers is absent (null), then add.
        let body = br#"[{"op":"test","path":"/metadata/finalizers","value":null},{"op":"add","path":"/metadata/finalizers","value":["x.io/f"]}]"#;
        let out = apply_patch(&i, &cur, PatchType::Json, body).unwrap();
        assert_eq!(out["metadata"]["finalizers"], json!(["x.io/f"]));
        // Now the path exists: test against null fails with 422.
        let err = apply_patch(&i, &out, PatchType::Json, body).unwrap_err();
        assert_eq!(err.code, 422);
        assert_eq!(
            err.message,
            "the server rejected our request due to an error in our request"
        );
    }

    #[test]
    fn json_patch_finalizer_add_and_remove() {
        let i = info("Thing", true, false);
        let cur = json!({"metadata": {"name": "a", "finalizers": ["a.io/one"]}});
        let add = br#"[{"op":"test","path":"/metadata/finalizers","value":["a.io/one"]},{"op":"add","path":"/metadata/finalizers/-","value":"x.io/f"}]"#;
        let out = apply_patch(&i, &cur, PatchType::Json, add).unwrap();
        assert_eq!(out["metadata"]["finalizers"], json!(["a.io/one", "x.io/f"]));
        let remove = br#"[{"op":"test","path":"/metadata/finalizers/1","value":"x.io/f"},{"op":"remove","path":"/metadata/finalizers/1"}]"#;
        let out = apply_patch(&i, &out, PatchType::Json, remove).unwrap();
        assert_eq!(out["metadata"]["finalizers"], json!(["a.io/one"]));
        // Failing test on a stale index.
        let err = apply_patch(&i, &out, PatchType::Json, remove).unwrap_err();
        assert_eq!(err.code, 422);
        let err = apply_patch(&i, &out, PatchType::Json, b"{}").unwrap_err();
        assert_eq!(err.code, 400);
    }

    #[test]
    fn strategic_merge_builtin_and_refused_on_custom() {
        let i = info("ConfigMap", false, false);
        let cur = json!({"metadata": {"name": "a", "finalizers": ["a"]}, "data": {"k": "v", "gone": "x"}});
        let out = apply_patch(
            &i,
            &cur,
            PatchType::Strategic,
            br#"{"metadata":{"finalizers":["b"]},"data":{"gone":null,"new":"n"}}"#,
        )
        .unwrap();
        assert_eq!(out["data"], json!({"k": "v", "new": "n"}));
        assert_eq!(out["metadata"]["finalizers"], json!(["a", "b"]));
        let err = apply_patch(
            &info("Thing", true, false),
            &cur,
            PatchType::Strategic,
            b"{}",
        )
        .unwrap_err();
        assert_eq!(err.code, 415);
    }
}
