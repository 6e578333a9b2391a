use super::*;
use crate::api::{Phase, ServiceContent, ServiceSpec, ServiceStatus, Snapshot};
use crate::catalog::{compute::compute, dirty_channel};
use k8s_openapi::{apimachinery::pkg::apis::meta::v1::Time, jiff::Timestamp};

fn digests<'a>(pairs: &[(&'a str, u64)]) -> Digests<'a> {
    pairs.iter().copied().collect()
}

#[test]
fn an_entry_the_service_cache_does_not_hold_yet_is_told_as_lagging() {
    let (store, _writer) = reflector::store::<Cached<Service>>();
    let keys = digests(&[(INDEX_KEY, 1), ("default_ledger.json", 2)]);
    let (data, lagging) = render(&keys, "{}", &[store]);
    assert_eq!(
        data.keys().collect::<Vec<_>>(),
        vec![INDEX_KEY, SERVICES_KEY]
    );
    assert_eq!(lagging, 1, "a relist in progress: compare again later");
}

fn active(namespace: &str, name: &str, description: &str) -> Service {
    let content = ServiceContent {
        owner: "dana".into(),
        description: Some(description.into()),
        ..Default::default()
    };
    let mut s = Service::new(
        name,
        ServiceSpec {
            lifecycle: Default::default(),
            contact: None,
            categories: Vec::new(),
            content: content.clone(),
        },
    );
    s.metadata.namespace = Some(namespace.into());
    s.status = Some(ServiceStatus {
        phase: Some(Phase::Active),
        snapshot: Some(Snapshot {
            revision: "0123456789".into(),
            approved_by: vec!["ava".into()],
            approved_at: Time(Timestamp::from_second(1_700_000_000).unwrap()),
            content,
            revised_by: None,
            policies: Vec::new(),
        }),
        ..Default::default()
    });
    s
}

/// The writer's layout from records, byte for byte (by digest) `compute`'s, as Services
/// come, change and go.
#[test]
fn the_published_records_lay_out_exactly_as_compute() {
    let (dirty, _marks) = dirty_channel();
    let published = Published::new(dirty);
    let mut services: BTreeMap<String, Service> = BTreeMap::new();
    for step in 0..300usize {
        let name = format!("svc{}", (step * 7) % 90);
        let namespace = ["a", "b"][step % 2];
        let service = active(namespace, &name, &"x".repeat(50 + (step * 13) % 400));
        if step % 5 == 4 {
            published.remove(namespace, &name);
            services.remove(&format!("{namespace}/{name}"));
        } else {
            published.upsert(&service);
            services.insert(format!("{namespace}/{name}"), service);
        }
        if step % 30 != 29 {
            continue;
        }
        for max_bytes in [2_000, 10_000, MAX_BYTES] {
            let expected = compute("c", services.values(), max_bytes);
            let entries = published.snapshot();
            let (_, desired) = layout("c", &entries, max_bytes);
            let expected: Vec<(String, BTreeMap<String, u64>)> = expected
                .iter()
                .map(|(n, d)| {
                    (
                        n.clone(),
                        d.iter().map(|(k, v)| (k.clone(), digest(v))).collect(),
                    )
                })
                .collect();
            let desired: Vec<(String, BTreeMap<String, u64>)> = desired
                .iter()
                .map(|(n, d)| {
                    (
                        n.clone(),
                        d.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
                    )
                })
                .collect();
            assert_eq!(desired, expected, "step {step}, max {max_bytes}");
        }
    }
}
