//! The admission chain every write passes through once, in kube-apiserver's order. For
//! now that is the kind's own admission: pruning, defaults, schema and CEL rules of custom
//! resources. Handlers `prepare` it before taking the store's lock and run it inside.

use crate::error::ApiError;
use crate::request::{RequestContext, Target};
use crate::server::Shared;
use crate::strategy;
use serde_json::Value;

pub struct Admission<'a> {
    ctx: &'a RequestContext,
    target: &'a Target,
}

impl<'a> Admission<'a> {
    /// Read what admission needs from outside the object. Call before `Store::mutate`.
    pub fn prepare(_shared: &Shared, ctx: &'a RequestContext, target: &'a Target) -> Self {
        Admission { ctx, target }
    }

    /// Admit a create (`old` is `None`) or an update; returns the warnings to send.
    pub fn admit(&self, obj: &mut Value, old: Option<&Value>) -> Result<Vec<String>, ApiError> {
        let info = &self.target.served.info;
        if self.target.subresource.is_none() || info.custom {
            strategy::admit(&self.target.served, self.ctx, obj, old)
        } else {
            Ok(Vec::new())
        }
    }
}
