//! Who may read `/metrics`: the caller's bearer token is checked with a TokenReview and their
//! right to `get` the path with a SubjectAccessReview, as controller-runtime's
//! `WithAuthenticationAndAuthorization` filter and kube-rbac-proxy do. Verdicts are cached for
//! a minute in a bounded map, so a scrape every few seconds costs the API server nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use k8s_openapi::api::authentication::v1::{TokenReview, TokenReviewSpec, UserInfo};
use k8s_openapi::api::authorization::v1::{
    NonResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use kube::api::PostParams;
use kube::{Api, Client};
use sha2::{Digest, Sha256};

/// How long a verdict is trusted: a revoked binding or token stops working within it.
pub const CACHE_TTL: Duration = Duration::from_secs(60);
/// At most this many verdicts are kept; a flood of distinct tokens cannot grow memory.
pub const CACHE_ENTRIES: usize = 1024;

/// Why a request is not served.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("Unauthorized: a bearer token is required")]
    NoToken,
    #[error("Unauthorized: the token is not valid")]
    InvalidToken,
    #[error("Forbidden: user \"{user}\" may not {verb} {path}")]
    Forbidden {
        user: String,
        verb: String,
        path: String,
    },
    #[error("cannot ask the API server who is calling: {0}")]
    Review(#[source] kube::Error),
}

impl Refused {
    pub fn status(&self) -> StatusCode {
        match self {
            Refused::NoToken | Refused::InvalidToken => StatusCode::UNAUTHORIZED,
            Refused::Forbidden { .. } => StatusCode::FORBIDDEN,
            // Nobody was judged: the scrape fails and is retried, no one is told "no".
            Refused::Review(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// What the API server answered about one token and one request.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Verdict {
    Allowed,
    InvalidToken,
    Forbidden(String),
}

/// Asks the API server, through the operator's own client, about callers of its endpoints.
#[derive(Clone)]
pub struct MetricsAccess {
    client: Client,
    cache: Arc<Mutex<Cache>>,
}

impl MetricsAccess {
    pub fn new(client: Client) -> Self {
        MetricsAccess {
            client,
            cache: Arc::new(Mutex::new(Cache::default())),
        }
    }

    /// Whether the caller whose `Authorization` header this is may `verb` the non-resource
    /// `path`.
    pub async fn check(
        &self,
        authorization: Option<&str>,
        verb: &str,
        path: &str,
    ) -> Result<(), Refused> {
        let token = bearer(authorization).ok_or(Refused::NoToken)?;
        let key = cache_key(token, verb, path);
        let cached = self.lock().get(&key, Instant::now());
        let verdict = match cached {
            Some(v) => v,
            None => {
                let v = self.ask(token, verb, path).await?;
                self.lock().insert(key, v.clone(), Instant::now());
                v
            }
        };
        match verdict {
            Verdict::Allowed => Ok(()),
            Verdict::InvalidToken => Err(Refused::InvalidToken),
            Verdict::Forbidden(user) => Err(Refused::Forbidden {
                user,
                verb: verb.into(),
                path: path.into(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        // The cache holds no invariant a panic could break half-way.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn ask(&self, token: &str, verb: &str, path: &str) -> Result<Verdict, Refused> {
        let review = TokenReview {
            spec: TokenReviewSpec {
                token: token.into(),
                audiences: None,
            },
            ..Default::default()
        };
        let reviewed = Api::<TokenReview>::all(self.client.clone())
            .create(&PostParams::default(), &review)
            .await
            .map_err(Refused::Review)?;
        let Some(user) = reviewed
            .status
            .filter(|s| s.authenticated == Some(true))
            .and_then(|s| s.user)
            .filter(|u| u.username.as_deref().is_some_and(|n| !n.is_empty()))
        else {
            return Ok(Verdict::InvalidToken);
        };
        let UserInfo {
            username,
            uid,
            groups,
            extra,
        } = user;
        let access = SubjectAccessReview {
            spec: SubjectAccessReviewSpec {
                user: username.clone(),
                uid,
                groups,
                extra,
                non_resource_attributes: Some(NonResourceAttributes {
                    path: Some(path.into()),
                    verb: Some(verb.into()),
                }),
                resource_attributes: None,
            },
            ..Default::default()
        };
        let answered = Api::<SubjectAccessReview>::all(self.client.clone())
            .create(&PostParams::default(), &access)
            .await
            .map_err(Refused::Review)?;
        Ok(match answered.status {
            Some(s) if s.allowed => Verdict::Allowed,
            _ => Verdict::Forbidden(username.unwrap_or_default()),
        })
    }
}

/// The token of an `Authorization: Bearer <token>` header (the scheme in any case, as the
/// API server reads it).
fn bearer(header: Option<&str>) -> Option<&str> {
    let (scheme, token) = header?.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The cache never holds a token itself: a memory dump reveals no credential.
fn cache_key(token: &str, verb: &str, path: &str) -> [u8; 32] {
    let mut hash = Sha256::new();
    for part in [token, verb, path] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hash.finalize().into()
}

#[derive(Default)]
struct Cache {
    entries: HashMap<[u8; 32], (Verdict, Instant)>,
}

impl Cache {
    fn get(&self, key: &[u8; 32], now: Instant) -> Option<Verdict> {
        self.entries
            .get(key)
            .filter(|(_, at)| now.duration_since(*at) < CACHE_TTL)
            .map(|(v, _)| v.clone())
    }

    fn insert(&mut self, key: [u8; 32], verdict: Verdict, now: Instant) {
        if self.entries.len() >= CACHE_ENTRIES {
            self.entries
                .retain(|_, (_, at)| now.duration_since(*at) < CACHE_TTL);
        }
        if self.entries.len() >= CACHE_ENTRIES {
            // All fresh: start over rather than grow; the next scrapes ask again.
            self.entries.clear();
        }
        self.entries.insert(key, (verdict, now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_bearer_header_with_a_token_carries_one() {
        assert_eq!(bearer(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer(Some("bearer  abc ")), Some("abc"));
        for refused in [
            None,
            Some(""),
            Some("Bearer"),
            Some("Bearer  "),
            Some("Basic abc"),
        ] {
            assert_eq!(bearer(refused), None, "{refused:?}");
        }
    }

    #[test]
    fn a_verdict_is_trusted_for_a_minute_and_the_cache_stays_bounded() {
        let start = Instant::now();
        let mut cache = Cache::default();
        let key = cache_key("t", "get", "/metrics");
        cache.insert(key, Verdict::Allowed, start);
        assert_eq!(
            cache.get(&key, start + CACHE_TTL / 2),
            Some(Verdict::Allowed)
        );
        assert_eq!(cache.get(&key, start + CACHE_TTL), None, "expired");
        assert_ne!(key, cache_key("t", "get", "/other"), "per path");

        for i in 0..CACHE_ENTRIES * 3 {
            let k = cache_key(&i.to_string(), "get", "/metrics");
            cache.insert(k, Verdict::InvalidToken, start + CACHE_TTL / 2);
            assert!(cache.entries.len() <= CACHE_ENTRIES);
        }
    }
}
