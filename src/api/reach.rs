//! How consumers reach a Service: who to talk to (`contact`), where to get help (`support`) and
//! how to obtain it (`request`). What the catalog tells a consumer besides what the service is.

use kube::KubeSchema;
use serde::{Deserialize, Serialize};

/// Who to talk to about the service. The owner's to keep current, outside the revision.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.email) || has(self.chat)").message("a contact needs an email address or a chat channel (or both)"))]
#[x_kube(validation = Rule::new(EMAIL_RULE).message("contact.email must be an email address, such as payments-team@example.com").field_path(".email"))]
pub struct Contact {
    /// The team behind the service, e.g. `Payments Platform`.
    #[schemars(length(min = 1, max = 128))]
    pub team: String,
    /// The team's email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 254))]
    pub email: Option<String>,
    /// The team's chat channel, e.g. `#payments` or a link to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub chat: Option<String>,
}

const EMAIL_RULE: &str = "!has(self.email) || self.email.matches('^[^@ ]+@[^@ ]+[.][^@ ]+$')";

/// Where consumers get help: part of the approved content, as consumers rely on it.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct Support {
    /// Where to ask for help or report an incident: a queue, a channel or an address, e.g.
    /// `ServiceNow queue PAY-L2` or `https://support.example.com/payments`.
    #[schemars(length(min = 1, max = 512))]
    pub channel: String,
    /// When the channel is staffed, e.g. `Mon-Fri 08:00-18:00 CET` or `24x7`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128))]
    pub hours: Option<String>,
}

/// How to request the service: a form to fill in, or instructions. Part of the approved
/// content, as consumers rely on it.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.url) || has(self.instructions)").message("request needs a url, instructions, or both"))]
#[x_kube(validation = Rule::new("!has(self.url) || self.url.startsWith('https://') || self.url.startsWith('http://')").message("request.url must be an http or https address, such as https://forms.example.com/ledger").field_path(".url"))]
pub struct Request {
    /// Where to request it, e.g. a form: `https://forms.example.com/ledger`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 2048))]
    pub url: Option<String>,
    /// How to request it, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 4096))]
    pub instructions: Option<String>,
}
