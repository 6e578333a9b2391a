//! Ownership recorded for create, update and non-apply patches (operation Update).

use super::fieldset::*;
use super::managed_fields::{new_entry, read_entries, write_entries};
use super::owned::{ownable, owned_set};
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
    let new_own = ownable(new, subresource, false);
    let new_set = owned_set(&new_own, &shape);
    let (changed, removed): (FieldSet, FieldSet) = match old {
        Some(o) => {
            let old_own = ownable(o, subresource, false);
            let old_set = owned_set(&old_own, &shape);
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
