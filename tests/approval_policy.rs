//! The platform's ApprovalPolicies in the lifecycle core: every covering policy applies and the
//! strictest wins, groups count only as the API server recorded them, a lower tier never lowers
//! the bar of the change that lowers it, and the Service says in words what it still needs.

use charter::api::{DesiredPhase::*, Phase, PolicyRef, Tier};
use proptest::prelude::*;
use testkit::world::*;

fn critical_policy() -> PolicyBuilder {
    approval_policy("critical")
        .tiers(&[Tier::Critical, Tier::High])
        .min_approvals(2)
        .group("sre-leads", 1)
}

fn critical_ledger() -> ServiceBuilder {
    draft("ledger")
        .complete()
        .tier(Tier::Critical)
        .quorum(1)
        .desired(Development)
}

#[test]
fn a_critical_service_with_one_approval_waits_and_says_what_it_needs() {
    let s = critical_ledger();
    let rev = s.revision();
    let mut w = world(s)
        .under(critical_policy())
        .with(
            approval("a1")
                .by("erin")
                .approves(&rev)
                .in_groups(&["charter:users"]),
        )
        .stepped();
    assert_eq!(
        w.phase(),
        Phase::Approval,
        "one approval is not the policy's two"
    );
    let approved = w.condition("Approved");
    assert_eq!(approved.reason, "AwaitingApproval");
    assert!(
        approved
            .message
            .contains("needs 1 more approval from group sre-leads (ApprovalPolicy critical)"),
        "{}",
        approved.message
    );
    let summary = w.status().approvals.clone().unwrap();
    assert_eq!(summary.required, 2);
    assert_eq!(summary.progress, "1/1,1/2,sre-leads:0/1");
    assert_eq!(
        summary.needs.as_deref(),
        Some("1 more approval from group sre-leads (ApprovalPolicy critical)")
    );
    assert_eq!(w.approval_reason("a1"), "Counted");

    w.add(
        approval("a2")
            .by("lee")
            .approves(&rev)
            .in_groups(&["charter:users", "sre-leads"]),
    );
    w.step();
    assert_eq!(w.phase(), Phase::Development);
    let summary = w.status().approvals.clone().unwrap();
    assert_eq!(summary.needs, None, "nothing is missing once approved");
    let policies = vec![PolicyRef {
        name: "critical".into(),
        generation: 1,
    }];
    assert_eq!(w.status().snapshot.as_ref().unwrap().policies, policies);
    let statuses = &w.last.as_ref().unwrap().approvals;
    for (name, status) in statuses {
        assert!(status.counted, "{name}");
        assert_eq!(status.judged_under, policies, "{name} names its policy");
    }
}

/// Groups come from what the API server recorded for the approval's creator, never from the
/// approval itself, and a delegate's groups are the delegate's.
#[test]
fn only_groups_the_api_server_recorded_for_the_approver_count() {
    let s = || critical_ledger().approvers(&["erin", "lee"]);
    let rev = s().revision();
    for (case, lee, approved) in [
        (
            "recorded for lee himself",
            approval("a2")
                .by("lee")
                .approves(&rev)
                .in_groups(&["sre-leads"]),
            true,
        ),
        (
            "recorded for a delegate in sre-leads, in lee's name",
            approval("a2")
                .by("lee")
                .approves(&rev)
                .recorded_by("argocd")
                .groups_recorded(&["sre-leads"]),
            false,
        ),
        (
            "recorded for lee himself, then again by a delegate from git",
            approval("a2")
                .by("lee")
                .approves(&rev)
                .recorded_by("argocd")
                .created(hours(1)),
            true,
        ),
        (
            "nothing recorded",
            approval("a2").by("lee").approves(&rev),
            false,
        ),
        (
            "recorded in another group",
            approval("a2").by("lee").approves(&rev).in_groups(&["sre"]),
            false,
        ),
    ] {
        let mut w = world(s())
            .under(critical_policy())
            .with(approval("a1").by("erin").approves(&rev).in_groups(&["sre"]))
            .with(lee);
        if case.starts_with("recorded for lee himself, then") {
            w.add(
                approval("a0")
                    .by("lee")
                    .approves(&rev)
                    .in_groups(&["sre-leads"]),
            );
        }
        let w = w.at(hours(1)).stepped();
        assert_eq!(w.phase() == Phase::Development, approved, "{case}");
        assert_eq!(
            w.approval_reason("a2"),
            "Counted",
            "{case}: counts toward the quorum"
        );
    }
}

#[test]
fn the_platforms_group_counts_even_when_the_owner_lists_only_friends() {
    // dana lists erin alone: the policy's group is not hers to leave out.
    let rev = critical_ledger().approvers(&["erin"]).revision();
    let w = world(critical_ledger().approvers(&["erin"]))
        .under(critical_policy())
        .with(approval("a1").by("erin").approves(&rev))
        .with(
            approval("a2")
                .by("lee")
                .approves(&rev)
                .in_groups(&["sre-leads"]),
        )
        .stepped();
    assert_eq!(w.phase(), Phase::Development);
    let w = world(critical_ledger().approvers(&["erin"]))
        .under(critical_policy())
        .with(
            approval("a2")
                .by("lee")
                .approves(&rev)
                .in_groups(&["sre-leads"]),
        )
        .with(
            approval("a3")
                .by("sam")
                .approves(&rev)
                .in_groups(&["sre-leads"]),
        )
        .stepped();
    assert_eq!(
        w.phase(),
        Phase::Approval,
        "the Service's own approvers are still needed"
    );
}

/// dana's Critical ledger is Active; she lowers it to Low in a new revision with one approval.
#[test]
fn lowering_the_tier_is_judged_under_the_stricter_approved_tier() {
    let s = critical_ledger().ready_to_activate();
    let rev = s.revision();
    let mut w = world(s)
        .under(critical_policy())
        .with(approval("a1").by("erin").approves(&rev))
        .with(
            approval("a2")
                .by("lee")
                .approves(&rev)
                .in_groups(&["sre-leads"]),
        )
        .stepped();
    w.step();
    assert_eq!(w.phase(), Phase::Active);
    assert_eq!(w.published().as_deref(), Some(rev.as_str()));

    w.revise("dana", |c| c.tier = Some(Tier::Low));
    let low = w.revision();
    w.add(approval("b1").by("frank").approves(&low).created(hours(1)));
    w.now = hours(1);
    w.step();
    assert_eq!(
        w.published().as_deref(),
        Some(rev.as_str()),
        "the Low revision is not published under the Critical bar"
    );
    let approved = w.condition("Approved");
    assert!(
        approved.message.contains("from group sre-leads"),
        "{}",
        approved.message
    );

    w.add(
        approval("b2")
            .by("sam")
            .approves(&low)
            .in_groups(&["sre-leads"])
            .created(hours(2)),
    );
    w.now = hours(2);
    w.step();
    w.step();
    assert_eq!(w.published().as_deref(), Some(low.as_str()));

    // Approved as Low, the next revision is judged as Low: one approval is enough.
    w.revise("dana", |c| c.description = Some("the ledger, low".into()));
    let next = w.revision();
    w.add(approval("c1").by("frank").approves(&next).created(hours(3)));
    w.now = hours(3);
    w.step();
    w.step();
    assert_eq!(w.published().as_deref(), Some(next.as_str()));
}

#[test]
fn a_required_justification_is_a_non_empty_comment_on_approvals_only() {
    let s = draft("ledger").complete().desired(Development);
    let rev = s.revision();
    let policy = || approval_policy("why").justification();
    for (approval, reason) in [
        (
            approval("a1").by("erin").approves(&rev),
            "JustificationRequired",
        ),
        (
            approval("a1").by("erin").approves(&rev).comment("  "),
            "JustificationRequired",
        ),
        (
            approval("a1")
                .by("erin")
                .approves(&rev)
                .comment("checked the SLA"),
            "Counted",
        ),
        (approval("a1").by("erin").rejects(&rev), "Counted"),
    ] {
        let w = world(draft("ledger").complete().desired(Development))
            .under(policy())
            .with(approval)
            .stepped();
        assert_eq!(w.approval_reason("a1"), reason);
    }
}

#[test]
fn an_approval_older_than_the_maximum_age_no_longer_counts() {
    let s = draft("ledger").complete().desired(Development).quorum(2);
    let rev = s.revision();
    let mut w = world(s)
        .under(approval_policy("fresh").max_age("1d"))
        .with(approval("a1").by("erin").approves(&rev).created(t0()));
    w.step();
    assert_eq!(w.approval_reason("a1"), "Counted");
    assert_eq!(w.requeue_at(), Some(hours(24)), "woken when it ages out");
    w.now = hours(25);
    w.add(approval("a2").by("frank").approves(&rev).created(hours(25)));
    w.step();
    assert_eq!(w.approval_reason("a1"), "Expired");
    assert_eq!(w.phase(), Phase::Approval);
}

#[test]
fn a_policy_for_other_namespaces_or_tiers_does_not_apply() {
    let s = critical_ledger();
    let rev = s.revision();
    for p in [
        critical_policy().namespaces(&["payments"]),
        critical_policy().tiers(&[Tier::Low]),
    ] {
        let w = world(critical_ledger())
            .under(p)
            .with(approval("a1").by("erin").approves(&rev))
            .stepped();
        assert_eq!(w.phase(), Phase::Development);
        assert!(
            w.last.as_ref().unwrap().approvals[0]
                .1
                .judged_under
                .is_empty()
        );
    }
}

#[test]
fn the_policys_review_interval_schedules_reviews_of_active_services() {
    let s = draft("ledger").ready_to_activate();
    let rev = s.revision();
    let mut w = world(s)
        .under(approval_policy("reviewed").review_interval("7d"))
        .with(approval("a1").by("erin").approves(&rev));
    w.step();
    w.step();
    assert_eq!(w.phase(), Phase::Active);
    let due = w
        .status()
        .review_due_at
        .clone()
        .expect("a review is scheduled");
    assert_eq!(due.0, hours(7 * 24));
    w.now = hours(7 * 24);
    w.step();
    assert_eq!(w.condition("ReviewDue").status, "True");
}

const APPROVERS: [&str; 5] = ["erin", "frank", "lee", "sam", "gus"];
const GROUPS: [&str; 2] = ["sre-leads", "security"];
const TIERS: [Tier; 4] = [Tier::Critical, Tier::High, Tier::Medium, Tier::Low];

fn policy_strategy() -> impl Strategy<Value = charter::api::ApprovalPolicy> {
    (
        proptest::sample::subsequence(TIERS.to_vec(), 0..=2),
        0u32..4,
        proptest::collection::vec((0usize..2, 1u32..3), 0..3),
        any::<bool>(),
        0usize..100,
    )
        .prop_map(|(tiers, min, groups, justification, n)| {
            let mut p = approval_policy(&format!("p{n}")).tiers(&tiers);
            if min > 0 {
                p = p.min_approvals(min);
            }
            let mut seen = std::collections::BTreeSet::new();
            for (g, m) in groups {
                if seen.insert(g) {
                    p = p.group(GROUPS[g], m);
                }
            }
            if justification {
                p = p.justification();
            }
            p.build()
        })
}

/// (approver, groups recorded for them, with a comment)
fn approvals_strategy() -> impl Strategy<Value = Vec<(usize, Vec<usize>, bool)>> {
    proptest::collection::vec(
        (
            0usize..5,
            proptest::sample::subsequence(vec![0usize, 1], 0..=2),
            any::<bool>(),
        ),
        0..6,
    )
}

fn judged(
    tier: Option<Tier>,
    quorum: u32,
    policies: &[charter::api::ApprovalPolicy],
    approvals: &[(usize, Vec<usize>, bool)],
) -> World {
    let mut s = draft("ledger")
        .complete()
        .desired(Development)
        .quorum(quorum);
    if let Some(t) = tier {
        s = s.tier(t);
    }
    let rev = s.revision();
    let mut w = world(s);
    w.approval_policies = policies.to_vec();
    for (i, (who, groups, comment)) in approvals.iter().enumerate() {
        let groups: Vec<&str> = groups.iter().map(|g| GROUPS[*g]).collect();
        let mut a = approval(&format!("a{i}"))
            .by(APPROVERS[*who])
            .approves(&rev)
            .in_groups(&groups);
        if *comment {
            a = a.comment("checked");
        }
        w.add(a);
    }
    w.step();
    w
}

proptest! {
    /// Strictest wins: adding a policy never turns a revision that waits into an approved one.
    #[test]
    fn adding_a_policy_never_lowers_the_bar(
        tier in proptest::option::of(proptest::sample::select(TIERS.to_vec())),
        quorum in 1u32..3,
        policies in proptest::collection::vec(policy_strategy(), 0..3),
        extra in policy_strategy(),
        approvals in approvals_strategy(),
    ) {
        let without = judged(tier, quorum, &policies, &approvals);
        let mut more = policies.clone();
        more.push(extra);
        let with = judged(tier, quorum, &more, &approvals);
        if with.phase() == Phase::Development {
            prop_assert_eq!(without.phase(), Phase::Development);
        }
    }

    /// No order: the policies' order never changes the outcome.
    #[test]
    fn the_order_of_policies_does_not_matter(
        tier in proptest::option::of(proptest::sample::select(TIERS.to_vec())),
        policies in proptest::collection::vec(policy_strategy(), 0..4),
        approvals in approvals_strategy(),
    ) {
        let forward = judged(tier, 1, &policies, &approvals);
        let mut reversed = policies.clone();
        reversed.reverse();
        let backward = judged(tier, 1, &reversed, &approvals);
        prop_assert_eq!(forward.status(), backward.status());
    }

    /// An approved revision has at least its own quorum and every covering policy's minimum of
    /// distinct counted approvers, and the recorded groups' minimums.
    #[test]
    fn an_approved_revision_met_every_covering_requirement(
        tier in proptest::option::of(proptest::sample::select(TIERS.to_vec())),
        quorum in 1u32..3,
        policies in proptest::collection::vec(policy_strategy(), 0..3),
        approvals in approvals_strategy(),
    ) {
        let w = judged(tier, quorum, &policies, &approvals);
        prop_assume!(w.phase() == Phase::Development);
        let counted: Vec<&charter::api::ServiceApproval> = w
            .approvals
            .iter()
            .filter(|a| w.approval_reason(a.metadata.name.as_deref().unwrap()) == "Counted")
            .collect();
        let approvers: std::collections::BTreeSet<&str> =
            counted.iter().map(|a| a.spec.approver.as_str()).collect();
        prop_assert!(approvers.len() as u32 >= quorum);
        for p in policies.iter().filter(|p| {
            p.spec.covers.tiers.is_empty() || tier.is_some_and(|t| p.spec.covers.tiers.contains(&t))
        }) {
            prop_assert!(approvers.len() as u32 >= p.spec.min_approvals.unwrap_or(0));
            // The server vouched for a counted approver's group on any of their counted or
            // superseded approvals (all are approvals here: no rejection clears them).
            let vouched: Vec<&charter::api::ServiceApproval> = w
                .approvals
                .iter()
                .filter(|a| {
                    matches!(
                        w.approval_reason(a.metadata.name.as_deref().unwrap()).as_str(),
                        "Counted" | "Superseded"
                    ) && approvers.contains(a.spec.approver.as_str())
                })
                .collect();
            for g in &p.spec.required_groups {
                let in_group: std::collections::BTreeSet<&str> = vouched
                    .iter()
                    .filter(|a| {
                        charter::api::identity::recorded_groups(
                            &a.metadata,
                            charter::api::identity::RECORDED_GROUPS,
                        )
                        .contains(&g.name)
                    })
                    .map(|a| a.spec.approver.as_str())
                    .collect();
                prop_assert!(in_group.len() as u32 >= g.min, "group {}", g.name);
            }
            if p.spec.require_justification {
                prop_assert!(counted.iter().all(|a| a.spec.comment.is_some()));
            }
        }
    }
}
