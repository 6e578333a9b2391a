//! Authentication by bearer token, like kube-apiserver's static token file: each token
//! names a user and its groups. Unknown tokens are refused with 401; a request with no
//! bearer token is `system:anonymous`, as with the real server's default anonymous auth.

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
    /// A user with a token derived from its name (`<name>-token`).
    pub fn new(name: &str, groups: &[&str]) -> Self {
        UserSpec {
            name: name.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            token: format!("{name}-token"),
        }
    }

    /// The default administrator: `admin` in `system:masters`.
    pub fn admin() -> Self {
        UserSpec::new("admin", &[MASTERS])
    }

    /// A ServiceAccount's user, `system:serviceaccount:<ns>:<name>`, in the groups the real
    /// server gives it (`system:serviceaccounts`, `system:serviceaccounts:<ns>`); its token
    /// is `<ns>-<name>-token`. The ServiceAccount object itself need not exist.
    pub fn service_account(namespace: &str, name: &str) -> Self {
        UserSpec {
            name: service_account_user(namespace, name),
            groups: service_account_groups(namespace),
            token: format!("{namespace}-{name}-token"),
        }
    }
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
