//! The schemas of a kind's document: ObjectMeta and the other meta types, the kind's own
//! (its CRD schema, or the built-in properties its strategy gives) and its list.

use super::names::{
    DELETE_OPTIONS, LIST_META, OBJECT_META, PATCH, STATUS, gvk, reference, schema_name,
};
use crate::resource::ResourceInfo;
use serde_json::{Map, Value, json};

pub(super) fn meta_schemas() -> Vec<(String, Value)> {
    let string = |d: &str| json!({"type": "string", "description": d});
    let time = |d: &str| json!({"type": "string", "format": "date-time", "description": d});
    let map = |d: &str| json!({"type": "object", "additionalProperties": {"type": "string", "default": ""}, "description": d});
    vec![
        (
            OBJECT_META.to_string(),
            json!({
                "type": "object",
                "description": "ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.",
                "properties": {
                    "annotations": map("Annotations is an unstructured key value map stored with a resource that may be set by external tools to store and retrieve arbitrary metadata."),
                    "creationTimestamp": time("CreationTimestamp is a timestamp representing the server time when this object was created."),
                    "deletionGracePeriodSeconds": {"type": "integer", "format": "int64", "description": "Number of seconds allowed for this object to gracefully terminate before it will be removed from the system."},
                    "deletionTimestamp": time("DeletionTimestamp is RFC 3339 date and time at which this resource will be deleted."),
                    "finalizers": {"type": "array", "items": {"type": "string", "default": ""}, "description": "Must be empty before the object is deleted from the registry.", "x-kubernetes-list-type": "set", "x-kubernetes-patch-strategy": "merge"},
                    "generateName": string("GenerateName is an optional prefix, used by the server, to generate a unique name ONLY IF the Name field has not been provided."),
                    "generation": {"type": "integer", "format": "int64", "description": "A sequence number representing a specific generation of the desired state."},
                    "labels": map("Map of string keys and values that can be used to organize and categorize (scope and select) objects."),
                    "managedFields": {"type": "array", "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}, "description": "ManagedFields maps workflow-id and version to the set of fields that are managed by that workflow."},
                    "name": string("Name must be unique within a namespace."),
                    "namespace": string("Namespace defines the space within which each name must be unique."),
                    "ownerReferences": {"type": "array", "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}, "description": "List of objects depended by this object.", "x-kubernetes-patch-merge-key": "uid", "x-kubernetes-patch-strategy": "merge"},
                    "resourceVersion": string("An opaque value that represents the internal version of this object."),
                    "selfLink": string("Deprecated: selfLink is a legacy read-only field that is no longer populated by the system."),
                    "uid": string("UID is the unique in time and space value for this object."),
                }
            }),
        ),
        (
            LIST_META.to_string(),
            json!({
                "type": "object",
                "description": "ListMeta describes metadata that synthetic resources must have, including lists and various status objects.",
                "properties": {
                    "continue": string("continue may be set if the user set a limit on the number of items returned."),
                    "remainingItemCount": {"type": "integer", "format": "int64", "description": "The number of subsequent items in the list which are not included in this list response."},
                    "resourceVersion": string("String that identifies the server's internal version of this object."),
                    "selfLink": string("Deprecated."),
                }
            }),
        ),
        (
            STATUS.to_string(),
            json!({
                "type": "object",
                "description": "Status is a return value for calls that don't return other objects.",
                "properties": {
                    "apiVersion": string("APIVersion defines the versioned schema of this representation of an object."),
                    "code": {"type": "integer", "format": "int32", "description": "Suggested HTTP return code for this status, 0 if not set."},
                    "details": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "description": "Extended data associated with the reason."},
                    "kind": string("Kind is a string value representing the REST resource this object represents."),
                    "message": string("A human-readable description of the status of this operation."),
                    "metadata": {"allOf": [reference(LIST_META)], "default": {}, "description": "Standard list metadata."},
                    "reason": string("A machine-readable description of why this operation is in the \"Failure\" status."),
                    "status": string("Status of the operation. One of: \"Success\" or \"Failure\"."),
                },
                "x-kubernetes-group-version-kind": [{"group": "", "version": "v1", "kind": "Status"}]
            }),
        ),
        (
            DELETE_OPTIONS.to_string(),
            json!({
                "type": "object",
                "description": "DeleteOptions may be provided when deleting an API object.",
                "properties": {
                    "apiVersion": string("APIVersion defines the versioned schema of this representation of an object."),
                    "dryRun": {"type": "array", "items": {"type": "string", "default": ""}, "description": "When present, indicates that modifications should not be persisted."},
                    "gracePeriodSeconds": {"type": "integer", "format": "int64", "description": "The duration in seconds before the object should be deleted."},
                    "kind": string("Kind is a string value representing the REST resource this object represents."),
                    "preconditions": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "description": "Must be fulfilled before a deletion is carried out."},
                    "propagationPolicy": string("Whether and how garbage collection will be performed."),
                },
            }),
        ),
        (
            PATCH.to_string(),
            json!({"type": "object", "description": "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body."}),
        ),
    ]
}

pub(super) fn type_meta_props(props: &mut Map<String, Value>) {
    props.insert(
        "apiVersion".into(),
        json!({"type": "string", "description": "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources"}),
    );
    props.insert(
        "kind".into(),
        json!({"type": "string", "description": "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"}),
    );
}

/// An OpenAPI map of strings.
pub(crate) fn string_map(description: &str) -> Value {
    json!({"type": "object", "additionalProperties": {"type": "string", "default": ""}, "description": description})
}

/// The `components.schemas` entry of a kind: the CRD's schema for custom resources
/// (with `metadata` pointing at ObjectMeta and apiVersion/kind as strings), a minimal one
/// for built-ins.
pub(super) fn kind_schema(r: &ResourceInfo) -> Value {
    let gvk_ext = json!([gvk(r)]);
    let mut schema = match (r.schema.as_deref(), r.custom) {
        (Some(Value::Object(s)), _) => s.clone(),
        _ => {
            let mut props = Map::new();
            let description = r.strategy.openapi_properties(r, &mut props);
            let mut m = Map::new();
            m.insert("type".into(), json!("object"));
            m.insert("description".into(), json!(description));
            m.insert("properties".into(), Value::Object(props));
            m
        }
    };
    schema.entry("type").or_insert(json!("object"));
    schema.entry("description").or_insert(json!(format!(
        "{} is the Schema for the {} API",
        r.kind, r.plural
    )));
    let mut props = match schema.remove("properties") {
        Some(Value::Object(p)) => p,
        _ => Map::new(),
    };
    type_meta_props(&mut props);
    props.insert(
        "metadata".into(),
        json!({"allOf": [reference(OBJECT_META)], "default": {}, "description": "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"}),
    );
    schema.insert("properties".into(), Value::Object(props));
    schema.insert("x-kubernetes-group-version-kind".into(), gvk_ext);
    Value::Object(schema)
}

pub(super) fn list_schema(r: &ResourceInfo) -> Value {
    let mut props = Map::new();
    type_meta_props(&mut props);
    props.insert(
        "items".into(),
        json!({"type": "array", "items": {"allOf": [reference(&schema_name(&r.group, &r.version, &r.kind))], "default": {}}, "description": format!("List of {}.", r.plural)}),
    );
    props.insert(
        "metadata".into(),
        json!({"allOf": [reference(LIST_META)], "default": {}, "description": "Standard list metadata."}),
    );
    json!({
        "type": "object",
        "description": format!("{} is a list of {}", r.list_kind, r.kind),
        "required": ["items"],
        "properties": props,
        "x-kubernetes-group-version-kind": [{"group": r.group, "version": r.version, "kind": r.list_kind}],
    })
}
