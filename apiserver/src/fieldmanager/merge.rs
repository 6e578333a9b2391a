//! The merge of an applied configuration into an object, with the schema's list and map
//! types (structured-merge-diff `merge`): granular maps merge per key, atomic maps and lists
//! are replaced, sets gain the applied values, map lists merge item by item on their keys.

use super::schema::{ListType, Shape, item_token};
use crate::resource::ResourceInfo;
use serde_json::{Map, Value};

/// Merge an applied configuration into `target` with `info`'s schema (also how a
/// MutatingAdmissionPolicy's `ApplyConfiguration` is merged).
pub(crate) fn apply_merge(target: &mut Value, applied: &Value, info: &ResourceInfo) {
    merge(target, applied, &Shape::of(info));
}

pub(crate) fn merge(target: &mut Value, applied: &Value, shape: &Shape<'_>) {
    match applied {
        Value::Object(am) if !shape.map_atomic() => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            let Some(tm) = target.as_object_mut() else {
                return;
            };
            for (k, v) in am {
                match tm.get_mut(k) {
                    Some(t) if v.is_object() || v.is_array() => merge(t, v, &shape.field(k).0),
                    _ => {
                        tm.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        Value::Array(items) => {
            let list_type = shape.list_type();
            let Some(list) = target
                .as_array_mut()
                .filter(|_| list_type != ListType::Atomic)
            else {
                *target = applied.clone();
                return;
            };
            let item_shape = shape.item();
            for item in items {
                let token = item_token(&list_type, item);
                let existing = list.iter_mut().find(|x| item_token(&list_type, x) == token);
                match existing {
                    Some(x) if matches!(list_type, ListType::Map(_)) => merge(x, item, &item_shape),
                    Some(_) => {}
                    None => list.push(item.clone()),
                }
            }
        }
        _ => *target = applied.clone(),
    }
}
