//! Namespace deletion as kube-apiserver and the namespace controller do it: DELETE marks
//! the namespace Terminating (it keeps `spec.finalizers: [kubernetes]`), the controller
//! deletes its content honouring finalizers and reports what remains in the namespace's
//! conditions, then finalizes it away; NamespaceLifecycle refuses new content meanwhile.

mod common;

use common::*;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;
use test_programs::kubectl::Kubectl;

async fn namespace(f: &Fixture, name: &str) -> Namespace {
    let api: Api<Namespace> = Api::all(f.client.clone());
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
    api.create(&PostParams::default(), &ns).await.unwrap()
}

/// A widget in `ns` held by a finalizer.
async fn held_widget(f: &Fixture, ns: &str) {
    let mut w = widget("held", json!({"size": 1}));
    w.metadata.finalizers = Some(vec!["test.charter.dev/hold".into()]);
    widgets(&f.client, ns)
        .create(&PostParams::default(), &w)
        .await
        .unwrap();
}

fn condition(ns: &Namespace, t: &str) -> Option<(String, String, String)> {
    let c = ns
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == t)?;
    Some((
        c.status.clone(),
        c.reason.clone().unwrap_or_default(),
        c.message.clone().unwrap_or_default(),
    ))
}

#[tokio::test]
async fn a_new_namespace_is_active_with_the_kubernetes_finalizer() {
    let f = start().await;
    let ns = namespace(&f, "fresh").await;
    assert_eq!(ns.status.unwrap().phase.as_deref(), Some("Active"));
    assert_eq!(ns.spec.unwrap().finalizers, Some(vec!["kubernetes".into()]));
}

#[tokio::test]
async fn deleting_a_namespace_terminates_it_and_its_content_then_removes_it() {
    let f = start().await;
    namespace(&f, "doomed").await;
    let cms: Api<ConfigMap> = Api::namespaced(f.client.clone(), "doomed");
    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "c"}})).unwrap();
    cms.create(&PostParams::default(), &cm).await.unwrap();
    let api: Api<Namespace> = Api::all(f.client.clone());
    let answer = api
        .delete("doomed", &DeleteParams::default())
        .await
        .unwrap();
    let marked = answer
        .left()
        .expect("the namespace is returned, not a Status");
    assert!(marked.metadata.deletion_timestamp.is_some());
    assert_eq!(marked.status.unwrap().phase.as_deref(), Some("Terminating"));
    assert_eq!(
        marked.spec.unwrap().finalizers,
        Some(vec!["kubernetes".into()])
    );
    eventually(5, "the namespace to go", || {
        let api = api.clone();
        async move { api.get_opt("doomed").await.unwrap().is_none().then_some(()) }
    })
    .await;
    assert!(
        cms.get_opt("c").await.unwrap().is_none(),
        "its content went"
    );
}

#[tokio::test]
async fn content_with_finalizers_holds_a_terminating_namespace_until_they_go() {
    let f = start().await;
    namespace(&f, "held").await;
    held_widget(&f, "held").await;
    let api: Api<Namespace> = Api::all(f.client.clone());
    api.delete("held", &DeleteParams::default()).await.unwrap();
    let ns = eventually(5, "the remaining content reported", || {
        let api = api.clone();
        async move {
            let ns = api.get("held").await.unwrap();
            condition(&ns, "NamespaceContentRemaining").map(|_| ns)
        }
    })
    .await;
    assert_eq!(
        condition(&ns, "NamespaceContentRemaining").unwrap(),
        (
            "True".into(),
            "SomeResourcesRemain".into(),
            "Some resources are remaining: widgets.test.charter.dev has 1 resource instances"
                .into()
        )
    );
    assert_eq!(
        condition(&ns, "NamespaceFinalizersRemaining").unwrap(),
        (
            "True".into(),
            "SomeFinalizerRemain".into(),
            "Some finalizers are remaining: test.charter.dev/hold in 1 resource instances".into()
        )
    );
    assert_eq!(
        condition(&ns, "NamespaceDeletionContentFailure").unwrap(),
        (
            "False".into(),
            "ContentDeleted".into(),
            "All content successfully deleted, may be waiting on finalization".into()
        )
    );
    assert_eq!(ns.status.unwrap().phase.as_deref(), Some("Terminating"));
    let w = widgets(&f.client, "held").get("held").await.unwrap();
    assert!(
        w.metadata.deletion_timestamp.is_some(),
        "the widget is being deleted"
    );
    // Its owner removes the finalizer: the widget goes, then the namespace.
    widgets(&f.client, "held")
        .patch(
            "held",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": null}})),
        )
        .await
        .unwrap();
    eventually(5, "the namespace to go", || {
        let api = api.clone();
        async move { api.get_opt("held").await.unwrap().is_none().then_some(()) }
    })
    .await;
}

#[tokio::test]
async fn creating_in_a_terminating_namespace_is_forbidden() {
    let f = start().await;
    namespace(&f, "closing").await;
    held_widget(&f, "closing").await;
    let api: Api<Namespace> = Api::all(f.client.clone());
    api.delete("closing", &DeleteParams::default())
        .await
        .unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(f.client.clone(), "closing");
    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "late"}})).unwrap();
    let e = api_error(cms.create(&PostParams::default(), &cm).await.unwrap_err());
    assert_eq!((e.code, e.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        e.message,
        "configmaps \"late\" is forbidden: unable to create new content in namespace closing because it is being terminated"
    );
    let cause = &e.details.expect("details").causes[0];
    assert_eq!(
        (cause.reason.as_str(), cause.field.as_str()),
        ("NamespaceTerminating", "metadata.namespace")
    );
    assert_eq!(cause.message, "namespace closing is being terminated");
}

#[tokio::test]
async fn kubectl_sees_a_namespace_terminating_after_delete_without_waiting() {
    let f = start().await;
    let Some(k) = Kubectl::for_users(&f.server, &["admin"]) else {
        return;
    };
    namespace(&f, "x").await;
    held_widget(&f, "x").await;
    assert_eq!(
        k.ok("admin", &["delete", "namespace", "x", "--wait=false"])
            .await
            .trim(),
        "namespace \"x\" deleted"
    );
    assert_eq!(
        k.ok(
            "admin",
            &["get", "ns", "x", "-o", "jsonpath={.status.phase}"]
        )
        .await,
        "Terminating"
    );
}
