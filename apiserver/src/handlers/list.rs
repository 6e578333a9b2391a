//! GET on a collection: selectors, limit/continue, and Table responses.

use super::continue_token::Continue;
use crate::contain::contain;
use crate::error::ApiError;
use crate::generic_store;
use crate::request::{RequestContext, Target};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::shared::{Reply, Shared};
use serde_json::{Value, json};

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
}

/// The real server's answer to a continue token whose snapshot left the history window.
const CONTINUE_EXPIRED: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

/// A list is a snapshot: the first page reads the store now, every continued page reads
/// it as it was at the first page's resourceVersion (kept in the token), as etcd does.
pub fn handle(shared: &Shared, ctx: &RequestContext, target: &Target) -> Result<Reply, ApiError> {
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
    let unseen = |o: &&std::sync::Arc<Value>| {
        after.as_ref().is_none_or(|(ans, aname)| {
            let key = (
                crate::store::meta_str(o, "namespace").unwrap_or_default(),
                crate::store::meta_str(o, "name").unwrap_or_default(),
            );
            key > (ans.as_str(), aname.as_str())
        })
    };
    let limit = ctx
        .param("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0);
    // Only what the page shows (and one more, to know whether a page follows) is converted to
    // its served shape: a paged list of N objects costs O(N) conversions, not O(N²/limit).
    let mut selected: Vec<Value> = items
        .iter()
        .filter(unseen)
        .map(|o| generic_store::to_served(target, o).into_owned())
        .filter(|o| filter.matches(o))
        .take(limit.map_or(usize::MAX, |l| l + 1))
        .collect();
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if let Some(limit) = limit
        && selected.len() > limit
    {
        selected.truncate(limit);
        let last = &selected[limit - 1];
        let token = Continue {
            rv,
            after: (
                crate::store::meta_str(last, "namespace")
                    .unwrap_or_default()
                    .to_string(),
                crate::store::meta_str(last, "name")
                    .unwrap_or_default()
                    .to_string(),
            ),
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
        return table_reply(ctx, target, &selected, metadata);
    }
    let info = &target.served.info;
    Ok(Reply::json(
        200,
        json!({"kind": info.list_kind, "apiVersion": info.api_version(), "metadata": metadata, "items": list_items(info, selected)}),
    ))
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
