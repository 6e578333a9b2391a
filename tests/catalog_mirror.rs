//! The catalog copied where consumers run: every namespace labelled
//! `catalog.charter.dev/mirror=true` holds the catalog's ConfigMaps byte for byte, and loses them
//! with the label; the operator may write ConfigMaps outside its namespace for nothing else.

use std::collections::BTreeMap;

use charter::api::Phase;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::{
    Api,
    api::{ObjectMeta, Patch, PatchParams, PostParams},
};
use serde_json::json;
use testkit::*;

async fn namespace(fx: &Fixture, name: &str, mirrored: bool) {
    let labels = mirrored
        .then(|| BTreeMap::from([("catalog.charter.dev/mirror".to_owned(), "true".to_owned())]));
    Api::<Namespace>::all(fx.admin.clone())
        .create(
            &PostParams::default(),
            &Namespace {
                metadata: ObjectMeta {
                    name: Some(name.into()),
                    labels,
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .await
        .expect("the namespace is created");
}

async fn data(fx: &Fixture, namespace: &str) -> Option<BTreeMap<String, String>> {
    let api: Api<ConfigMap> = Api::namespaced(fx.admin.clone(), namespace);
    api.get_opt(CATALOG_NAME).await.ok()??.data
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labelled_namespaces_hold_an_exact_copy_of_the_catalog_until_the_label_goes() {
    let fx = Fixture::start(false).await;
    namespace(&fx, "shop", true).await;
    namespace(&fx, "quiet", false).await;
    let ava = fx.client("ava").await;
    fx.create(service("ledger")).await;
    let revision = fx.revision_in_approval("ledger").await;
    approve(&ava, "ledger", &revision, "ava").await;
    fx.wait_for_phase("ledger", Phase::Active).await;

    let copy = eventually("an exact copy in shop", || async {
        let source = data(&fx, CATALOG_NAMESPACE).await?;
        let copy = data(&fx, "shop").await?;
        (source == copy && source.contains_key("default_ledger.json")).then_some(copy)
    })
    .await;
    assert!(copy.contains_key("index.json") && copy.contains_key("services.json"));
    assert!(
        data(&fx, "quiet").await.is_none(),
        "no copy where nobody asked"
    );

    // A key added to the copy by hand does not survive the next change of the catalog: the
    // copy is the catalog, byte for byte.
    Api::<ConfigMap>::namespaced(fx.admin.clone(), "shop")
        .patch(
            CATALOG_NAME,
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"hand.json": "{}"}, "binaryData": {"blob": "AQ=="}})),
        )
        .await
        .expect("a key added by hand");
    assert!(
        data(&fx, "shop")
            .await
            .is_some_and(|d| d.contains_key("hand.json"))
    );

    // A change of the catalog reaches the copy.
    fx.edit("ledger", |spec| {
        spec.lifecycle.review_interval = Some("90d".into())
    })
    .await;
    eventually("the copy follows the catalog", || async {
        let source = data(&fx, CATALOG_NAMESPACE).await?;
        let copy = data(&fx, "shop").await?;
        (source == copy && source["default_ledger.json"].contains("reviewDueAt")).then_some(())
    })
    .await;
    let copy = Api::<ConfigMap>::namespaced(fx.admin.clone(), "shop")
        .get(CATALOG_NAME)
        .await
        .expect("the copy");
    assert!(
        copy.binary_data.unwrap_or_default().is_empty(),
        "no binaryData kept either"
    );

    // A namespace that opts in later gets the copy; one that opts out loses it.
    let label = |value: serde_json::Value| json!({"metadata": {"labels": {"catalog.charter.dev/mirror": value}}});
    let namespaces = Api::<Namespace>::all(fx.admin.clone());
    namespaces
        .patch(
            "quiet",
            &PatchParams::default(),
            &Patch::Merge(label(json!("true"))),
        )
        .await
        .expect("labelled");
    namespaces
        .patch(
            "shop",
            &PatchParams::default(),
            &Patch::Merge(label(json!(null))),
        )
        .await
        .expect("unlabelled");
    eventually("the copy moves from shop to quiet", || async {
        let source = data(&fx, CATALOG_NAMESPACE).await?;
        (data(&fx, "quiet").await? == source && data(&fx, "shop").await.is_none()).then_some(())
    })
    .await;
    fx.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_writes_no_other_configmap_outside_its_namespace() {
    let fx = Fixture::start_without_operator(false).await;
    namespace(&fx, "shop", true).await;
    namespace(&fx, "quiet", false).await;
    let configmap = |name: &str| ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        data: Some(BTreeMap::from([("index.json".into(), "{}".into())])),
        ..Default::default()
    };
    let as_operator = |namespace: &str| -> Api<ConfigMap> {
        Api::namespaced(fx.operator_client.clone(), namespace)
    };
    // (namespace, name, allowed)
    for (namespace, name, allowed) in [
        ("shop", CATALOG_NAME, true),
        ("shop", "charter-catalog-3", true),
        ("shop", "app-settings", false),
        ("shop", "charter-catalog-x", false),
        ("quiet", CATALOG_NAME, false),
        ("default", CATALOG_NAME, false),
        // Anything in the catalog's own namespace, nothing in the operator's: not even its
        // admission parameters.
        (CATALOG_NAMESPACE, "app-settings", true),
        (charter::deploy::NAMESPACE, "app-settings", false),
        (
            charter::deploy::NAMESPACE,
            charter::deploy::ADMISSION_PARAMS,
            false,
        ),
    ] {
        let result = as_operator(namespace)
            .create(&PostParams::default(), &configmap(name))
            .await;
        match (allowed, result) {
            (true, Ok(_)) => {}
            (false, Err(kube::Error::Api(status))) => {
                assert_eq!(status.code, 403, "{namespace}/{name}: {status:?}");
                assert!(
                    status.message.contains("only to copy the catalog"),
                    "{namespace}/{name}: {}",
                    status.message
                );
            }
            (allowed, got) => panic!("{namespace}/{name}: allowed {allowed}, got {got:?}"),
        }
    }
    // Reading stays in its own namespace.
    let read = as_operator("shop").get(CATALOG_NAME).await;
    assert!(
        matches!(read, Err(kube::Error::Api(ref s)) if s.code == 403),
        "the operator never reads ConfigMaps elsewhere: {read:?}"
    );
    fx.shutdown().await;
}

/// The policy fails closed: while its parameters name no operator it cannot tell the operator's
/// writes from anyone's, so it denies every ConfigMap write but the repair of the parameters.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_operator_in_its_parameters_the_mirror_policy_denies_configmap_writes() {
    let fx = Fixture::start_without_operator(false).await;
    namespace(&fx, "quiet", false).await;
    let params: Api<ConfigMap> = Api::namespaced(fx.admin.clone(), charter::deploy::NAMESPACE);
    let set_operator = |operator: serde_json::Value| {
        let params = params.clone();
        async move {
            params
                .patch(
                    charter::deploy::ADMISSION_PARAMS,
                    &PatchParams::default(),
                    &Patch::Merge(json!({"data": {"operator": operator}})),
                )
                .await
        }
    };
    let write = |client: kube::Client, name: &'static str| async move {
        let configmap = ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            ..Default::default()
        };
        Api::<ConfigMap>::namespaced(client, "quiet")
            .create(&PostParams::default(), &configmap)
            .await
    };

    for (missing, operator) in [("removed", json!(null)), ("empty", json!(""))] {
        set_operator(operator)
            .await
            .unwrap_or_else(|e| panic!("the parameters are editable ({missing}): {e}"));
        for (who, client) in [
            ("the operator", fx.operator_client.clone()),
            ("admin", fx.admin.clone()),
        ] {
            match write(client, "app-settings").await {
                Err(kube::Error::Api(status)) => {
                    assert_eq!(status.code, 403, "{who}, operator {missing}: {status:?}");
                    assert!(
                        status.message.contains("names no operator"),
                        "{who}: {}",
                        status.message
                    );
                }
                other => panic!("{who} writes a ConfigMap with the operator {missing}: {other:?}"),
            }
        }
    }

    // Restoring the key is allowed, and then only the operator is narrowed again.
    set_operator(json!(charter::deploy::operator_user()))
        .await
        .expect("the operator key is restored");
    write(fx.admin.clone(), "app-settings")
        .await
        .expect("others write ConfigMaps again");
    let refused = write(fx.operator_client.clone(), "other-settings").await;
    assert!(
        matches!(refused, Err(kube::Error::Api(ref s)) if s.code == 403),
        "the operator stays narrowed: {refused:?}"
    );
    fx.shutdown().await;
}
