//! Server-side apply preconditions: a resourceVersion in the applied object is honoured
//! as on any write (API concepts, "resourceVersion ... acts as a precondition").

mod common;

use common::*;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::json;

#[tokio::test]
async fn a_stale_resource_version_in_an_applied_object_is_a_conflict() {
    let f = start().await;
    let api = widgets(&f.client, "default");
    let created = api
        .create(&PostParams::default(), &widget("w", json!({"size": 1})))
        .await
        .unwrap();
    let stale = created.metadata.resource_version.clone().unwrap();
    api.patch(
        "w",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"size": 2}})),
    )
    .await
    .unwrap();
    let applied = json!({
        "apiVersion": "test.charter.dev/v1", "kind": "Widget",
        "metadata": {"name": "w", "resourceVersion": stale}, "spec": {"size": 3}
    });
    // Forced, so that no field conflict is reported first (the field manager runs before
    // storage checks the precondition).
    let e = api_error(
        api.patch(
            "w",
            &PatchParams::apply("m").force(),
            &Patch::Apply(&applied),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        e.message,
        "Operation cannot be fulfilled on widgets.test.charter.dev \"w\": the object has been modified; please apply your changes to the latest version and try again"
    );
}
