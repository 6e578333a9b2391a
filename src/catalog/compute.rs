//! The pure part of the catalog: from Services to ConfigMap names and data, deterministically.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::api::{Phase, Service};

/// A ConfigMap holds at most 1 MiB; the headroom leaves room for metadata and the labels.
pub const MAX_BYTES: usize = 1024 * 1024 - 64 * 1024;

/// The catalog key of a Service: unambiguous, since a namespace cannot contain `_`.
pub fn key_of(namespace: &str, name: &str) -> String {
    format!("{namespace}_{name}.json")
}

/// The catalog ConfigMaps: `(name, data)` pairs, the first named `catalog_name` (always present,
/// possibly empty), then `<catalog_name>-1`, `-2`, … when the data spills past `max_bytes`.
/// One key per Service that is Active and has an approved snapshot; keys are filled greedily
/// in sorted order, so the same Services always give the same ConfigMaps.
pub fn compute<'a>(
    catalog_name: &str,
    services: impl IntoIterator<Item = &'a Service>,
    max_bytes: usize,
) -> Vec<(String, BTreeMap<String, String>)> {
    let entries: BTreeMap<String, String> = services.into_iter().filter_map(entry).collect();

    let mut maps: Vec<BTreeMap<String, String>> = vec![BTreeMap::new()];
    let mut size = 0usize;
    for (key, value) in entries {
        let cost = key.len() + value.len();
        let current = maps.last_mut().expect("there is always one map");
        if !current.is_empty() && size + cost > max_bytes {
            maps.push(BTreeMap::new());
            size = 0;
        }
        size += cost;
        maps.last_mut()
            .expect("there is always one map")
            .insert(key, value);
    }

    maps.into_iter()
        .enumerate()
        .map(|(i, data)| (spill_name(catalog_name, i), data))
        .collect()
}

fn spill_name(catalog_name: &str, index: usize) -> String {
    if index == 0 {
        catalog_name.to_owned()
    } else {
        format!("{catalog_name}-{index}")
    }
}

/// The catalog entry of one Service, if it is published: the approved snapshot, never the
/// current spec, so unapproved content cannot reach the catalog.
fn entry(service: &Service) -> Option<(String, String)> {
    let status = service.status.as_ref()?;
    if status.phase != Some(Phase::Active) {
        return None;
    }
    let snapshot = status.snapshot.as_ref()?;
    let namespace = service.metadata.namespace.as_deref()?;
    let name = service.metadata.name.as_deref()?;
    // serde_json's Map is a BTreeMap (no `preserve_order`), so keys come out sorted.
    let value: Value = json!({
        "service": { "namespace": namespace, "name": name },
        "content": snapshot.content,
        "provenance": {
            "revision": snapshot.revision,
            "approvedBy": snapshot.approved_by,
            "approvedAt": snapshot.approved_at,
            "activatedAt": status.activated_at,
            "reviewDueAt": status.review_due_at,
        },
    });
    let text = serde_json::to_string_pretty(&value).ok()?;
    Some((key_of(namespace, name), text + "\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ServiceContent, ServiceSpec, ServiceStatus, Snapshot};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use k8s_openapi::jiff::Timestamp;

    struct Fixture(Service);

    fn service(namespace: &str, name: &str) -> Fixture {
        let content = ServiceContent {
            owner: "dana".into(),
            description: Some(format!("the {name} service")),
            ..Default::default()
        };
        let mut s = Service::new(
            name,
            ServiceSpec {
                lifecycle: Default::default(),
                content,
            },
        );
        s.metadata.namespace = Some(namespace.into());
        Fixture(s)
    }

    impl Fixture {
        fn phase(mut self, phase: Phase) -> Self {
            self.0
                .status
                .get_or_insert_with(ServiceStatus::default)
                .phase = Some(phase);
            self
        }
        fn approved(mut self, revision: &str) -> Self {
            let content = self.0.spec.content.clone();
            self.0
                .status
                .get_or_insert_with(ServiceStatus::default)
                .snapshot = Some(Snapshot {
                revision: revision.into(),
                approved_by: vec!["ava".into(), "bob".into()],
                approved_at: Time(Timestamp::from_second(1_700_000_000).unwrap()),
                content,
            });
            self
        }
        fn description(mut self, text: String) -> Self {
            self.0.spec.content.description = Some(text);
            self
        }
        fn build(self) -> Service {
            self.0
        }
    }

    fn keys(maps: &[(String, BTreeMap<String, String>)]) -> Vec<(String, Vec<String>)> {
        maps.iter()
            .map(|(n, d)| (n.clone(), d.keys().cloned().collect()))
            .collect()
    }

    #[test]
    fn only_active_services_with_a_snapshot_are_published() {
        let services = vec![
            service("a", "active")
                .phase(Phase::Active)
                .approved("0123456789")
                .build(),
            service("a", "no-snapshot").phase(Phase::Active).build(),
            service("a", "development")
                .phase(Phase::Development)
                .approved("0123456789")
                .build(),
            service("a", "retired")
                .phase(Phase::Retired)
                .approved("0123456789")
                .build(),
            service("a", "new").build(),
        ];
        let maps = compute("charter-catalog", &services, MAX_BYTES);
        assert_eq!(
            keys(&maps),
            vec![(
                "charter-catalog".to_string(),
                vec!["a_active.json".to_string()]
            )]
        );
    }

    #[test]
    fn an_empty_catalog_is_still_one_configmap() {
        let maps = compute("charter-catalog", &[], MAX_BYTES);
        assert_eq!(maps, vec![("charter-catalog".to_string(), BTreeMap::new())]);
    }

    #[test]
    fn the_catalog_serves_the_snapshot_not_the_current_spec() {
        let mut s = service("a", "ledger")
            .phase(Phase::Active)
            .approved("0123456789")
            .build();
        s.spec.content.description = Some("unapproved edit".into());
        let maps = compute("c", [&s], MAX_BYTES);
        let value = &maps[0].1["a_ledger.json"];
        assert!(value.contains("the ledger service"));
        assert!(!value.contains("unapproved edit"));
        let parsed: Value = serde_json::from_str(value).unwrap();
        assert_eq!(parsed["provenance"]["revision"], "0123456789");
        assert_eq!(parsed["provenance"]["approvedBy"], json!(["ava", "bob"]));
        assert_eq!(
            parsed["service"],
            json!({"namespace": "a", "name": "ledger"})
        );
    }

    #[test]
    fn the_catalog_is_deterministic_whatever_the_order_of_services() {
        let services: Vec<Service> = (0..20)
            .map(|i| {
                service(&format!("ns{}", i % 3), &format!("svc{i}"))
                    .phase(Phase::Active)
                    .approved("0123456789")
                    .build()
            })
            .collect();
        let mut reversed = services.clone();
        reversed.reverse();
        let a = compute("c", &services, 2_000);
        let b = compute("c", &reversed, 2_000);
        assert_eq!(a, b);
        assert!(a.len() > 1, "the small limit makes it spill");
        let value = a[0].1.values().next().unwrap();
        let parsed: Value = serde_json::from_str(value).unwrap();
        assert_eq!(
            serde_json::to_string_pretty(&parsed).unwrap() + "\n",
            *value,
            "keys are sorted"
        );
    }

    #[test]
    fn the_catalog_spills_into_numbered_configmaps_at_the_limit() {
        let services: Vec<Service> = ["a", "b", "c"]
            .iter()
            .map(|n| {
                service("ns", n)
                    .phase(Phase::Active)
                    .approved("0123456789")
                    .build()
            })
            .collect();
        let one = compute("c", &services, MAX_BYTES);
        let cost = |k: &str| k.len() + one[0].1[k].len();
        let (a, b, c) = (cost("ns_a.json"), cost("ns_b.json"), cost("ns_c.json"));

        // Exactly at the limit everything fits; one byte less and the last entry spills.
        assert_eq!(compute("c", &services, a + b + c).len(), 1);
        let spilled = compute("c", &services, a + b + c - 1);
        assert_eq!(
            keys(&spilled),
            vec![
                (
                    "c".to_string(),
                    vec!["ns_a.json".to_string(), "ns_b.json".to_string()]
                ),
                ("c-1".to_string(), vec!["ns_c.json".to_string()]),
            ]
        );
        let each = compute("c", &services, a.max(b).max(c));
        assert_eq!(
            keys(&each)
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>(),
            vec!["c", "c-1", "c-2"]
        );
    }

    #[test]
    fn an_entry_larger_than_the_limit_gets_a_configmap_of_its_own() {
        let big = service("ns", "big")
            .description("x".repeat(5_000))
            .phase(Phase::Active)
            .approved("0123456789")
            .build();
        let small = service("ns", "small")
            .phase(Phase::Active)
            .approved("0123456789")
            .build();
        let maps = compute("c", [&big, &small], 1_000);
        assert_eq!(
            keys(&maps),
            vec![
                ("c".to_string(), vec!["ns_big.json".to_string()]),
                ("c-1".to_string(), vec!["ns_small.json".to_string()])
            ]
        );
    }
}
