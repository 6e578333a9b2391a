//! A notification sink's credentials: a token or HMAC key read from a Secret in the operator's
//! namespace (never elsewhere), which a subscription may use only where the Secret grants it
//! to the subscription's namespace.

use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client, ResourceExt};

use crate::{
    api::{CredentialKind, NotificationSubscription},
    notify::sink::{Auth, SinkError},
};

/// The annotation on a credentials Secret listing the namespaces (comma-separated) whose
/// subscriptions may use it: without it, a team could have another team's token sent to its own
/// sink. The operator's namespace's subscriptions may use any.
pub const GRANTED_TO: &str = "notifications.catalog.charter.dev/namespaces";

fn granted(secret: &Secret, namespace: &str) -> bool {
    secret
        .annotations()
        .get(GRANTED_TO)
        .is_some_and(|list| list.split(',').any(|ns| ns.trim() == namespace))
}

/// The sink's credentials, from a Secret in the operator's namespace (never elsewhere).
pub(super) async fn credentials(
    client: &Client,
    operator_namespace: &str,
    subscription: &NotificationSubscription,
) -> Result<Auth, SinkError> {
    let Some(credentials) = &subscription.spec.sink.credentials else {
        return Ok(Auth::None);
    };
    let secrets: Api<Secret> = Api::namespaced(client.clone(), operator_namespace);
    let secret = secrets.get(&credentials.secret_name).await.map_err(|e| {
        SinkError::Credentials(format!(
            "Secret {}/{}: {e}",
            operator_namespace, credentials.secret_name
        ))
    })?;
    let namespace = subscription.namespace().unwrap_or_default();
    if namespace != operator_namespace && !granted(&secret, &namespace) {
        return Err(SinkError::Credentials(format!(
            "Secret {}/{} is not granted to namespace {namespace}: its annotation {GRANTED_TO} \
             must list it",
            operator_namespace, credentials.secret_name
        )));
    }
    let value = secret
        .data
        .as_ref()
        .and_then(|d| d.get(&credentials.key))
        .map(|v| v.0.clone())
        .ok_or_else(|| {
            SinkError::Credentials(format!(
                "Secret {}/{} has no key {}",
                operator_namespace, credentials.secret_name, credentials.key
            ))
        })?;
    Ok(match credentials.kind {
        CredentialKind::Bearer => Auth::Bearer(
            String::from_utf8(value)
                .map_err(|_| SinkError::Credentials("the bearer token is not UTF-8".into()))?
                .trim()
                .to_owned(),
        ),
        CredentialKind::HmacSha256 => Auth::Hmac(value),
    })
}
