//! Ownership recorded for create, update and non-apply patches (operation Update).

use super::fieldset::*;
use super::managed_fields::{new_entry, read_entries, write_entries};
use super::owned::{container_set, ownable, owned_set};
use super::schema::Shape;
use crate::resource::ResourceInfo;
use serde_json::{Map, Value};

/// Record in `new.metadata.managedFields` that `manager` (operation Update, or the given
/// subresource) set the fields that differ between `old` and `new`, moving ownership of
/// those fields away from other managers. Called for create, update and non-apply patches.
pub fn record_update(
    info: Option<&ResourceInfo>,
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    subresource: Option<&str>,
    now: &str,
) {
    let subresource = subresource.filter(|s| !s.is_empty());
    let shape = info.map_or_else(Shape::untyped, Shape::of);
    // kube's skip-non-applied manager: an object whose managedFields are empty (created with
    // nothing to own) does not start tracking on an update.
    if let Some(o) = old
        && read_entries(o).is_empty()
        && new
            .pointer("/metadata/managedFields")
            .is_none_or(|m| m.as_array().is_none_or(Vec::is_empty))
    {
        return;
    }
    // The main resource of a kind with a status subresource owns no status (the strategy
    // resets it), and the status subresource owns only status.
    let status_subresource = info.is_some_and(|i| i.status_subresource);
    let new_own = ownable(new, subresource, status_subresource);
    let new_set = owned_set(&new_own, &shape);
    let (mut changed, removed): (FieldSet, FieldSet) = match old {
        Some(o) => {
            let old_own = ownable(o, subresource, status_subresource);
            let mut old_set = owned_set(&old_own, &shape);
            old_set.extend(container_set(&old_own, &shape));
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
    // A map or list the update adds is a member itself (`.`), as structured-merge-diff's
    // compare records it; one that was there already is not.
    let old_own = old.map(|o| ownable(o, subresource, status_subresource));
    for path in container_set(&new_own, &shape) {
        // `metadata` itself is stripped, as the field manager strips it.
        if path == ["f:metadata", "."] {
            continue;
        }
        let absent_before = old_own
            .as_ref()
            .is_none_or(|o| get_path(o, node(&path)).is_none());
        if absent_before {
            changed.insert(path);
        }
    }
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
