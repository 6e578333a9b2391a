//! POST on a collection: create (and the reviews, which only answer: SelfSubjectReview,
//! TokenReview, the authorization reviews).

use super::Call;
use super::decode_body;
use crate::error::ApiError;
use crate::shared::Reply;

pub fn handle(call: Call<'_>) -> Result<Reply, ApiError> {
    let (shared, ctx, target, body) = (call.shared, call.ctx, call.target, call.body);
    let obj = decode_body(ctx, body)?;
    if crate::token_review::is_self_subject_review(target) {
        return Ok(crate::token_review::answer_self(&ctx.user, target));
    }
    if crate::token_review::is_token_review(target) {
        return crate::token_review::answer(&shared.auth, target, obj);
    }
    if crate::authz::review::is_review(target) {
        return crate::authz::review::answer(shared, ctx, target, obj);
    }
    crate::generic_store::create(shared, ctx, target, obj)
}
