//! Notifications: the CloudEvents a Service's recorded transitions give (a pure derivation) and
//! the sink they are POSTed to. The delivery loop, run by the leader, is in
//! `controller/notifications.rs`.

pub mod cloudevent;
pub mod sink;

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};

/// The first retry of a failed delivery.
pub const FIRST_RETRY: Duration = Duration::from_secs(1);
/// The horizon of the backoff: delays double from `FIRST_RETRY` up to this, and jitter adds up
/// to as much again, so a sink back up hears again within twice this. Retries go on as long as
/// the transition is in the Service's history: delivery is at least once.
pub const LONGEST_RETRY: Duration = Duration::from_secs(300);

/// The delays between the attempts at a failing sink: exponential, with jitter, unending.
pub fn retries() -> ExponentialBackoff {
    ExponentialBuilder::default()
        .with_min_delay(FIRST_RETRY)
        .with_factor(2.0)
        .with_max_delay(LONGEST_RETRY)
        .with_jitter()
        .without_max_times()
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_grow_exponentially_with_jitter_up_to_the_horizon_and_never_stop() {
        let delays: Vec<Duration> = retries().take(40).collect();
        assert_eq!(delays.len(), 40, "never gives up");
        for (n, delay) in delays.iter().enumerate() {
            let base = (FIRST_RETRY * 2u32.saturating_pow(n as u32)).min(LONGEST_RETRY);
            assert!(*delay >= base, "attempt {n}: {delay:?} < {base:?}");
            assert!(*delay <= base * 2, "attempt {n}: {delay:?} > 2 × {base:?}");
        }
        // Jitter: two schedules differ.
        let other: Vec<Duration> = retries().take(40).collect();
        assert_ne!(delays, other);
    }
}
