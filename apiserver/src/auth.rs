//! Authentication by bearer token, like kube-apiserver's static token file: each token
//! names a user and its groups. Unknown tokens are refused with 401.

use crate::error::ApiError;
use std::collections::HashMap;

/// An authenticated user, as admission and SelfSubjectReview see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub groups: Vec<String>,
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
        UserSpec::new("admin", &["system:masters"])
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

    /// The user behind an `Authorization` header value.
    pub fn authenticate(&self, header: Option<&str>) -> Result<User, ApiError> {
        let unauthorized = || ApiError::new(401, "Unauthorized", "Unauthorized");
        let token = header
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(unauthorized)?;
        let spec = self.by_token.get(token).ok_or_else(unauthorized)?;
        let mut groups = spec.groups.clone();
        if !groups.iter().any(|g| g == "system:authenticated") {
            groups.push("system:authenticated".into());
        }
        Ok(User {
            name: spec.name.clone(),
            groups,
        })
    }
}
