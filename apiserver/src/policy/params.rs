//! Params of bindings with a `paramRef`, read from the store per request BEFORE the
//! store's lock is taken (admission runs under it, and must not read the store). Only
//! the policies that could concern the requested resource have their params read; a
//! param written between this read and the commit is seen by the next request, as an
//! informer-fed real server would.

use super::Snapshot;
use super::definition::{Binding, Definition, ParamRef};
use crate::registry::Registry;
use crate::store::Store;
use serde_json::Value;
use std::collections::HashMap;

/// `(validating, policy, binding)`
type Key = (bool, String, String);

#[derive(Default)]
pub struct Resolved {
    by_binding: HashMap<Key, Result<Vec<Value>, String>>,
}

/// What is requested, for choosing which params to read.
pub struct Wanted<'a> {
    pub group: &'a str,
    pub version: &'a str,
    pub resource: &'a str,
    /// The request's namespace (`""` when cluster-scoped).
    pub namespace: &'a str,
}

impl Resolved {
    pub fn read(store: &Store, registry: &Registry, snap: &Snapshot, w: &Wanted<'_>) -> Resolved {
        let mut by_binding = HashMap::new();
        let families = snap
            .validating
            .iter()
            .map(|c| (&c.def, &c.bindings))
            .chain(snap.mutating.iter().map(|c| (&c.def, &c.bindings)));
        for (def, bindings) in families {
            let Some(kind) = &def.param_kind else {
                continue;
            };
            if !def.constraints.may_concern(w.group, w.version, w.resource) {
                continue;
            }
            for b in bindings {
                if let Some(p) = &b.param_ref {
                    let key = (b.validating, def.name.clone(), b.name.clone());
                    by_binding.insert(key, read_one(store, registry, kind, p, w.namespace));
                }
            }
        }
        Resolved { by_binding }
    }

    /// The params to evaluate a binding with: one null when the policy or binding uses
    /// none; empty when none were found and `parameterNotFoundAction` is `Allow`.
    pub fn for_binding(&self, def: &Definition, b: &Binding) -> Result<Vec<Value>, String> {
        if def.param_kind.is_none() || b.param_ref.is_none() {
            return Ok(vec![Value::Null]);
        }
        self.by_binding
            .get(&(b.validating, def.name.clone(), b.name.clone()))
            .cloned()
            .unwrap_or_else(|| Err("params were not read for this request".into()))
    }
}

fn read_one(
    store: &Store,
    registry: &Registry,
    (api_version, kind): &(String, String),
    p: &ParamRef,
    request_namespace: &str,
) -> Result<Vec<Value>, String> {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let info = registry
        .find_kind(group, version, kind)
        .ok_or_else(|| format!("paramKind kind `{api_version}, Kind={kind}` not known"))?;
    let namespace = if info.namespaced {
        match (&p.namespace, request_namespace) {
            (Some(ns), _) => ns.clone(),
            (None, "") => {
                return Err("cannot use namespaced paramRef in policy binding that matches cluster-scoped resources".into());
            }
            (None, ns) => ns.to_string(),
        }
    } else if p.namespace.is_some() {
        return Err(
            "paramRef.namespace must not be provided for a cluster-scoped `paramKind`".into(),
        );
    } else {
        String::new()
    };
    let bucket = info.bucket();
    let found: Vec<Value> = match (&p.name, &p.selector) {
        (Some(name), _) => store.get(&bucket, &namespace, name).into_iter().collect(),
        (None, selector) => store
            .list(&bucket, Some(&namespace))
            .0
            .iter()
            .map(|o| o.value())
            .filter(|o| selector.as_ref().is_none_or(|s| s.matches_object(o)))
            .collect(),
    };
    if found.is_empty() && p.deny_if_missing {
        return Err(
            "no params found for policy binding with `Deny` parameterNotFoundAction".into(),
        );
    }
    Ok(found
        .into_iter()
        .map(|mut o| {
            if let Some(m) = o.as_object_mut() {
                m.insert("apiVersion".into(), Value::String(info.api_version()));
                m.insert("kind".into(), Value::String(info.kind.clone()));
            }
            o
        })
        .collect())
}
