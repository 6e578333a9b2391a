//! Patches as the real server applies them: JSON merge (RFC 7396), JSON patch (RFC 6902,
//! with the server's lenient `test` of a missing path against null), strategic merge for
//! the built-in kinds served here, and server-side apply with managedFields and conflicts.
//!
//! Strategic merge is simplified: maps merge recursively, `null` deletes a key, `$patch:
//! replace` / `$patch: delete` directives on maps are honoured, `$deleteFromPrimitiveList/<f>`
//! removes values, and lists are replaced, except `metadata.finalizers` (merged as a set) and
//! `metadata.ownerReferences` (merged by `uid`). That covers ConfigMap, Lease, Namespace and
//! Event, the built-in kinds served here.
//!
//! Field ownership (managedFields, FieldsV1) is tracked per leaf: `f:<field>` for map keys;
//! lists whose items are all objects with a `name` are merged by name (`k:{"name":"x"}`
//! with a `.` entry for the item itself); every other list is atomic (owned as one leaf).
//! Owned metadata is `labels`, `annotations`, `finalizers` and `ownerReferences`.

// The signatures return the shared `ApiError` by value, as agreed with the server core.
#![allow(clippy::result_large_err)]

use crate::error::{ApiError, Cause};
use crate::resource::ResourceInfo;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

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

    /// The media type, as the real server names it.
    pub fn content_type(self) -> &'static str {
        match self {
            PatchType::Merge => "application/merge-patch+json",
            PatchType::Json => "application/json-patch+json",
            PatchType::Strategic => "application/strategic-merge-patch+json",
            PatchType::Apply => "application/apply-patch+yaml",
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
        PatchType::Merge => {
            let patch = parse_body(body)?;
            if !patch.is_object() {
                return Err(ApiError::bad_request(
                    "error decoding patch: a merge patch must be a JSON object",
                ));
            }
            let mut doc = current.clone();
            json_patch::merge(&mut doc, &patch);
            Ok(doc)
        }
        PatchType::Json => {
            let ops: json_patch::Patch = serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
            let mut doc = current.clone();
            for op in ops.0 {
                if let json_patch::PatchOperation::Test(t) = &op
                    && t.value.is_null()
                    && doc.pointer(t.path.as_str()).is_none()
                {
                    // The real server treats a missing path as null.
                    continue;
                }
                json_patch::patch(&mut doc, std::slice::from_ref(&op))
                    .map_err(|e| patch_rejected(e.to_string()))?;
            }
            Ok(doc)
        }
        PatchType::Strategic => {
            if info.custom {
                return Err(ApiError::unsupported_media_type(
                    PatchType::Strategic.content_type(),
                ));
            }
            let patch = parse_body(body)?;
            if !patch.is_object() {
                return Err(ApiError::bad_request(
                    "error decoding patch: a strategic merge patch must be a JSON object",
                ));
            }
            let mut doc = current.clone();
            strategic_merge(&mut doc, &patch, &mut Vec::new());
            Ok(doc)
        }
        PatchType::Apply => Err(ApiError::internal(
            "apply patches go through server_side_apply",
        )),
    }
}

/// Merge-by-key lists known to strategic merge: (parent path, field, key; `None` = primitive set).
fn smp_list_key(path: &[String], field: &str) -> Option<Option<&'static str>> {
    let at_metadata = path.len() == 1 && path[0] == "metadata";
    match (at_metadata, field) {
        (true, "finalizers") => Some(None),
        (true, "ownerReferences") => Some(Some("uid")),
        _ => None,
    }
}

fn strategic_merge(target: &mut Value, patch: &Value, path: &mut Vec<String>) {
    let Some(pmap) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if pmap.get("$patch").and_then(Value::as_str) == Some("replace") {
        let mut m = pmap.clone();
        m.remove("$patch");
        *target = Value::Object(m);
        return;
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Some(tmap) = target.as_object_mut() else {
        return;
    };
    for (k, v) in pmap {
        if let Some(field) = k.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(list)), Some(del)) = (tmap.get_mut(field), v.as_array()) {
                list.retain(|x| !del.contains(x));
            }
            continue;
        }
        if k.starts_with('$') {
            continue;
        }
        match v {
            Value::Null => {
                tmap.remove(k);
            }
            Value::Object(o) => {
                if o.get("$patch").and_then(Value::as_str) == Some("delete") {
                    tmap.remove(k);
                    continue;
                }
                let child = tmap.entry(k.clone()).or_insert(Value::Object(Map::new()));
                path.push(k.clone());
                strategic_merge(child, v, path);
                path.pop();
            }
            Value::Array(items) => match smp_list_key(path, k) {
                Some(None) => {
                    let entry = tmap.entry(k.clone()).or_insert(Value::Array(Vec::new()));
                    if !entry.is_array() {
                        *entry = Value::Array(Vec::new());
                    }
                    if let Value::Array(list) = entry {
                        for item in items {
                            if !list.contains(item) {
                                list.push(item.clone());
                            }
                        }
                    }
                }
                Some(Some(key)) => {
                    let entry = tmap.entry(k.clone()).or_insert(Value::Array(Vec::new()));
                    if !entry.is_array() {
                        *entry = Value::Array(Vec::new());
                    }
                    if let Value::Array(list) = entry {
                        for item in items {
                            let id = item.get(key);
                            let delete =
                                item.get("$patch").and_then(Value::as_str) == Some("delete");
                            let pos =
                                id.and_then(|id| list.iter().position(|x| x.get(key) == Some(id)));
                            match (pos, delete) {
                                (Some(i), true) => {
                                    list.remove(i);
                                }
                                (None, true) => {}
                                (Some(i), false) => {
                                    path.push(k.clone());
                                    strategic_merge(&mut list[i], item, path);
                                    path.pop();
                                }
                                (None, false) => list.push(item.clone()),
                            }
                        }
                    }
                }
                None => {
                    tmap.insert(k.clone(), v.clone());
                }
            },
            _ => {
                tmap.insert(k.clone(), v.clone());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Field sets (FieldsV1)

/// A path of FieldsV1 tokens: `f:spec`, `k:{"name":"x"}`, `.` (the keyed item itself).
type FieldPath = Vec<String>;
type FieldSet = BTreeSet<FieldPath>;

fn is_keyed_list(items: &[Value]) -> bool {
    !items.is_empty()
        && items
            .iter()
            .all(|i| i.get("name").is_some_and(|n| !n.is_null()))
}

fn key_token(item: &Value) -> String {
    let name = item.get("name").cloned().unwrap_or(Value::Null);
    format!("k:{}", json!({ "name": name }))
}

/// Every owned leaf of `v` (an object), with `prefix` prepended.
fn leaf_paths(v: &Value, prefix: &mut FieldPath, out: &mut FieldSet) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, child) in m {
                prefix.push(format!("f:{k}"));
                leaf_paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) if is_keyed_list(items) => {
            for item in items {
                prefix.push(key_token(item));
                prefix.push(".".into());
                out.insert(prefix.clone());
                prefix.pop();
                leaf_paths(item, prefix, out);
                prefix.pop();
            }
        }
        _ => {
            if !prefix.is_empty() {
                out.insert(prefix.clone());
            }
        }
    }
}

fn get_token<'a>(v: &'a Value, token: &str) -> Option<&'a Value> {
    if token == "." {
        return Some(v);
    }
    if let Some(f) = token.strip_prefix("f:") {
        return v.as_object()?.get(f);
    }
    if let Some(k) = token.strip_prefix("k:") {
        let key: Map<String, Value> = serde_json::from_str(k).ok()?;
        return v
            .as_array()?
            .iter()
            .find(|item| key.iter().all(|(kk, kv)| item.get(kk) == Some(kv)));
    }
    None
}

fn get_path<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(v, |cur, t| get_token(cur, t))
}

/// Remove the node at `path` from `v` (no-op when absent).
fn remove_path(v: &mut Value, path: &[String]) {
    let path: Vec<&String> = path.iter().filter(|t| t.as_str() != ".").collect();
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = v;
    for t in parents {
        let next = if let Some(f) = t.strip_prefix("f:") {
            cur.as_object_mut().and_then(|m| m.get_mut(f))
        } else if let Some(k) = t.strip_prefix("k:") {
            let Ok(key) = serde_json::from_str::<Map<String, Value>>(k) else {
                return;
            };
            cur.as_array_mut().and_then(|a| {
                a.iter_mut()
                    .find(|item| key.iter().all(|(kk, kv)| item.get(kk) == Some(kv)))
            })
        } else {
            None
        };
        match next {
            Some(n) => cur = n,
            None => return,
        }
    }
    if let Some(f) = last.strip_prefix("f:") {
        if let Some(m) = cur.as_object_mut() {
            m.remove(f);
        }
    } else if let Some(k) = last.strip_prefix("k:")
        && let Ok(key) = serde_json::from_str::<Map<String, Value>>(k)
        && let Some(a) = cur.as_array_mut()
    {
        a.retain(|item| !key.iter().all(|(kk, kv)| item.get(kk) == Some(kv)));
    }
}

/// Remove the maps (and keyed lists) along `path`, deepest first, that are left empty.
fn prune_empty_ancestors(v: &mut Value, path: &[String]) {
    let fields: Vec<&String> = path.iter().filter(|t| t.as_str() != ".").collect();
    for len in (1..fields.len()).rev() {
        let prefix = &fields[..len];
        if !prefix.iter().all(|t| t.starts_with("f:")) {
            continue;
        }
        let pointer: String = prefix
            .iter()
            .map(|t| format!("/{}", t[2..].replace('~', "~0").replace('/', "~1")))
            .collect();
        let empty = match v.pointer(&pointer) {
            Some(Value::Object(m)) => m.is_empty(),
            Some(Value::Array(a)) => a.is_empty(),
            _ => false,
        };
        if !empty {
            return;
        }
        let owned: Vec<String> = prefix.iter().map(|t| t.to_string()).collect();
        remove_path(v, &owned);
    }
}

fn set_to_fields_v1(set: &FieldSet) -> Value {
    let mut root = Value::Object(Map::new());
    for path in set {
        let mut cur = &mut root;
        for t in path {
            let Some(m) = cur.as_object_mut() else { break };
            cur = m.entry(t.clone()).or_insert(Value::Object(Map::new()));
        }
    }
    root
}

fn fields_v1_to_set(v: &Value, prefix: &mut FieldPath, out: &mut FieldSet) {
    match v.as_object() {
        Some(m) if !m.is_empty() => {
            for (k, child) in m {
                prefix.push(k.clone());
                fields_v1_to_set(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {
            if !prefix.is_empty() {
                out.insert(prefix.clone());
            }
        }
    }
}

/// The path as the real server prints it in conflicts: `.spec.containers[name="x"].image`.
fn display_path(path: &[String]) -> String {
    let mut s = String::new();
    for t in path {
        if let Some(f) = t.strip_prefix("f:") {
            s.push('.');
            s.push_str(f);
        } else if let Some(k) = t.strip_prefix("k:") {
            let inner = serde_json::from_str::<Map<String, Value>>(k)
                .map(|m| {
                    m.iter()
                        .map(|(kk, kv)| format!("{kk}={kv}"))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_else(|_| k.to_string());
            s.push_str(&format!("[{inner}]"));
        }
    }
    s
}

/// Strip trailing `.` so item paths compare as node paths.
fn node(path: &[String]) -> &[String] {
    match path.split_last() {
        Some((last, rest)) if last == "." => rest,
        _ => path,
    }
}

fn overlaps(a: &[String], b: &[String]) -> bool {
    let (a, b) = (node(a), node(b));
    a.starts_with(b) || b.starts_with(a)
}

/// The part of an object whose fields are owned: everything but apiVersion/kind and the
/// metadata bookkeeping; `status` only (subresource status) or without status (main
/// resource with a status subresource).
fn ownable(obj: &Value, subresource: Option<&str>, status_subresource: bool) -> Value {
    let mut out = Map::new();
    let Some(m) = obj.as_object() else {
        return Value::Object(out);
    };
    for (k, v) in m {
        match k.as_str() {
            "apiVersion" | "kind" => {}
            "metadata" => {
                if subresource.is_some() {
                    continue;
                }
                let mut md = Map::new();
                if let Some(mm) = v.as_object() {
                    for f in ["labels", "annotations", "finalizers", "ownerReferences"] {
                        if let Some(x) = mm.get(f)
                            && !x.is_null()
                        {
                            md.insert(f.to_string(), x.clone());
                        }
                    }
                }
                if !md.is_empty() {
                    out.insert(k.clone(), Value::Object(md));
                }
            }
            "status" => {
                if subresource == Some("status") || (subresource.is_none() && !status_subresource) {
                    out.insert(k.clone(), v.clone());
                }
            }
            _ => {
                if subresource.is_none() {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
    }
    Value::Object(out)
}

fn owned_set(obj: &Value) -> FieldSet {
    let mut set = FieldSet::new();
    leaf_paths(obj, &mut Vec::new(), &mut set);
    set
}

/// One managedFields entry, decoded.
struct Entry {
    raw: Map<String, Value>,
    manager: String,
    operation: String,
    subresource: String,
    set: FieldSet,
    changed: bool,
}

fn read_entries(obj: &Value) -> Vec<Entry> {
    let Some(list) = obj
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|e| {
            let raw = e.as_object()?.clone();
            let s = |k: &str| raw.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let mut set = FieldSet::new();
            if let Some(f) = raw.get("fieldsV1") {
                fields_v1_to_set(f, &mut Vec::new(), &mut set);
            }
            Some(Entry {
                manager: s("manager"),
                operation: s("operation"),
                subresource: s("subresource"),
                raw,
                set,
                changed: false,
            })
        })
        .collect()
}

fn write_entries(obj: &mut Value, entries: Vec<Entry>, now: &str, api_version: &str) {
    let list: Vec<Value> = entries
        .into_iter()
        .filter(|e| !e.set.is_empty())
        .map(|e| {
            let mut raw = e.raw;
            if e.changed || !raw.contains_key("time") {
                raw.insert("time".into(), json!(now));
            }
            if e.changed || !raw.contains_key("apiVersion") {
                raw.insert("apiVersion".into(), json!(api_version));
            }
            raw.insert("fieldsType".into(), json!("FieldsV1"));
            raw.insert("fieldsV1".into(), set_to_fields_v1(&e.set));
            Value::Object(raw)
        })
        .collect();
    if !obj.is_object() {
        *obj = Value::Object(Map::new());
    }
    let Some(m) = obj.as_object_mut() else { return };
    let md = m.entry("metadata").or_insert(Value::Object(Map::new()));
    if !md.is_object() {
        *md = Value::Object(Map::new());
    }
    if let Some(md) = md.as_object_mut() {
        if list.is_empty() {
            md.remove("managedFields");
        } else {
            md.insert("managedFields".into(), Value::Array(list));
        }
    }
}

fn new_entry(manager: &str, operation: &str, subresource: Option<&str>) -> Entry {
    let mut raw = Map::new();
    raw.insert("manager".into(), json!(manager));
    raw.insert("operation".into(), json!(operation));
    if let Some(s) = subresource {
        raw.insert("subresource".into(), json!(s));
    }
    Entry {
        raw,
        manager: manager.to_string(),
        operation: operation.to_string(),
        subresource: subresource.unwrap_or("").to_string(),
        set: FieldSet::new(),
        changed: true,
    }
}

fn print_manager(e: &Entry) -> String {
    let mut s = format!("{:?}", e.manager);
    if !e.subresource.is_empty() {
        s.push_str(&format!(" with subresource {:?}", e.subresource));
    }
    if e.operation == "Update" {
        let api = e
            .raw
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        match e.raw.get("time").and_then(Value::as_str) {
            Some(t) => {
                // Go prints `time.RFC3339`: whole seconds, UTC.
                let t = chrono::DateTime::parse_from_rfc3339(t)
                    .map(|d| {
                        d.with_timezone(&chrono::Utc)
                            .format("%Y-%m-%dT%H:%M:%SZ")
                            .to_string()
                    })
                    .unwrap_or_else(|_| t.to_string());
                s.push_str(&format!(" using {api} at {t}"))
            }
            None => s.push_str(&format!(" using {api}")),
        }
    }
    s
}

/// Merge the ownable part of an applied configuration into `target` (also how a
/// MutatingAdmissionPolicy's `ApplyConfiguration` is merged).
pub(crate) fn apply_merge(target: &mut Value, applied: &Value) {
    match applied {
        Value::Object(am) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            let Some(tm) = target.as_object_mut() else {
                return;
            };
            for (k, v) in am {
                match tm.get_mut(k) {
                    Some(t) if v.is_object() || v.is_array() => apply_merge(t, v),
                    _ => {
                        tm.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        Value::Array(items) if is_keyed_list(items) => {
            let Some(list) = target
                .as_array_mut()
                .filter(|l| l.iter().all(|i| i.get("name").is_some()))
            else {
                *target = applied.clone();
                return;
            };
            for item in items {
                match list.iter_mut().find(|x| x.get("name") == item.get("name")) {
                    Some(existing) => apply_merge(existing, item),
                    None => list.push(item.clone()),
                }
            }
        }
        _ => *target = applied.clone(),
    }
}

/// What a server-side apply is asked to do.
pub struct ApplyRequest<'a> {
    pub info: &'a ResourceInfo,
    /// The object as stored now (`None`: apply creates it).
    pub current: Option<&'a Value>,
    /// The applied configuration (already parsed from YAML or JSON).
    pub applied: &'a Value,
    pub manager: &'a str,
    pub force: bool,
    /// `Some("status")` for an apply to the status subresource.
    pub subresource: Option<&'a str>,
    /// RFC 3339 time for the managedFields entry.
    pub now: &'a str,
}

/// Server-side apply: merge `applied` into `current`, take ownership of its fields for
/// `manager` (operation Apply), drop fields this manager applied before but no longer does,
/// and refuse with 409 Conflict when another manager owns a field whose value would change
/// (unless `force`). Returns the new object with `metadata.managedFields` updated.
pub fn server_side_apply(req: ApplyRequest<'_>) -> Result<Value, ApiError> {
    let info = req.info;
    if !req.applied.is_object() {
        return Err(ApiError::bad_request(
            "the applied configuration must be an object",
        ));
    }
    if req.manager.is_empty() {
        return Err(ApiError::new(
            422,
            "Invalid",
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
        ));
    }
    let subresource = req.subresource.filter(|s| !s.is_empty());
    let mut obj = match req.current {
        Some(c) => c.clone(),
        None => {
            if subresource.is_some() {
                let name = req
                    .applied
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                return Err(ApiError::new(
                    404,
                    "NotFound",
                    format!("{} \"{name}\" not found", info.qualified_name()),
                )
                .with_details(&info.group, &info.plural, name));
            }
            let mut md = Map::new();
            if let Some(am) = req.applied.get("metadata").and_then(Value::as_object) {
                for f in ["name", "generateName", "namespace"] {
                    if let Some(v) = am.get(f) {
                        md.insert(f.into(), v.clone());
                    }
                }
            }
            let api_version = req
                .applied
                .get("apiVersion")
                .cloned()
                .unwrap_or_else(|| json!(info.api_version()));
            let kind = req
                .applied
                .get("kind")
                .cloned()
                .unwrap_or_else(|| json!(info.kind));
            json!({"apiVersion": api_version, "kind": kind, "metadata": Value::Object(md)})
        }
    };
    let api_version = req
        .applied
        .get("apiVersion")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| info.api_version());

    let applied = ownable(req.applied, subresource, info.status_subresource);
    let applied_set = owned_set(&applied);
    let mut entries = read_entries(&obj);
    let sub = subresource.unwrap_or("");
    let mine =
        |e: &Entry| e.manager == req.manager && e.operation == "Apply" && e.subresource == sub;
    let prev_set: FieldSet = entries
        .iter()
        .find(|e| mine(e))
        .map(|e| e.set.clone())
        .unwrap_or_default();

    // Conflicts: another manager owns a field whose value would change.
    let mut conflicts: Vec<(usize, FieldPath)> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        // Managers are told apart by name, operation and subresource, as in the real server:
        // the same name's Update entry is another manager.
        if mine(e) {
            continue;
        }
        for p in &applied_set {
            let owned: Vec<&FieldPath> = e.set.iter().filter(|q| overlaps(p, q)).collect();
            if owned.is_empty() {
                continue;
            }
            let cur = get_path(&obj, node(p));
            let new = get_path(&applied, node(p));
            if node(p).len() < p.len() {
                // The keyed item itself: sharing an item is never a conflict.
                continue;
            }
            if cur != new {
                for q in owned {
                    let path = if q.len() >= p.len() {
                        q.clone()
                    } else {
                        p.clone()
                    };
                    if !conflicts.iter().any(|(j, c)| *j == i && *c == path) {
                        conflicts.push((i, path));
                    }
                }
            }
        }
    }
    if !conflicts.is_empty() {
        if !req.force {
            let causes: Vec<Cause> = conflicts
                .iter()
                .map(|(i, p)| Cause {
                    reason: "FieldManagerConflict".into(),
                    message: format!("conflict with {}", print_manager(&entries[*i])),
                    field: display_path(p),
                })
                .collect();
            let message = if conflicts.len() == 1 {
                format!(
                    "Apply failed with 1 conflict: {}: {}",
                    causes[0].message, causes[0].field
                )
            } else {
                let mut by_manager: Vec<(String, Vec<String>)> = Vec::new();
                for (i, p) in &conflicts {
                    let m = print_manager(&entries[*i]);
                    match by_manager.iter_mut().find(|(mm, _)| *mm == m) {
                        Some((_, ps)) => ps.push(display_path(p)),
                        None => by_manager.push((m, vec![display_path(p)])),
                    }
                }
                by_manager.sort();
                let mut lines = Vec::new();
                for (m, ps) in by_manager {
                    lines.push(format!("conflicts with {m}:"));
                    lines.extend(ps.into_iter().map(|p| format!("- {p}")));
                }
                format!(
                    "Apply failed with {} conflicts: {}",
                    conflicts.len(),
                    lines.join("\n")
                )
            };
            let mut e = ApiError::new(409, "Conflict", message);
            e.causes = causes;
            return Err(e);
        }
        for (i, p) in &conflicts {
            let e = &mut entries[*i];
            let before = e.set.len();
            e.set.retain(|q| !overlaps(p, q));
            if e.set.len() != before {
                e.changed = true;
            }
        }
    }

    let before = strip_managed(&obj);
    // Remove fields this manager applied before, omits now, and nobody else owns.
    for p in prev_set.difference(&applied_set) {
        if applied_set.iter().any(|q| overlaps(p, q)) {
            continue;
        }
        let others_own = entries
            .iter()
            .any(|e| !mine(e) && e.set.iter().any(|q| overlaps(p, q)));
        if !others_own {
            remove_path(&mut obj, p);
            // The real server drops the maps a removal leaves empty (an emptied
            // `status.snapshot` must go, or it fails its schema's required fields).
            // What is still applied comes back with the merge below.
            prune_empty_ancestors(&mut obj, p);
        }
    }
    apply_merge(&mut obj, &applied);

    let object_changed = strip_managed(&obj) != before;
    match entries.iter_mut().find(|e| mine(e)) {
        Some(e) => {
            if e.set != applied_set || object_changed {
                e.changed = true;
            }
            e.set = applied_set;
        }
        None => {
            let mut e = new_entry(req.manager, "Apply", subresource);
            e.set = applied_set;
            entries.push(e);
        }
    }
    write_entries(&mut obj, entries, req.now, &api_version);
    Ok(obj)
}

fn strip_managed(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(md) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        md.remove("managedFields");
    }
    v
}

/// Record in `new.metadata.managedFields` that `manager` (operation Update, or the given
/// subresource) set the fields that differ between `old` and `new`, moving ownership of
/// those fields away from other managers. Called for create, update and non-apply patches.
pub fn record_update(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    subresource: Option<&str>,
    now: &str,
) {
    let subresource = subresource.filter(|s| !s.is_empty());
    let new_own = ownable(new, subresource, false);
    let new_set = owned_set(&new_own);
    let (changed, removed): (FieldSet, FieldSet) = match old {
        Some(o) => {
            let old_own = ownable(o, subresource, false);
            let old_set = owned_set(&old_own);
            let changed = new_set
                .iter()
                .filter(|p| {
                    let (o, n) = (get_path(&old_own, node(p)), get_path(&new_own, node(p)));
                    // A map emptied by removals is not a change of its own.
                    let emptied = n.is_some_and(|n| n.as_object().is_some_and(Map::is_empty))
                        && o.is_some_and(Value::is_object);
                    o != n && !emptied
                })
                .cloned()
                .collect();
            let removed = old_set
                .iter()
                .filter(|p| get_path(&new_own, node(p)).is_none())
                .cloned()
                .collect();
            (changed, removed)
        }
        None => (new_set.clone(), FieldSet::new()),
    };
    // Entries are carried by `new` when the client sent them; otherwise by `old`.
    let mut entries = match (new.pointer("/metadata/managedFields").is_some(), old) {
        (false, Some(o)) => read_entries(o),
        _ => read_entries(new),
    };
    let sub = subresource.unwrap_or("");
    for e in entries.iter_mut() {
        let before = e.set.len();
        e.set
            .retain(|q| !removed.iter().any(|p| node(q).starts_with(node(p))));
        // Ownership of a changed field moves to `manager`.
        if !(e.manager == manager && e.operation == "Update" && e.subresource == sub) {
            e.set.retain(|q| !changed.iter().any(|p| overlaps(p, q)));
        }
        if e.set.len() != before {
            e.changed = true;
        }
    }
    let api_version = new
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if !manager.is_empty() && !changed.is_empty() {
        match entries
            .iter_mut()
            .find(|e| e.manager == manager && e.operation == "Update" && e.subresource == sub)
        {
            Some(e) => {
                e.set.extend(changed);
                e.changed = true;
            }
            None => {
                let mut e = new_entry(manager, "Update", subresource);
                e.set = changed;
                entries.push(e);
            }
        }
    }
    write_entries(new, entries, now, &api_version);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(kind: &str, custom: bool, status_subresource: bool) -> ResourceInfo {
        ResourceInfo {
            group: if custom {
                "example.com".into()
            } else {
                "coordination.k8s.io".into()
            },
            version: "v1".into(),
            kind: kind.into(),
            list_kind: format!("{kind}List"),
            plural: format!("{}s", kind.to_lowercase()),
            singular: kind.to_lowercase(),
            namespaced: true,
            short_names: vec![],
            categories: vec![],
            verbs: vec![],
            status_subresource,
            printer_columns: vec![],
            schema: None,
            custom,
        }
    }

    fn apply(
        info: &ResourceInfo,
        current: Option<&Value>,
        applied: &Value,
        manager: &str,
        force: bool,
        sub: Option<&str>,
    ) -> Result<Value, ApiError> {
        server_side_apply(ApplyRequest {
            info,
            current,
            applied,
            manager,
            force,
            subresource: sub,
            now: "2026-01-01T00:00:00Z",
        })
    }

    fn entry<'a>(obj: &'a Value, manager: &str, op: &str) -> Option<&'a Value> {
        obj["metadata"]["managedFields"]
            .as_array()?
            .iter()
            .find(|e| e["manager"] == manager && e["operation"] == op)
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

    fn lease(holder: &str) -> Value {
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
               "metadata": {"name": "l", "namespace": "ns"},
               "spec": {"holderIdentity": holder, "leaseDurationSeconds": 10}})
    }

    #[test]
    fn ssa_create_and_noop_reapply() {
        let i = info("Lease", false, false);
        let created = apply(&i, None, &lease("a"), "mgr-a", false, None).unwrap();
        assert_eq!(created["spec"]["holderIdentity"], "a");
        assert_eq!(created["metadata"]["name"], "l");
        let e = entry(&created, "mgr-a", "Apply").unwrap();
        assert_eq!(
            e["fieldsV1"],
            json!({"f:spec": {"f:holderIdentity": {}, "f:leaseDurationSeconds": {}}})
        );
        assert_eq!(e["fieldsType"], "FieldsV1");
        assert_eq!(e["apiVersion"], "coordination.k8s.io/v1");
        let again = server_side_apply(ApplyRequest {
            info: &i,
            current: Some(&created),
            applied: &lease("a"),
            manager: "mgr-a",
            force: false,
            subresource: None,
            now: "2026-02-02T00:00:00Z",
        })
        .unwrap();
        assert_eq!(
            again, created,
            "a no-op re-apply changes nothing, not even the time"
        );
    }

    #[test]
    fn ssa_removes_omitted_fields() {
        let i = info("Lease", false, false);
        let mut applied = lease("a");
        applied["metadata"]["labels"] = json!({"app": "x"});
        let created = apply(&i, None, &applied, "mgr-a", false, None).unwrap();
        assert_eq!(created["metadata"]["labels"]["app"], "x");
        let out = apply(
            &i,
            Some(&created),
            &json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": "l", "namespace": "ns"}, "spec": {"holderIdentity": "a"}}),
            "mgr-a",
            false,
            None,
        )
        .unwrap();
        assert!(out["spec"].get("leaseDurationSeconds").is_none());
        assert!(out["metadata"]["labels"].get("app").is_none());
        assert_eq!(
            entry(&out, "mgr-a", "Apply").unwrap()["fieldsV1"],
            json!({"f:spec": {"f:holderIdentity": {}}})
        );
    }

    #[test]
    fn ssa_conflict_and_force() {
        let i = info("Lease", false, false);
        let created = apply(&i, None, &lease("a"), "mgr-a", false, None).unwrap();
        let err = apply(&i, Some(&created), &lease("b"), "mgr-b", false, None).unwrap_err();
        assert_eq!(err.code, 409);
        assert_eq!(err.reason, "Conflict");
        assert_eq!(
            err.message,
            "Apply failed with 1 conflict: conflict with \"mgr-a\": .spec.holderIdentity"
        );
        assert_eq!(err.causes.len(), 1);
        assert_eq!(err.causes[0].reason, "FieldManagerConflict");
        assert_eq!(err.causes[0].field, ".spec.holderIdentity");
        let forced = apply(&i, Some(&created), &lease("b"), "mgr-b", true, None).unwrap();
        assert_eq!(forced["spec"]["holderIdentity"], "b");
        assert_eq!(
            entry(&forced, "mgr-a", "Apply").unwrap()["fieldsV1"],
            json!({"f:spec": {"f:leaseDurationSeconds": {}}})
        );
        assert_eq!(
            entry(&forced, "mgr-b", "Apply").unwrap()["fieldsV1"],
            json!({"f:spec": {"f:holderIdentity": {}, "f:leaseDurationSeconds": {}}})
        );
        // Now a re-apply by A without force conflicts with B.
        let err = apply(&i, Some(&forced), &lease("a"), "mgr-a", false, None).unwrap_err();
        assert_eq!(err.code, 409);
    }

    #[test]
    fn ssa_drops_the_maps_a_removal_leaves_empty() {
        let i = info("Lease", false, false);
        let mut with_nested = lease("a");
        with_nested["spec"]["extra"] = json!({"inner": {"x": 1, "y": "z"}});
        let created = apply(&i, None, &with_nested, "mgr-a", false, None).unwrap();
        let out = apply(&i, Some(&created), &lease("a"), "mgr-a", false, None).unwrap();
        assert_eq!(out["spec"].get("extra"), None, "{}", out["spec"]);
        assert_eq!(out["spec"]["holderIdentity"], "a");
    }

    #[test]
    fn ssa_status_drops_an_omitted_nested_snapshot() {
        let i = info("Widget", true, true);
        let base = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "default"}, "spec": {"a": 1}});
        let created = apply(&i, None, &base, "owner", false, None).unwrap();
        let full = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "default"},
            "status": {"phase": "Active", "conditions": [{"type": "Ready", "status": "True"}],
                       "snapshot": {"revision": "r1", "approvedBy": ["ava"], "content": {"owner": "dana", "categories": [{"name": "x", "subcategories": ["y"]}]}}}});
        let published = apply(&i, Some(&created), &full, "charter", true, Some("status")).unwrap();
        assert_eq!(published["status"]["snapshot"]["revision"], "r1");
        let mut revoked = full.clone();
        revoked["status"]
            .as_object_mut()
            .unwrap()
            .remove("snapshot");
        revoked["status"]["phase"] = json!("Planning");
        let out = apply(
            &i,
            Some(&published),
            &revoked,
            "charter",
            true,
            Some("status"),
        )
        .unwrap();
        assert_eq!(out["status"].get("snapshot"), None, "{}", out["status"]);
    }

    #[test]
    fn ssa_shared_same_value() {
        let i = info("Lease", false, false);
        let created = apply(&i, None, &lease("a"), "mgr-a", false, None).unwrap();
        let shared = apply(&i, Some(&created), &lease("a"), "mgr-b", false, None).unwrap();
        assert!(entry(&shared, "mgr-a", "Apply").is_some());
        assert!(entry(&shared, "mgr-b", "Apply").is_some());
        // A drops its fields; B still owns them, so they stay.
        let mut only_meta = lease("a");
        only_meta.as_object_mut().unwrap().remove("spec");
        only_meta["metadata"]["labels"] = json!({"k": "v"});
        let out = apply(&i, Some(&shared), &only_meta, "mgr-a", false, None).unwrap();
        assert_eq!(out["spec"]["holderIdentity"], "a");
    }

    #[test]
    fn ssa_conflict_with_update_manager() {
        let i = info("Lease", false, false);
        let mut obj = lease("a");
        record_update(
            None,
            &mut obj,
            "kubectl-create",
            None,
            "2026-01-01T00:00:00Z",
        );
        let e = entry(&obj, "kubectl-create", "Update").unwrap();
        assert_eq!(e["fieldsV1"]["f:spec"]["f:holderIdentity"], json!({}));
        let err = apply(&i, Some(&obj), &lease("b"), "mgr-b", false, None).unwrap_err();
        assert_eq!(
            err.message,
            "Apply failed with 1 conflict: conflict with \"kubectl-create\" using coordination.k8s.io/v1 at 2026-01-01T00:00:00Z: .spec.holderIdentity"
        );
    }

    #[test]
    fn ssa_conflicts_with_own_update_entry() {
        let i = info("Lease", false, false);
        let created = apply(&i, None, &lease("a"), "mgr-a", false, None).unwrap();
        let patched = apply_patch(
            &i,
            &created,
            PatchType::Strategic,
            br#"{"spec":{"holderIdentity":"z"}}"#,
        )
        .unwrap();
        let mut patched = patched;
        record_update(
            Some(&created),
            &mut patched,
            "mgr-a",
            None,
            "2026-01-01T00:00:01Z",
        );
        assert!(entry(&patched, "mgr-a", "Update").is_some());
        let err = apply(&i, Some(&patched), &lease("a"), "mgr-a", false, None).unwrap_err();
        assert_eq!(err.code, 409);
        // Released (fields removed by a patch): nobody owns them any more.
        let released = apply_patch(
            &i,
            &patched,
            PatchType::Strategic,
            br#"{"spec":{"holderIdentity":null,"leaseDurationSeconds":null}}"#,
        )
        .unwrap();
        let mut released = released;
        record_update(
            Some(&patched),
            &mut released,
            "mgr-a",
            None,
            "2026-01-01T00:00:02Z",
        );
        assert!(
            released["metadata"].get("managedFields").is_none(),
            "{released}"
        );
        let relocked = apply(&i, Some(&released), &lease("b"), "mgr-b", false, None).unwrap();
        assert_eq!(relocked["spec"]["holderIdentity"], "b");
    }

    #[test]
    fn ssa_status_subresource() {
        let i = info("Thing", true, true);
        let obj = json!({"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "t"},
            "spec": {"a": 1}, "status": {"phase": "Old"}});
        let created = apply(&i, None, &obj, "op", false, None).unwrap();
        assert!(
            created.get("status").is_none(),
            "status is ignored on the main resource"
        );
        let st = json!({"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "t"},
            "spec": {"a": 2}, "status": {"phase": "Ready"}});
        let out = apply(&i, Some(&created), &st, "op", false, Some("status")).unwrap();
        assert_eq!(out["status"]["phase"], "Ready");
        assert_eq!(out["spec"]["a"], 1);
        let e = out["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["subresource"] == "status")
            .unwrap();
        assert_eq!(e["fieldsV1"], json!({"f:status": {"f:phase": {}}}));
        assert_eq!(e["operation"], "Apply");
        assert!(
            apply(&i, None, &st, "op", false, Some("status"))
                .unwrap_err()
                .code
                == 404
        );
    }

    #[test]
    fn ssa_keyed_list_merge() {
        let i = info("Thing", true, false);
        let a = json!({"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "t"},
            "spec": {"items": [{"name": "x", "v": 1}]}});
        let b = json!({"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "t"},
            "spec": {"items": [{"name": "y", "v": 2}]}});
        let o = apply(&i, None, &a, "a", false, None).unwrap();
        let o = apply(&i, Some(&o), &b, "b", false, None).unwrap();
        assert_eq!(
            o["spec"]["items"],
            json!([{"name": "x", "v": 1}, {"name": "y", "v": 2}])
        );
        let fa = &entry(&o, "a", "Apply").unwrap()["fieldsV1"];
        assert_eq!(
            fa,
            &json!({"f:spec": {"f:items": {"k:{\"name\":\"x\"}": {".": {}, "f:name": {}, "f:v": {}}}}})
        );
    }

    #[test]
    fn record_update_moves_ownership() {
        let i = info("Lease", false, false);
        let created = apply(&i, None, &lease("a"), "mgr-a", false, None).unwrap();
        let mut new = created.clone();
        new["spec"]["holderIdentity"] = json!("z");
        new["metadata"]["labels"] = json!({"k": "v"});
        record_update(
            Some(&created),
            &mut new,
            "editor",
            None,
            "2026-01-02T00:00:00Z",
        );
        assert_eq!(
            entry(&new, "mgr-a", "Apply").unwrap()["fieldsV1"],
            json!({"f:spec": {"f:leaseDurationSeconds": {}}})
        );
        assert_eq!(
            entry(&new, "editor", "Update").unwrap()["fieldsV1"],
            json!({"f:metadata": {"f:labels": {"f:k": {}}}, "f:spec": {"f:holderIdentity": {}}})
        );
        // An update that changes nothing adds no entry.
        let mut same = new.clone();
        record_update(Some(&new), &mut same, "other", None, "2026-01-03T00:00:00Z");
        assert!(entry(&same, "other", "Update").is_none());
        assert_eq!(same, new);
    }
}
