//! What the API server refuses before the lifecycle ever sees it: the schema's CEL rules on the
//! owner's lifecycle controls, with messages in words.

mod common;

use common::*;
use kube::api::PostParams;

#[tokio::test]
async fn review_dates_and_intervals_are_refused_in_words_unless_real() {
    let fx = Fixture::start_without_operator(false).await;
    // (interval, last reviewed, refused with)
    let cases: &[(Option<&str>, Option<&str>, Option<&str>)] = &[
        (Some("90d"), Some("2026-02-28"), None),
        (Some("36h"), Some("2028-02-29"), None),
        (Some("12w"), Some("2026-12-31"), None),
        (
            None,
            Some("2026-02-30"),
            Some("lastReviewed must be a real calendar date"),
        ),
        (
            None,
            Some("2027-02-29"),
            Some("lastReviewed must be a real calendar date"),
        ),
        (
            None,
            Some("2026-04-31"),
            Some("lastReviewed must be a real calendar date"),
        ),
        (
            None,
            Some("26-1-1"),
            Some("lastReviewed must be a real calendar date"),
        ),
        (
            Some("90 days"),
            None,
            Some("reviewInterval must be a whole number of hours, days or weeks"),
        ),
        (
            Some("0d"),
            None,
            Some("reviewInterval must be a whole number of hours, days or weeks"),
        ),
    ];
    for (i, (interval, last, refused)) in cases.iter().enumerate() {
        let mut s = service(&format!("svc-{i}")).build();
        s.spec.lifecycle.review_interval = interval.map(str::to_owned);
        s.spec.lifecycle.last_reviewed = last.map(str::to_owned);
        let result = fx.services().create(&PostParams::default(), &s).await;
        match (refused, result) {
            (None, Ok(_)) => {}
            (Some(words), Err(kube::Error::Api(status))) => {
                assert_eq!(status.code, 422, "{interval:?} {last:?}: {status:?}");
                assert!(
                    status.message.contains(words),
                    "{interval:?} {last:?}: {}",
                    status.message
                );
                assert!(
                    !status.message.contains("^["),
                    "no raw regex: {}",
                    status.message
                );
            }
            (expected, got) => {
                panic!("{interval:?} {last:?}: expected refusal {expected:?}, got {got:?}")
            }
        }
    }
    fx.shutdown().await;
}
