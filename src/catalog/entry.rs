//! One catalog entry: what a consumer needs to know about one Active Service. `content` is the
//! approved snapshot (never unapproved content) with what the owner keeps current outside the
//! revision (categories, contact) and without the approval process's own fields; `provenance`
//! says which revision it is, who approved it and when. Absent fields are omitted, never null.

use serde_json::{Map, Value, json};

use super::compute::key_of;
use crate::api::{Phase, Service};

/// Fields of the approvable content that are about the approval process, not the service.
const PROCESS_FIELDS: &[&str] = &["approvers", "requiredApprovals"];

/// The catalog entry of one Service, if it is published: `(key, pretty JSON with sorted keys)`.
pub fn entry(service: &Service) -> Option<(String, String)> {
    let status = service.status.as_ref()?;
    if status.phase != Some(Phase::Active) {
        return None;
    }
    let snapshot = status.snapshot.as_ref()?;
    let namespace = service.metadata.namespace.as_deref()?;
    let name = service.metadata.name.as_deref()?;

    let mut approved = snapshot.content.clone();
    // A consumer follows a dependency by namespace and name: fill in the namespace.
    if let Some(model) = approved.model.as_mut() {
        for dep in &mut model.depends_on {
            *dep = dep.resolved_in(namespace);
        }
    }
    let Value::Object(mut content) = serde_json::to_value(&approved).ok()? else {
        return None;
    };
    for field in PROCESS_FIELDS {
        content.remove(*field);
    }
    if !service.spec.categories.is_empty() {
        content.insert(
            "categories".into(),
            serde_json::to_value(&service.spec.categories).ok()?,
        );
    }

    let mut provenance = Map::new();
    provenance.insert("revision".into(), json!(snapshot.revision));
    provenance.insert("approvedBy".into(), json!(snapshot.approved_by));
    provenance.insert("approvedAt".into(), json!(snapshot.approved_at));
    if let Some(at) = &status.activated_at {
        provenance.insert("activatedAt".into(), json!(at));
        // The catalog serves a revision from when it is both approved and Active.
        let published = if at.0 > snapshot.approved_at.0 {
            at
        } else {
            &snapshot.approved_at
        };
        provenance.insert("publishedAt".into(), json!(published));
    }
    if let Some(due) = &status.review_due_at {
        provenance.insert("reviewDueAt".into(), json!(due));
    }

    // serde_json's Map is a BTreeMap (no `preserve_order`), so keys come out sorted.
    let value = json!({
        "service": { "namespace": namespace, "name": name },
        "content": content,
        "provenance": provenance,
    });
    let text = serde_json::to_string_pretty(&value).ok()?;
    Some((key_of(namespace, name), text + "\n"))
}
