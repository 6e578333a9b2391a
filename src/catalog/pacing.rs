//! When the catalog writer writes: its pacing rules as a value the writer feeds with the time
//! (no clock, no runtime here), so that a burst, a slow server or a failing one can be played
//! out in a test.

use std::time::{Duration, Instant};

/// When to write: soon after the first change at idle; under load at most every `min_gap`,
/// and at once (after `min_gap`) when the changes stop for `quiet` — or for half as long as the
/// last write took, if longer: a slow server stalls the changes while it takes a write in, and
/// such a pause is not the end of the load. While the load lasts the gap doubles, up to
/// `max_gap` — unless the catalog is growing fast (a mass import), when it keeps doubling (up to
/// `max_growth_gap`): the writes of a burst then add up to a few times the final catalog
/// whatever the burst's length, where a fixed gap would rewrite it again and again.
#[derive(Clone, Copy, Debug)]
pub struct Pace {
    pub first_delay: Duration,
    pub min_gap: Duration,
    pub max_gap: Duration,
    pub max_growth_gap: Duration,
    pub quiet: Duration,
}

impl Default for Pace {
    fn default() -> Self {
        Pace {
            first_delay: Duration::from_millis(25),
            min_gap: Duration::from_millis(200),
            max_gap: Duration::from_secs(5),
            max_growth_gap: Duration::from_secs(60),
            quiet: Duration::from_millis(100),
        }
    }
}

impl Pace {
    /// The gap after `streak` writes under load; `growing` when the catalog grew by a quarter
    /// or more between the last two of them.
    fn gap(&self, streak: u32, growing: bool) -> Duration {
        let cap = if growing {
            self.max_growth_gap
        } else {
            self.max_gap
        };
        self.min_gap.saturating_mul(1u32 << streak.min(16)).min(cap)
    }
}

/// What the writer remembers from one write to the next.
#[derive(Clone, Debug)]
pub(crate) struct Pacing {
    pace: Pace,
    /// The last write of changes.
    last: Option<LastWrite>,
    /// How many writes of changes followed each other under load.
    streak: u32,
    /// The catalog's size at the last two writes of changes.
    sizes: (usize, usize),
    /// Failed writes in a row.
    failures: u32,
}

/// A write of changes, as the next round looks back on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LastWrite {
    end: Instant,
    took: Duration,
}

impl LastWrite {
    /// How long the changes may pause while a server takes this write in, and still be a
    /// load: half as long as the write took. (The whole of it held the end of a fast
    /// server's burst back by a write's length, ~0.4 s at 10,000 Services.)
    fn stall(&self) -> Duration {
        self.took / 2
    }
}

/// One round, from the wake-up that starts it to its write.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Round {
    woke: Instant,
    last_change: Instant,
    /// Whether the published entries changed (rather than a ConfigMap, to compare again).
    changed: bool,
}

impl Round {
    /// The published entries changed (again) at `now`.
    pub(crate) fn change(&mut self, now: Instant) {
        self.changed = true;
        self.last_change = now;
    }
}

/// A write under way, as its round left it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Write {
    began: Instant,
    changed: bool,
    under_load: bool,
}

impl Pacing {
    pub(crate) fn new(pace: Pace) -> Self {
        Pacing {
            pace,
            last: None,
            streak: 0,
            sizes: (0, 0),
            failures: 0,
        }
    }

    /// How many writes of changes followed each other under load.
    pub(crate) fn streak(&self) -> u32 {
        self.streak
    }

    /// A round woken at `now`; `changed` when the published entries changed.
    pub(crate) fn round(&self, now: Instant, changed: bool) -> Round {
        Round {
            woke: now,
            last_change: now,
            changed,
        }
    }

    /// When the last write of changes ended, if `round` is under load: its changes began less
    /// than `min_gap` (or than half that write took) after that write ended.
    fn loaded(&self, round: &Round) -> Option<Instant> {
        let last = self.last?;
        (round.changed && round.woke.duration_since(last.end) < self.pace.min_gap.max(last.stall()))
            .then_some(last.end)
    }

    /// How long the changes must stop for a load to be over: `quiet`, or half as long as the
    /// last write took.
    fn quiet(&self) -> Duration {
        self.last
            .map_or(self.pace.quiet, |last| self.pace.quiet.max(last.stall()))
    }

    /// When `round` writes, unless another change comes first.
    pub(crate) fn due(&self, round: &Round) -> Instant {
        let pace = &self.pace;
        let growing = self.sizes.1 >= self.sizes.0 + self.sizes.0 / 4 && self.sizes.1 > 0;
        match self.loaded(round) {
            Some(end) => (end + pace.gap(self.streak, growing))
                .min((round.last_change + self.quiet()).max(end + pace.min_gap)),
            None => round.woke + pace.first_delay,
        }
    }

    /// `round` writes, beginning at `now`: a round of changes at idle ends the streak.
    pub(crate) fn write(&mut self, round: Round, now: Instant) -> Write {
        let under_load = self.loaded(&round).is_some();
        if round.changed && !under_load {
            self.streak = 0;
        }
        Write {
            began: now,
            changed: round.changed,
            under_load,
        }
    }

    /// The write ended at `now`; `wrote` when it sent anything, and the catalog then weighed
    /// `catalog` bytes.
    pub(crate) fn written(&mut self, write: Write, now: Instant, wrote: bool, catalog: usize) {
        self.failures = 0;
        if wrote && write.changed {
            if write.under_load {
                self.streak = self.streak.saturating_add(1);
            }
            self.last = Some(LastWrite {
                end: now,
                took: now.saturating_duration_since(write.began),
            });
            self.sizes = (self.sizes.1, catalog);
        }
    }

    /// The write failed: how long to wait before comparing again: 1 s, doubling up to 32 s.
    pub(crate) fn failed(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        Duration::from_millis(500u64 << self.failures.min(6))
    }

    /// How long after a write that could not render every entry (the Service cache lagging the
    /// records) to compare again.
    pub(crate) fn recheck(&self) -> Duration {
        self.pace.min_gap
    }
}

#[cfg(test)]
mod tests;
