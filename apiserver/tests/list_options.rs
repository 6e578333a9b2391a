//! List and watch query parameters as kube-apiserver decodes and validates them: numbers
//! that are not numbers are 400 with Go's parse error, `ValidateListOptions` answers 422,
//! and `watch` is true for anything but "false" and "0".

mod common;

use common::*;
use serde_json::Value;

async fn get(f: &Fixture, path: &str) -> Result<Value, kube::core::Status> {
    let req = axum::http::Request::get(path)
        .body(Vec::new())
        .expect("request");
    f.client.request::<Value>(req).await.map_err(api_error)
}

const CONFIG_MAPS: &str = "/api/v1/namespaces/default/configmaps";

#[tokio::test]
async fn a_limit_or_timeout_that_is_not_a_number_is_a_bad_request() {
    let f = start().await;
    let e = get(&f, &format!("{CONFIG_MAPS}?limit=abc"))
        .await
        .unwrap_err();
    assert_eq!((e.code, e.reason.as_str()), (400, "BadRequest"));
    assert_eq!(
        e.message,
        "strconv.ParseInt: parsing \"abc\": invalid syntax"
    );
    let e = get(&f, &format!("{CONFIG_MAPS}?watch=true&timeoutSeconds=abc"))
        .await
        .unwrap_err();
    assert_eq!((e.code, e.reason.as_str()), (400, "BadRequest"));
    assert_eq!(
        e.message,
        "strconv.ParseInt: parsing \"abc\": invalid syntax"
    );
    // A negative limit decodes (and means no limit): the whole list.
    let list = get(&f, &format!("{CONFIG_MAPS}?limit=-1")).await.unwrap();
    assert_eq!(list["kind"], "ConfigMapList");
}

#[tokio::test]
async fn resource_version_match_without_resource_version_is_invalid() {
    let f = start().await;
    let e = get(
        &f,
        &format!("{CONFIG_MAPS}?resourceVersionMatch=NotOlderThan"),
    )
    .await
    .unwrap_err();
    assert_eq!((e.code, e.reason.as_str()), (422, "Invalid"));
    assert_eq!(
        e.message,
        "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"
    );
    let e = get(
        &f,
        &format!("{CONFIG_MAPS}?resourceVersion=0&resourceVersionMatch=Exact"),
    )
    .await
    .unwrap_err();
    assert_eq!(
        e.message,
        "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""
    );
    let e = get(&f, &format!("{CONFIG_MAPS}?resourceVersionMatch=Newest"))
        .await
        .unwrap_err();
    assert_eq!(
        e.message,
        "ListOptions.meta.k8s.io \"\" is invalid: [resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided, resourceVersionMatch: Unsupported value: \"Newest\": supported values: \"Exact\", \"NotOlderThan\", \"\"]"
    );
    let ok = get(
        &f,
        &format!("{CONFIG_MAPS}?resourceVersion=0&resourceVersionMatch=NotOlderThan"),
    )
    .await
    .unwrap();
    assert_eq!(ok["kind"], "ConfigMapList");
}

#[tokio::test]
async fn watch_is_any_value_but_false_or_zero() {
    let f = start().await;
    // A watch answers a stream of events, not a list; with a timeout it ends.
    let req = axum::http::Request::get(format!("{CONFIG_MAPS}?watch=maybe&timeoutSeconds=1"))
        .body(Vec::new())
        .expect("request");
    let text = f.client.request_text(req).await.unwrap();
    assert!(
        !text.contains("ConfigMapList"),
        "a watch, not a list: {text}"
    );
    let list = get(&f, &format!("{CONFIG_MAPS}?watch=False"))
        .await
        .unwrap();
    assert_eq!(list["kind"], "ConfigMapList");
}
