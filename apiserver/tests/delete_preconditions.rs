//! DeleteOptions preconditions, as `rest.BeforeDelete` checks them: a uid or
//! resourceVersion other than the stored one is a 409 Conflict and nothing is deleted.

mod common;

use common::*;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, PostParams, Preconditions};
use serde_json::json;

fn named(name: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}})).unwrap()
}

#[tokio::test]
async fn a_delete_with_another_uid_is_a_conflict_and_deletes_nothing() {
    let f = start().await;
    let api: Api<ConfigMap> = Api::namespaced(f.client.clone(), "default");
    let cm = api
        .create(&PostParams::default(), &named("p"))
        .await
        .unwrap();
    let uid = cm.metadata.uid.clone().unwrap();
    let other = "00000000-0000-0000-0000-000000000000";
    let dp = DeleteParams {
        preconditions: Some(Preconditions {
            uid: Some(other.into()),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    let e = api_error(api.delete("p", &dp).await.unwrap_err());
    assert_eq!((e.code, e.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        e.message,
        format!(
            "Operation cannot be fulfilled on ConfigMap \"p\": the UID in the precondition ({other}) does not match the UID in record ({uid}). The object might have been deleted and then recreated"
        )
    );
    assert!(api.get_opt("p").await.unwrap().is_some(), "nothing deleted");
    // The stored uid as precondition deletes.
    let dp = DeleteParams {
        preconditions: Some(Preconditions {
            uid: Some(uid),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    api.delete("p", &dp).await.unwrap();
    assert!(api.get_opt("p").await.unwrap().is_none());
}

#[tokio::test]
async fn a_delete_with_a_stale_resource_version_is_a_conflict_naming_both() {
    let f = start().await;
    let api = widgets(&f.client, "default");
    let w = api
        .create(&PostParams::default(), &widget("w", json!({"size": 1})))
        .await
        .unwrap();
    let stale = w.metadata.resource_version.clone().unwrap();
    let mut w = w;
    w.data["spec"]["size"] = json!(2);
    let w = api.replace("w", &PostParams::default(), &w).await.unwrap();
    let current = w.metadata.resource_version.clone().unwrap();
    let dp = DeleteParams {
        preconditions: Some(Preconditions {
            uid: None,
            resource_version: Some(stale.clone()),
        }),
        ..DeleteParams::default()
    };
    let e = api_error(api.delete("w", &dp).await.unwrap_err());
    assert_eq!((e.code, e.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        e.message,
        format!(
            "Operation cannot be fulfilled on Widget.test.charter.dev \"w\": the ResourceVersion in the precondition ({stale}) does not match the ResourceVersion in record ({current}). The object might have been modified"
        )
    );
    let details = e.details.expect("details");
    assert_eq!(
        (
            details.group.as_str(),
            details.kind.as_str(),
            details.name.as_str()
        ),
        ("test.charter.dev", "Widget", "w")
    );
    assert!(api.get_opt("w").await.unwrap().is_some(), "nothing deleted");
}
