//! The paths of a kind's document: every verb's operation, its parameters and bodies,
//! with the `patch` operation and `fieldValidation` parameter `kubectl apply` looks for.

use super::names::{DELETE_OPTIONS, PATCH, STATUS, gvk, reference, schema_name};
use crate::resource::ResourceInfo;
use serde_json::{Map, Value, json};

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

pub(super) fn add_paths(r: &ResourceInfo, paths: &mut Map<String, Value>) {
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
