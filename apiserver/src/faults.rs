//! Fault injection for tests: failing requests, latency, cut watches, expired watch
//! history and a paused server, all switched on through a `Faults` handle.

use crate::error::ApiError;
use crate::store::Store;
use rand::Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Which requests a fault applies to; `None` matches any.
#[derive(Clone, Debug, Default)]
pub struct Matcher {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`.
    pub verb: Option<String>,
    /// The resource plural, e.g. `configmaps` (`leases`, `services`).
    pub resource: Option<String>,
}

impl Matcher {
    pub fn new(verb: Option<&str>, resource: Option<&str>) -> Self {
        Matcher {
            verb: verb.map(String::from),
            resource: resource.map(String::from),
        }
    }
    fn matches(&self, verb: &str, resource: &str) -> bool {
        self.verb.as_deref().is_none_or(|v| v == verb)
            && self.resource.as_deref().is_none_or(|r| r == resource)
    }
}

#[derive(Clone, Debug)]
struct Rule {
    matcher: Matcher,
    code: u16,
    /// Fail the next N matching requests; `None`: fail `fraction` of them.
    remaining: Option<u32>,
    fraction: f64,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    latency: Vec<(Matcher, Duration)>,
    /// Users no fault touches (a test's own driver and observer).
    spared: BTreeSet<String>,
    injected: Injected,
}

/// How many faults were injected since the server started.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Injected {
    /// Failed requests, by HTTP code.
    pub errors: BTreeMap<u16, u64>,
    /// `cut_watches` calls, and the watch streams they ended.
    pub cuts: u64,
    pub watches_cut: u64,
    /// `expire_history` calls.
    pub expiries: u64,
}

impl Injected {
    /// Every injected fault: failed requests, watch streams cut and history expiries.
    pub fn total(&self) -> u64 {
        self.errors.values().sum::<u64>() + self.watches_cut + self.expiries
    }
}

/// The handle tests hold. Cloning shares the faults.
#[derive(Clone)]
pub struct Faults {
    state: Arc<Mutex<State>>,
    cut: Arc<Mutex<CancellationToken>>,
    paused: Arc<tokio::sync::watch::Sender<bool>>,
    store: Store,
}

fn error_for(code: u16) -> ApiError {
    let mut e = match code {
        409 => ApiError::new(
            409,
            "Conflict",
            "injected fault: the object has been modified; please apply your changes to the latest version and try again",
        ),
        429 => ApiError::new(429, "TooManyRequests", "injected fault: too many requests"),
        503 => ApiError::new(
            503,
            "ServiceUnavailable",
            "injected fault: service unavailable",
        ),
        c => ApiError::new(c, "InternalError", "injected fault: internal error"),
    };
    if code == 429 || code >= 500 {
        e.retry_after = Some(1);
    }
    e
}

impl Faults {
    pub(crate) fn new(store: Store) -> Self {
        let (tx, _) = tokio::sync::watch::channel(false);
        Faults {
            state: Arc::default(),
            cut: Arc::new(Mutex::new(CancellationToken::new())),
            paused: Arc::new(tx),
            store,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Fail the next `n` requests matching with HTTP `code` (500, 409, 429, ...).
    pub fn fail_next(&self, matcher: Matcher, code: u16, n: u32) {
        self.state().rules.push(Rule {
            matcher,
            code,
            remaining: Some(n),
            fraction: 1.0,
        });
    }

    /// Fail a fraction (0.0..=1.0) of matching requests with `code`, until cleared.
    pub fn fail_fraction(&self, matcher: Matcher, code: u16, fraction: f64) {
        self.state().rules.push(Rule {
            matcher,
            code,
            remaining: None,
            fraction,
        });
    }

    /// Delay matching requests.
    pub fn add_latency(&self, matcher: Matcher, delay: Duration) {
        self.state().latency.push((matcher, delay));
    }

    /// Remove every error and latency rule and unpause.
    pub fn clear(&self) {
        let mut st = self.state();
        st.rules.clear();
        st.latency.clear();
        drop(st);
        self.paused.send_replace(false);
    }

    /// End every open watch stream now (clients re-watch from their last resourceVersion).
    pub fn cut_watches(&self) {
        let mut t = self.cut.lock().unwrap_or_else(|e| e.into_inner());
        t.cancel();
        *t = CancellationToken::new();
        self.state().injected.cuts += 1;
    }

    /// Forget the watch history: re-watches from any earlier resourceVersion get 410 Expired.
    pub fn expire_history(&self) {
        self.store.compact();
        self.state().injected.expiries += 1;
    }

    /// Exempt `user`'s requests and watches from every fault (never failed, delayed, paused or
    /// cut): a test's driver and observer see the server as it is, the operator sees the faults.
    pub fn spare(&self, user: &str) {
        self.state().spared.insert(user.to_owned());
    }

    /// What was injected so far.
    pub fn injected(&self) -> Injected {
        self.state().injected.clone()
    }

    /// Hold every request (and new watch) until `resume`.
    pub fn pause(&self) {
        self.paused.send_replace(true);
    }

    pub fn resume(&self) {
        self.paused.send_replace(false);
    }

    /// What ends a watch of `user` when watches are cut: a token never cancelled for a spared user.
    pub(crate) fn watch_token(&self, user: &str) -> CancellationToken {
        if self.state().spared.contains(user) {
            return CancellationToken::new();
        }
        self.cut.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Counts a watch stream ended by `cut_watches`.
    pub(crate) fn watch_cut(&self) {
        self.state().injected.watches_cut += 1;
    }

    /// Run at the start of each request: wait while paused, add latency, maybe fail.
    pub(crate) async fn before(
        &self,
        user: &str,
        verb: &str,
        resource: &str,
    ) -> Result<(), ApiError> {
        if self.state().spared.contains(user) {
            return Ok(());
        }
        let mut rx = self.paused.subscribe();
        while *rx.borrow_and_update() {
            if rx.changed().await.is_err() {
                break;
            }
        }
        let (delay, failure) = {
            let mut st = self.state();
            let delay: Duration = st
                .latency
                .iter()
                .filter(|(m, _)| m.matches(verb, resource))
                .map(|(_, d)| *d)
                .sum();
            let mut failure = None;
            for rule in st.rules.iter_mut() {
                if !rule.matcher.matches(verb, resource) {
                    continue;
                }
                match &mut rule.remaining {
                    Some(0) => continue,
                    Some(n) => {
                        *n -= 1;
                        failure = Some(rule.code);
                        break;
                    }
                    None => {
                        if rand::rng().random_bool(rule.fraction.clamp(0.0, 1.0)) {
                            failure = Some(rule.code);
                            break;
                        }
                    }
                }
            }
            st.rules.retain(|r| r.remaining != Some(0));
            if let Some(code) = failure {
                *st.injected.errors.entry(code).or_default() += 1;
            }
            (delay, failure)
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        match failure {
            Some(code) => Err(error_for(code)),
            None => Ok(()),
        }
    }
}
