//! What the API server refuses before the lifecycle ever sees it: the schema's CEL rules on the
//! owner's lifecycle controls, with messages in words.

use kube::api::PostParams;
use testkit::*;

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

#[tokio::test]
async fn how_consumers_reach_a_service_is_validated_in_words() {
    use charter::api::{Contact, Request};
    let fx = Fixture::start_without_operator(false).await;
    let contact = |email: Option<&str>, chat: Option<&str>| Contact {
        team: "Payments Platform".into(),
        email: email.map(str::to_owned),
        chat: chat.map(str::to_owned),
    };
    let request = |url: Option<&str>, instructions: Option<&str>| Request {
        url: url.map(str::to_owned),
        instructions: instructions.map(str::to_owned),
    };
    // (contact, request, refused with)
    let cases: Vec<(Option<Contact>, Option<Request>, Option<&str>)> = vec![
        (
            Some(contact(Some("payments@example.com"), None)),
            Some(request(Some("https://forms.example.com/ledger"), None)),
            None,
        ),
        (
            Some(contact(None, Some("#payments"))),
            Some(request(None, Some("Open a ticket in the PAY queue"))),
            None,
        ),
        (
            Some(contact(Some("payments at example"), None)),
            None,
            Some("contact.email must be an email address"),
        ),
        (
            Some(contact(None, None)),
            None,
            Some("a contact needs an email address or a chat channel"),
        ),
        (
            None,
            Some(request(None, None)),
            Some("request needs a url, instructions, or both"),
        ),
        (
            None,
            Some(request(Some("forms.example.com"), None)),
            Some("request.url must be an http or https address"),
        ),
    ];
    for (i, (contact, request, refused)) in cases.into_iter().enumerate() {
        let mut s = service(&format!("svc-{i}")).build();
        s.spec.contact = contact;
        s.spec.content.request = request;
        let result = fx.services().create(&PostParams::default(), &s).await;
        match (refused, result) {
            (None, Ok(_)) => {}
            (Some(words), Err(kube::Error::Api(status))) => {
                assert_eq!(status.code, 422, "case {i}: {status:?}");
                assert!(
                    status.message.contains(words),
                    "case {i}: {}",
                    status.message
                );
            }
            (expected, got) => panic!("case {i}: expected refusal {expected:?}, got {got:?}"),
        }
    }
    fx.shutdown().await;
}
