//! Periodic review: due `reviewInterval` after `lastReviewed` or the last recorded review (or
//! else activation), and the platform's interval after the last recorded review (or activation):
//! whichever comes first. A `lastReviewed` date in the future is ignored: it would push the
//! review out.

use k8s_openapi::jiff::civil::Date;
use k8s_openapi::jiff::tz::TimeZone;
use k8s_openapi::jiff::{SignedDuration, Timestamp};

use super::conditions;
use super::events::Events;
use super::reason;
use super::refusal::Refusal;
use crate::api::{LastReview, Lifecycle, Phase, ServiceStatus};

/// The review state of a Service: when the next review is due, and the ReviewDue condition.
pub(crate) struct Review {
    pub due_at: Option<Timestamp>,
    pub condition: Result<(&'static str, String), Refusal>,
}

/// Where the review clock starts from.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Since {
    pub activated_at: Option<Timestamp>,
    /// The last recorded review.
    pub reviewed_at: Option<Timestamp>,
    pub now: Timestamp,
}

/// Periodic review, while Active, under the Service's `reviewInterval` and the platform's
/// interval (`required`).
pub(crate) fn assess(
    lifecycle: &Lifecycle,
    required: Option<SignedDuration>,
    phase: Phase,
    since: Since,
) -> Review {
    let now = since.now;
    let due = if phase == Phase::Active {
        due_at(lifecycle, required, since)
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

/// The later of the review recorded before and the latest counted now: a review stays recorded
/// when its ServiceApproval is pruned.
pub(crate) fn latest_record(
    before: Option<&LastReview>,
    now: Option<LastReview>,
) -> Option<LastReview> {
    match (before, now) {
        (Some(b), Some(n)) if (&b.at.0, &b.approval) >= (&n.at.0, &n.approval) => Some(b.clone()),
        (b, n) => n.or_else(|| b.cloned()),
    }
}

/// One Event when a review is newly recorded.
pub(crate) fn announce_record(
    before: Option<&LastReview>,
    now: Option<&LastReview>,
    events: &mut Events,
) {
    if let Some(record) = now
        && before != Some(record)
    {
        events.push(
            false,
            reason::REVIEW_RECORDED,
            format!(
                "{} reviewed published revision {} ({})",
                record.by, record.revision, record.outcome
            ),
        );
    }
}

/// When the next review is due; `Ok(None)` when no review is scheduled. The owner's
/// `lastReviewed` resets the owner's interval only; a recorded review resets both.
pub(crate) fn due_at(
    lifecycle: &Lifecycle,
    required: Option<SignedDuration>,
    since: Since,
) -> Result<Option<Timestamp>, Refusal> {
    let own = match lifecycle.review_interval.as_deref() {
        Some(text) => {
            Some(parse_interval(text).ok_or_else(|| Refusal::invalid_review_interval(text))?)
        }
        None => None,
    };
    let last_reviewed = match lifecycle.last_reviewed.as_deref() {
        Some(date) => {
            let at = parse_date(date).ok_or_else(|| Refusal::invalid_last_reviewed(date))?;
            (at <= since.now).then_some(at)
        }
        None => None,
    };
    let own_base = latest(last_reviewed, since.reviewed_at).or(since.activated_at);
    let platform_base = latest(since.reviewed_at, since.activated_at);
    let after = |base: Option<Timestamp>, interval: Option<SignedDuration>| {
        base?.checked_add(interval?).ok()
    };
    Ok(
        match (after(own_base, own), after(platform_base, required)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        },
    )
}

fn latest(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    a.max(b)
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
        let since = Since {
            activated_at: Some(activated),
            reviewed_at: None,
            now: activated,
        };
        let due = |l: &Lifecycle| due_at(l, None, since).unwrap().map(|t| t.to_string());
        assert_eq!(
            due(&lifecycle("2w", None)).as_deref(),
            Some("2026-03-15T12:00:00Z")
        );
        assert_eq!(
            due(&lifecycle("1d", Some("2026-01-10"))).as_deref(),
            Some("2026-01-11T00:00:00Z")
        );
        let never = Since {
            activated_at: None,
            ..since
        };
        assert_eq!(due_at(&Lifecycle::default(), None, since), Ok(None));
        assert_eq!(due_at(&lifecycle("90d", None), None, never), Ok(None));
        assert_eq!(
            due_at(&lifecycle("1d", Some("2026-13-01")), None, never)
                .unwrap_err()
                .reason,
            "InvalidLastReviewed"
        );
        assert_eq!(
            due_at(&lifecycle("1m", None), None, never)
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
        let since = Since {
            activated_at: Some(activated),
            reviewed_at: None,
            now: activated,
        };
        let due =
            |l: &Lifecycle, required| due_at(l, required, since).unwrap().map(|t| t.to_string());
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

    #[test]
    fn only_a_recorded_review_resets_the_platforms_clock_and_a_future_date_resets_nothing() {
        let activated: Timestamp = "2026-03-01T00:00:00Z".parse().unwrap();
        let now: Timestamp = "2026-03-05T00:00:00Z".parse().unwrap();
        let week = Some(SignedDuration::from_hours(7 * 24));
        let due = |l: &Lifecycle, required, reviewed_at| {
            let since = Since {
                activated_at: Some(activated),
                reviewed_at,
                now,
            };
            due_at(l, required, since).unwrap().map(|t| t.to_string())
        };
        // The owner writes today's date: the platform's week still runs from activation.
        assert_eq!(
            due(&lifecycle("1w", Some("2026-03-05")), week, None).as_deref(),
            Some("2026-03-08T00:00:00Z")
        );
        // A date in the future is ignored.
        assert_eq!(
            due(&lifecycle("1w", Some("2030-01-01")), None, None).as_deref(),
            Some("2026-03-08T00:00:00Z")
        );
        // A recorded review resets both clocks.
        assert_eq!(
            due(&lifecycle("1w", None), week, Some(now)).as_deref(),
            Some("2026-03-12T00:00:00Z")
        );
    }
}
