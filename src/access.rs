//! Who is calling the operator's HTTP endpoints, and what they may see: the caller's bearer
//! token is checked with a TokenReview and each right with a SubjectAccessReview, as
//! controller-runtime's `WithAuthenticationAndAuthorization` filter and kube-rbac-proxy do.
//! `/metrics` and the portal share it. Answers are cached for a minute in a bounded map, so a
//! scrape every few seconds or a page view costs the API server nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use k8s_openapi::api::authentication::v1::{TokenReview, TokenReviewSpec, UserInfo};
use k8s_openapi::api::authorization::v1::{
    NonResourceAttributes, ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use kube::api::PostParams;
use kube::{Api, Client};
use sha2::{Digest, Sha256};

/// How long an answer is trusted: a revoked binding or token stops working within it.
pub const CACHE_TTL: Duration = Duration::from_secs(60);
/// At most this many answers are kept; a flood of distinct tokens cannot grow memory.
pub const CACHE_ENTRIES: usize = 4096;
/// How long one review may take, retries included: a request is refused (503) rather than
/// held while the API server does not answer.
pub const REVIEW_TIMEOUT: Duration = Duration::from_secs(10);

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
    #[error("cannot ask the API server who is calling: no answer within {}s", REVIEW_TIMEOUT.as_secs())]
    NoAnswer,
}

impl Refused {
    pub fn status(&self) -> StatusCode {
        match self {
            Refused::NoToken | Refused::InvalidToken => StatusCode::UNAUTHORIZED,
            Refused::Forbidden { .. } => StatusCode::FORBIDDEN,
            // Nobody was judged: the request fails and is retried, no one is told "no".
            Refused::Review(_) | Refused::NoAnswer => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// A caller the API server authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Viewer {
    /// The user name, as the API server authenticated it.
    pub name: String,
    uid: Option<String>,
    groups: Option<Vec<String>>,
    extra: Option<std::collections::BTreeMap<String, Vec<String>>>,
    /// The digest of the token: what this viewer's answers are cached under.
    token: [u8; 32],
}

/// What a SubjectAccessReview asks about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attributes {
    /// A non-resource URL, such as `get /metrics`.
    Path { verb: String, path: String },
    /// A resource in a namespace (`None`: in every namespace).
    Resource {
        verb: String,
        group: String,
        resource: String,
        namespace: Option<String>,
        name: Option<String>,
    },
}

impl Attributes {
    fn digest_into(&self, hash: &mut Sha256) {
        let parts: Vec<&str> = match self {
            Attributes::Path { verb, path } => vec!["path", verb, path],
            Attributes::Resource {
                verb,
                group,
                resource,
                namespace,
                name,
            } => vec![
                "resource",
                verb,
                group,
                resource,
                namespace.as_deref().unwrap_or("\u{1}all"),
                name.as_deref().unwrap_or("\u{1}any"),
            ],
        };
        for part in parts {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
    }
}

/// What the API server answered, as cached.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Answer {
    /// A TokenReview: the viewer, or `None` for a token it does not accept.
    Identity(Option<Viewer>),
    /// A SubjectAccessReview.
    Allowed(bool),
}

/// Asks the API server, through the operator's own client, about callers of its endpoints.
#[derive(Clone)]
pub struct Access {
    client: Client,
    cache: Arc<Mutex<Cache>>,
}

impl Access {
    pub fn new(client: Client) -> Self {
        Access {
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
        let viewer = self.authenticate(token).await?;
        let attributes = Attributes::Path {
            verb: verb.into(),
            path: path.into(),
        };
        if self.allows(&viewer, &attributes).await? {
            Ok(())
        } else {
            Err(Refused::Forbidden {
                user: viewer.name,
                verb: verb.into(),
                path: path.into(),
            })
        }
    }

    /// Who the token belongs to (a TokenReview).
    pub async fn authenticate(&self, token: &str) -> Result<Viewer, Refused> {
        let key = digest(&[b"token", token.as_bytes()]);
        let cached = self.lock().get(&key, Instant::now());
        let answer = match cached {
            Some(answer) => answer,
            None => {
                let review = tokio::time::timeout(REVIEW_TIMEOUT, self.review_token(token, key));
                let answer = Answer::Identity(review.await.map_err(|_| Refused::NoAnswer)??);
                self.lock().insert(key, answer.clone(), Instant::now());
                answer
            }
        };
        match answer {
            Answer::Identity(Some(viewer)) => Ok(viewer),
            _ => Err(Refused::InvalidToken),
        }
    }

    /// Whether RBAC (or whatever authorizes the API server) lets `viewer` do `attributes` (a
    /// SubjectAccessReview).
    pub async fn allows(&self, viewer: &Viewer, attributes: &Attributes) -> Result<bool, Refused> {
        let mut hash = Sha256::new();
        hash.update(b"access\0");
        hash.update(viewer.token);
        attributes.digest_into(&mut hash);
        let key: [u8; 32] = hash.finalize().into();
        let cached = self.lock().get(&key, Instant::now());
        if let Some(Answer::Allowed(allowed)) = cached {
            return Ok(allowed);
        }
        let review = tokio::time::timeout(REVIEW_TIMEOUT, self.review_access(viewer, attributes));
        let allowed = review.await.map_err(|_| Refused::NoAnswer)??;
        self.lock()
            .insert(key, Answer::Allowed(allowed), Instant::now());
        Ok(allowed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        // The cache holds no invariant a panic could break half-way.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn review_token(&self, token: &str, key: [u8; 32]) -> Result<Option<Viewer>, Refused> {
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
        let user = reviewed
            .status
            .filter(|s| s.authenticated == Some(true))
            .and_then(|s| s.user);
        Ok(user.and_then(|user| {
            let UserInfo {
                username,
                uid,
                groups,
                extra,
            } = user;
            let name = username.filter(|n| !n.is_empty())?;
            Some(Viewer {
                name,
                uid,
                groups,
                extra,
                token: key,
            })
        }))
    }

    async fn review_access(
        &self,
        viewer: &Viewer,
        attributes: &Attributes,
    ) -> Result<bool, Refused> {
        let (non_resource_attributes, resource_attributes) = match attributes.clone() {
            Attributes::Path { verb, path } => (
                Some(NonResourceAttributes {
                    path: Some(path),
                    verb: Some(verb),
                }),
                None,
            ),
            Attributes::Resource {
                verb,
                group,
                resource,
                namespace,
                name,
            } => (
                None,
                Some(ResourceAttributes {
                    verb: Some(verb),
                    group: Some(group),
                    resource: Some(resource),
                    namespace,
                    name,
                    ..Default::default()
                }),
            ),
        };
        let access = SubjectAccessReview {
            spec: SubjectAccessReviewSpec {
                user: Some(viewer.name.clone()),
                uid: viewer.uid.clone(),
                groups: viewer.groups.clone(),
                extra: viewer.extra.clone(),
                non_resource_attributes,
                resource_attributes,
            },
            ..Default::default()
        };
        let answered = Api::<SubjectAccessReview>::all(self.client.clone())
            .create(&PostParams::default(), &access)
            .await
            .map_err(Refused::Review)?;
        Ok(answered.status.is_some_and(|s| s.allowed))
    }
}

/// The token of an `Authorization: Bearer <token>` header (the scheme in any case, as the
/// API server reads it).
pub fn bearer(header: Option<&str>) -> Option<&str> {
    let (scheme, token) = header?.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The cache never holds a token itself: a memory dump reveals no credential.
fn digest(parts: &[&[u8]]) -> [u8; 32] {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part);
        hash.update([0]);
    }
    hash.finalize().into()
}

#[derive(Default)]
struct Cache {
    entries: HashMap<[u8; 32], (Answer, Instant)>,
}

impl Cache {
    fn get(&self, key: &[u8; 32], now: Instant) -> Option<Answer> {
        self.entries
            .get(key)
            .filter(|(_, at)| now.duration_since(*at) < CACHE_TTL)
            .map(|(v, _)| v.clone())
    }

    fn insert(&mut self, key: [u8; 32], answer: Answer, now: Instant) {
        if self.entries.len() >= CACHE_ENTRIES {
            self.entries
                .retain(|_, (_, at)| now.duration_since(*at) < CACHE_TTL);
        }
        if self.entries.len() >= CACHE_ENTRIES {
            // All fresh: start over rather than grow; the next requests ask again.
            self.entries.clear();
        }
        self.entries.insert(key, (answer, now));
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
    fn an_answer_is_trusted_for_a_minute_and_the_cache_stays_bounded() {
        let start = Instant::now();
        let mut cache = Cache::default();
        let key = digest(&[b"t", b"get", b"/metrics"]);
        cache.insert(key, Answer::Allowed(true), start);
        assert_eq!(
            cache.get(&key, start + CACHE_TTL / 2),
            Some(Answer::Allowed(true))
        );
        assert_eq!(cache.get(&key, start + CACHE_TTL), None, "expired");
        assert_ne!(key, digest(&[b"t", b"get", b"/other"]), "per path");

        for i in 0..CACHE_ENTRIES * 3 {
            let k = digest(&[i.to_string().as_bytes()]);
            cache.insert(k, Answer::Identity(None), start + CACHE_TTL / 2);
            assert!(cache.entries.len() <= CACHE_ENTRIES);
        }
    }

    #[test]
    fn each_question_is_cached_apart() {
        let key = |a: &Attributes| {
            let mut hash = Sha256::new();
            a.digest_into(&mut hash);
            <[u8; 32]>::from(hash.finalize())
        };
        let list = |namespace: Option<&str>| Attributes::Resource {
            verb: "list".into(),
            group: "catalog.charter.dev".into(),
            resource: "services".into(),
            namespace: namespace.map(Into::into),
            name: None,
        };
        assert_ne!(key(&list(None)), key(&list(Some("payments"))));
        assert_ne!(key(&list(Some("a"))), key(&list(Some("b"))));
        assert_ne!(
            key(&list(None)),
            key(&Attributes::Path {
                verb: "list".into(),
                path: "catalog.charter.dev".into()
            })
        );
    }
}
