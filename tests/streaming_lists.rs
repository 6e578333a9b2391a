//! `charter run` lists its caches with streaming lists where the API server serves them, and in
//! pages where it does not: it asks once at start (kube's watcher would retry a refused
//! streaming list forever rather than fall back).

use bytes::Bytes;
use charter::controller::streaming_lists_served;
use http_body_util::Full;
use kube::Client;
use testkit::{Fixture, Ground};

/// A client whose server answers every request with `status` and `body`, and checks that what
/// it was asked was a streaming list of Services.
fn answering(status: u16, body: &'static str) -> Client {
    let service = tower::service_fn(move |request: http::Request<kube::client::Body>| {
        let query = request.uri().query().unwrap_or_default().to_string();
        async move {
            assert!(
                query.contains("sendInitialEvents=true")
                    && query.contains("resourceVersionMatch=NotOlderThan")
                    && query.contains("watch=true"),
                "the probe is a streaming list: {query}"
            );
            Ok::<_, std::convert::Infallible>(
                http::Response::builder()
                    .status(status)
                    .body(Full::new(Bytes::from_static(body.as_bytes())))
                    .expect("a response"),
            )
        }
    });
    Client::new(service, "default")
}

const CLOSING_BOOKMARK: &str = r#"{"type":"BOOKMARK","object":{"apiVersion":"catalog.charter.dev/v1alpha1","kind":"Service","metadata":{"resourceVersion":"12","annotations":{"k8s.io/initial-events-end":"true"}}}}
"#;

const PLAIN_BOOKMARK: &str = r#"{"type":"BOOKMARK","object":{"apiVersion":"catalog.charter.dev/v1alpha1","kind":"Service","metadata":{"resourceVersion":"12"}}}
"#;

const REFUSAL: &str = r#"{"apiVersion":"v1","kind":"Status","status":"Failure","reason":"Invalid","code":422,"message":"sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled"}"#;

#[tokio::test]
async fn a_server_that_closes_the_initial_state_with_its_bookmark_serves_them() {
    assert!(streaming_lists_served(&answering(200, CLOSING_BOOKMARK), None).await);
    assert!(streaming_lists_served(&answering(200, CLOSING_BOOKMARK), Some("team")).await);
}

#[tokio::test]
async fn a_server_that_refuses_the_parameter_or_ignores_it_does_not() {
    assert!(!streaming_lists_served(&answering(422, REFUSAL), None).await);
    // An old server ignores sendInitialEvents: a watch that never says the state is complete.
    assert!(!streaming_lists_served(&answering(200, PLAIN_BOOKMARK), None).await);
    assert!(!streaming_lists_served(&answering(200, ""), None).await);
    assert!(!streaming_lists_served(&answering(403, REFUSAL), None).await);
}

#[tokio::test]
async fn both_grounds_serve_them_to_the_operator() {
    let fx = Fixture::start_without_operator(false).await;
    assert!(
        streaming_lists_served(&fx.operator_client, None).await,
        "the embedded server serves streaming lists"
    );
    fx.shutdown().await;
    let Some(ground) = Ground::real() else {
        return;
    };
    let fx = Fixture::start_without_operator_on(&ground, false).await;
    assert!(
        streaming_lists_served(&fx.operator_client, None).await,
        "kube-apiserver serves streaming lists"
    );
    fx.shutdown().await;
}
