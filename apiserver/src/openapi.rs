//! OpenAPI v3: the index kubectl fetches on every apply and the per-group-version
//! documents that `kubectl apply` (field validation) and `kubectl explain` read.

use crate::resource::ResourceInfo;
use serde_json::{Map, Value, json};

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const LIST_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";
const STATUS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
const PATCH: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";

/// The URL path (without the leading `/openapi/v3/`) of a group version's document.
fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// A stable 64-bit FNV-1a hash, printed as 32 upper-case hex digits as the real server
/// prints its SHA-512 prefix (only stability matters to clients).
fn stable_hash(text: &str) -> String {
    let mut a: u64 = 0xcbf2_9ce4_8422_2325;
    let mut b: u64 = 0x8422_2325_cbf2_9ce4;
    for byte in text.bytes() {
        a ^= u64::from(byte);
        a = a.wrapping_mul(0x0000_0100_0000_01b3);
        b = b.rotate_left(5) ^ u64::from(byte);
        b = b.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{a:016X}{b:016X}")
}

/// `GET /openapi/v3`: `{"paths": {"apis/<g>/<v>": {"serverRelativeURL": ...}, "api/v1": ...}}`.
pub fn index(resources: &[ResourceInfo]) -> Value {
    let mut paths = Map::new();
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for r in resources {
        if seen.contains(&(r.group.as_str(), r.version.as_str())) {
            continue;
        }
        seen.push((r.group.as_str(), r.version.as_str()));
        let p = gv_path(&r.group, &r.version);
        let hash = group_version(resources, &r.group, &r.version)
            .map(|doc| stable_hash(&doc.to_string()))
            .unwrap_or_default();
        paths.insert(
            p.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash={hash}")}),
        );
    }
    json!({"paths": paths})
}

/// The `components.schemas` name of a kind, as the real server names it:
/// `io.k8s.api.core.v1.ConfigMap`, `io.k8s.api.coordination.v1.Lease`,
/// `dev.charter.catalog.v1alpha1.Service` (reverse-domain group for custom resources).
pub fn schema_name(group: &str, version: &str, kind: &str) -> String {
    if group.is_empty() {
        return format!("io.k8s.api.core.{version}.{kind}");
    }
    if group == "apiextensions.k8s.io" {
        return format!("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.{version}.{kind}");
    }
    if let Some(first) = group.strip_suffix(".k8s.io")
        && !first.contains('.')
    {
        return format!("io.k8s.api.{first}.{version}.{kind}");
    }
    let reversed: Vec<&str> = group.split('.').rev().collect();
    format!("{}.{version}.{kind}", reversed.join("."))
}

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn gvk(r: &ResourceInfo) -> Value {
    json!({"group": r.group, "version": r.version, "kind": r.kind})
}

fn content(schema: &Value) -> Value {
    json!({
        "application/json": {"schema": schema},
        "application/yaml": {"schema": schema},
        "application/vnd.kubernetes.protobuf": {"schema": schema},
    })
}

fn query_param(name: &str, description: &str, type_: &str) -> Value {
    json!({"name": name, "in": "query", "description": description, "schema": {"type": type_, "uniqueItems": true}})
}

fn write_params() -> Vec<Value> {
    vec![
        query_param(
            "dryRun",
            "When present, indicates that modifications should not be persisted.",
            "string",
        ),
        query_param(
            "fieldManager",
            "fieldManager is a name associated with the actor or entity that is making these changes.",
            "string",
        ),
        query_param(
            "fieldValidation",
            "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: Ignore, Warn, Strict.",
            "string",
        ),
    ]
}

fn list_params() -> Vec<Value> {
    vec![
        query_param(
            "allowWatchBookmarks",
            "allowWatchBookmarks requests watch events with type \"BOOKMARK\".",
            "boolean",
        ),
        query_param(
            "continue",
            "The continue option should be set when retrieving more results from the server.",
            "string",
        ),
        query_param(
            "fieldSelector",
            "A selector to restrict the list of returned objects by their fields.",
            "string",
        ),
        query_param(
            "labelSelector",
            "A selector to restrict the list of returned objects by their labels.",
            "string",
        ),
        query_param(
            "limit",
            "limit is a maximum number of responses to return for a list call.",
            "integer",
        ),
        query_param(
            "resourceVersion",
            "resourceVersion sets a constraint on what resource versions a request may be served from.",
            "string",
        ),
        query_param(
            "resourceVersionMatch",
            "resourceVersionMatch determines how resourceVersion is applied to list calls.",
            "string",
        ),
        query_param(
            "sendInitialEvents",
            "`sendInitialEvents=true` may be set together with `watch=true`.",
            "boolean",
        ),
        query_param(
            "timeoutSeconds",
            "Timeout for the list/watch call.",
            "integer",
        ),
        query_param(
            "watch",
            "Watch for changes to the described resources.",
            "boolean",
        ),
    ]
}

fn path_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "description": description, "required": true, "schema": {"type": "string", "uniqueItems": true}})
}

fn ok(schema: &Value) -> Value {
    json!({"description": "OK", "content": content(schema)})
}

fn op(
    r: &ResourceInfo,
    id: &str,
    action: &str,
    description: &str,
    params: Vec<Value>,
    responses: Value,
) -> Value {
    let mut o = json!({
        "tags": [if r.group.is_empty() { format!("core_{}", r.version) } else { format!("{}_{}", r.group, r.version) }],
        "description": description,
        "operationId": id,
        "responses": responses,
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk(r),
    });
    if !params.is_empty() {
        o["parameters"] = Value::Array(params);
    }
    o
}

/// The request body of an operation. For `patch`, the content types list the patch types
/// served: kubectl apply sends a strategic merge patch only when this lists one, so
/// custom resources (which answer 415 to it, as the real server does) must not.
fn with_body(mut operation: Value, body_schema: &Value, patch: Option<bool>) -> Value {
    let c = if let Some(custom) = patch {
        let mut c = json!({
            "application/apply-patch+yaml": {"schema": body_schema},
            "application/json-patch+json": {"schema": body_schema},
            "application/merge-patch+json": {"schema": body_schema},
        });
        if !custom {
            c["application/strategic-merge-patch+json"] = json!({"schema": body_schema});
        }
        c
    } else {
        content(body_schema)
    };
    operation["requestBody"] = json!({"content": c, "required": true});
    operation
}

fn id_suffix(r: &ResourceInfo) -> String {
    let group: String = r
        .group
        .split('.')
        .next()
        .unwrap_or("")
        .split('-')
        .map(capitalize)
        .collect();
    let version = capitalize(&r.version);
    let ns = if r.namespaced { "Namespaced" } else { "" };
    if r.group.is_empty() {
        format!("Core{version}{ns}{}", r.kind)
    } else {
        format!("{group}{version}{ns}{}", r.kind)
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn add_paths(r: &ResourceInfo, paths: &mut Map<String, Value>) {
    let base = if r.group.is_empty() {
        format!("/api/{}", r.version)
    } else {
        format!("/apis/{}/{}", r.group, r.version)
    };
    let prefix = if r.namespaced {
        format!("{base}/namespaces/{{namespace}}")
    } else {
        base.clone()
    };
    let obj = reference(&schema_name(&r.group, &r.version, &r.kind));
    let list = reference(&schema_name(&r.group, &r.version, &r.list_kind));
    let status = reference(STATUS);
    let has = |v: &str| r.verbs.iter().any(|x| x == v);
    let suffix = id_suffix(r);
    let mut common = vec![query_param(
        "pretty",
        "If 'true', then the output is pretty printed.",
        "string",
    )];
    if r.namespaced {
        common.insert(
            0,
            path_param(
                "namespace",
                "object name and auth scope, such as for teams and projects",
            ),
        );
    }

    // Collection.
    let mut coll = Map::new();
    if has("list") {
        coll.insert(
            "get".into(),
            op(
                r,
                &format!("list{suffix}"),
                "list",
                &format!("list or watch objects of kind {}", r.kind),
                list_params(),
                json!({"200": ok(&list)}),
            ),
        );
    }
    if has("create") {
        let o = op(
            r,
            &format!("create{suffix}"),
            "post",
            &format!("create a {}", r.kind),
            write_params(),
            json!({"200": ok(&obj), "201": {"description": "Created", "content": content(&obj)}, "202": {"description": "Accepted", "content": content(&obj)}}),
        );
        coll.insert("post".into(), with_body(o, &obj, None));
    }
    if has("deletecollection") {
        let mut params = list_params();
        params.extend(write_params());
        let o = op(
            r,
            &format!("deletecollection{suffix}"),
            "deletecollection",
            &format!("delete collection of {}", r.kind),
            params,
            json!({"200": ok(&status)}),
        );
        coll.insert(
            "delete".into(),
            with_body(o, &reference(DELETE_OPTIONS), None),
        );
    }
    if !coll.is_empty() {
        coll.insert("parameters".into(), Value::Array(common.clone()));
        paths.insert(format!("{prefix}/{}", r.plural), Value::Object(coll));
    }

    // All namespaces.
    if r.namespaced && has("list") {
        let id = format!(
            "list{}{}ForAllNamespaces",
            suffix.replace("Namespaced", ""),
            ""
        );
        let o = op(
            r,
            &id,
            "list",
            &format!("list or watch objects of kind {}", r.kind),
            list_params(),
            json!({"200": ok(&list)}),
        );
        paths.insert(
            format!("{base}/{}", r.plural),
            json!({"get": o, "parameters": [query_param("pretty", "If 'true', then the output is pretty printed.", "string")]}),
        );
    }

    // Item and status.
    let mut item_params = vec![path_param("name", &format!("name of the {}", r.kind))];
    item_params.extend(common);
    let item_ops = |sub: &str, kind_word: &str, map: &mut Map<String, Value>| {
        if has("get") {
            map.insert(
                "get".into(),
                op(
                    r,
                    &format!("read{suffix}{sub}"),
                    "get",
                    &format!("read {kind_word} of the specified {}", r.kind),
                    vec![],
                    json!({"200": ok(&obj)}),
                ),
            );
        }
        if has("update") {
            let o = op(
                r,
                &format!("replace{suffix}{sub}"),
                "put",
                &format!("replace {kind_word} of the specified {}", r.kind),
                write_params(),
                json!({"200": ok(&obj), "201": {"description": "Created", "content": content(&obj)}}),
            );
            map.insert("put".into(), with_body(o, &obj, None));
        }
        if has("patch") {
            let mut params = write_params();
            params.push(query_param(
                "force",
                "Force is going to \"force\" Apply requests.",
                "boolean",
            ));
            let o = op(
                r,
                &format!("patch{suffix}{sub}"),
                "patch",
                &format!("partially update {kind_word} of the specified {}", r.kind),
                params,
                json!({"200": ok(&obj), "201": {"description": "Created", "content": content(&obj)}}),
            );
            map.insert(
                "patch".into(),
                with_body(o, &reference(PATCH), Some(r.custom)),
            );
        }
    };
    let mut item = Map::new();
    item_ops("", "the", &mut item);
    if has("delete") {
        let mut params = write_params();
        params.push(query_param(
            "gracePeriodSeconds",
            "The duration in seconds before the object should be deleted.",
            "integer",
        ));
        params.push(query_param(
            "propagationPolicy",
            "Whether and how garbage collection will be performed.",
            "string",
        ));
        let o = op(
            r,
            &format!("delete{suffix}"),
            "delete",
            &format!("delete a {}", r.kind),
            params,
            json!({"200": ok(&status), "202": {"description": "Accepted", "content": content(&status)}}),
        );
        item.insert(
            "delete".into(),
            with_body(o, &reference(DELETE_OPTIONS), None),
        );
    }
    if !item.is_empty() {
        item.insert("parameters".into(), Value::Array(item_params.clone()));
        paths.insert(
            format!("{prefix}/{}/{{name}}", r.plural),
            Value::Object(item),
        );
    }
    if r.status_subresource {
        let mut st = Map::new();
        item_ops("Status", "status", &mut st);
        if !st.is_empty() {
            st.insert("parameters".into(), Value::Array(item_params));
            paths.insert(
                format!("{prefix}/{}/{{name}}/status", r.plural),
                Value::Object(st),
            );
        }
    }
}

fn meta_schemas() -> Vec<(String, Value)> {
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

fn type_meta_props(props: &mut Map<String, Value>) {
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
fn kind_schema(r: &ResourceInfo) -> Value {
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

fn list_schema(r: &ResourceInfo) -> Value {
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

/// `GET /openapi/v3/api/v1` (group "") or `/openapi/v3/apis/<group>/<version>`; `None` if unknown.
pub fn group_version(resources: &[ResourceInfo], group: &str, version: &str) -> Option<Value> {
    let served: Vec<&ResourceInfo> = resources
        .iter()
        .filter(|r| r.group == group && r.version == version)
        .collect();
    if served.is_empty() {
        return None;
    }
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for (name, s) in meta_schemas() {
        schemas.insert(name, s);
    }
    for r in &served {
        add_paths(r, &mut paths);
        schemas.insert(schema_name(&r.group, &r.version, &r.kind), kind_schema(r));
        schemas.insert(
            schema_name(&r.group, &r.version, &r.list_kind),
            list_schema(r),
        );
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::tests::{core_info, crd_info};

    #[test]
    fn names() {
        assert_eq!(
            schema_name("catalog.charter.dev", "v1alpha1", "Service"),
            "dev.charter.catalog.v1alpha1.Service"
        );
        assert_eq!(
            schema_name("", "v1", "ConfigMap"),
            "io.k8s.api.core.v1.ConfigMap"
        );
        assert_eq!(
            schema_name("coordination.k8s.io", "v1", "Lease"),
            "io.k8s.api.coordination.v1.Lease"
        );
        assert_eq!(
            schema_name("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
            "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition"
        );
    }

    #[test]
    fn index_is_stable_and_lists_all() {
        let rs = vec![core_info("ConfigMap", "configmaps", true), crd_info()];
        let a = index(&rs);
        let b = index(&rs);
        assert_eq!(a, b);
        let url = a["paths"]["apis/catalog.charter.dev/v1alpha1"]["serverRelativeURL"]
            .as_str()
            .unwrap();
        assert!(
            url.starts_with("/openapi/v3/apis/catalog.charter.dev/v1alpha1?hash="),
            "{url}"
        );
        assert!(
            a["paths"]["api/v1"]["serverRelativeURL"]
                .as_str()
                .unwrap()
                .starts_with("/openapi/v3/api/v1?hash=")
        );
        let mut changed = crd_info();
        changed.schema = Some(std::sync::Arc::new(json!({"type": "object"})));
        let c = index(&[core_info("ConfigMap", "configmaps", true), changed]);
        assert_ne!(
            c["paths"]["apis/catalog.charter.dev/v1alpha1"],
            a["paths"]["apis/catalog.charter.dev/v1alpha1"]
        );
    }

    #[test]
    fn crd_document() {
        let rs = vec![crd_info()];
        let doc = group_version(&rs, "catalog.charter.dev", "v1alpha1").unwrap();
        assert_eq!(doc["openapi"], "3.0.0");
        let item = &doc["paths"]["/apis/catalog.charter.dev/v1alpha1/namespaces/{namespace}/services/{name}"];
        let patch = &item["patch"];
        assert_eq!(
            patch["x-kubernetes-group-version-kind"],
            json!({"group": "catalog.charter.dev", "version": "v1alpha1", "kind": "Service"})
        );
        assert!(
            patch["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "fieldValidation"
                    && p["in"] == "query"
                    && p["schema"]["type"] == "string")
        );
        let patch_types = patch["requestBody"]["content"].as_object().unwrap();
        assert!(patch_types.contains_key("application/merge-patch+json"));
        assert!(!patch_types.contains_key("application/strategic-merge-patch+json"));
        assert!(doc["paths"]["/apis/catalog.charter.dev/v1alpha1/namespaces/{namespace}/services"]["post"].is_object());
        assert!(doc["paths"]["/apis/catalog.charter.dev/v1alpha1/services"]["get"].is_object());
        assert!(doc["paths"]["/apis/catalog.charter.dev/v1alpha1/namespaces/{namespace}/services/{name}/status"]["patch"].is_object());
        let s = &doc["components"]["schemas"]["dev.charter.catalog.v1alpha1.Service"];
        assert_eq!(s["x-kubernetes-group-version-kind"][0]["kind"], "Service");
        assert_eq!(s["description"], "A catalogued service.");
        assert_eq!(s["properties"]["apiVersion"]["type"], "string");
        assert_eq!(s["properties"]["kind"]["type"], "string");
        assert_eq!(
            s["properties"]["metadata"]["allOf"][0]["$ref"],
            "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
        );
        assert_eq!(s["properties"]["spec"]["required"], json!(["owner"]));
        assert!(doc["components"]["schemas"][OBJECT_META]["properties"]["name"].is_object());
        assert!(
            doc["components"]["schemas"]["dev.charter.catalog.v1alpha1.ServiceList"].is_object()
        );
        assert!(group_version(&rs, "catalog.charter.dev", "v9").is_none());
    }
}
