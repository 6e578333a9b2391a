//! Who may talk to the control plane: the random static tokens, the `--token-auth-file` that
//! names their users, and the kubeconfigs and clients that carry them.

use std::fs::File;
use std::io::Read;

use charter_apiserver::auth::UserSpec;
use kube::Client;
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::{Value, json};

use super::error::{ControlPlaneError, io};

/// 32 random hex digits from the OS.
pub(super) fn random_token() -> Result<String, ControlPlaneError> {
    let mut bytes = [0u8; 16];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(io("cannot read /dev/urandom"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// kube-apiserver's `--token-auth-file`: `token,user,uid,"group1,group2"` per line.
pub(super) fn token_file(users: &[UserSpec]) -> String {
    users
        .iter()
        .map(|u| {
            format!(
                "{},{},{},\"{}\"\n",
                u.token,
                u.name,
                u.name,
                u.groups.join(",")
            )
        })
        .collect()
}

/// A kubeconfig with one context per user, named after it, on the cluster `charter-sandbox`
/// (`admin` current).
pub fn kubeconfig(cluster: Value, users: &[UserSpec]) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "charter-sandbox", "cluster": cluster}],
        "users": users.iter().map(|u| json!({"name": u.name, "user": {"token": u.token}})).collect::<Vec<_>>(),
        "contexts": users.iter().map(|u| json!({"name": u.name, "context": {"cluster": "charter-sandbox", "user": u.name, "namespace": "default"}})).collect::<Vec<_>>(),
        "current-context": "admin",
    })
}

pub(super) async fn client_with_token(
    cluster: Value,
    user: &str,
    token: &str,
) -> Result<Client, ControlPlaneError> {
    let spec = UserSpec {
        name: user.to_string(),
        groups: Vec::new(),
        token: token.to_string(),
    };
    let fail = |message: String| ControlPlaneError::Kubeconfig {
        user: user.to_string(),
        message,
    };
    let doc: Kubeconfig =
        serde_json::from_value(kubeconfig(cluster, &[spec])).map_err(|e| fail(e.to_string()))?;
    let options = KubeConfigOptions {
        context: Some(user.to_string()),
        ..Default::default()
    };
    let config = kube::Config::from_custom_kubeconfig(doc, &options)
        .await
        .map_err(|e| fail(e.to_string()))?;
    Client::try_from(config).map_err(|e| fail(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_file_quotes_the_groups() {
        let mut user = UserSpec::new("gus", &["charter:users", "x"]);
        user.token = "t".into();
        assert_eq!(token_file(&[user]), "t,gus,gus,\"charter:users,x\"\n");
    }

    #[test]
    fn tokens_are_random() {
        let (a, b) = (random_token().unwrap(), random_token().unwrap());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
