use super::*;

#[test]
fn the_policies_refuse_a_missing_justification_and_note_a_missing_group() {
    let required = Requirement {
        justification: true,
        groups: [("sre-leads".to_owned(), 1)].into(),
        policies: vec![crate::api::PolicyRef {
            name: "critical".into(),
            generation: 1,
        }],
        ..Requirement::default()
    };
    let mine = vec!["charter:users".to_owned()];
    let (warnings, notes) = under_policies(&required, Decision::Approved, None, Some(&mine));
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].contains("requires a justification"),
        "{warnings:?}"
    );
    assert!(notes[0].contains("group sre-leads"), "{notes:?}");
    let lead = vec!["sre-leads".to_owned()];
    let (warnings, notes) = under_policies(&required, Decision::Approved, Some("why"), Some(&lead));
    assert!(warnings.is_empty() && notes.is_empty());
    let (warnings, notes) = under_policies(&required, Decision::Rejected, None, Some(&mine));
    assert!(
        warnings.is_empty() && notes.is_empty(),
        "a rejection needs neither"
    );
    let (warnings, _) = under_policies(&Requirement::default(), Decision::Approved, None, None);
    assert!(warnings.is_empty(), "no policy, no warning");
}
use crate::api::{ServiceContent, ServiceSpec};

fn ledger(owner: &str, approvers: &[&str]) -> Service {
    Service::new(
        "ledger",
        ServiceSpec {
            lifecycle: Default::default(),
            contact: None,
            categories: Vec::new(),
            content: ServiceContent {
                owner: owner.into(),
                approvers: approvers.iter().map(|a| a.to_string()).collect(),
                ..Default::default()
            },
        },
    )
}

#[test]
fn a_decision_that_will_not_count_is_explained() {
    let open = ledger("dana", &[]);
    let listed = ledger("dana", &["erin"]);
    let (current, listed_current) = (
        revision_of(&open.spec.content),
        revision_of(&listed.spec.content),
    );
    let cases: &[(&str, &Service, &str, &str, Option<&str>)] = &[
        (
            "an approver on the current revision",
            &listed,
            "erin",
            &listed_current,
            None,
        ),
        (
            "anyone when no approvers are listed",
            &open,
            "frank",
            &current,
            None,
        ),
        (
            "the owner",
            &open,
            "dana",
            &current,
            Some("owns the Service"),
        ),
        (
            "someone not listed",
            &listed,
            "frank",
            &listed_current,
            Some("not in the Service's approvers (erin)"),
        ),
        (
            "a stale revision",
            &listed,
            "erin",
            "0000000000",
            Some("is stale"),
        ),
    ];
    for (case, service, user, revision, expected) in cases {
        let reasons = will_not_count(service, user, revision);
        match expected {
            None => assert!(reasons.is_empty(), "{case}: {reasons:?}"),
            Some(words) => assert!(
                reasons.len() == 1 && reasons[0].contains(words),
                "{case}: {reasons:?}"
            ),
        }
    }
    let owner = will_not_count(&open, "dana", &current).remove(0);
    assert!(owner.contains("cannot see how it runs"), "{owner}");

    // The creator and the author, as the API server recorded them.
    let mut recorded = ledger("dana", &[]);
    recorded.metadata.annotations = Some(
        [
            (identity::CREATED_BY.to_owned(), "gus".to_owned()),
            (identity::REVISED_BY.to_owned(), "hal".to_owned()),
        ]
        .into(),
    );
    let gus = will_not_count(&recorded, "gus", &current);
    assert!(
        gus.len() == 1 && gus[0].contains("created the Service"),
        "{gus:?}"
    );
    let hal = will_not_count(&recorded, "hal", &current);
    assert!(hal.len() == 1 && hal[0].contains("last changed"), "{hal:?}");
    assert!(will_not_count(&recorded, "erin", &current).is_empty());
}

#[test]
fn a_dry_run_manifest_has_a_deterministic_name_per_decision() {
    let approve = manifest(
        "finance",
        "ledger",
        "fe2d55ff25",
        Decision::Approved,
        "Erin@corp",
        None,
    );
    let reject = manifest(
        "finance",
        "ledger",
        "fe2d55ff25",
        Decision::Rejected,
        "Erin@corp",
        None,
    );
    assert_eq!(
        approve.metadata.name.as_deref(),
        Some("ledger-fe2d55ff25-erin-corp-approved")
    );
    assert_eq!(
        reject.metadata.name.as_deref(),
        Some("ledger-fe2d55ff25-erin-corp-rejected")
    );
    assert_eq!(approve.metadata.namespace.as_deref(), Some("finance"));
    assert_eq!(approve.spec.approver, "Erin@corp");
    let again = manifest(
        "finance",
        "ledger",
        "fe2d55ff25",
        Decision::Approved,
        "Erin@corp",
        None,
    );
    assert_eq!(approve.metadata, again.metadata);
    assert_eq!(approve.spec, again.spec);
}

fn decision(name: &str, second: i64, decision: Decision) -> ServiceApproval {
    let mut a = manifest("finance", "ledger", "r1", decision, "erin", None);
    a.metadata.name = Some(name.into());
    a.metadata.creation_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        k8s_openapi::jiff::Timestamp::from_second(second).expect("a time"),
    ));
    a
}

#[test]
fn the_latest_decision_is_the_one_the_operator_counts() {
    let approved = decision("b", 10, Decision::Approved);
    let rejected_later = decision("a", 11, Decision::Rejected);
    let same_second_later_name = decision("c", 10, Decision::Rejected);
    let mut other = decision("z", 99, Decision::Approved);
    other.spec.approver = "frank".into();
    let latest = |list: &[ServiceApproval]| {
        latest_decision(list, "ledger", "r1", "erin").and_then(|a| a.metadata.name.clone())
    };
    assert_eq!(latest(&[]), None);
    assert_eq!(
        latest(std::slice::from_ref(&other)),
        None,
        "another approver's"
    );
    assert_eq!(
        latest(&[rejected_later.clone(), approved.clone(), other.clone()]).as_deref(),
        Some("a"),
        "by creation time first"
    );
    assert_eq!(
        latest(&[same_second_later_name, approved]).as_deref(),
        Some("c"),
        "then by name"
    );
    assert_eq!(
        latest_decision(&[rejected_later], "ledger", "r2", "erin").map(|a| a.spec.decision),
        None,
        "another revision's"
    );
}

#[test]
fn generated_names_keep_one_approvers_decisions_in_order_within_a_second() {
    let at = |millis: u64| UNIX_EPOCH + std::time::Duration::from_millis(millis);
    let first = generate_name("ledger", "Erin@corp", at(1_700_000_000_900));
    let second = generate_name("ledger", "Erin@corp", at(1_700_000_001_000));
    assert_eq!(first, "ledger-erin-corp-1700000000900-");
    assert!(first < second, "{first} < {second}");
    assert!(
        generate_name("ledger", "erin", at(999_999))
            < generate_name("ledger", "erin", at(1_000_000))
    );
}

#[test]
fn a_dry_run_warning_never_claims_a_decision_was_recorded() {
    let dry = warning_line("erin owns the Service", true);
    let real = warning_line("erin owns the Service", false);
    assert!(
        !dry.contains("recorded anyway") && dry.contains("nothing is recorded"),
        "{dry}"
    );
    assert!(real.contains("recorded anyway: --force"), "{real}");
    assert_eq!(anyway(true), "print it anyway");
    assert_eq!(anyway(false), "record it anyway");
}
