//! DELETE on a collection: every object the list options select, deleted one by one
//! through the generic store (each with its own preconditions, admission and finalizers).

use super::Call;
use crate::error::ApiError;
use crate::shared::Reply;
use serde_json::json;

/// The objects deleted (or marked for deletion), as a list of the kind.
pub fn handle(call: Call<'_>) -> Result<Reply, ApiError> {
    let (shared, ctx, target, body) = (call.shared, call.ctx, call.target, call.body);
    let filter = super::list::Filter::from_ctx(ctx, target)?;
    let (items, _) = shared
        .store
        .list(&target.bucket(), target.namespace.as_deref());
    let mut deleted = Vec::new();
    for o in items {
        if !filter.is_empty()
            && !filter.matches(&crate::generic_store::frozen_to_served(target, &o))
        {
            continue;
        }
        let name = o.name().to_string();
        let mut t = target.clone();
        if !o.namespace().is_empty() {
            t.namespace = Some(o.namespace().to_string());
        }
        if let Ok((r, _)) =
            crate::generic_store::delete(shared, ctx, &t, &name, &super::delete::options(body))
        {
            deleted.push(r.body);
        }
    }
    let info = &target.served.info;
    Ok(Reply::json(
        200,
        json!({"kind": info.list_kind, "apiVersion": info.api_version(), "metadata": {"resourceVersion": shared.store.current_rv().to_string()}, "items": super::list::list_items(info, deleted)}),
    ))
}
