//! Admission policies: `admissionregistration.k8s.io/v1` ValidatingAdmissionPolicy and
//! MutatingAdmissionPolicy with their bindings, compiled once into a snapshot that is
//! swapped after every committed write to those kinds. Admission reads only the
//! snapshot and what was read before the store's lock was taken (params, namespace).

pub mod cel_eval;
mod cel_source;
mod definition;
pub mod matching;
mod mutating;
pub(crate) mod objects;
pub mod params;
mod validating;

pub use matching::{Attributes, Operation};
pub use mutating::mutate;
pub use validating::validate;

use crate::resource::ResourceInfo;
use crate::store::Store;
use definition::{Binding, Causes, Definition};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex, RwLock};

pub const GROUP: &str = "admissionregistration.k8s.io";
const VAP: (&str, &str) = ("ValidatingAdmissionPolicy", "validatingadmissionpolicies");
const VAPB: (&str, &str) = (
    "ValidatingAdmissionPolicyBinding",
    "validatingadmissionpolicybindings",
);
const MAP: (&str, &str) = ("MutatingAdmissionPolicy", "mutatingadmissionpolicies");
const MAPB: (&str, &str) = (
    "MutatingAdmissionPolicyBinding",
    "mutatingadmissionpolicybindings",
);

/// Whether a resource is one of the four, whose writes rebuild the snapshot.
fn is_policy_resource(info: &ResourceInfo) -> bool {
    info.group == GROUP && [VAP.1, VAPB.1, MAP.1, MAPB.1].contains(&info.plural.as_str())
}

/// A compiled policy of either family with its bindings, sorted by name so that the
/// first denial reported is stable.
pub struct Compiled<T> {
    pub def: Definition,
    pub body: T,
    pub bindings: Vec<Binding>,
}

/// Every policy, compiled; what admission reads.
#[derive(Default)]
pub struct Snapshot {
    pub validating: Vec<Compiled<validating::Validations>>,
    pub mutating: Vec<Compiled<mutating::Mutations>>,
}

impl Snapshot {
    pub fn is_empty(&self) -> bool {
        self.validating.is_empty() && self.mutating.is_empty()
    }

    fn build(store: &Store) -> Snapshot {
        let list = |plural: &str| store.list_values(&(GROUP.to_string(), plural.to_string()), None);
        let vap_bindings = list(VAPB.1);
        let map_bindings = list(MAPB.1);
        let bindings_of = |all: &[Arc<Value>], policy: &str, validating: bool| {
            all.iter()
                .map(|b| Binding::compile(b, validating, &mut Causes::default()))
                .filter(|b| b.policy_name == policy)
                .collect::<Vec<_>>()
        };
        let mut snap = Snapshot::default();
        for p in list(VAP.1) {
            let mut causes = Causes::default();
            let (def, body) = validating::compile(&p, &mut causes);
            if causes.0.is_empty() {
                let bindings = bindings_of(&vap_bindings, &def.name, true);
                snap.validating.push(Compiled {
                    def,
                    body,
                    bindings,
                });
            } else {
                tracing::warn!(policy = %def.name, "stored ValidatingAdmissionPolicy does not compile; ignored");
            }
        }
        for p in list(MAP.1) {
            let mut causes = Causes::default();
            let (def, body) = mutating::compile(&p, &mut causes);
            if causes.0.is_empty() {
                let bindings = bindings_of(&map_bindings, &def.name, false);
                snap.mutating.push(Compiled {
                    def,
                    body,
                    bindings,
                });
            } else {
                tracing::warn!(policy = %def.name, "stored MutatingAdmissionPolicy does not compile; ignored");
            }
        }
        snap
    }
}

/// The current snapshot, swapped whole (readers never wait on a compile).
#[derive(Default)]
pub struct Policies {
    current: RwLock<Arc<Snapshot>>,
    /// Rebuilds are serialized, so the last one to finish has read the newest store.
    rebuilding: Mutex<()>,
}

impl Policies {
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Recompile from the store. Must not be called inside `Store::mutate`.
    pub fn rebuild(&self, store: &Store) {
        let _one_at_a_time = self.rebuilding.lock().unwrap_or_else(|e| e.into_inner());
        let snap = crate::contain::contain("policy snapshot", || Snapshot::build(store))
            .unwrap_or_default();
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(snap);
    }
}

/// The observer of committed writes: a write to any of the four kinds rebuilds the snapshot.
pub fn committed(policies: &Policies, store: &Store, info: &ResourceInfo) {
    if is_policy_resource(info) {
        policies.rebuild(store);
    }
}

/// The request as admission sees it, built once per request.
pub struct Request {
    pub operation: Operation,
    pub info: ResourceInfo,
    pub subresource: String,
    pub namespace: String,
    pub name: String,
    pub user: crate::auth::User,
    pub dry_run: bool,
    /// The request's Namespace, as `namespaceObject` shows it (null when cluster-scoped).
    pub namespace_object: Value,
}

impl Request {
    /// What one evaluation sees: the object as it stands, the old object, this request as
    /// CEL reads it (`request`, from `to_cel`), the binding's params and the namespace.
    pub fn inputs<'a>(
        &'a self,
        request: &'a Value,
        object: &'a Value,
        old_object: &'a Value,
        params: &'a Value,
    ) -> cel_eval::Inputs<'a> {
        cel_eval::Inputs {
            object,
            old_object,
            request,
            params,
            namespace_object: &self.namespace_object,
        }
    }

    pub fn attributes<'a>(&'a self, object: &'a Value, old_object: &'a Value) -> Attributes<'a> {
        Attributes {
            operation: self.operation,
            group: &self.info.group,
            version: &self.info.version,
            resource: &self.info.plural,
            subresource: &self.subresource,
            namespace: &self.namespace,
            name: &self.name,
            object,
            old_object,
            namespace_object: &self.namespace_object,
        }
    }

    /// The `request` variable (an AdmissionRequest).
    pub fn to_cel(&self) -> Value {
        let i = &self.info;
        let kind = json!({"group": i.group, "version": i.version, "kind": i.kind});
        let resource = json!({"group": i.group, "version": i.version, "resource": i.plural});
        let options = match self.operation {
            Operation::Create => "CreateOptions",
            Operation::Update => "UpdateOptions",
            Operation::Delete => "DeleteOptions",
        };
        json!({
            "uid": uuid::Uuid::new_v4().to_string(),
            "kind": kind, "resource": resource, "subResource": self.subresource,
            "requestKind": kind, "requestResource": resource, "requestSubResource": self.subresource,
            "name": self.name, "namespace": self.namespace,
            "operation": self.operation.as_str(),
            "userInfo": {"username": self.user.name, "uid": "", "groups": self.user.groups, "extra": {}},
            "dryRun": self.dry_run,
            "options": {"kind": options, "apiVersion": "meta.k8s.io/v1"},
        })
    }

    /// Policies never apply to the kinds exempt from them (the policy kinds themselves).
    fn exempt(&self) -> bool {
        self.info.strategy.exempt_from_policies()
    }
}

/// One policy × binding × param to evaluate, or why it cannot be.
pub enum Invocation<'s> {
    Run {
        binding: &'s Binding,
        params: Value,
    },
    ConfigError {
        binding: Option<&'s Binding>,
        message: String,
    },
}

/// The invocations of one policy for a request (k8s.io/apiserver's generic dispatcher):
/// the policy must match, then each binding, then each of its params.
pub fn invocations<'s>(
    def: &'s Definition,
    bindings: &'s [Binding],
    attrs: &Attributes<'_>,
    params: &params::Resolved,
) -> Vec<Invocation<'s>> {
    let mut out = Vec::new();
    if !def.constraints.matches(attrs, false) {
        return out;
    }
    for b in bindings {
        if !b.matches.as_ref().is_none_or(|m| m.matches(attrs, true)) {
            continue;
        }
        match params.for_binding(def, b) {
            Err(e) => out.push(Invocation::ConfigError {
                binding: Some(b),
                message: format!("failed to configure binding: {e}"),
            }),
            Ok(list) => out.extend(list.into_iter().map(|p| Invocation::Run {
                binding: b,
                params: p,
            })),
        }
    }
    out
}

/// `admission.NewForbidden`: `<resource>.<group> "<name>" is forbidden: <message>`.
fn forbidden(req: &Request, message: &str) -> crate::error::ApiError {
    let name = if req.name.is_empty() {
        "Unknown"
    } else {
        &req.name
    };
    crate::error::ApiError::new(
        403,
        "Forbidden",
        format!(
            "{} \"{name}\" is forbidden: {message}",
            req.info.qualified_name()
        ),
    )
    .with_details(&req.info.group, &req.info.plural, name)
}
