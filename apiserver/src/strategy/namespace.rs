//! Namespaces: created Active; deleting one deletes everything in it.

use super::Strategy;
use crate::request::Target;
use crate::shared::Shared;
use serde_json::{Value, json};

pub struct Namespace;

impl Strategy for Namespace {
    fn prepare_for_create(&self, _target: &Target, obj: &mut Value) {
        obj["status"] = json!({"phase": "Active"});
    }

    fn after_delete(&self, shared: &Shared, name: &str) {
        delete_contents(shared, name);
    }
}

/// Everything in a deleted namespace goes too.
fn delete_contents(shared: &Shared, ns: &str) {
    for info in shared.registry.all() {
        if !info.namespaced || (info.group.is_empty() && info.plural == "events") {
            continue;
        }
        let bucket = (info.group.clone(), info.plural.clone());
        let (items, _) = shared.store.list(&bucket, Some(ns));
        for o in items {
            let name = crate::store::meta_str(&o, "name")
                .unwrap_or_default()
                .to_string();
            let _ = shared.store.mutate(&bucket, ns, &name, false, |cur, _| {
                Ok(crate::store::Outcome::Delete(
                    cur.cloned().unwrap_or_default(),
                ))
            });
        }
    }
    // Its Roles and RoleBindings went with it.
    crate::authz::refresh(shared);
}
