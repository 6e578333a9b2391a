//! One catalog entry: what a consumer needs to know about one Active Service. `content` is the
//! approved snapshot (never unapproved content) with what the owner keeps current outside the
//! revision (categories, contact) and without the approval process's own fields; `provenance`
//! says which revision it is, who approved it and when. Absent fields are omitted, never null.
//! Its brief is its line in its shard's `services.json`: enough to list and find services.

use serde_json::{Map, Value, json};

use crate::api::{Phase, Service};

/// The catalog key of a Service: unambiguous, since a namespace cannot contain `_`.
pub fn key_of(namespace: &str, name: &str) -> String {
    format!("{namespace}_{name}.json")
}

/// Fields of the approvable content that are about the approval process, not the service.
const PROCESS_FIELDS: &[&str] = &["approvers", "requiredApprovals"];

/// One published Service in the catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// `<namespace>_<name>.json`.
    pub key: String,
    /// The entry: pretty JSON with sorted keys.
    pub value: String,
    /// Its line in `services.json`: compact JSON with sorted keys.
    pub brief: String,
}

/// The catalog entry of one Service, if it is published.
pub fn entry(service: &Service) -> Option<Entry> {
    let status = service.status.as_ref()?;
    if status.phase != Some(Phase::Active) {
        return None;
    }
    let snapshot = status.snapshot.as_ref()?;
    let namespace = service.metadata.namespace.as_deref()?;
    let name = service.metadata.name.as_deref()?;

    let mut approved = snapshot.content.clone();
    // A consumer follows a dependency by namespace and name: fill in the namespace.
    if let Some(model) = approved.model.as_mut() {
        for dep in &mut model.depends_on {
            *dep = dep.resolved_in(namespace);
        }
    }
    let Value::Object(mut content) = serde_json::to_value(&approved).ok()? else {
        return None;
    };
    for field in PROCESS_FIELDS {
        content.remove(*field);
    }
    // The owner's, outside the revision: the current ones.
    if !service.spec.categories.is_empty() {
        content.insert(
            "categories".into(),
            serde_json::to_value(&service.spec.categories).ok()?,
        );
    }
    if let Some(contact) = &service.spec.contact {
        content.insert("contact".into(), serde_json::to_value(contact).ok()?);
    }

    let mut provenance = Map::new();
    provenance.insert("revision".into(), json!(snapshot.revision));
    provenance.insert("approvedBy".into(), json!(snapshot.approved_by));
    provenance.insert("approvedAt".into(), json!(snapshot.approved_at));
    if let Some(at) = &status.activated_at {
        provenance.insert("activatedAt".into(), json!(at));
        // The catalog serves a revision from when it is both approved and Active.
        let published = if at.0 > snapshot.approved_at.0 {
            at
        } else {
            &snapshot.approved_at
        };
        provenance.insert("publishedAt".into(), json!(published));
    }
    if let Some(due) = &status.review_due_at {
        provenance.insert("reviewDueAt".into(), json!(due));
    }
    // The last recorded review: who, when, which revision, with what outcome.
    if let Some(review) = &status.last_review {
        provenance.insert(
            "lastReview".into(),
            json!({
                "by": review.by,
                "at": review.at,
                "revision": review.revision,
                "outcome": review.outcome,
            }),
        );
    }
    // The ApprovalPolicies the served revision was approved under.
    if !snapshot.policies.is_empty() {
        provenance.insert("approvalPolicies".into(), json!(snapshot.policies));
    }

    let key = key_of(namespace, name);
    let mut brief = Map::new();
    brief.insert("key".into(), json!(key));
    brief.insert("namespace".into(), json!(namespace));
    brief.insert("name".into(), json!(name));
    brief.insert("revision".into(), json!(snapshot.revision));
    for field in ["displayName", "tier"] {
        if let Some(v) = content.get(field) {
            brief.insert(field.into(), v.clone());
        }
    }
    if !service.spec.categories.is_empty() {
        let names: Vec<&str> = service
            .spec
            .categories
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        brief.insert("categories".into(), json!(names));
    }

    // serde_json's Map is a BTreeMap (no `preserve_order`), so keys come out sorted.
    let value = json!({
        "service": { "namespace": namespace, "name": name },
        "content": content,
        "provenance": provenance,
    });
    Some(Entry {
        key,
        value: serde_json::to_string_pretty(&value).ok()? + "\n",
        brief: serde_json::to_string(&brief).ok()?,
    })
}

/// The value of a shard's `services.json`: the briefs of its entries, sorted by key, one a line.
pub fn listing<'a>(briefs: impl Iterator<Item = &'a str>) -> String {
    let lines: Vec<&str> = briefs.collect();
    if lines.is_empty() {
        "[]\n".to_owned()
    } else {
        format!("[\n{}\n]\n", lines.join(",\n"))
    }
}

/// What a brief adds to its shard's `services.json`.
pub fn brief_cost(brief: &str) -> usize {
    brief.len() + 2
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ServiceModel, ServiceRef, ServiceSpec, ServiceStatus, Snapshot};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use k8s_openapi::jiff::Timestamp;

    fn at(second: i64) -> Time {
        Time(Timestamp::from_second(second).unwrap())
    }

    fn active(approved_at: i64, activated_at: Option<i64>) -> Service {
        let mut spec = ServiceSpec::default();
        spec.content.owner = "dana".into();
        spec.content.approvers = vec!["ava".into()];
        spec.content.model = Some(ServiceModel {
            outcomes: vec![],
            depends_on: vec![
                ServiceRef {
                    namespace: None,
                    name: "ident".into(),
                },
                ServiceRef {
                    namespace: Some("platform".into()),
                    name: "bus".into(),
                },
            ],
        });
        let mut s = Service::new("ledger", spec.clone());
        s.metadata.namespace = Some("shop".into());
        s.status = Some(ServiceStatus {
            phase: Some(Phase::Active),
            activated_at: activated_at.map(at),
            snapshot: Some(Snapshot {
                revision: "0123456789".into(),
                approved_by: vec!["ava".into()],
                approved_at: at(approved_at),
                content: spec.content,
                revised_by: None,
                policies: Vec::new(),
            }),
            ..Default::default()
        });
        s
    }

    fn value(s: &Service) -> Value {
        serde_json::from_str(&entry(s).expect("published").value).unwrap()
    }

    #[test]
    fn provenance_names_the_policies_and_the_last_review_only_when_there_are_some() {
        let plain = value(&active(100, Some(200)));
        assert!(plain["provenance"].get("approvalPolicies").is_none());
        assert!(plain["provenance"].get("lastReview").is_none());

        let mut s = active(100, Some(200));
        let status = s.status.as_mut().unwrap();
        status.snapshot.as_mut().unwrap().policies = vec![crate::api::PolicyRef {
            name: "critical-and-high".into(),
            generation: 3,
        }];
        status.last_review = Some(crate::api::LastReview {
            by: "frank".into(),
            at: at(300),
            revision: "0123456789".into(),
            outcome: "Confirmed".into(),
            comment: Some("not for consumers".into()),
            approval: "r1".into(),
        });
        let v = value(&s);
        assert_eq!(
            v["provenance"]["approvalPolicies"],
            json!([{"name": "critical-and-high", "generation": 3}])
        );
        assert_eq!(
            v["provenance"]["lastReview"],
            json!({"by": "frank", "at": at(300), "revision": "0123456789", "outcome": "Confirmed"})
        );
    }

    #[test]
    fn published_at_is_when_the_revision_was_both_approved_and_active() {
        let activated_later = value(&active(100, Some(200)));
        assert_eq!(activated_later["provenance"]["publishedAt"], json!(at(200)));
        let approved_later = value(&active(300, Some(200)));
        assert_eq!(approved_later["provenance"]["publishedAt"], json!(at(300)));
    }

    #[test]
    fn absent_fields_are_omitted_and_dependencies_carry_their_namespace() {
        let v = value(&active(100, None));
        let provenance = v["provenance"].as_object().unwrap();
        assert!(!provenance.contains_key("reviewDueAt"));
        assert!(!provenance.contains_key("activatedAt"));
        assert!(v["content"].get("approvers").is_none());
        assert_eq!(
            v["content"]["model"]["dependsOn"],
            json!([{"namespace": "shop", "name": "ident"}, {"namespace": "platform", "name": "bus"}])
        );
        assert!(!entry(&active(100, None)).unwrap().value.contains("null"));
    }
}
