//! The `ApprovalPolicy` resource: the platform's bar for the Services it covers, written by
//! platform admins only. Every policy covering a Service applies; the strictest wins.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Tier;

/// What the platform requires of the Services it covers before a revision counts as approved.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[kube(
    group = "catalog.charter.dev",
    version = "v1alpha1",
    kind = "ApprovalPolicy",
    plural = "approvalpolicies",
    singular = "approvalpolicy",
    shortname = "cap",
    category = "charter",
    doc = "The platform's approval bar for the Services it covers (by tier and namespace, exact values). Every policy that covers a Service applies and the strictest requirement wins: the highest quorum, the union of required approver groups (the highest minimum of each), a justification if any policy asks for one, the shortest maximum approval age and the shortest review interval, never less than the Service's own requiredApprovals. A Service whose tier changes is judged under the policies of both its approved tier and its new one. An approver's groups are those the API server authenticated, recorded on the approval when it is created. Only platform admins may write ApprovalPolicies.",
    printcolumn = r#"{"name":"Tiers","type":"string","jsonPath":".spec.covers.tiers","description":"Tiers covered (all when empty)"}"#,
    printcolumn = r#"{"name":"Namespaces","type":"string","jsonPath":".spec.covers.namespaces","description":"Namespaces covered (all when empty)"}"#,
    printcolumn = r#"{"name":"Min","type":"integer","jsonPath":".spec.minApprovals","description":"Minimum quorum"}"#,
    printcolumn = r#"{"name":"Groups","type":"string","jsonPath":".spec.requiredGroups[*].name","description":"Required approver groups"}"#,
    printcolumn = r#"{"name":"Review","type":"string","jsonPath":".spec.reviewInterval","description":"Review interval"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalPolicySpec {
    /// Which Services the policy covers. Empty lists cover everything: a policy without
    /// `covers` applies to every Service in the cluster.
    #[serde(default)]
    pub covers: Coverage,
    /// The minimum quorum: how many distinct valid approvals a revision needs, whatever the
    /// Service's own requiredApprovals says (the higher of both applies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 32))]
    pub min_approvals: Option<u32>,
    /// Approver groups a revision needs approvals from, each with a minimum of distinct
    /// approvers in that group. Groups are those the API server authenticated for the approver,
    /// recorded on the approval at creation: never what the approval says of itself.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    #[x_kube(validation = Rule::new("self.all(g, self.exists_one(h, h.name == g.name))").message("required group names must be unique"))]
    pub required_groups: Vec<GroupRequirement>,
    /// Whether an approval counts only with a justification (a non-empty spec.comment).
    /// Rejections always count: stopping a change needs no paperwork.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_justification: bool,
    /// How long an approval may wait to be used: one older than this (from its creation) when
    /// its revision has not reached quorum yet does not count. Hours, days or weeks: `36h`,
    /// `30d`, `4w`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[1-9][0-9]{0,4}[hdw]$"), length(max = 6))]
    pub max_approval_age: Option<String>,
    /// How often an Active Service it covers must be reviewed (the shorter of this and the
    /// Service's own spec.lifecycle.reviewInterval applies). Hours, days or weeks: `90d`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[1-9][0-9]{0,4}[hdw]$"), length(max = 6))]
    pub review_interval: Option<String>,
}

/// Which Services a policy covers: exact values, never patterns.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Coverage {
    /// The tiers covered (a Service is covered when its tier, or the tier of its approved
    /// revision, is listed). Empty: every Service, with a tier or without.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 4))]
    pub tiers: Vec<Tier>,
    /// The namespaces covered, by name. Empty: every namespace.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(
        length(max = 64),
        inner(
            regex(pattern = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"),
            length(max = 63)
        )
    )]
    pub namespaces: Vec<String>,
}

/// A group approvers must come from, and how many distinct approvers of it.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupRequirement {
    /// The group, exactly as the API server authenticates it (no commas).
    #[schemars(regex(pattern = r"^[^,]+$"), length(min = 1, max = 253))]
    pub name: String,
    /// How many distinct approvers of the group must approve. Defaults to 1.
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 32))]
    pub min: u32,
}

fn one() -> u32 {
    1
}

/// A policy as it was when it applied: its name and `metadata.generation`.
#[derive(
    Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRef {
    /// The ApprovalPolicy's name.
    pub name: String,
    /// Its `metadata.generation` then.
    #[serde(default)]
    pub generation: i64,
}
