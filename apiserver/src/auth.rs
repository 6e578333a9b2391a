//! Authentication by bearer token, like kube-apiserver's static token file: each token
//! names a user and its groups. Unknown tokens are refused with 401; a request with no
//! bearer token is `system:anonymous`, as with the real server's default anonymous auth.
//! Tokens are random for each server run: a token is a credential, so it must never be derived
//! from the user's name (anyone who knew the rule could act as anyone, the operator included).

use crate::error::ApiError;
use std::collections::HashMap;

/// Every authenticated user is in this group (RBAC's bootstrap bindings rely on it).
pub const AUTHENTICATED: &str = "system:authenticated";
/// The group of the anonymous user.
pub const UNAUTHENTICATED: &str = "system:unauthenticated";
/// The superuser group: allowed everything before RBAC is asked.
pub const MASTERS: &str = "system:masters";
const SA_PREFIX: &str = "system:serviceaccount:";

/// An authenticated user, as admission, authorization and SelfSubjectReview see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub groups: Vec<String>,
    /// Set only when impersonated with `Impersonate-Uid`.
    pub uid: Option<String>,
}

impl User {
    pub fn new(name: &str, groups: &[&str]) -> Self {
        User {
            name: name.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            uid: None,
        }
    }

    /// The user of requests without a bearer token.
    pub fn anonymous() -> Self {
        User::new("system:anonymous", &[UNAUTHENTICATED])
    }

    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }
}

/// `system:serviceaccount:<ns>:<name>`, the user name of a ServiceAccount.
pub fn service_account_user(namespace: &str, name: &str) -> String {
    format!("{SA_PREFIX}{namespace}:{name}")
}

/// The namespace and name of a ServiceAccount user name, if it is one.
pub fn split_service_account(user: &str) -> Option<(&str, &str)> {
    let (ns, name) = user.strip_prefix(SA_PREFIX)?.split_once(':')?;
    (!ns.is_empty() && !name.is_empty() && !name.contains(':')).then_some((ns, name))
}

/// The groups every ServiceAccount of a namespace is in.
pub fn service_account_groups(namespace: &str) -> Vec<String> {
    vec![
        "system:serviceaccounts".into(),
        format!("system:serviceaccounts:{namespace}"),
    ]
}

/// One line of the token file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserSpec {
    pub name: String,
    pub groups: Vec<String>,
    pub token: String,
}

impl UserSpec {
    /// A user with a fresh random token (read it back with `ApiServer::token_of`, or from
    /// the kubeconfig `ApiServer::write_kubeconfig` writes).
    pub fn new(name: &str, groups: &[&str]) -> Self {
        UserSpec {
            name: name.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            token: random_token(),
        }
    }

    /// The default administrator: `admin` in `system:masters`.
    pub fn admin() -> Self {
        UserSpec::new("admin", &[MASTERS])
    }

    /// A ServiceAccount's user, `system:serviceaccount:<ns>:<name>`, in the groups the real
    /// server gives it (`system:serviceaccounts`, `system:serviceaccounts:<ns>`), with a fresh
    /// random token. The ServiceAccount object itself need not exist.
    pub fn service_account(namespace: &str, name: &str) -> Self {
        UserSpec {
            name: service_account_user(namespace, name),
            groups: service_account_groups(namespace),
            token: random_token(),
        }
    }
}

/// 256 random bits in hex: unguessable (the thread generator is a CSPRNG seeded by the
/// operating system), and safe in a header and a kubeconfig.
fn random_token() -> String {
    use rand::Rng;
    let bytes: [u8; 32] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Clone, Debug, Default)]
pub struct Authenticator {
    by_token: HashMap<String, UserSpec>,
}

impl Authenticator {
    pub fn new(users: &[UserSpec]) -> Self {
        Authenticator {
            by_token: users.iter().map(|u| (u.token.clone(), u.clone())).collect(),
        }
    }

    pub fn token_of(&self, user: &str) -> Option<String> {
        self.by_token
            .values()
            .find(|u| u.name == user)
            .map(|u| u.token.clone())
    }

    /// The user behind an `Authorization` header value: anonymous without a bearer token,
    /// 401 for a bearer token nobody owns.
    pub fn authenticate(&self, header: Option<&str>) -> Result<User, ApiError> {
        let Some(token) = header.and_then(|h| h.strip_prefix("Bearer ")) else {
            return Ok(User::anonymous());
        };
        let spec = self
            .by_token
            .get(token.trim())
            .ok_or_else(|| ApiError::new(401, "Unauthorized", "Unauthorized"))?;
        let mut groups = spec.groups.clone();
        if !groups.iter().any(|g| g == AUTHENTICATED) {
            groups.push(AUTHENTICATED.into());
        }
        Ok(User {
            name: spec.name.clone(),
            groups,
            uid: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_never_derived_from_the_name() {
        let (first, again) = (UserSpec::new("dana", &[]), UserSpec::new("dana", &[]));
        let (sa, sa_again) = (
            UserSpec::service_account("charter-system", "charter"),
            UserSpec::service_account("charter-system", "charter"),
        );
        assert_ne!(first.token, again.token, "a new token for every user spec");
        assert_ne!(sa.token, sa_again.token, "and for every service account");
        for spec in [&first, &sa, &UserSpec::admin()] {
            assert_eq!(spec.token.len(), 64, "256 bits in hex: {}", spec.token);
            assert!(!spec.token.contains("dana") && !spec.token.contains("charter"));
            assert!(!spec.token.ends_with("-token"), "{}", spec.token);
        }
        let auth = Authenticator::new(&[first.clone(), sa.clone()]);
        let bearer = |t: &str| format!("Bearer {t}");
        assert_eq!(
            auth.authenticate(Some(&bearer(&sa.token))).map(|u| u.name),
            Ok(sa.name.clone())
        );
        for guess in ["dana-token", "charter-system-charter-token"] {
            let refused = auth.authenticate(Some(&bearer(guess))).map(|u| u.name);
            assert_eq!(refused.map_err(|e| e.code), Err(401), "{guess}");
        }
    }
}
