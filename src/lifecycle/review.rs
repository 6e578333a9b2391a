//! Periodic review: due at `lastReviewed` (or activation) plus `reviewInterval`.

use k8s_openapi::jiff::civil::Date;
use k8s_openapi::jiff::tz::TimeZone;
use k8s_openapi::jiff::{SignedDuration, Timestamp};

use super::conditions;
use super::events::Events;
use super::reason;
use super::refusal::Refusal;
use crate::api::{Lifecycle, Phase, ServiceStatus};

/// The review state of a Service: when the next review is due, and the ReviewDue condition.
pub(crate) struct Review {
    pub due_at: Option<Timestamp>,
    pub condition: Result<(&'static str, String), Refusal>,
}

/// Periodic review, while Active, every `reviewInterval` or the platform's interval
/// (`required`), whichever is shorter.
pub(crate) fn assess(
    lifecycle: &Lifecycle,
    required: Option<SignedDuration>,
    phase: Phase,
    activated_at: Option<Timestamp>,
    now: Timestamp,
) -> Review {
    let due = if phase == Phase::Active {
        due_at(lifecycle, required, activated_at)
    } else {
        Ok(None)
    };
    let due_at = due.clone().ok().flatten();
    let condition = match (due, due_at) {
        (Err(refusal), _) => Err(refusal),
        (Ok(_), Some(due)) if due <= now => Ok((
            reason::REVIEW_DUE,
            format!("the periodic review was due at {due}"),
        )),
        (Ok(_), Some(due)) => Err(Refusal::review_not_due(format!(
            "the next review is due at {due}"
        ))),
        (Ok(_), None) => Err(Refusal::review_not_due(
            "no periodic review is scheduled".to_owned(),
        )),
    };
    Review { due_at, condition }
}

impl Review {
    /// One Event when the review falls due, or when the review settings turn invalid.
    pub fn announce(&self, previous: &ServiceStatus, events: &mut Events) {
        let type_ = conditions::REVIEW_DUE;
        match &self.condition {
            Ok((reason, message)) if !conditions::is_true(&previous.conditions, type_) => {
                events.push(false, reason, message.clone())
            }
            Err(refusal)
                if refusal.warning()
                    && !conditions::previous_reason_is(
                        &previous.conditions,
                        type_,
                        &refusal.reason,
                    ) =>
            {
                events.refused(refusal)
            }
            _ => {}
        }
    }
}

/// When the next review is due; `Ok(None)` when no review is scheduled.
pub(crate) fn due_at(
    lifecycle: &Lifecycle,
    required: Option<SignedDuration>,
    activated_at: Option<Timestamp>,
) -> Result<Option<Timestamp>, Refusal> {
    let own = match lifecycle.review_interval.as_deref() {
        Some(text) => {
            Some(parse_interval(text).ok_or_else(|| Refusal::invalid_review_interval(text))?)
        }
        None => None,
    };
    let interval = match (own, required) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => return Ok(None),
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    fn lifecycle(interval: &str, last_reviewed: Option<&str>) -> Lifecycle {
        Lifecycle {
            review_interval: Some(interval.to_owned()),
            last_reviewed: last_reviewed.map(str::to_owned),
            ..Lifecycle::default()
        }
    }

    #[test]
    fn a_review_is_due_an_interval_after_the_last_review_or_else_activation() {
        let activated: Timestamp = "2026-03-01T12:00:00Z".parse().unwrap();
        let due = |l: &Lifecycle| {
            due_at(l, None, Some(activated))
                .unwrap()
                .map(|t| t.to_string())
        };
        assert_eq!(
            due(&lifecycle("2w", None)).as_deref(),
            Some("2026-03-15T12:00:00Z")
        );
        assert_eq!(
            due(&lifecycle("1d", Some("2026-01-10"))).as_deref(),
            Some("2026-01-11T00:00:00Z")
        );
        assert_eq!(
            due_at(&Lifecycle::default(), None, Some(activated)),
            Ok(None)
        );
        assert_eq!(due_at(&lifecycle("90d", None), None, None), Ok(None));
        assert_eq!(
            due_at(&lifecycle("1d", Some("2026-13-01")), None, None)
                .unwrap_err()
                .reason,
            "InvalidLastReviewed"
        );
        assert_eq!(
            due_at(&lifecycle("1m", None), None, None)
                .unwrap_err()
                .reason,
            "InvalidReviewInterval"
        );
        assert!(
            parse_interval("99999w").is_some(),
            "large intervals do not overflow"
        );
    }

    #[test]
    fn the_shorter_of_the_services_and_the_platforms_review_interval_applies() {
        let activated: Timestamp = "2026-03-01T12:00:00Z".parse().unwrap();
        let week = Some(SignedDuration::from_hours(7 * 24));
        let due = |l: &Lifecycle, required| {
            due_at(l, required, Some(activated))
                .unwrap()
                .map(|t| t.to_string())
        };
        assert_eq!(
            due(&Lifecycle::default(), week).as_deref(),
            Some("2026-03-08T12:00:00Z"),
            "the platform's interval alone schedules a review"
        );
        assert_eq!(
            due(&lifecycle("2w", None), week).as_deref(),
            Some("2026-03-08T12:00:00Z"),
            "a longer interval of the Service's own does not push the review out"
        );
        assert_eq!(
            due(&lifecycle("1d", None), week).as_deref(),
            Some("2026-03-02T12:00:00Z")
        );
    }
}
