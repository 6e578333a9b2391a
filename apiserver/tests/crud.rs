//! CRUD through kube-rs clients, as the operator and kubectl use it.

mod common;

use common::*;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

fn cm(name: &str, data: &[(&str, &str)]) -> ConfigMap {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"app": name}},
        "data": data.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
    }))
    .expect("configmap")
}

#[tokio::test]
async fn create_stamps_identity_and_get_list_delete_round_trip() {
    let f = start().await;
    let api: Api<ConfigMap> = Api::namespaced(f.client.clone(), "default");
    let created = api
        .create(&PostParams::default(), &cm("a", &[("k", "v")]))
        .await
        .unwrap();
    assert!(created.metadata.uid.is_some());
    assert!(created.metadata.creation_timestamp.is_some());
    assert_eq!(created.metadata.namespace.as_deref(), Some("default"));
    // The ConfigMap strategy sets no generation (only kinds with a spec/status split do).
    assert_eq!(created.metadata.generation, None);
    let got = api.get("a").await.unwrap();
    assert_eq!(got.data.unwrap()["k"], "v");
    let list = api.list(&ListParams::default()).await.unwrap();
    assert_eq!(list.items.len(), 1);
    assert!(
        list.metadata
            .resource_version
            .is_some_and(|rv| !rv.is_empty())
    );
    api.delete("a", &DeleteParams::default()).await.unwrap();
    assert!(api.get_opt("a").await.unwrap().is_none());
}

#[tokio::test]
async fn create_in_a_missing_namespace_is_not_found_and_duplicates_already_exist() {
    let f = start().await;
    let missing: Api<ConfigMap> = Api::namespaced(f.client.clone(), "nowhere");
    let e = api_error(
        missing
            .create(&PostParams::default(), &cm("a", &[]))
            .await
            .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (404, "NotFound"));
    let api: Api<ConfigMap> = Api::namespaced(f.client.clone(), "default");
    api.create(&PostParams::default(), &cm("a", &[]))
        .await
        .unwrap();
    let e = api_error(
        api.create(&PostParams::default(), &cm("a", &[]))
            .await
            .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (409, "AlreadyExists"));
}

#[tokio::test]
async fn stale_replace_is_a_conflict_with_the_real_servers_message() {
    let f = start().await;
    let api = widgets(&f.client, "default");
    let w = api
        .create(&PostParams::default(), &widget("p1", json!({"size": 1})))
        .await
        .unwrap();
    let mut fresh = w.clone();
    fresh.data["spec"]["size"] = json!(2);
    api.replace("p1", &PostParams::default(), &fresh)
        .await
        .unwrap();
    let mut stale = w;
    stale.data["spec"]["size"] = json!(3);
    let e = api_error(
        api.replace("p1", &PostParams::default(), &stale)
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 409);
    assert_eq!(
        e.message,
        "Operation cannot be fulfilled on widgets.test.charter.dev \"p1\": the object has been modified; please apply your changes to the latest version and try again"
    );
}

#[tokio::test]
async fn a_no_op_write_keeps_the_resource_version() {
    let f = start().await;
    let api: Api<ConfigMap> = Api::namespaced(f.client.clone(), "default");
    let a = api
        .create(&PostParams::default(), &cm("a", &[("k", "v")]))
        .await
        .unwrap();
    let b = api.replace("a", &PostParams::default(), &a).await.unwrap();
    assert_eq!(a.metadata.resource_version, b.metadata.resource_version);
    let c = api
        .patch(
            "a",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"k": "v"}})),
        )
        .await
        .unwrap();
    assert_eq!(a.metadata.resource_version, c.metadata.resource_version);
}

#[tokio::test]
async fn generation_follows_spec_changes_and_status_lives_in_its_subresource() {
    let f = start().await;
    let api = widgets(&f.client, "default");
    let mut w = widget("g", json!({"size": 1}));
    w.data["status"] = json!({"phase": "Ignored"});
    let w = api.create(&PostParams::default(), &w).await.unwrap();
    assert_eq!(w.metadata.generation, Some(1));
    assert!(
        w.data.get("status").is_none(),
        "status is dropped on create"
    );
    assert_eq!(w.data["spec"]["color"], "blue", "schema default applied");
    let w = api
        .patch(
            "g",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})),
        )
        .await
        .unwrap();
    assert_eq!(
        w.metadata.generation,
        Some(1),
        "metadata changes keep generation"
    );
    let w = api
        .patch(
            "g",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"size": 2}, "status": {"phase": "Dropped"}})),
        )
        .await
        .unwrap();
    assert_eq!(w.metadata.generation, Some(2));
    assert!(
        w.data.get("status").is_none(),
        "main-resource writes drop status"
    );
    let w = api
        .patch_status(
            "g",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"size": 9}, "status": {"phase": "Ready"}})),
        )
        .await
        .unwrap();
    assert_eq!(w.data["status"]["phase"], "Ready");
    assert_eq!(w.data["spec"]["size"], 2, "status writes keep only status");
    assert_eq!(w.metadata.generation, Some(2));
    let s = api.get_status("g").await.unwrap();
    assert_eq!(s.data["status"]["phase"], "Ready");
}

#[tokio::test]
async fn merge_and_json_patches_apply() {
    let f = start().await;
    let api: Api<ConfigMap> = Api::namespaced(f.client.clone(), "default");
    api.create(&PostParams::default(), &cm("p", &[("a", "1")]))
        .await
        .unwrap();
    let p = api
        .patch(
            "p",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"b": "2"}})),
        )
        .await
        .unwrap();
    assert_eq!(p.data.as_ref().unwrap().len(), 2);
    let ops: json_patch::Patch = serde_json::from_value(json!([
        {"op": "test", "path": "/metadata/finalizers", "value": null},
        {"op": "add", "path": "/data/c", "value": "3"},
        {"op": "remove", "path": "/data/a"}
    ]))
    .unwrap();
    let p = api
        .patch("p", &PatchParams::default(), &Patch::Json::<()>(ops))
        .await
        .unwrap();
    let data = p.data.unwrap();
    assert_eq!(
        (data.get("a"), data.get("c").map(String::as_str)),
        (None, Some("3"))
    );
}

#[tokio::test]
async fn server_side_apply_creates_conflicts_and_forces() {
    let f = start().await;
    let api = widgets(&f.client, "default");
    let applied = json!({"apiVersion": "test.charter.dev/v1", "kind": "Widget", "metadata": {"name": "s"}, "spec": {"size": 1}});
    let created = api
        .patch("s", &PatchParams::apply("alice"), &Patch::Apply(&applied))
        .await
        .unwrap();
    assert_eq!(created.data["spec"]["size"], 1);
    assert!(
        created
            .metadata
            .managed_fields
            .is_some_and(|m| m.iter().any(|e| e.manager.as_deref() == Some("alice")))
    );
    let other = json!({"apiVersion": "test.charter.dev/v1", "kind": "Widget", "metadata": {"name": "s"}, "spec": {"size": 2}});
    let e = api_error(
        api.patch("s", &PatchParams::apply("bob"), &Patch::Apply(&other))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 409);
    let forced = api
        .patch(
            "s",
            &PatchParams::apply("bob").force(),
            &Patch::Apply(&other),
        )
        .await
        .unwrap();
    assert_eq!(forced.data["spec"]["size"], 2);
    let e = api_error(
        api.patch_status("missing", &PatchParams::apply("bob"), &Patch::Apply(&other))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 404);
}

#[tokio::test]
async fn apply_without_a_field_manager_is_invalid() {
    let f = start().await;
    let api = widgets(&f.client, "default");
    let applied = json!({"apiVersion": "test.charter.dev/v1", "kind": "Widget", "metadata": {"name": "s"}, "spec": {"size": 1}});
    let e = api_error(
        api.patch("s", &PatchParams::default(), &Patch::Apply(&applied))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 422);
}

#[tokio::test]
async fn finalizers_hold_deletion_until_the_last_one_goes() {
    let f = start().await;
    let api = widgets(&f.client, "default");
    let mut w = widget("fin", json!({"size": 1}));
    w.metadata.finalizers = Some(vec!["test/hold".into()]);
    api.create(&PostParams::default(), &w).await.unwrap();
    api.delete("fin", &DeleteParams::default()).await.unwrap();
    let held = api.get("fin").await.unwrap();
    assert!(held.metadata.deletion_timestamp.is_some());
    assert_eq!(held.metadata.generation, Some(2));
    let e = api_error(
        api.patch(
            "fin",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": ["test/hold", "test/more"]}})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e.code, 422);
    api.patch(
        "fin",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    assert!(api.get_opt("fin").await.unwrap().is_none());
}

#[tokio::test]
async fn label_selectors_and_pagination_select_and_page() {
    let f = start().await;
    let api: Api<ConfigMap> = Api::namespaced(f.client.clone(), "default");
    for n in ["a", "b", "c", "d", "e"] {
        api.create(&PostParams::default(), &cm(n, &[]))
            .await
            .unwrap();
    }
    let sel = api
        .list(&ListParams::default().labels("app in (a,b),!foo"))
        .await
        .unwrap();
    assert_eq!(sel.items.len(), 2);
    let first = api.list(&ListParams::default().limit(2)).await.unwrap();
    assert_eq!(first.items.len(), 2);
    assert_eq!(first.metadata.remaining_item_count, Some(3));
    let token = first.metadata.continue_.clone().unwrap();
    let second = api
        .list(&ListParams::default().limit(10).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(second.items.len(), 3);
    let by_name = api
        .list(&ListParams::default().fields("metadata.name=c"))
        .await
        .unwrap();
    assert_eq!(by_name.items.len(), 1);
    let all: Api<ConfigMap> = Api::all(f.client.clone());
    assert_eq!(
        all.list(&ListParams::default()).await.unwrap().items.len(),
        5
    );
}

#[tokio::test]
async fn strict_field_validation_refuses_unknown_fields_and_lenient_prunes_them() {
    let f = start().await;
    let api = widgets(&f.client, "default");
    let req = axum::http::Request::post(
        "/apis/test.charter.dev/v1/namespaces/default/widgets?fieldValidation=Strict",
    )
    .header("content-type", "application/json")
    .body(serde_json::to_vec(&widget("x", json!({"size": 1, "foo": 1}))).unwrap())
    .unwrap();
    let e = api_error(
        f.client
            .request::<serde_json::Value>(req)
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 400);
    assert!(
        e.message.contains("unknown field \"spec.foo\""),
        "{}",
        e.message
    );
    let w = api
        .create(
            &PostParams::default(),
            &widget("x", json!({"size": 1, "foo": 1})),
        )
        .await
        .unwrap();
    assert!(w.data["spec"].get("foo").is_none());
    let e = api_error(
        api.create(&PostParams::default(), &widget("neg", json!({"size": -1})))
            .await
            .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (422, "Invalid"));
}

#[tokio::test]
async fn dry_run_writes_nothing() {
    let f = start().await;
    let api: Api<ConfigMap> = Api::namespaced(f.client.clone(), "default");
    let pp = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    api.create(&pp, &cm("dry", &[])).await.unwrap();
    assert!(api.get_opt("dry").await.unwrap().is_none());
}

#[tokio::test]
async fn unknown_tokens_are_unauthorized_and_self_subject_review_names_the_user() {
    let f = start().await;
    let token = f.server.token_of("dana").unwrap();
    let kc = f
        .server
        .kubeconfig("dana")
        .unwrap()
        .replace(&token, "wrong");
    let cfg = kube::Config::from_custom_kubeconfig(
        kube::config::Kubeconfig::from_yaml(&kc).unwrap(),
        &Default::default(),
    )
    .await
    .unwrap();
    let bad = kube::Client::try_from(cfg).unwrap();
    let e = api_error(
        Api::<Namespace>::all(bad)
            .list(&ListParams::default())
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 401);
    let dana = f.server.client_for("dana").await.unwrap();
    let req = axum::http::Request::post("/apis/authentication.k8s.io/v1/selfsubjectreviews")
        .header("content-type", "application/json")
        .body(
            serde_json::to_vec(
                &json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}),
            )
            .unwrap(),
        )
        .unwrap();
    let review: serde_json::Value = dana.request(req).await.unwrap();
    assert_eq!(review["status"]["userInfo"]["username"], "dana");
    assert!(
        review["status"]["userInfo"]["groups"]
            .as_array()
            .unwrap()
            .contains(&json!("devs"))
    );
}

#[tokio::test]
async fn custom_resources_appear_in_discovery_after_their_crd() {
    let f = start().await;
    let discovery = kube::Discovery::new(f.client.clone()).run().await.unwrap();
    let (ar, caps) = discovery
        .resolve_gvk(&kube::api::GroupVersionKind::gvk(
            "test.charter.dev",
            "v1",
            "Widget",
        ))
        .expect("widget discovered");
    assert_eq!(ar.plural, "widgets");
    assert_eq!(caps.scope, kube::discovery::Scope::Namespaced);
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> = Api::all(f.client.clone());
    let crd = crds.get("widgets.test.charter.dev").await.unwrap();
    let conds = crd.status.unwrap().conditions.unwrap();
    assert!(
        conds
            .iter()
            .any(|c| c.type_ == "Established" && c.status == "True")
    );
}

#[tokio::test]
async fn deleting_a_crd_stops_serving_its_resources() {
    let f = start().await;
    let api = widgets(&f.client, "default");
    api.create(&PostParams::default(), &widget("w", json!({"size": 1})))
        .await
        .unwrap();
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(f.client.clone());
    crds.delete("widgets.test.charter.dev", &DeleteParams::default())
        .await
        .unwrap();
    let e = api_error(api.get("w").await.unwrap_err());
    assert_eq!(e.code, 404);
    f.server.install_crd_values(vec![widget_crd()]).unwrap();
    assert!(
        api.get_opt("w").await.unwrap().is_none(),
        "objects went with their CRD"
    );
}

#[tokio::test]
async fn a_tls_server_is_reached_through_its_kubeconfig() {
    let server = charter_apiserver::ApiServer::start(charter_apiserver::Config {
        tls: true,
        ..Default::default()
    })
    .await
    .unwrap();
    assert!(server.url().starts_with("https://127.0.0.1:"));
    let client = server.client_for("admin").await.unwrap();
    let ns: Api<Namespace> = Api::all(client);
    assert!(ns.get("default").await.is_ok());
    server.shutdown().await;
}
