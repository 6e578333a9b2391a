//! What an update stores once prepared and admitted: nothing for a no-op, a generation
//! bump on a change outside metadata and status, removal when the last finalizer of a
//! deleting object goes.

use crate::object_meta::{finalizers, generation, meta_mut};
use crate::resource::ResourceInfo;
use crate::store::Outcome;
use serde_json::{Value, json};

/// Comparable form: without resourceVersion and managedFields timestamps.
fn normalized(obj: &Value) -> Value {
    let mut o = obj.clone();
    if let Some(m) = o.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("resourceVersion");
        if let Some(Value::Array(mf)) = m.get_mut("managedFields") {
            for e in mf.iter_mut() {
                if let Some(e) = e.as_object_mut() {
                    e.remove("time");
                }
            }
        }
    }
    o
}

/// What a generation counts: everything but metadata, and but status unless `with_status`.
fn generation_content(obj: &Value, with_status: bool) -> Value {
    let mut o = obj.clone();
    if let Some(m) = o.as_object_mut() {
        m.remove("metadata");
        if !with_status {
            m.remove("status");
        }
        m.remove("resourceVersion");
    }
    o
}

/// Decide what an update stores: nothing for a no-op; generation +1 on a spec change
/// (for kinds that carry a generation: those whose create stamped one), and on a status
/// change too when the kind says it counts (custom resources without a status subresource:
/// any non-metadata change does); removal when a deleting object's last finalizer is gone
/// and the kind holds it no more (`ShouldDeleteDuringUpdate`).
pub(super) fn finish_update(info: &ResourceInfo, old: &Value, mut new: Value) -> Outcome {
    let status_counts = info.strategy.status_counts_for_generation(info);
    if normalized(old) == normalized(&new) {
        return Outcome::Unchanged(old.clone());
    }
    if generation(old) > 0
        && generation_content(old, status_counts) != generation_content(&new, status_counts)
    {
        meta_mut(&mut new).insert("generation".into(), json!(generation(old) + 1));
    }
    if new.pointer("/metadata/deletionTimestamp").is_some()
        && finalizers(&new).is_empty()
        && info.strategy.finalized(&new)
    {
        return Outcome::Delete(new);
    }
    Outcome::Write(new)
}
