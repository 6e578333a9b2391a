//! The admission chain every write passes through once, in kube-apiserver's order:
//! mutating admission policies; then the kind's validation (its strategy's rules, and for
//! custom resources pruning, defaults, schema and CEL rules); then validating admission
//! policies. The generic store `prepare`s it before taking the store's lock (that is when
//! params and the namespace are read) and runs it inside.

use super::decode::validate_admitted;
use super::prepare::prepare_update;
use crate::error::ApiError;
use crate::policy::params::{Resolved, Wanted};
use crate::policy::{self, Operation, Request, Snapshot};
use crate::request::{RequestContext, Target};
use crate::shared::Shared;
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) struct Admission<'a> {
    ctx: &'a RequestContext,
    target: &'a Target,
    snapshot: Arc<Snapshot>,
    params: Resolved,
    namespace_object: Value,
    dry_run: bool,
}

/// The request's Namespace as `namespaceObject` shows it (k8s `CreateNamespaceObject`).
fn as_namespace_object(ns: &Value) -> Value {
    // ObjectMeta but for selfLink, ownerReferences and managedFields.
    let keep = |k: &str| {
        crate::object_meta::OBJECT_META_FIELDS.contains(&k)
            && !matches!(k, "selfLink" | "ownerReferences" | "managedFields")
    };
    let meta: serde_json::Map<String, Value> = ns
        .get("metadata")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter(|(k, _)| keep(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    json!({
        "metadata": meta,
        "spec": ns.get("spec").cloned().unwrap_or(json!({})),
        "status": ns.get("status").cloned().unwrap_or(json!({})),
    })
}

impl<'a> Admission<'a> {
    /// Read what admission needs from outside the snapshot. Call before `Store::mutate`.
    pub fn prepare(shared: &Shared, ctx: &'a RequestContext, target: &'a Target) -> Self {
        let snapshot = shared.policies.snapshot();
        let info = &target.served.info;
        let mut params = Resolved::default();
        let mut namespace_object = Value::Null;
        if !snapshot.is_empty() && !info.strategy.exempt_from_policies() {
            if let Some(ns) = &target.namespace
                && let Some(o) = crate::kinds::namespace::get(&shared.store, ns)
            {
                namespace_object = as_namespace_object(&o);
            }
            let wanted = Wanted {
                group: &info.group,
                version: &info.version,
                resource: &info.plural,
                namespace: target.ns(),
            };
            params = Resolved::read(&shared.store, &shared.registry, &snapshot, &wanted);
        }
        Admission {
            ctx,
            target,
            snapshot,
            params,
            namespace_object,
            dry_run: ctx.dry_run(),
        }
    }

    /// A delete's dry run may also come from its DeleteOptions body.
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    fn request(&self, operation: Operation, object: &Value) -> Request {
        Request {
            operation,
            info: self.target.served.info.clone(),
            subresource: self.target.subresource.clone().unwrap_or_default(),
            namespace: self.target.ns().to_string(),
            name: crate::store::meta_str(object, "name")
                .unwrap_or_default()
                .to_string(),
            user: self.ctx.user.clone(),
            dry_run: self.dry_run,
            namespace_object: self.namespace_object.clone(),
        }
    }

    /// Admit a create (`old` is `None`) or an update; returns the warnings to send.
    pub fn admit(
        &self,
        operation: Operation,
        obj: &mut Value,
        old: Option<&Value>,
    ) -> Result<Vec<String>, ApiError> {
        let req = self.request(operation, obj);
        let null = Value::Null;
        let old_object = old.unwrap_or(&null);
        let before = (!self.snapshot.mutating.is_empty()).then(|| obj.clone());
        policy::mutate(&self.snapshot, &req, obj, old_object, &self.params)?;
        // What a mutation may not change on update (identity, status of a main-resource
        // write) is restored by the strategy, as when the real server prepares an update
        // after mutating admission.
        if let Some(old) = old
            && before.as_ref().is_some_and(|b| b != obj)
        {
            *obj = prepare_update(self.target, old, std::mem::take(obj))?;
        }
        validate_admitted(self.target, obj, old)?;
        policy::validate(&self.snapshot, &req, obj, old_object, &self.params)
    }

    /// Admit a delete of `old`: validating policies see `object` null.
    pub fn admit_delete(&self, old: &Value) -> Result<Vec<String>, ApiError> {
        let req = self.request(Operation::Delete, old);
        policy::validate(&self.snapshot, &req, &Value::Null, old, &self.params)
    }
}
