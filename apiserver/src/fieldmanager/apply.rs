//! Server-side apply (k8s `fieldmanager`, structured-merge-diff `merge.Updater.Apply`): merge
//! the applied configuration, take ownership of its fields, remove what the applier no longer
//! applies, and refuse with 409 Conflict when another manager owns a field that would change.

use super::fieldset::*;
use super::managed_fields::{Entry, new_entry, print_manager, read_entries, write_entries};
use super::merge::merge;
use super::owned::{missing_key, ownable, owned_set};
use super::schema::Shape;
use crate::error::{ApiError, Cause};
use crate::resource::ResourceInfo;
use serde_json::{Map, Value, json};

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
    let shape = Shape::of(info);
    if let Some(e) = missing_key(&applied, &shape, "") {
        return Err(ApiError::new(
            500,
            "",
            format!(
                "failed to create typed patch object ({}): {e}",
                gvknn(req.applied)
            ),
        ));
    }
    let applied_set = owned_set(&applied, &shape);
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
            if new.is_some_and(|v| v.as_object().is_some_and(Map::is_empty)) {
                // An empty map sets no value of anyone's.
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
        if applied_set.iter().any(|q| within(q, p)) {
            continue;
        }
        let others_own = entries
            .iter()
            .any(|e| !mine(e) && e.set.iter().any(|q| overlaps(p, q) || within(q, p)));
        if !others_own {
            remove_path(&mut obj, p);
            // The real server drops the maps a removal leaves empty (an emptied
            // `status.snapshot` must go, or it fails its schema's required fields).
            // What is still applied comes back with the merge below.
            prune_empty_ancestors(&mut obj, p);
        }
    }
    merge(&mut obj, &applied, &shape);

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

/// An object as the field manager names it in errors: `ns/name; group/version, Kind=Kind`.
fn gvknn(obj: &Value) -> String {
    let s = |p: &str| obj.pointer(p).and_then(Value::as_str).unwrap_or("");
    let api_version = s("/apiVersion");
    let group_version = if api_version.contains('/') {
        api_version.to_string()
    } else {
        format!("/{api_version}")
    };
    format!(
        "{}/{}; {group_version}, Kind={}",
        s("/metadata/namespace"),
        s("/metadata/name"),
        s("/kind")
    )
}
