//! GET on a collection: selectors, limit/continue, and Table responses.

use super::continue_token::Continue;
use crate::contain::contain;
use crate::error::ApiError;
use crate::generic_store;
use crate::request::{RequestContext, Target, json_bytes_response};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::shared::{Reply, Shared};
use crate::store::Frozen;
use axum::response::Response;
use serde_json::{Value, json};
use std::sync::Arc;

pub use crate::table::TABLE_CONTENT_TYPE;

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
    pub fn from_ctx(ctx: &RequestContext, target: &Target) -> Result<Self, ApiError> {
        let filter = Filter {
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
        };
        // The field label conversion of the kind, as the list and watch handlers run it.
        if let Some(label) = filter
            .fields
            .iter()
            .flat_map(FieldSelector::labels)
            .find(|l| {
                !target
                    .served
                    .info
                    .strategy
                    .field_label_supported(l, &target.served.selectable_fields)
            })
        {
            return Err(ApiError::bad_request(format!(
                "field label not supported: {label}"
            )));
        }
        Ok(filter)
    }

    /// No selector at all (the list's `remainingItemCount` is known only then).
    pub fn is_empty(&self) -> bool {
        self.labels.is_none() && self.fields.is_none()
    }

    /// Whether an object in its served shape is selected.
    pub fn matches(&self, obj: &Value) -> bool {
        self.labels.as_ref().is_none_or(|l| l.matches(obj))
            && self.fields.as_ref().is_none_or(|f| f.matches(obj))
    }

    /// Whether a stored object is selected, read from its labels alone when a label selector
    /// is all there is and the object is served as stored; else from its served shape.
    pub fn selects(&self, target: &Target, stored: &Frozen) -> bool {
        match (&self.labels, &self.fields) {
            (None, None) => true,
            (Some(labels), None) if generic_store::served_json(target, stored).is_some() => {
                labels.matches(&stored.labels_only())
            }
            _ => self.matches(&generic_store::frozen_to_served(target, stored)),
        }
    }
}

/// The real server's answer to a continue token whose snapshot left the history window.
const CONTINUE_EXPIRED: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

/// A list is a snapshot: the first page reads the store now, every continued page reads
/// it as it was at the first page's resourceVersion (kept in the token), as etcd does.
pub fn handle(
    shared: &Shared,
    ctx: &RequestContext,
    target: &Target,
) -> Result<Response, ApiError> {
    super::list_options::check(ctx, false)?;
    let filter = Filter::from_ctx(ctx, target)?;
    let bucket = target.bucket();
    let ns = target.namespace.as_deref();
    let (items, rv, after) = match ctx.param("continue").filter(|c| !c.is_empty()) {
        None => {
            let (items, rv) = shared.store.list(&bucket, ns);
            (items, rv, None)
        }
        Some(token) => {
            if ctx
                .param("resourceVersion")
                .is_some_and(|rv| !rv.is_empty() && rv != "0")
            {
                return Err(ApiError::bad_request(
                    "specifying resource version is not allowed when using continue",
                ));
            }
            let token = Continue::decode(token)?;
            let items = shared
                .store
                .list_at(&bucket, ns, token.rv)
                .ok_or_else(|| ApiError::new(410, "Expired", CONTINUE_EXPIRED))?;
            (items, token.rv, Some(token.after))
        }
    };
    let unseen = |o: &&Arc<Frozen>| {
        after
            .as_ref()
            .is_none_or(|(ans, aname)| (o.namespace(), o.name()) > (ans.as_str(), aname.as_str()))
    };
    let limit = ctx
        .param("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0);
    // Only what the page shows (and one more, to know whether a page follows) is read: a paged
    // list of N objects costs O(N) parses, not O(N²/limit); with no selector, none at all.
    let mut selected: Vec<&Arc<Frozen>> = items
        .iter()
        .filter(unseen)
        .filter(|o| filter.selects(target, o))
        .take(limit.map_or(usize::MAX, |l| l + 1))
        .collect();
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if let Some(limit) = limit
        && selected.len() > limit
    {
        selected.truncate(limit);
        let last = selected[limit - 1];
        let token = Continue {
            rv,
            after: (last.namespace().to_string(), last.name().to_string()),
        };
        metadata["continue"] = json!(token.encode());
        // The API conventions: not set when the list has a label or field selector (and only
        // then is it a plain count of the objects after this page).
        if filter.is_empty() {
            let remaining = items.iter().filter(unseen).count() - limit;
            metadata["remainingItemCount"] = json!(remaining);
        }
    }
    if wants_table(ctx) {
        let objects: Vec<Value> = selected
            .into_iter()
            .map(|o| generic_store::frozen_to_served(target, o))
            .collect();
        return table_reply(ctx, target, &objects, metadata).map(Reply::into_response);
    }
    Ok(list_response(target, selected, &metadata))
}

/// The list as JSON, written as `serde_json` writes the list's `Value` (keys sorted), with the
/// items served as stored spliced in unparsed.
fn list_response(target: &Target, selected: Vec<&Arc<Frozen>>, metadata: &Value) -> Response {
    let info = &target.served.info;
    let string = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut body =
        String::with_capacity(selected.iter().map(|o| o.json().len() + 1).sum::<usize>() + 256);
    body.push_str("{\"apiVersion\":");
    body.push_str(&string(&info.api_version()));
    body.push_str(",\"items\":[");
    for (i, o) in selected.into_iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        // A custom resource list's items keep their apiVersion and kind (list_items).
        match generic_store::served_json(target, o).filter(|_| info.custom) {
            Some(json) => body.push_str(json),
            None => {
                let served = generic_store::frozen_to_served(target, o);
                let item = list_items(info, vec![served]).pop().unwrap_or_default();
                body.push_str(&serde_json::to_string(&item).unwrap_or_default());
            }
        }
    }
    body.push_str("],\"kind\":");
    body.push_str(&string(&info.list_kind));
    body.push_str(",\"metadata\":");
    body.push_str(&serde_json::to_string(metadata).unwrap_or_default());
    body.push('}');
    json_bytes_response(200, body.into_bytes(), "application/json", &[])
}

/// A typed list's items carry no apiVersion and kind (the list's TypeMeta says them); a
/// custom resource list is unstructured and every item keeps its own.
pub fn list_items(info: &crate::resource::ResourceInfo, mut items: Vec<Value>) -> Vec<Value> {
    if !info.custom {
        for item in &mut items {
            if let Some(o) = item.as_object_mut() {
                o.remove("apiVersion");
                o.remove("kind");
            }
        }
    }
    items
}
