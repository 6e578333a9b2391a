//! The `ServiceApproval` resource: one approver's decision on one revision, an audit record.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An approver's decision on one revision of a Service. The spec is immutable.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "catalog.charter.dev",
    version = "v1alpha1",
    kind = "ServiceApproval",
    plural = "serviceapprovals",
    singular = "serviceapproval",
    shortname = "csa",
    category = "charter",
    namespaced,
    doc = "One approver's decision, Approved or Rejected, on one revision of a Service in the same namespace, or the record of a periodic review (Reviewed) of an Active Service's published revision, which resets its review clock. It is an audit record: its spec cannot change once created, and in a cluster only the approver named in spec.approver (or an approval delegate such as a GitOps service account) may create it. Create one with charter approve, charter reject or charter review, or commit one to git. status.counted tells whether it counts toward the Service's quorum and, when it does not, status.reason says why: StaleRevision, SelfApproval (the approver owns or created the Service or wrote the revision), ApproverNotAllowed, DelegateNotAllowed, JustificationRequired (an ApprovalPolicy requires a spec.comment), ServiceRecreated, UnknownService, Superseded, Expired (also past an ApprovalPolicy's maxApprovalAge) or, for a review, NotReviewable (not the published revision). status.judgedUnder names the ApprovalPolicies a counted decision was judged under. A Rejected decision on the current revision sends the Service back to Planning; on the approved revision it revokes the approval and withdraws the Service from the catalog.",
    status = "ServiceApprovalStatus",
    printcolumn = r#"{"name":"Service","type":"string","jsonPath":".spec.serviceName"}"#,
    printcolumn = r#"{"name":"Decision","type":"string","jsonPath":".spec.decision"}"#,
    printcolumn = r#"{"name":"Approver","type":"string","jsonPath":".spec.approver"}"#,
    printcolumn = r#"{"name":"Revision","type":"string","jsonPath":".spec.revision"}"#,
    printcolumn = r#"{"name":"Counted","type":"boolean","jsonPath":".status.counted"}"#,
    printcolumn = r#"{"name":"Reason","type":"string","jsonPath":".status.reason","priority":1}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self == oldSelf").message("a ServiceApproval's spec is immutable: create a new one instead"))]
pub struct ServiceApprovalSpec {
    /// The Service (in this namespace) the decision is about.
    #[schemars(regex(pattern = r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"))]
    pub service_name: String,
    /// The Service revision the approver reviewed (`status.revision` of the Service; for a
    /// `Reviewed` decision, `status.publishedRevision`).
    #[schemars(regex(pattern = r"^[0-9a-f]{10}$"))]
    pub revision: String,
    /// The decision.
    pub decision: Decision,
    /// Who decided: a Kubernetes user name (bound to the creator by admission policy).
    #[schemars(length(min = 1, max = 253))]
    pub approver: String,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    pub comment: Option<String>,
    /// After this time the approval no longer counts unless its revision reached quorum before.
    /// An RFC 3339 time in year 9998 at the latest, because the operator's date type ends in
    /// the last days of year 9999 and a later date would make an approval it cannot read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = EXPIRES_AT_PATTERN))]
    pub expires_at: Option<Time>,
}

/// `spec.expiresAt`'s year: 0000 to 9998 (a schema pattern, which every API server enforces).
pub const EXPIRES_AT_PATTERN: &str = r"^([0-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-";

/// An approver's decision: `Approved` or `Rejected` on a revision, or `Reviewed`, the record of a
/// periodic review of an Active Service's published revision (it resets the review clock and
/// counts toward no quorum).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum Decision {
    Approved,
    Rejected,
    Reviewed,
}

/// Whether the decision counts, and if not why.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceApprovalStatus {
    /// True when the decision counts toward (or vetoes) the quorum of its revision.
    pub counted: bool,
    /// `Counted`, `StaleRevision`, `SelfApproval`, `ApproverNotAllowed`, `DelegateNotAllowed`,
    /// `JustificationRequired`, `ServiceRecreated`, `UnknownService`, `Expired`, `Superseded`
    /// or `NotReviewable`.
    pub reason: String,
    /// Human-readable explanation.
    pub message: String,
    /// The `metadata.generation` this status was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The uid of the Service object the decision was first judged for: a Service deleted and
    /// created again under the same name is another object, and the decision counts for none of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_uid: Option<String>,
    /// The ApprovalPolicies (name and generation) the decision was judged under, when any
    /// covered the Service.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub judged_under: Vec<super::PolicyRef>,
}
