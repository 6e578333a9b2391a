//! The kinds served: the built-in ones (registered by their families, `crate::kinds`), and
//! every served version of each installed CustomResourceDefinition (with its schema
//! compiled once for admission).

use crate::apiextensions::CompiledSchema;
use crate::resource::ResourceInfo;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// A kind as served, with its compiled schema when it is a custom resource.
#[derive(Clone)]
pub struct Served {
    pub info: ResourceInfo,
    pub schema: Option<Arc<CompiledSchema>>,
    /// A CRD version's `selectableFields`, as field labels (`spec.color`).
    pub selectable_fields: Vec<String>,
}

#[derive(Clone, Default)]
pub struct Registry {
    inner: Arc<RwLock<Inner>>,
}

#[derive(Default)]
struct Inner {
    builtins: Vec<ResourceInfo>,
    /// CRD name → its served versions.
    custom: HashMap<String, Vec<Served>>,
}

impl Registry {
    /// A registry serving the given built-in kinds.
    pub fn new(builtins: Vec<ResourceInfo>) -> Self {
        let r = Registry::default();
        r.inner.write().unwrap_or_else(|e| e.into_inner()).builtins = builtins;
        r
    }

    /// Every served resource, built-ins first (for discovery and openapi).
    pub fn all(&self) -> Vec<ResourceInfo> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let mut v = inner.builtins.clone();
        let mut names: Vec<&String> = inner.custom.keys().collect();
        names.sort();
        for n in names {
            v.extend(inner.custom[n].iter().map(|s| s.info.clone()));
        }
        v
    }

    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<Served> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = inner
            .builtins
            .iter()
            .find(|i| i.group == group && i.version == version && i.plural == plural)
        {
            return Some(Served {
                info: i.clone(),
                schema: None,
                selectable_fields: Vec::new(),
            });
        }
        inner
            .custom
            .values()
            .flatten()
            .find(|s| s.info.group == group && s.info.version == version && s.info.plural == plural)
            .cloned()
    }

    /// The served resource of a kind (as a policy's `paramKind` names it).
    pub fn find_kind(&self, group: &str, version: &str, kind: &str) -> Option<ResourceInfo> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let matches = |i: &ResourceInfo| i.group == group && i.version == version && i.kind == kind;
        inner
            .builtins
            .iter()
            .find(|i| matches(i))
            .cloned()
            .or_else(|| {
                let mut names: Vec<&String> = inner.custom.keys().collect();
                names.sort();
                names
                    .into_iter()
                    .flat_map(|n| inner.custom[n].iter())
                    .map(|s| &s.info)
                    .find(|i| matches(i))
                    .cloned()
            })
    }

    pub fn register(&self, crd_name: &str, served: Vec<Served>) {
        self.inner
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .custom
            .insert(crd_name.to_string(), served);
    }

    pub fn unregister(&self, crd_name: &str) -> Option<Vec<Served>> {
        self.inner
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .custom
            .remove(crd_name)
    }
}
