//! Protobuf request bodies (`application/vnd.kubernetes.protobuf`): kubectl's typed
//! commands send them. Decodes the `k8s\0` envelope and the kinds this server needs.

mod object_meta;
mod rbac_authz;
#[cfg(test)]
mod tests;

use crate::error::ApiError;
use k8s_pb::api::core::v1 as core;
use k8s_pb::apimachinery::pkg::runtime::Unknown;
use object_meta::{base64_map, object_meta};
use prost::Message;
use serde_json::{Map, Value, json};

/// The media type of protobuf bodies.
pub const PROTOBUF_CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

const MAGIC: &[u8] = b"k8s\0";

/// True when a `Content-Type` header names the Kubernetes protobuf encoding.
pub fn is_protobuf(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .eq_ignore_ascii_case(PROTOBUF_CONTENT_TYPE)
}

fn unsupported(what: &str) -> ApiError {
    ApiError::unsupported_media_type(&format!("{PROTOBUF_CONTENT_TYPE} ({what})"))
}

/// Decode a protobuf body into the JSON object it stands for (with apiVersion and kind).
/// Unsupported kinds are 415 UnsupportedMediaType.
#[allow(clippy::result_large_err)]
pub fn decode(body: &[u8]) -> Result<Value, ApiError> {
    let Some(rest) = body.strip_prefix(MAGIC) else {
        return Err(ApiError::bad_request(
            "the protobuf body does not start with the k8s magic prefix",
        ));
    };
    let unknown = Unknown::decode(rest).map_err(|e| {
        ApiError::bad_request(format!("the protobuf envelope could not be decoded: {e}"))
    })?;
    if unknown
        .content_encoding
        .as_deref()
        .is_some_and(|e| !e.is_empty())
    {
        return Err(unsupported("content encodings are not supported"));
    }
    let type_meta = unknown.type_meta.unwrap_or_default();
    let api_version = type_meta.api_version.unwrap_or_default();
    let kind = type_meta.kind.unwrap_or_default();
    let raw = unknown.raw.unwrap_or_default();
    let bad = |e: prost::DecodeError| {
        ApiError::bad_request(format!("the protobuf {kind} could not be decoded: {e}"))
    };
    let mut out = Map::new();
    out.insert("apiVersion".into(), json!(api_version));
    out.insert("kind".into(), json!(kind));
    match (api_version.as_str(), kind.as_str()) {
        ("v1", "Namespace") => {
            let ns = core::Namespace::decode(raw.as_slice()).map_err(bad)?;
            out.insert(
                "metadata".into(),
                object_meta(ns.metadata.unwrap_or_default()),
            );
            if let Some(spec) = ns.spec
                && !spec.finalizers.is_empty()
            {
                out.insert("spec".into(), json!({"finalizers": spec.finalizers}));
            }
            if let Some(phase) = ns.status.and_then(|s| s.phase) {
                out.insert("status".into(), json!({"phase": phase}));
            }
        }
        ("v1", "ConfigMap") => {
            let cm = core::ConfigMap::decode(raw.as_slice()).map_err(bad)?;
            out.insert(
                "metadata".into(),
                object_meta(cm.metadata.unwrap_or_default()),
            );
            if !cm.data.is_empty() {
                out.insert("data".into(), json!(cm.data));
            }
            if !cm.binary_data.is_empty() {
                out.insert("binaryData".into(), base64_map(&cm.binary_data));
            }
            if let Some(i) = cm.immutable {
                out.insert("immutable".into(), json!(i));
            }
        }
        ("v1", "Secret") => {
            let s = core::Secret::decode(raw.as_slice()).map_err(bad)?;
            out.insert(
                "metadata".into(),
                object_meta(s.metadata.unwrap_or_default()),
            );
            if !s.data.is_empty() {
                out.insert("data".into(), base64_map(&s.data));
            }
            if !s.string_data.is_empty() {
                out.insert("stringData".into(), json!(s.string_data));
            }
            if let Some(t) = s.r#type {
                out.insert("type".into(), json!(t));
            }
            if let Some(i) = s.immutable {
                out.insert("immutable".into(), json!(i));
            }
        }
        ("authentication.k8s.io/v1", "SelfSubjectReview") => {
            // `kubectl auth whoami` posts an empty review; the server fills in the status.
            let r = k8s_pb::api::authentication::v1::SelfSubjectReview::decode(raw.as_slice())
                .map_err(bad)?;
            out.insert(
                "metadata".into(),
                object_meta(r.metadata.unwrap_or_default()),
            );
        }
        (v, k) if let Some(fields) = rbac_authz::decode(v, k, &raw) => {
            out.extend(fields.map_err(bad)?);
        }
        _ => {
            let what = if api_version.is_empty() && kind.is_empty() {
                "no kind given".to_string()
            } else {
                format!("kind {kind} in {api_version} is not supported as protobuf; send JSON")
            };
            return Err(unsupported(&what));
        }
    }
    Ok(Value::Object(out))
}
