//! Periodic review: due at `lastReviewed` (or activation) plus `reviewInterval`.

use k8s_openapi::jiff::civil::Date;
use k8s_openapi::jiff::tz::TimeZone;
use k8s_openapi::jiff::{SignedDuration, Timestamp};

use super::refusal::Refusal;
use crate::api::Lifecycle;

/// When the next review is due; `Ok(None)` when no review is scheduled.
pub(crate) fn due_at(
    lifecycle: &Lifecycle,
    activated_at: Option<Timestamp>,
) -> Result<Option<Timestamp>, Refusal> {
    let Some(interval) = lifecycle.review_interval.as_deref() else {
        return Ok(None);
    };
    let interval =
        parse_interval(interval).ok_or_else(|| Refusal::invalid_review_interval(interval))?;
    let base = match lifecycle.last_reviewed.as_deref() {
        Some(date) => Some(parse_date(date).ok_or_else(|| Refusal::invalid_last_reviewed(date))?),
        None => activated_at,
    };
    Ok(base.and_then(|b| b.checked_add(interval).ok()))
}

/// `90d`, `12w`, `36h`.
pub fn parse_interval(s: &str) -> Option<SignedDuration> {
    let unit = s.chars().last()?;
    let hours_per_unit = match unit {
        'h' => 1,
        'd' => 24,
        'w' => 24 * 7,
        _ => return None,
    };
    let digits = &s[..s.len() - 1];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = digits.parse().ok()?;
    if n <= 0 {
        return None;
    }
    Some(SignedDuration::from_hours(
        n.checked_mul(hours_per_unit)?.min(1_000_000),
    ))
}

fn parse_date(s: &str) -> Option<Timestamp> {
    let date: Date = s.parse().ok()?;
    Some(date.to_zoned(TimeZone::UTC).ok()?.timestamp())
}
