//! The platform's requirement for one Service: every ApprovalPolicy covering it applies and the
//! strictest wins (the highest quorum, the union of required groups with the highest minimum of
//! each, a justification if any asks, the shortest approval age and review interval). No policy
//! order, no "any policy permits": adding a policy can only raise the bar.

use std::collections::BTreeMap;

use k8s_openapi::jiff::SignedDuration;

use super::review::parse_interval;
use crate::api::{ApprovalPolicy, PolicyRef, Tier};

/// What the covering policies require together.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Requirement {
    /// The minimum quorum (0 when no policy sets one).
    pub quorum: u32,
    /// Required groups and the minimum of distinct approvers from each.
    pub groups: BTreeMap<String, u32>,
    pub justification: bool,
    pub max_age: Option<SignedDuration>,
    pub review_interval: Option<SignedDuration>,
    /// The policies that applied, by name, with their generation.
    pub policies: Vec<PolicyRef>,
}

impl Requirement {
    /// Whether any policy covers the Service.
    pub fn applies(&self) -> bool {
        !self.policies.is_empty()
    }

    /// The policies' names, for messages: `critical, payments`.
    pub fn names(&self) -> String {
        self.policies
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Whether `policy` covers a Service in `namespace` of any of `tiers` (its current tier and the
/// tier of its approved revision).
pub(crate) fn covers(policy: &ApprovalPolicy, namespace: &str, tiers: &[Option<Tier>]) -> bool {
    let c = &policy.spec.covers;
    let in_namespace = c.namespaces.is_empty() || c.namespaces.iter().any(|n| n == namespace);
    let in_tier = c.tiers.is_empty() || tiers.iter().flatten().any(|t| c.tiers.contains(t));
    in_namespace && in_tier
}

/// The strictest requirement of the policies covering `service`'s current revision: those of
/// its tier and of its approved revision's tier (for clients such as `charter approve`).
pub fn for_service(policies: &[ApprovalPolicy], service: &crate::api::Service) -> Requirement {
    let approved_tier = service
        .status
        .as_ref()
        .and_then(|s| s.approved_bar.as_ref())
        .and_then(|b| b.tier);
    effective(
        policies,
        service.metadata.namespace.as_deref().unwrap_or_default(),
        &[service.spec.content.tier, approved_tier],
    )
}

/// The strictest requirement of the policies covering a Service in `namespace` of `tiers`.
pub(crate) fn effective(
    policies: &[ApprovalPolicy],
    namespace: &str,
    tiers: &[Option<Tier>],
) -> Requirement {
    let mut r = Requirement::default();
    for policy in policies.iter().filter(|p| covers(p, namespace, tiers)) {
        let spec = &policy.spec;
        r.quorum = r.quorum.max(spec.min_approvals.unwrap_or(0));
        for g in &spec.required_groups {
            let min = r.groups.entry(g.name.clone()).or_default();
            *min = (*min).max(g.min.max(1));
        }
        r.justification |= spec.require_justification;
        r.max_age = shortest(r.max_age, spec.max_approval_age.as_deref());
        r.review_interval = shortest(r.review_interval, spec.review_interval.as_deref());
        r.policies.push(PolicyRef {
            name: policy.metadata.name.clone().unwrap_or_default(),
            generation: policy.metadata.generation.unwrap_or_default(),
        });
    }
    r.policies.sort();
    r
}

fn shortest(current: Option<SignedDuration>, text: Option<&str>) -> Option<SignedDuration> {
    match (current, text.and_then(parse_interval)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ApprovalPolicySpec, Coverage, GroupRequirement};
    use Tier::*;

    fn policy(name: &str, tiers: &[Tier], namespaces: &[&str]) -> ApprovalPolicy {
        let mut p = ApprovalPolicy::new(
            name,
            ApprovalPolicySpec {
                covers: Coverage {
                    tiers: tiers.to_vec(),
                    namespaces: namespaces.iter().map(|n| n.to_string()).collect(),
                },
                ..ApprovalPolicySpec::default()
            },
        );
        p.metadata.generation = Some(1);
        p
    }

    fn group(name: &str, min: u32) -> GroupRequirement {
        GroupRequirement {
            name: name.into(),
            min,
        }
    }

    /// One row per rule: what covers, with what must not beside it.
    #[test]
    fn a_policy_covers_exact_tiers_and_namespaces() {
        let critical_payments = policy("p", &[Critical], &["payments"]);
        let everything = policy("all", &[], &[]);
        for (p, namespace, tiers, covered) in [
            (&critical_payments, "payments", vec![Some(Critical)], true),
            (&critical_payments, "payments", vec![Some(High)], false),
            (&critical_payments, "payments", vec![None], false),
            (
                &critical_payments,
                "payments-eu",
                vec![Some(Critical)],
                false,
            ),
            (&critical_payments, "payment", vec![Some(Critical)], false),
            // A revision moving from Critical to Low is still judged as Critical.
            (
                &critical_payments,
                "payments",
                vec![Some(Low), Some(Critical)],
                true,
            ),
            (&everything, "anywhere", vec![None], true),
            (&everything, "anywhere", vec![Some(Low)], true),
        ] {
            assert_eq!(
                covers(p, namespace, &tiers),
                covered,
                "{} in {namespace} {tiers:?}",
                p.metadata.name.as_deref().unwrap()
            );
        }
    }

    #[test]
    fn the_strictest_requirement_of_every_covering_policy_wins() {
        let mut a = policy("a", &[Critical], &[]);
        a.spec.min_approvals = Some(2);
        a.spec.required_groups = vec![group("sre-leads", 1), group("security", 1)];
        a.spec.max_approval_age = Some("30d".into());
        a.spec.review_interval = Some("12w".into());
        let mut b = policy("b", &[], &["payments"]);
        b.metadata.generation = Some(4);
        b.spec.min_approvals = Some(3);
        b.spec.required_groups = vec![group("sre-leads", 2)];
        b.spec.require_justification = true;
        b.spec.max_approval_age = Some("2w".into());
        b.spec.review_interval = Some("90d".into());
        let mut lax = policy("lax", &[Low], &[]);
        lax.spec.min_approvals = Some(5);

        let r = effective(&[b, lax, a], "payments", &[Some(Critical)]);
        assert_eq!(r.quorum, 3);
        assert_eq!(
            r.groups,
            BTreeMap::from([("security".into(), 1), ("sre-leads".into(), 2)])
        );
        assert!(r.justification);
        assert_eq!(r.max_age, Some(SignedDuration::from_hours(14 * 24)));
        assert_eq!(r.review_interval, Some(SignedDuration::from_hours(84 * 24)));
        assert_eq!(r.names(), "a, b", "sorted by name; lax covers Low only");
        assert_eq!(r.policies[1].generation, 4);
    }

    #[test]
    fn no_covering_policy_requires_nothing() {
        let r = effective(&[policy("p", &[Critical], &[])], "shop", &[Some(Low)]);
        assert!(!r.applies());
        assert_eq!(r, Requirement::default());
    }
}
