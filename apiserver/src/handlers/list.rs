//! GET on a collection: selectors, limit/continue, and Table responses.

use crate::contain::contain;
use crate::error::ApiError;
use crate::request::{RequestContext, Target};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::server::{Reply, Shared};
use crate::strategy;
use serde_json::{Value, json};

pub const TABLE_CONTENT_TYPE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io";

pub fn wants_table(ctx: &RequestContext) -> bool {
    !ctx.accept.is_empty()
        && contain("table::wants_table", || {
            crate::table::wants_table(&ctx.accept)
        })
        .unwrap_or(false)
}

pub fn table_reply(
    ctx: &RequestContext,
    target: &Target,
    objects: &[Value],
    list_meta: Value,
) -> Result<Reply, ApiError> {
    let table = contain("table::to_table_including", || {
        crate::table::to_table_including(
            &target.served.info,
            objects,
            list_meta,
            chrono::Utc::now(),
            ctx.param("includeObject"),
        )
    })?;
    let mut r = Reply::json(200, table);
    r.content_type = TABLE_CONTENT_TYPE.into();
    Ok(r)
}

/// The selectors of a list or watch request.
pub struct Filter {
    labels: Option<LabelSelector>,
    fields: Option<FieldSelector>,
}

impl Filter {
    pub fn from_ctx(ctx: &RequestContext) -> Result<Self, ApiError> {
        Ok(Filter {
            labels: ctx
                .param("labelSelector")
                .filter(|s| !s.is_empty())
                .map(LabelSelector::parse)
                .transpose()?,
            fields: ctx
                .param("fieldSelector")
                .filter(|s| !s.is_empty())
                .map(FieldSelector::parse)
                .transpose()?,
        })
    }

    /// Whether an object in its served shape is selected.
    pub fn matches(&self, obj: &Value) -> bool {
        self.labels.as_ref().is_none_or(|l| l.matches(obj))
            && self.fields.as_ref().is_none_or(|f| f.matches(obj))
    }
}

pub fn handle(shared: &Shared, ctx: &RequestContext, target: &Target) -> Result<Reply, ApiError> {
    let filter = Filter::from_ctx(ctx)?;
    let (items, rv) = shared
        .store
        .list(&target.bucket(), target.namespace.as_deref());
    let mut selected: Vec<Value> = items
        .iter()
        .map(|o| strategy::to_served(target, o))
        .filter(|o| filter.matches(o))
        .collect();
    // continue token: "<namespace>/<name>" of the last item returned
    if let Some(token) = ctx.param("continue").filter(|c| !c.is_empty()) {
        let (cns, cname) = token
            .split_once('/')
            .ok_or_else(|| ApiError::bad_request("invalid continue token"))?;
        selected.retain(|o| {
            let key = (
                crate::store::meta_str(o, "namespace").unwrap_or_default(),
                crate::store::meta_str(o, "name").unwrap_or_default(),
            );
            key > (cns, cname)
        });
    }
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if let Some(limit) = ctx
        .param("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0)
        && selected.len() > limit
    {
        let remaining = selected.len() - limit;
        selected.truncate(limit);
        let last = &selected[limit - 1];
        metadata["continue"] = json!(format!(
            "{}/{}",
            crate::store::meta_str(last, "namespace").unwrap_or_default(),
            crate::store::meta_str(last, "name").unwrap_or_default()
        ));
        metadata["remainingItemCount"] = json!(remaining);
    }
    if wants_table(ctx) {
        return table_reply(ctx, target, &selected, metadata);
    }
    let info = &target.served.info;
    Ok(Reply::json(
        200,
        json!({"kind": info.list_kind, "apiVersion": info.api_version(), "metadata": metadata, "items": selected}),
    ))
}
