//! The catalog's size limit: the largest Services the CRD admits, published, make a catalog of
//! several MiB that shards, and every ConfigMap (and every single entry) stays within 1 MiB.

use std::time::Instant;

use testkit::{Fixture, Ground, NAMESPACE, approve, eventually, on_both_grounds};

const APPROVER: &str = "ava";

/// A ConfigMap holds at most 1 MiB of data (keys and values together).
const CONFIGMAP_MAX: usize = 1024 * 1024;

/// The largest Service the CRD admits, every string at its maximum length in the character that
/// costs the most in the catalog's JSON (a control character, escaped as `\u0001`: 6 bytes), and
/// `tag` making its strings differ from another such Service's.
fn largest_service(name: &str, tag: usize) -> charter::api::Service {
    use charter::api::{
        Category, Contact, Link, PriorityTarget, Request, ServiceContent, ServiceLevel,
        ServiceModel, ServiceRef, ServiceSpec, Support, Tier,
    };
    let s = |n: usize, i: usize| format!("{}{tag:03}{i:03}", "\u{1}".repeat(n - 6));
    let content = ServiceContent {
        display_name: Some(s(128, 0)),
        description: Some(s(4096, 0)),
        owner: "dana".into(),
        approvers: std::iter::once("ava".to_string())
            .chain((1..32).map(|i| s(253, i)))
            .collect(),
        required_approvals: Some(1),
        support: Some(Support {
            channel: s(512, 0),
            hours: Some(s(128, 0)),
        }),
        request: Some(Request {
            url: Some(format!("https://{}", s(2048 - 8, 0))),
            instructions: Some(s(4096, 0)),
        }),
        service_level: Some(ServiceLevel {
            availability: Some("100.0000".into()),
            support_hours: Some(s(64, 0)),
            targets: (1..=8)
                .map(|p| PriorityTarget {
                    priority: format!("P{}", 1 + p % 5),
                    response: "99999m".into(),
                    resolution: Some("99999d".into()),
                })
                .collect(),
            agreement_url: Some(s(2048, 0)),
        }),
        model: Some(ServiceModel {
            outcomes: (0..32).map(|i| s(512, i)).collect(),
            depends_on: (0..64)
                .map(|i| ServiceRef {
                    namespace: Some(format!("{}{i:03}", "n".repeat(60))),
                    name: format!("{}{i:03}", "d".repeat(250)),
                })
                .collect(),
        }),
        links: (0..16)
            .map(|i| Link {
                name: s(63, i),
                // A link is an http or https address.
                url: format!("https://{}", s(1024 - 8, i)),
            })
            .collect(),
        tier: Some(Tier::Critical),
        tags: (0..32).map(|i| s(63, i)).collect(),
    };
    let mut spec = ServiceSpec {
        lifecycle: Default::default(),
        // The owner's, outside the revision: in the catalog entry, not in the snapshot.
        categories: (0..32)
            .map(|i| Category {
                name: s(63, i),
                subcategories: (0..32).map(|j| s(63, 100 + j)).collect(),
            })
            .collect(),
        contact: Some(Contact {
            team: s(128, 0),
            email: Some(format!("{}@example.com", "e".repeat(254 - 12))),
            chat: Some(s(256, 0)),
        }),
        content,
    };
    spec.lifecycle.desired_phase = charter::api::DesiredPhase::Active;
    spec.lifecycle.review_interval = Some("99999w".into());
    spec.lifecycle.last_reviewed = Some("2024-02-29".into());
    charter::api::Service::new(name, spec)
}

/// The bytes a ConfigMap's data costs: keys and values.
fn data_bytes(data: &std::collections::BTreeMap<String, String>) -> usize {
    data.iter().map(|(k, v)| k.len() + v.len()).sum()
}

on_both_grounds!(async the_largest_services_the_crd_admits_fit_the_catalog_which_shards_past_a_mebibyte);
async fn the_largest_services_the_crd_admits_fit_the_catalog_which_shards_past_a_mebibyte(
    ground: Ground,
) {
    use charter::api::{Phase, ServiceStatus, Snapshot};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use kube::{Api, api::PostParams};

    let started = Instant::now();
    let fx = Fixture::start_on(&ground, false).await;
    let api: Api<charter::api::Service> = Api::namespaced(fx.admin.clone(), NAMESPACE);

    // The CRD admits the largest Service (so it is a real bound)...
    let largest = largest_service("largest", 0);
    api.create(&PostParams::default(), &largest)
        .await
        .expect("the largest Service the schema allows is admitted");
    // ...and not one string more: a 17th link is refused, naming the field.
    let mut larger = largest_service("larger", 1);
    larger
        .spec
        .content
        .links
        .push(larger.spec.content.links[0].clone());
    let refused = api
        .create(&PostParams::default(), &larger)
        .await
        .expect_err("17 links are refused");
    assert!(refused.to_string().contains("spec.links"), "{refused}");

    // Published, as the operator would publish them: ten such Services alone make a catalog of
    // several MiB, which shards, and every ConfigMap (and every single entry) stays within 1 MiB.
    let activated: Vec<charter::api::Service> = (0..10)
        .map(|i| {
            let mut s = largest_service(&format!("largest-{i}"), i);
            s.metadata.namespace = Some(NAMESPACE.into());
            let now = Time(k8s_openapi::jiff::Timestamp::now());
            s.status = Some(ServiceStatus {
                phase: Some(Phase::Active),
                revision: Some(charter::api::revision_of(&s.spec.content)),
                snapshot: Some(Snapshot {
                    revision: charter::api::revision_of(&s.spec.content),
                    approved_by: vec!["ava".into()],
                    approved_at: now.clone(),
                    content: s.spec.content.clone(),
                    revised_by: None,
                    policies: Vec::new(),
                }),
                activated_at: Some(now.clone()),
                review_due_at: Some(now),
                ..Default::default()
            });
            s
        })
        .collect();
    let entry_bytes = charter::catalog::entry(&activated[0])
        .map(|e| e.key.len() + e.value.len())
        .expect("an Active Service with a snapshot has an entry");
    assert!(
        entry_bytes <= charter::catalog::MAX_BYTES,
        "the largest entry ({entry_bytes} bytes) fits a catalog shard ({} bytes)",
        charter::catalog::MAX_BYTES
    );
    // etcd's default request limit: the Service with its snapshot must still be writable.
    let object_bytes = serde_json::to_vec(&activated[0])
        .expect("a Service serialises")
        .len();
    assert!(
        object_bytes <= 1536 * 1024,
        "the largest Service with its snapshot ({object_bytes} bytes) fits etcd's 1.5 MiB"
    );
    eprintln!(
        "largest Service: entry {entry_bytes} bytes, object with snapshot {object_bytes} bytes"
    );
    let shards = charter::catalog::compute(
        testkit::CATALOG_NAME,
        activated.iter(),
        charter::catalog::MAX_BYTES,
    );
    let total: usize = shards.iter().map(|(_, data)| data_bytes(data)).sum();
    assert!(
        total > 4 * CONFIGMAP_MAX,
        "the catalog is several MiB: {total}"
    );
    assert!(shards.len() > 1, "a catalog past 1 MiB is sharded");
    for (name, data) in &shards {
        assert!(
            data_bytes(data) <= CONFIGMAP_MAX,
            "{name} holds {} bytes",
            data_bytes(data)
        );
    }
    let published = shards
        .iter()
        .flat_map(|(_, d)| d.keys())
        .filter(|k| *k != charter::catalog::INDEX_KEY && *k != charter::catalog::SERVICES_KEY)
        .count();
    assert_eq!(published, activated.len(), "every entry is in one shard");

    // The same through the operator: four Services almost as large (without dependencies, so
    // they can activate), approved, make a catalog past 2 MiB that the server holds in shards.
    let mut names = Vec::new();
    for i in 0..4 {
        let name = format!("large-{i}");
        let mut s = largest_service(&name, 20 + i);
        if let Some(model) = s.spec.content.model.as_mut() {
            model.depends_on.clear();
        }
        api.create(&PostParams::default(), &s)
            .await
            .expect("a large Service is admitted");
        names.push(name);
    }
    let ava = fx.client(APPROVER).await;
    for name in &names {
        let revision = fx.revision_in_approval(name).await;
        approve(&ava, name, &revision, APPROVER).await;
    }
    for name in &names {
        fx.wait_for_phase(name, Phase::Active).await;
    }
    let expected: Vec<String> = names
        .iter()
        .map(|n| charter::catalog::key_of(NAMESPACE, n))
        .collect();
    let selector = format!("{}={}", charter::catalog::LABEL, testkit::CATALOG_NAME);
    let served = eventually(
        "the catalog to hold the four large Services, settled",
        || async {
            let maps = fx
                .configmaps()
                .list(&kube::api::ListParams::default().labels(&selector))
                .await
                .ok()?
                .items;
            let mut keys: Vec<String> = maps
                .iter()
                .flat_map(|cm| cm.data.iter().flatten().map(|(k, _)| k.clone()))
                .filter(|k| k.contains('_'))
                .collect();
            keys.sort();
            // Settled: exactly the shards the index lists, no stale one left from an earlier layout.
            let index = maps
                .iter()
                .find(|cm| cm.metadata.name.as_deref() == Some(testkit::CATALOG_NAME))?
                .data
                .as_ref()?
                .get(charter::catalog::INDEX_KEY)?;
            let index: serde_json::Value = serde_json::from_str(index).ok()?;
            let mut listed: Vec<&str> = index["shards"]
                .as_array()?
                .iter()
                .filter_map(|v| v.as_str())
                .collect();
            let mut present: Vec<&str> = maps
                .iter()
                .filter_map(|cm| cm.metadata.name.as_deref())
                .collect();
            listed.sort();
            present.sort();
            (keys == expected && listed == present).then_some(maps.clone())
        },
    )
    .await;
    assert!(served.len() > 1, "a catalog past 1 MiB is sharded");
    let served_total: usize = served
        .iter()
        .map(|cm| data_bytes(&cm.data.clone().unwrap_or_default()))
        .sum();
    assert!(served_total > 2 * CONFIGMAP_MAX, "{served_total} bytes");
    for cm in &served {
        let bytes = data_bytes(&cm.data.clone().unwrap_or_default());
        assert!(
            bytes <= CONFIGMAP_MAX,
            "{:?} holds {bytes} bytes",
            cm.metadata.name
        );
    }
    println!(
        "largest entry {entry_bytes} bytes, object {object_bytes} bytes; {} shards for {total} bytes; \
         served: {} ConfigMaps for {served_total} bytes; {:.1} s",
        shards.len(),
        served.len(),
        started.elapsed().as_secs_f64()
    );
    fx.shutdown().await;
}
