//! The `continue` token of a paged list, shaped as kube-apiserver's (`storage.EncodeContinue`):
//! base64 of `{"v":"meta.k8s.io/v1","rv":<snapshot rv>,"start":"<key>\u0000"}`, so every
//! page of one list is served from the first page's resourceVersion.

use crate::error::ApiError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

const VERSION: &str = "meta.k8s.io/v1";

/// Where the next page starts: after `(namespace, name)`, at resourceVersion `rv`.
#[derive(Debug, PartialEq)]
pub struct Continue {
    pub rv: u64,
    pub after: (String, String),
}

#[derive(Serialize, Deserialize)]
struct Wire {
    v: String,
    rv: i64,
    start: String,
}

impl Continue {
    pub fn encode(&self) -> String {
        let (ns, name) = &self.after;
        // The key the next page starts from; the NUL sorts it right after the last item.
        let start = if ns.is_empty() {
            format!("{name}\u{0}")
        } else {
            format!("{ns}/{name}\u{0}")
        };
        let wire = Wire {
            v: VERSION.into(),
            rv: i64::try_from(self.rv).unwrap_or(i64::MAX),
            start,
        };
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&wire).unwrap_or_default())
    }

    /// The real server's 400 for a token it cannot read.
    pub fn decode(token: &str) -> Result<Self, ApiError> {
        let invalid = |why: &str| {
            ApiError::bad_request(format!(
                "invalid continue token: continue key is not valid: {why}"
            ))
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(token.trim_end_matches('='))
            .map_err(|e| invalid(&e.to_string()))?;
        let wire: Wire = serde_json::from_slice(&bytes).map_err(|e| invalid(&e.to_string()))?;
        if wire.v != VERSION {
            return Err(invalid("server does not recognize this encoding"));
        }
        let rv = u64::try_from(wire.rv)
            .ok()
            .filter(|rv| *rv > 0)
            .ok_or_else(|| {
                invalid("incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
            })?;
        let start = wire.start.strip_suffix('\u{0}').unwrap_or(&wire.start);
        if start.is_empty() {
            return Err(invalid("encoded key is empty"));
        }
        let after = match start.split_once('/') {
            Some((ns, name)) => (ns.to_string(), name.to_string()),
            None => (String::new(), start.to_string()),
        };
        Ok(Continue { rv, after })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_round_trips_its_snapshot_and_position() {
        for after in [
            ("default".to_string(), "a".to_string()),
            (String::new(), "ns-1".to_string()),
        ] {
            let c = Continue { rv: 42, after };
            assert_eq!(Continue::decode(&c.encode()).unwrap(), c);
        }
    }

    #[test]
    fn an_unreadable_token_is_a_bad_request() {
        for token in [
            "default/a",
            "!!",
            &URL_SAFE_NO_PAD.encode(br#"{"v":"x","rv":1,"start":"a\u0000"}"#),
        ] {
            let e = Continue::decode(token).unwrap_err();
            assert_eq!(e.code, 400, "{token}");
            assert!(
                e.message
                    .starts_with("invalid continue token: continue key is not valid"),
                "{}",
                e.message
            );
        }
    }
}
