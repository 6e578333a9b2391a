//! The bar a revision must clear: who may approve it and how many must. A revision is judged
//! under its own bar and, once any revision was approved, under that approved bar too (the
//! stricter of both, as CODEOWNERS: changing who approves needs those who approved before),
//! and under the platform's requirement (`requirement.rs`) as a bar of its own.

use std::collections::{BTreeMap, BTreeSet};

use super::requirement::Requirement;
use crate::api::{ApprovedBar, ServiceContent};

/// Who approved, each with the groups the API server recorded for them on their approval
/// (empty when none were recorded, or when a delegate recorded it).
pub(crate) type Approvers = BTreeMap<String, BTreeSet<String>>;

/// One bar: its owner never counts, its approvers (when listed) are the only ones who do.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Bar {
    pub owner: String,
    pub approvers: Vec<String>,
    pub quorum: u32,
    /// The approved revision this bar comes from; `None` for the revision's own bar.
    pub inherited_from: Option<String>,
    /// Required groups, each with its minimum of distinct approvers (the platform's bar only).
    pub groups: BTreeMap<String, u32>,
    /// The ApprovalPolicies this bar comes from (`critical, payments`); `None` otherwise.
    pub policies: Option<String>,
}

impl Bar {
    pub fn of(content: &ServiceContent) -> Bar {
        Bar {
            owner: content.owner.clone(),
            approvers: sorted(&content.approvers),
            quorum: content.quorum(),
            inherited_from: None,
            groups: BTreeMap::new(),
            policies: None,
        }
    }

    fn inherited(approved: &ApprovedBar) -> Bar {
        Bar {
            owner: approved.owner.clone(),
            approvers: sorted(&approved.approvers),
            quorum: approved.required_approvals.max(1),
            inherited_from: Some(approved.revision.clone()),
            groups: BTreeMap::new(),
            policies: None,
        }
    }

    /// The platform's bar: anyone but the owner counts toward its quorum, and only those the
    /// API server recorded in a group count toward that group's minimum.
    fn platform(owner: &str, requirement: &Requirement) -> Bar {
        Bar {
            owner: owner.to_owned(),
            approvers: Vec::new(),
            quorum: requirement.quorum,
            inherited_from: None,
            groups: requirement.groups.clone(),
            policies: Some(requirement.names()),
        }
    }

    /// Whether this bar lets `approver` count (the owner is excluded elsewhere, by name).
    pub fn admits(&self, approver: &str) -> bool {
        self.approvers.is_empty() || self.approvers.iter().any(|a| a == approver)
    }

    fn counted<'a>(
        &'a self,
        approved_by: &'a Approvers,
        owner_counts: bool,
    ) -> impl Iterator<Item = (&'a String, &'a BTreeSet<String>)> {
        approved_by
            .iter()
            .filter(move |(a, _)| self.admits(a) && (owner_counts || **a != self.owner))
    }

    fn count(&self, approved_by: &Approvers, owner_counts: bool) -> usize {
        self.counted(approved_by, owner_counts).count()
    }

    fn count_in(&self, group: &str, approved_by: &Approvers, owner_counts: bool) -> usize {
        self.counted(approved_by, owner_counts)
            .filter(|(_, groups)| groups.contains(group))
            .count()
    }

    fn met(&self, approved_by: &Approvers, owner_counts: bool) -> bool {
        self.count(approved_by, owner_counts) >= self.quorum as usize
            && self
                .groups
                .iter()
                .all(|(g, min)| self.count_in(g, approved_by, owner_counts) >= *min as usize)
    }

    /// `1/2`, and `sre-leads:0/1` per required group.
    fn progress(&self, approved_by: &Approvers, owner_counts: bool) -> Vec<String> {
        let mut shown = Vec::new();
        if self.quorum > 0 || self.groups.is_empty() {
            shown.push(format!(
                "{}/{}",
                self.count(approved_by, owner_counts),
                self.quorum
            ));
        }
        for (g, min) in &self.groups {
            shown.push(format!(
                "{g}:{}/{min}",
                self.count_in(g, approved_by, owner_counts)
            ));
        }
        shown
    }

    /// What this bar still misses, in words; `None` when it is met. An approver of a required
    /// group counts toward the quorum too, so the quorum asks only for what the groups do not.
    fn missing(&self, approved_by: &Approvers, owner_counts: bool) -> Option<String> {
        let noun = |n: usize| if n == 1 { "approval" } else { "approvals" };
        let mut parts = Vec::new();
        let mut from_groups = 0;
        for (g, min) in &self.groups {
            let short = (*min as usize).saturating_sub(self.count_in(g, approved_by, owner_counts));
            if short > 0 {
                from_groups += short;
                parts.push(format!("{short} more {} from group {g}", noun(short)));
            }
        }
        let short = (self.quorum as usize)
            .saturating_sub(self.count(approved_by, owner_counts))
            .saturating_sub(from_groups);
        if short > 0 {
            parts.push(format!("{short} more {} from {}", noun(short), self.who()));
        }
        if parts.is_empty() {
            return None;
        }
        let whose = match (&self.inherited_from, &self.policies) {
            (Some(r), _) => format!(
                " (the bar of approved revision {r}: changing the owner, the approvers or the quorum needs them too)"
            ),
            (None, Some(names)) => format!(" (ApprovalPolicy {names})"),
            (None, None) => String::new(),
        };
        Some(format!("{}{whose}", parts.join(" and ")))
    }

    fn same_rule(&self, other: &Bar) -> bool {
        self.owner == other.owner
            && self.approvers == other.approvers
            && self.quorum == other.quorum
            && self.groups == other.groups
    }

    fn who(&self) -> String {
        if self.approvers.is_empty() {
            format!("anyone but {}", self.owner)
        } else {
            self.approvers.join(", ")
        }
    }
}

fn sorted(names: &[String]) -> Vec<String> {
    let set: BTreeSet<&String> = names.iter().collect();
    set.into_iter().cloned().collect()
}

/// The bars in force for a revision: its own first, then the approved one when it differs.
#[derive(Clone, Debug)]
pub(crate) struct Bars {
    bars: Vec<Bar>,
    /// The operator allows self-approval: an owner's approval counts.
    owner_counts: bool,
    /// The platform's requirement these bars were built under.
    requirement: Requirement,
}

impl Bars {
    /// `owner_counts`: the operator allows self-approval, so an owner's approval counts.
    pub fn new(
        content: &ServiceContent,
        approved: Option<&ApprovedBar>,
        owner_counts: bool,
    ) -> Bars {
        let own = Bar::of(content);
        let mut bars = vec![own];
        if let Some(approved) = approved.map(Bar::inherited)
            && !approved.same_rule(&bars[0])
        {
            bars.push(approved);
        }
        Bars {
            bars,
            owner_counts,
            requirement: Requirement::default(),
        }
    }

    /// These bars under the platform's `requirement`: its quorum and groups as a bar of its
    /// own (unless the revision's own bar already implies it), its other rules kept for judging.
    pub fn under(mut self, requirement: Requirement) -> Bars {
        let own = &self.bars[0];
        let sets_a_bar = requirement.quorum > 0 || !requirement.groups.is_empty();
        let implied = requirement.groups.is_empty()
            && own.approvers.is_empty()
            && own.quorum >= requirement.quorum;
        if requirement.applies() && sets_a_bar && !implied {
            let platform = Bar::platform(&own.owner, &requirement);
            self.bars.push(platform);
        }
        self.requirement = requirement;
        self
    }

    /// The platform's requirement these bars were built under.
    pub fn requirement(&self) -> &Requirement {
        &self.requirement
    }

    /// Whether some bar lets `approver` count.
    pub fn admits(&self, approver: &str) -> bool {
        self.bars.iter().any(|b| b.admits(approver))
    }

    /// Whether some bar names `approver` in its list of approvers.
    pub fn lists(&self, approver: &str) -> bool {
        self.bars
            .iter()
            .any(|b| b.approvers.iter().any(|a| a == approver))
    }

    /// The owners named by the bars: none of them counts.
    pub fn owners(&self) -> impl Iterator<Item = &str> {
        self.bars.iter().map(|b| b.owner.as_str())
    }

    /// Whether these approvers clear every bar.
    pub fn met(&self, approved_by: &Approvers) -> bool {
        self.bars
            .iter()
            .all(|b| b.met(approved_by, self.owner_counts))
    }

    /// The highest quorum of the bars.
    pub fn quorum(&self) -> u32 {
        self.bars.iter().map(|b| b.quorum).max().unwrap_or(1)
    }

    /// `received/required` per bar, own first: `1/1` or, under two bars, `1/1,0/2`; a required
    /// group as `sre-leads:0/1`.
    pub fn progress(&self, approved_by: &Approvers) -> String {
        self.bars
            .iter()
            .flat_map(|b| b.progress(approved_by, self.owner_counts))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// What is still missing, in words: `1 more approval from frank`, `1 more approval from
    /// group sre-leads (ApprovalPolicy critical)` or, under an approved bar, `... and 2 more
    /// from lee, sam (the bar of approved revision 0123456789 ...)`.
    pub fn needs(&self, approved_by: &Approvers) -> String {
        let missing: Vec<String> = self
            .bars
            .iter()
            .filter_map(|b| b.missing(approved_by, self.owner_counts))
            .collect();
        if missing.is_empty() {
            "nothing more".to_owned()
        } else {
            missing.join(" and ")
        }
    }
}

/// The bar a newly approved revision leaves for the ones after it.
pub(crate) fn approved_bar(revision: &str, content: &ServiceContent) -> ApprovedBar {
    ApprovedBar {
        revision: revision.to_owned(),
        owner: content.owner.clone(),
        approvers: sorted(&content.approvers),
        required_approvals: content.quorum(),
        tier: content.tier,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(owner: &str, approvers: &[&str], quorum: u32) -> ServiceContent {
        ServiceContent {
            owner: owner.into(),
            approvers: approvers.iter().map(|a| a.to_string()).collect(),
            required_approvals: Some(quorum),
            ..ServiceContent::default()
        }
    }

    fn set(names: &[&str]) -> Approvers {
        names
            .iter()
            .map(|n| (n.to_string(), BTreeSet::new()))
            .collect()
    }

    #[test]
    fn removing_the_approvers_still_needs_the_approved_ones() {
        let approved = approved_bar("aaaaaaaaaa", &content("priya", &["lee", "sam"], 2));
        let bars = Bars::new(&content("priya", &[], 1), Some(&approved), false);
        assert!(bars.admits("gus"), "the new bar admits anyone");
        assert!(
            !bars.met(&set(&["gus"])),
            "gus alone clears only the new bar"
        );
        assert!(!bars.met(&set(&["gus", "lee"])));
        assert!(bars.met(&set(&["lee", "sam"])));
        assert_eq!(bars.progress(&set(&["lee"])), "1/1,1/2");
        assert!(
            bars.needs(&set(&["lee"]))
                .contains("1 more approval from lee, sam")
        );
    }

    #[test]
    fn replacing_the_approvers_needs_one_of_each() {
        let approved = approved_bar("aaaaaaaaaa", &content("dana", &["erin"], 1));
        let bars = Bars::new(&content("dana", &["frank"], 1), Some(&approved), false);
        assert!(!bars.met(&set(&["frank"])));
        assert!(!bars.met(&set(&["erin"])));
        assert!(bars.met(&set(&["erin", "frank"])));
        assert!(!bars.admits("gus"));
    }

    #[test]
    fn an_unchanged_bar_is_one_bar() {
        let approved = approved_bar("aaaaaaaaaa", &content("dana", &["erin", "frank"], 1));
        let bars = Bars::new(
            &content("dana", &["frank", "erin"], 1),
            Some(&approved),
            false,
        );
        assert_eq!(bars.progress(&set(&["erin"])), "1/1");
        assert!(bars.met(&set(&["erin"])));
    }

    #[test]
    fn a_policy_without_quorum_or_groups_adds_no_bar_and_admits_no_one_more() {
        let requirement = Requirement {
            justification: true,
            policies: vec![crate::api::PolicyRef {
                name: "why".into(),
                generation: 1,
            }],
            ..Requirement::default()
        };
        let bars = Bars::new(&content("dana", &["erin"], 1), None, false).under(requirement);
        assert!(!bars.admits("gus"), "only the Service's approvers count");
        assert_eq!(bars.progress(&set(&["erin"])), "1/1");
        assert!(bars.requirement().justification, "its other rules are kept");
    }

    #[test]
    fn a_new_owner_does_not_count_under_the_old_bar_either_way() {
        // omar hands the service to gus: gus is the owner of the new bar, omar of the old one.
        let approved = approved_bar("aaaaaaaaaa", &content("omar", &[], 1));
        let bars = Bars::new(&content("gus", &[], 1), Some(&approved), false);
        assert!(!bars.met(&set(&["gus"])), "gus is the new owner");
        assert!(!bars.met(&set(&["omar"])), "omar is the old owner");
        assert!(bars.met(&set(&["erin"])));
        assert_eq!(bars.owners().collect::<Vec<_>>(), ["gus", "omar"]);
    }
}
