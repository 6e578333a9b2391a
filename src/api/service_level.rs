//! The service level requirements of a Service: what it promises its customers (availability,
//! support hours, response and resolution targets by priority, the signed agreement).

use kube::KubeSchema;
use serde::{Deserialize, Serialize};

/// The service level requirements: what the service promises its customers.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new(AVAILABILITY_RULE).message("serviceLevel.availability must be a percentage from 0 to 100 with at most four decimals, such as \"99.9\" or \"99.95\"").field_path(".availability"))]
pub struct ServiceLevel {
    /// Availability target as a percentage string, e.g. `"99.9"`: from 0 to 100, with at most
    /// four decimals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // Bounded: `100(\.0+)?` let "100." and any number of zeros through, past the catalog's
    // limits. A rule with a message rather than a pattern: kube-apiserver prints a pattern's
    // regular expression to the user.
    #[schemars(length(max = 16))]
    pub availability: Option<String>,
    /// When support is given, e.g. `24x7` or `8x5`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64))]
    pub support_hours: Option<String>,
    /// Response and resolution targets by priority.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 8))]
    pub targets: Vec<PriorityTarget>,
    /// Link to the signed service level agreement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    pub agreement_url: Option<String>,
}

/// Response and resolution targets for one incident priority.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.priority.matches('^P[1-5]$')").message("a target's priority must be P1 (the highest) to P5").field_path(".priority"))]
#[x_kube(validation = Rule::new(RESPONSE_RULE).message("a target's response must be a whole number of minutes, hours or days, such as 15m, 4h or 1d").field_path(".response"))]
#[x_kube(validation = Rule::new(RESOLUTION_RULE).message("a target's resolution must be a whole number of minutes, hours or days, such as 4h or 3d").field_path(".resolution"))]
pub struct PriorityTarget {
    /// Incident priority, `P1` (highest) to `P5`.
    #[schemars(length(max = 16))]
    pub priority: String,
    /// Time to first response: a whole number of minutes, hours or days, e.g. `15m`, `4h`, `1d`.
    #[schemars(length(max = 32))]
    pub response: String,
    /// Time to resolution, e.g. `4h`, `3d`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32))]
    pub resolution: Option<String>,
}

const AVAILABILITY_RULE: &str = "!has(self.availability) || self.availability.matches('^(100([.]0{1,4})?|[0-9]{1,2}([.][0-9]{1,4})?)$')";
const RESPONSE_RULE: &str = "self.response.matches('^[1-9][0-9]{0,4}[mhd]$')";
const RESOLUTION_RULE: &str =
    "!has(self.resolution) || self.resolution.matches('^[1-9][0-9]{0,4}[mhd]$')";
