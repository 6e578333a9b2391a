//! The `NotificationSubscription` resource: a sink that is told, as CloudEvents, what happened
//! to the Services its namespace may read (all of them, from the operator's namespace).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Tier;

/// Where to send the events of Services, which ones, and how to authenticate.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[kube(
    group = "catalog.charter.dev",
    version = "v1alpha1",
    kind = "NotificationSubscription",
    plural = "notificationsubscriptions",
    singular = "notificationsubscription",
    shortname = "cnotify",
    category = "charter",
    namespaced,
    doc = "A sink told, as CloudEvents 1.0 (structured JSON over HTTP POST), what happens to Services: published, withdrawn, retired, awaiting approval, approved, refused, review due. A subscription hears about the Services of its own namespace; one in the operator's namespace hears about every Service. Events are derived from each Service's recorded status.history, with ids that are the same for the same transition, and are delivered at least once: status.cursors records the last event each Service delivered.",
    status = "NotificationSubscriptionStatus",
    printcolumn = r#"{"name":"Sink","type":"string","jsonPath":".spec.sink.url"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Failures","type":"integer","jsonPath":".status.consecutiveFailures"}"#,
    printcolumn = r#"{"name":"Last","type":"date","jsonPath":".status.lastDelivered.time"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct NotificationSubscriptionSpec {
    /// Where the events go.
    pub sink: Sink,
    /// The event types wanted (all when empty), e.g. `dev.charter.service.published`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16), extend("x-kubernetes-list-type" = "set"))]
    pub types: Vec<EventType>,
    /// Which Services (all of the namespace's when empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<SubscriptionSelector>,
    /// Stop delivering; events of the meantime are delivered on resumption.
    #[serde(default)]
    pub suspend: bool,
}

/// An HTTP(S) endpoint that receives CloudEvents.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Sink {
    /// The URL events are POSTed to: `https://` (or `http://` for a sink on loopback).
    #[schemars(length(min = 1, max = 2048), regex(pattern = r"^https?://"))]
    pub url: String,
    /// PEM certificates that sign the sink's certificate (default: the system's roots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 65536))]
    pub ca_bundle: Option<String>,
    /// How long a delivery may take, in seconds (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 300))]
    pub timeout_seconds: Option<u32>,
    /// A bearer token or an HMAC key, from a Secret in the operator's namespace (the operator
    /// reads Secrets nowhere else).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Credentials>,
}

/// A key of a Secret in the operator's namespace, and how it is used.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    /// `Bearer`: sent as `Authorization: Bearer <value>`. `HmacSha256`: the body is signed and
    /// the signature sent as `X-Charter-Signature: sha256=<hex>`.
    pub kind: CredentialKind,
    /// The Secret's name, in the operator's namespace. Unless this subscription is in the
    /// operator's namespace too, the Secret's annotation
    /// `notifications.catalog.charter.dev/namespaces` must list this subscription's namespace
    /// (comma-separated), so no team has another's credentials sent to its own sink.
    #[schemars(length(min = 1, max = 253))]
    pub secret_name: String,
    /// The key within the Secret.
    #[schemars(length(min = 1, max = 253))]
    pub key: String,
}

/// How a credential authenticates a delivery.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum CredentialKind {
    #[default]
    Bearer,
    HmacSha256,
}

/// The CloudEvents `type`s Charter emits.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, JsonSchema,
)]
pub enum EventType {
    /// The Service entered Active: the catalog publishes it.
    #[serde(rename = "dev.charter.service.published")]
    Published,
    /// The Service left Active for Planning or Development: out of the catalog.
    #[serde(rename = "dev.charter.service.withdrawn")]
    Withdrawn,
    /// The Service was retired.
    #[serde(rename = "dev.charter.service.retired")]
    Retired,
    /// A revision went to the approvers (Creatio: the service level is ready for approval).
    #[serde(rename = "dev.charter.revision.awaiting-approval")]
    AwaitingApproval,
    /// A revision reached quorum and the Service moved on to Development.
    #[serde(rename = "dev.charter.revision.approved")]
    Approved,
    /// A valid rejection sent the Service back to Planning.
    #[serde(rename = "dev.charter.revision.refused")]
    Refused,
    /// The periodic review of an Active Service fell due (ReviewDue turned True).
    #[serde(rename = "dev.charter.service.review-due")]
    ReviewDue,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Published => "dev.charter.service.published",
            EventType::Withdrawn => "dev.charter.service.withdrawn",
            EventType::Retired => "dev.charter.service.retired",
            EventType::AwaitingApproval => "dev.charter.revision.awaiting-approval",
            EventType::Approved => "dev.charter.revision.approved",
            EventType::Refused => "dev.charter.revision.refused",
            EventType::ReviewDue => "dev.charter.service.review-due",
        }
    }
}

/// Which Services a subscription hears about: every list that is set must match.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionSelector {
    /// Only Services of these tiers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 4))]
    pub tiers: Vec<Tier>,
    /// Only Services owned by these users.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64), inner(length(min = 1, max = 253)))]
    pub owners: Vec<String>,
}

/// What the operator delivered.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationSubscriptionStatus {
    /// The last event the sink acknowledged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_delivered: Option<Delivered>,
    /// Deliveries failed in a row (0 once one succeeds).
    #[serde(default)]
    pub consecutive_failures: u32,
    /// Per Service, the last event the sink acknowledged: where delivery resumes after a restart.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cursors: Vec<Cursor>,
    /// Ready: the sink acknowledged the last delivery (False, with its error, while it fails).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// One delivered event.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Delivered {
    /// The CloudEvent id.
    pub id: String,
    /// The CloudEvent time (the transition's).
    pub time: Time,
}

/// Where delivery stands for one Service.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Cursor {
    /// The Service, `namespace/name`.
    pub service: String,
    /// The Service's uid: a Service deleted and created again starts afresh.
    pub uid: String,
    /// The last event acknowledged.
    pub id: String,
    /// Its time.
    pub time: Time,
}
