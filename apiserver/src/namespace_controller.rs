//! The namespace controller, as kube-controller-manager's: for every namespace being
//! terminated, delete all its content through the normal delete path (objects with
//! finalizers stay until those are removed), report progress in the namespace's
//! conditions, and once it is empty remove the `kubernetes` finalizer (finalize), which
//! removes the namespace.

use crate::generic_store::{self, Updated};
use crate::kinds::namespace;
use crate::object_meta::{finalizers, now_rfc3339};
use crate::request::{RequestContext, Target};
use crate::resource::ResourceInfo;
use crate::shared::Shared;
use crate::store::meta_str;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// The observer of committed writes: a namespace changed, or something in one went away
/// (or was marked for deletion), wakes the controller.
pub fn committed(shared: &Shared, info: &ResourceInfo, _obj: &Value, deleted: bool) {
    let is_namespace = info.group.is_empty() && info.plural == "namespaces";
    if is_namespace || (info.namespaced && deleted) {
        shared.namespace_changes.notify_one();
    }
}

/// The field manager of the controller's writes, as kube-controller-manager's, and the name of
/// the ServiceAccount it writes as (admission policies see that user).
const MANAGER: &str = "namespace-controller";

/// Run the controller until `stop`.
pub fn spawn(shared: Arc<Shared>, stop: CancellationToken) {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = shared.namespace_changes.notified() => {}
            }
            sync_all(&shared);
        }
    });
}

fn sync_all(shared: &Shared) {
    let all = shared.store.list_values(&namespace::bucket(), None);
    for ns in all.iter().filter(|n| namespace::is_terminating(n)) {
        if let Some(name) = meta_str(ns, "name") {
            sync(shared, name);
        }
    }
}

/// What is left in a namespace after a deletion pass.
#[derive(Default)]
struct Remaining {
    /// `<plural>.<group>` → objects.
    by_resource: BTreeMap<String, usize>,
    /// finalizer → objects carrying it.
    by_finalizer: BTreeMap<String, usize>,
    /// Delete failures, one message each.
    errors: BTreeSet<String>,
}

/// One target per stored bucket of namespaced kinds (core and events.k8s.io Events share one).
fn namespaced_targets(shared: &Shared, ns: &str) -> Vec<Target> {
    let mut seen = BTreeSet::new();
    let mut targets = Vec::new();
    for info in shared.registry.all() {
        if !info.namespaced {
            continue;
        }
        let Some(served) = shared
            .registry
            .find(&info.group, &info.version, &info.plural)
        else {
            continue;
        };
        let target = Target {
            served,
            namespace: Some(ns.to_string()),
            name: None,
            subresource: None,
        };
        if seen.insert(target.bucket()) {
            targets.push(target);
        }
    }
    targets
}

fn delete_content(shared: &Shared, ns: &str) -> Remaining {
    let ctx = RequestContext::controller(MANAGER);
    let mut left = Remaining::default();
    for target in namespaced_targets(shared, ns) {
        let bucket = target.bucket();
        let items = shared.store.list_values(&bucket, Some(ns));
        for o in items
            .iter()
            .filter(|o| o.pointer("/metadata/deletionTimestamp").is_none())
        {
            let name = meta_str(o, "name").unwrap_or_default();
            if let Err(e) = generic_store::delete(shared, &ctx, &target, name, &json!({}))
                && e.code != 404
            {
                left.errors.insert(e.message);
            }
        }
        let items = shared.store.list_values(&bucket, Some(ns));
        if items.is_empty() {
            continue;
        }
        let info = &target.served.info;
        left.by_resource
            .insert(format!("{}.{}", info.plural, info.group), items.len());
        for o in &items {
            for f in finalizers(o) {
                *left.by_finalizer.entry(f).or_default() += 1;
            }
        }
    }
    left
}

/// The five conditions the deleter maintains, as (type, status, reason, message).
fn conditions(left: &Remaining) -> Vec<(&'static str, &'static str, String, String)> {
    let ok = |t, reason: &str, message: &str| (t, "False", reason.into(), message.into());
    let mut out = vec![
        ok(
            "NamespaceDeletionDiscoveryFailure",
            "ResourcesDiscovered",
            "All resources successfully discovered",
        ),
        ok(
            "NamespaceDeletionGroupVersionParsingFailure",
            "ParsedGroupVersions",
            "All legacy kube types successfully parsed",
        ),
    ];
    out.push(if left.errors.is_empty() {
        ok(
            "NamespaceDeletionContentFailure",
            "ContentDeleted",
            "All content successfully deleted, may be waiting on finalization",
        )
    } else {
        let msgs: Vec<&str> = left.errors.iter().map(String::as_str).collect();
        (
            "NamespaceDeletionContentFailure",
            "True",
            "ContentDeletionFailed".into(),
            format!(
                "Failed to delete all resource types, {} remaining: {}",
                msgs.len(),
                msgs.join(", ")
            ),
        )
    });
    out.push(if left.by_resource.is_empty() {
        ok(
            "NamespaceContentRemaining",
            "ContentRemoved",
            "All content successfully removed",
        )
    } else {
        let mut parts: Vec<String> = left
            .by_resource
            .iter()
            .map(|(r, n)| format!("{r} has {n} resource instances"))
            .collect();
        parts.sort();
        (
            "NamespaceContentRemaining",
            "True",
            "SomeResourcesRemain".into(),
            format!("Some resources are remaining: {}", parts.join(", ")),
        )
    });
    out.push(if left.by_finalizer.is_empty() {
        ok(
            "NamespaceFinalizersRemaining",
            "ContentRemoved",
            "All content successfully removed",
        )
    } else {
        let mut parts: Vec<String> = left
            .by_finalizer
            .iter()
            .map(|(f, n)| format!("{f} in {n} resource instances"))
            .collect();
        parts.sort();
        (
            "NamespaceFinalizersRemaining",
            "True",
            "SomeFinalizerRemain".into(),
            format!("Some finalizers are remaining: {}", parts.join(", ")),
        )
    });
    out
}

/// The namespace's status with the deleter's conditions merged in (a condition keeps its
/// lastTransitionTime unless its status changes).
fn with_conditions(ns: &Value, left: &Remaining) -> Value {
    let mut next = ns.clone();
    let mut list: Vec<Value> = ns
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let now = now_rfc3339();
    for (t, status, reason, message) in conditions(left) {
        let fresh = json!({"type": t, "status": status, "lastTransitionTime": now, "reason": reason, "message": message});
        match list.iter_mut().find(|c| c["type"] == t) {
            None => list.push(fresh),
            Some(c) => {
                if c["status"] != status {
                    c["lastTransitionTime"] = json!(now);
                }
                c["status"] = json!(status);
                c["reason"] = json!(reason);
                c["message"] = json!(message);
            }
        }
    }
    next["status"]["conditions"] = json!(list);
    next
}

fn sync(shared: &Shared, name: &str) {
    let left = delete_content(shared, name);
    let empty = left.by_resource.is_empty() && left.errors.is_empty();
    let Some(served) = shared.registry.find("", "v1", "namespaces") else {
        return;
    };
    let target = Target {
        served,
        namespace: None,
        name: Some(name.to_string()),
        subresource: Some("finalize".into()),
    };
    let ctx = RequestContext::controller(MANAGER);
    // A namespace gone meanwhile is simply not written.
    let _ = generic_store::update(shared, &ctx, &target, name, false, |cur| {
        let mut object = with_conditions(cur.unwrap_or(&Value::Null), &left);
        let finalizers = namespace::spec_finalizers(&object);
        if empty && finalizers.iter().any(|f| f == namespace::FINALIZER) {
            let rest: Vec<String> = finalizers
                .into_iter()
                .filter(|f| f != namespace::FINALIZER)
                .collect();
            if !object.get("spec").is_some_and(Value::is_object) {
                object["spec"] = json!({});
            }
            object["spec"]["finalizers"] = json!(rest);
        }
        Ok(Updated {
            object,
            record: false,
        })
    });
}
