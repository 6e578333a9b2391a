//! The `Service` resource: one business or IT service the catalog offers.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;

use super::reach::{Contact, Request, Support};
use super::service_level::ServiceLevel;
use serde::{Deserialize, Serialize};

/// A service offered through the catalog. `spec.lifecycle`, `spec.categories` and
/// `spec.contact` are the owner's; the rest of `spec` is the approvable content, whose hash is `status.revision`.
// Deserialize is written out below (`SpecFields`): one pass instead of serde's flatten buffer.
#[derive(CustomResource, KubeSchema, Serialize, Clone, Debug, Default, PartialEq)]
#[kube(
    group = "catalog.charter.dev",
    version = "v1alpha1",
    kind = "Service",
    plural = "services",
    singular = "service",
    shortname = "csvc",
    category = "charter",
    namespaced,
    doc = "A business or IT service offered through the catalog. The owner describes it in spec and asks for a phase in spec.lifecycle.desiredPhase. Asking for Development or Active submits the current content (its hash is status.revision) to approvers, who answer with ServiceApprovals; once a quorum approves it, the Service moves to Development, and, when Active was asked for, categories are defined and every dependency is Active, to Active, where the catalog publishes the approved content. Everything in spec except lifecycle, categories and contact is approvable content: changing it makes a new revision that needs approval again, while the catalog keeps serving the approved one. Read status.conditions (Ready, Approved, Published, DependenciesReady, ReviewDue) for what the Service waits for.",
    status = "ServiceStatus",
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase","description":"Current lifecycle phase"}"#,
    printcolumn = r#"{"name":"Desired","type":"string","jsonPath":".spec.lifecycle.desiredPhase","description":"Phase the owner asks for"}"#,
    printcolumn = r#"{"name":"Owner","type":"string","jsonPath":".spec.owner","description":"Accountable owner"}"#,
    printcolumn = r#"{"name":"Revision","type":"string","jsonPath":".status.revision","description":"Hash of the approvable content"}"#,
    printcolumn = r#"{"name":"Approvals","type":"string","jsonPath":".status.approvals.progress","description":"Valid approvals of the current revision received / required, or rejected"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status","description":"Whether the desired phase is reached"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    printcolumn = r#"{"name":"Needs","type":"string","jsonPath":".status.approvals.needs","description":"What the current revision still needs, in words"}"#,
    printcolumn = r#"{"name":"Tier","type":"string","jsonPath":".spec.tier","priority":1,"description":"Criticality"}"#,
    printcolumn = r#"{"name":"Category","type":"string","jsonPath":".spec.categories[0].name","priority":1,"description":"The first category (kubectl get -o yaml shows them all)"}"#,
    validation = Rule::new("!has(self.spec.model) || !has(self.spec.model.dependsOn) || !self.spec.model.dependsOn.exists(d, d.name == self.metadata.name && (!has(d.__namespace__) || d.__namespace__ == ''))").message("a Service cannot depend on itself").field_path(".spec.model.dependsOn"),
    validation = Rule::new(NAME_LENGTH_RULE).message("metadata.name may be at most 184 characters: the catalog key <namespace>_<name>.json must fit a ConfigMap key (253 characters) whatever the namespace (up to 63)")
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.approvers) || size(self.approvers) == 0 || !has(self.requiredApprovals) || self.requiredApprovals <= size(self.approvers)").message("requiredApprovals cannot exceed the number of approvers").field_path(".requiredApprovals"))]
pub struct ServiceSpec {
    /// The owner's lifecycle controls. Not part of the approved content: changing them
    /// never needs a new approval.
    #[serde(default)]
    pub lifecycle: Lifecycle,
    /// Service categories, each with subcategories: the owner's to define or change in
    /// Development (or later) without a new approval, as they are not part of the revision.
    /// Required before activation; the catalog shows the current ones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32))]
    #[x_kube(validation = Rule::new("self.all(c, self.exists_one(d, d.name == c.name))").message("category names must be unique"))]
    pub categories: Vec<Category>,
    /// Who consumers talk to about the service. Not part of the revision: a contact changes
    /// with every reorganisation and promises nothing, so the owner keeps it current without
    /// a new approval (unlike support and request, which consumers rely on). The catalog
    /// shows the current one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
    /// The approvable content: everything reviewed by approvers and published to the catalog.
    #[serde(flatten)]
    pub content: ServiceContent,
}

/// How a `ServiceSpec` is read: every field at the one level it is written at. serde's
/// `flatten` reads the content by buffering every field of the spec first, which was a quarter
/// of the time the operator spent decoding a Service (it decodes one per watch event and per
/// reconcile); this reads it in one pass. The struct literal in `from` names every field of
/// `ServiceContent`, so a field added there and not here does not compile; the tests hold the
/// written and the read spec equal.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpecFields {
    #[serde(default)]
    lifecycle: Lifecycle,
    #[serde(default)]
    categories: Vec<Category>,
    #[serde(default)]
    contact: Option<Contact>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    owner: String,
    #[serde(default)]
    approvers: Vec<String>,
    #[serde(default)]
    required_approvals: Option<u32>,
    #[serde(default)]
    service_level: Option<ServiceLevel>,
    #[serde(default)]
    model: Option<ServiceModel>,
    #[serde(default)]
    links: Vec<Link>,
    #[serde(default)]
    support: Option<Support>,
    #[serde(default)]
    request: Option<Request>,
    #[serde(default)]
    tier: Option<Tier>,
    #[serde(default)]
    tags: Vec<String>,
}

impl From<SpecFields> for ServiceSpec {
    fn from(f: SpecFields) -> Self {
        ServiceSpec {
            lifecycle: f.lifecycle,
            categories: f.categories,
            contact: f.contact,
            content: ServiceContent {
                display_name: f.display_name,
                description: f.description,
                owner: f.owner,
                approvers: f.approvers,
                required_approvals: f.required_approvals,
                service_level: f.service_level,
                model: f.model,
                links: f.links,
                support: f.support,
                request: f.request,
                tier: f.tier,
                tags: f.tags,
            },
        }
    }
}

impl<'de> Deserialize<'de> for ServiceSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        SpecFields::deserialize(deserializer).map(ServiceSpec::from)
    }
}

/// The approvable content of a Service. Its hash is the revision approvers approve.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceContent {
    /// Human-readable name shown in the catalog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 128))]
    pub display_name: Option<String>,
    /// What the service does and for whom. Required before the service can go to Approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 4096))]
    pub description: Option<String>,
    /// The accountable owner: a Kubernetes user name, exactly as the API server authenticates
    /// it. In a cluster secured as deploy/ secures it, only the owner (or a platform admin or
    /// approval delegate) creates or deletes the Service or changes spec.owner, lifecycle,
    /// categories, contact, approvers and requiredApprovals. The owner's own approval does not
    /// count unless the operator allows self-approval. A revision changing the owner, the
    /// approvers or the quorum also needs the approvers of the last approved revision.
    #[schemars(length(min = 1, max = 253))]
    pub owner: String,
    /// User names allowed to approve, each once. When empty, any user but the owner, the
    /// Service's creator and the revision's author may approve (and an approval delegate may
    /// record decisions only for users listed here).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    // A set: a name listed twice would pass the quorum-versus-approvers rule with one person.
    #[schemars(length(max = 32), inner(length(min = 1, max = 253)), extend("x-kubernetes-list-type" = "set"))]
    pub approvers: Vec<String>,
    /// How many distinct approvers must approve a revision (the quorum). Defaults to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 32))]
    pub required_approvals: Option<u32>,
    /// The service level requirements (SLA). Required before the service can go to Approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_level: Option<ServiceLevel>,
    /// The Service Model: the outcomes delivered and the services this one depends on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ServiceModel>,
    /// Links to documentation, runbook, dashboard and the like (at most 16).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    // With every other field at its limit, 16 links of 1,024 characters keep the largest
    // catalog entry within a ConfigMap and a Service with its snapshot within etcd's 1.5 MiB.
    #[schemars(length(max = 16))]
    pub links: Vec<Link>,
    /// Where consumers get help. Approved content: consumers rely on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support: Option<Support>,
    /// How consumers request the service. Approved content: consumers rely on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Request>,
    /// Criticality of the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<Tier>,
    /// Free-form tags for search and grouping.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32), inner(length(min = 1, max = 63)))]
    pub tags: Vec<String>,
}

impl ServiceContent {
    /// The quorum: how many distinct valid approvals a revision needs.
    pub fn quorum(&self) -> u32 {
        self.required_approvals.unwrap_or(1).max(1)
    }
}

/// The owner's controls over the lifecycle.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new(REVIEW_INTERVAL_RULE).message("reviewInterval must be a whole number of hours, days or weeks, such as 36h, 90d or 12w").field_path(".reviewInterval"))]
#[x_kube(validation = Rule::new(LAST_REVIEWED_RULE).message("lastReviewed must be a real calendar date written YYYY-MM-DD, such as 2026-02-28").field_path(".lastReviewed"))]
pub struct Lifecycle {
    /// The phase the owner asks for. Planning (the default) drafts the service and submits
    /// nothing. Development submits the current revision to the approvers once owner,
    /// description and serviceLevel are set, and moves to Development when a quorum approves it.
    /// Active does the same, then activates the service once categories are defined and every
    /// dependsOn Service is Active, and the catalog publishes the approved content. Retired
    /// withdraws it from the catalog. Moving back to Planning or Development is immediate and
    /// also withdraws it from the catalog.
    #[serde(default)]
    pub desired_phase: DesiredPhase,
    /// How often the service must be reviewed while Active, as a whole number of hours, days or
    /// weeks, such as `36h`, `90d` or `12w`. When the review falls due, the ReviewDue condition
    /// turns True.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 16))]
    pub review_interval: Option<String>,
    /// The date of the last review, written `YYYY-MM-DD`. The next review is due
    /// reviewInterval after it; without it, reviewInterval after the service became Active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 10))]
    pub last_reviewed: Option<String>,
}

/// 253 (a ConfigMap key) - 63 (the longest namespace) - 6 (`_` and `.json`).
const NAME_LENGTH_RULE: &str = "size(self.metadata.name) <= 184";

const REVIEW_INTERVAL_RULE: &str =
    "!has(self.reviewInterval) || self.reviewInterval.matches('^[1-9][0-9]{0,4}[hdw]$')";

/// A real date: the shape, then the day within the month's length (leap years included).
const LAST_REVIEWED_RULE: &str = "!has(self.lastReviewed) || (self.lastReviewed.matches('^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$') && int(self.lastReviewed.substring(8, 10)) <= (self.lastReviewed.substring(5, 7) == '02' ? ((int(self.lastReviewed.substring(0, 4)) % 4 == 0 && (int(self.lastReviewed.substring(0, 4)) % 100 != 0 || int(self.lastReviewed.substring(0, 4)) % 400 == 0)) ? 29 : 28) : (self.lastReviewed.substring(5, 7) in ['04', '06', '09', '11'] ? 30 : 31)))";

/// The phases an owner may ask for.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub enum DesiredPhase {
    #[default]
    Planning,
    Development,
    Active,
    Retired,
}

/// The lifecycle phases of a Service.
#[derive(
    Serialize,
    Deserialize,
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    JsonSchema,
)]
pub enum Phase {
    #[default]
    Planning,
    Approval,
    Development,
    Active,
    Retired,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Planning => "Planning",
            Phase::Approval => "Approval",
            Phase::Development => "Development",
            Phase::Active => "Active",
            Phase::Retired => "Retired",
        }
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<DesiredPhase> for Phase {
    fn from(d: DesiredPhase) -> Self {
        match d {
            DesiredPhase::Planning => Phase::Planning,
            DesiredPhase::Development => Phase::Development,
            DesiredPhase::Active => Phase::Active,
            DesiredPhase::Retired => Phase::Retired,
        }
    }
}

/// A category of the service, with its subcategories.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Category {
    /// Category name, unique within the service.
    #[schemars(length(min = 1, max = 63))]
    pub name: String,
    /// Subcategory names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32), inner(length(min = 1, max = 63)))]
    pub subcategories: Vec<String>,
}

/// The Service Model: why the service exists and what it needs.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceModel {
    /// Customer outcomes the service delivers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32), inner(length(min = 1, max = 512)))]
    pub outcomes: Vec<String>,
    /// Other Services this one needs to deliver them. Activation waits until each is Active.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    pub depends_on: Vec<ServiceRef>,
}

/// A reference to another Service.
#[derive(
    Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct ServiceRef {
    // The maximum lengths repeat the patterns' bounds for the CEL cost estimator, which reads
    // maxLength but not patterns: without them kube-apiserver 1.35 refuses the CRD (the
    // self-dependency rule's estimated cost exceeds its budget by a factor of 2).
    /// Namespace of the Service; the referring Service's own namespace when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        regex(pattern = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"),
        length(max = 63)
    )]
    pub namespace: Option<String>,
    /// Name of the Service.
    #[schemars(
        regex(pattern = r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"),
        length(max = 253)
    )]
    pub name: String,
}

impl ServiceRef {
    /// The Service named, with the namespace filled in: a reference without one (or with an
    /// empty one) names a Service in the referring Service's own `namespace`.
    pub fn resolved_in(&self, namespace: &str) -> ServiceRef {
        let namespace = self
            .namespace
            .as_deref()
            .filter(|ns| !ns.is_empty())
            .unwrap_or(namespace);
        ServiceRef {
            namespace: Some(namespace.to_owned()),
            name: self.name.clone(),
        }
    }

    /// The Service a resource is (whatever form it takes: the cached one too), as a reference.
    pub fn of(service: &impl kube::Resource) -> ServiceRef {
        let service = service.meta();
        ServiceRef {
            namespace: service.namespace.clone(),
            name: service.name.clone().unwrap_or_default(),
        }
    }
}

/// A named link.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.url.startsWith('https://') || self.url.startsWith('http://')").message("a link's url must be an http or https address, such as https://wiki.example.com/runbook").field_path(".url"))]
pub struct Link {
    /// What the link is, e.g. `runbook`, `docs`, `dashboard`.
    #[schemars(length(min = 1, max = 63))]
    pub name: String,
    /// The address: http or https, at most 1,024 characters.
    #[schemars(length(min = 1, max = 1024))]
    pub url: String,
}

/// Criticality of a service.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum Tier {
    Critical,
    High,
    Medium,
    Low,
}

/// What the operator observed and decided.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceStatus {
    /// The current lifecycle phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
    /// The `metadata.generation` this status was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Hash of the current approvable content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// The last revision that reached quorum without a valid rejection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_revision: Option<String>,
    /// The revision the catalog serves (set while Active).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_revision: Option<String>,
    /// Approvals of the current revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approvals: Option<ApprovalSummary>,
    /// When the service last became Active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activated_at: Option<Time>,
    /// When the next periodic review is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_due_at: Option<Time>,
    /// Conditions: Ready, Approved, Published, DependenciesReady, ReviewDue.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The most recent phase transitions, oldest first (bounded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<Transition>,
    /// The approved content the catalog serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<Snapshot>,
    /// The bar of the last approved revision, which later revisions must meet too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_bar: Option<ApprovedBar>,
    /// The last recorded review (a counted `Reviewed` ServiceApproval): kept when its
    /// ServiceApproval is deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_review: Option<LastReview>,
}

/// A recorded periodic review of an Active Service.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LastReview {
    /// Who reviewed (the approver of the `Reviewed` ServiceApproval).
    pub by: String,
    /// When (the ServiceApproval's creation).
    pub at: Time,
    /// The published revision reviewed.
    pub revision: String,
    /// The outcome: `Confirmed` (a review that finds the service unfit is a `Rejected` decision
    /// on the published revision, which withdraws it).
    pub outcome: String,
    /// The reviewer's comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The ServiceApproval that records it.
    pub approval: String,
}

/// The approvals of the current revision.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalSummary {
    /// The quorum.
    pub required: u32,
    /// Distinct valid approvals received.
    pub received: u32,
    /// `received/required`, or `rejected` while a valid rejection holds the revision; for printer columns.
    pub progress: String,
    /// Who approved (sorted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approved_by: Vec<String>,
    /// Who rejected (sorted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected_by: Vec<String>,
    /// What the revision still needs, in words (`1 more approval from group sre-leads`);
    /// absent once it is approved or while a rejection holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs: Option<String>,
}

/// One phase transition.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Transition {
    /// The phase entered.
    pub phase: Phase,
    /// When.
    pub time: Time,
    /// Machine-readable reason, e.g. `QuorumReached`.
    pub reason: String,
    /// Human-readable explanation.
    pub message: String,
    /// Who acted, as the API server recorded them: who asked for the phase, or the approvers
    /// and rejecters whose decisions moved it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by: Vec<String>,
}

/// An approved revision's content, as the catalog serves it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// The approved revision.
    pub revision: String,
    /// Who approved it (sorted).
    pub approved_by: Vec<String>,
    /// When it reached quorum.
    pub approved_at: Time,
    /// The approved content.
    pub content: ServiceContent,
    /// Who last changed the approved content (the revision's author, whose own decision did not
    /// count), as the API server recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revised_by: Option<String>,
    /// The ApprovalPolicies (name and generation) the revision was approved under.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<super::PolicyRef>,
}

/// Who had to approve the last approved revision, and how many. A later revision is judged
/// under this bar as well as its own, so changing the owner, the approvers or the quorum needs
/// the approvers of the approved revision too. Kept when an approval is revoked.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApprovedBar {
    /// The revision approved under it.
    pub revision: String,
    /// That revision's owner.
    pub owner: String,
    /// That revision's approvers (empty: anyone but the owner).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvers: Vec<String>,
    /// That revision's quorum.
    pub required_approvals: u32,
    /// That revision's tier: the ApprovalPolicies of this tier apply to later revisions too,
    /// so a lower tier never lowers the bar of the change that lowers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<Tier>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{PriorityTarget, ServiceLevel};
    use serde_json::json;

    /// A spec with every field set.
    fn full() -> ServiceSpec {
        ServiceSpec {
            lifecycle: Lifecycle {
                desired_phase: DesiredPhase::Active,
                review_interval: Some("90d".into()),
                last_reviewed: Some("2026-02-28".into()),
            },
            categories: vec![Category {
                name: "finance".into(),
                subcategories: vec!["payments".into()],
            }],
            contact: Some(Contact {
                team: "payments".into(),
                email: Some("pay@example.com".into()),
                chat: Some("#pay".into()),
            }),
            content: ServiceContent {
                display_name: Some("Ledger".into()),
                description: Some("books payments".into()),
                owner: "ava".into(),
                approvers: vec!["bo".into(), "cy".into()],
                required_approvals: Some(2),
                service_level: Some(ServiceLevel {
                    availability: Some("99.9".into()),
                    support_hours: Some("24x7".into()),
                    targets: vec![PriorityTarget {
                        priority: "P1".into(),
                        response: "15m".into(),
                        resolution: Some("4h".into()),
                    }],
                    agreement_url: Some("https://sla.example.com".into()),
                }),
                model: Some(ServiceModel {
                    outcomes: vec!["exact balances".into()],
                    depends_on: vec![ServiceRef {
                        namespace: Some("core".into()),
                        name: "fx".into(),
                    }],
                }),
                links: vec![Link {
                    name: "runbook".into(),
                    url: "https://runbooks.example.com".into(),
                }],
                support: Some(Support {
                    channel: "#help".into(),
                    hours: Some("9-5".into()),
                }),
                request: Some(Request {
                    url: Some("https://req.example.com".into()),
                    instructions: Some("ask".into()),
                }),
                tier: Some(Tier::High),
                tags: vec!["pci".into()],
            },
        }
    }

    #[test]
    fn a_spec_reads_back_as_it_was_written_every_field_at_one_level() {
        let spec = full();
        let written = serde_json::to_value(&spec).expect("json");
        assert_eq!(written["owner"], "ava", "the content is written flat");
        assert_eq!(written["lifecycle"]["desiredPhase"], "Active");
        let read: ServiceSpec = serde_json::from_value(written.clone()).expect("read");
        assert_eq!(read, spec);
        let read: ServiceSpec = serde_json::from_str(&written.to_string()).expect("read");
        assert_eq!(read, spec);
        // The least a spec can be; an unknown field is ignored, as the flattened read did.
        let least: ServiceSpec =
            serde_json::from_value(json!({"owner": "ava", "later": 1})).expect("read");
        assert_eq!(
            least,
            ServiceSpec {
                content: ServiceContent {
                    owner: "ava".into(),
                    ..Default::default()
                },
                ..Default::default()
            }
        );
        let missing = serde_json::from_value::<ServiceSpec>(json!({"tier": "High"}));
        assert!(missing.is_err_and(|e| e.to_string().contains("missing field `owner`")));
    }
}
