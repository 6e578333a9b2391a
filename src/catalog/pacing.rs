//! When the catalog writer writes: its pacing rules as a value the writer feeds with the time
//! (no clock, no runtime here), so that a burst, a slow server or a failing one can be played
//! out in a test.

use std::time::{Duration, Instant};

/// When to write: soon after the first change at idle; under load at most every `min_gap`,
/// and at once (after `min_gap`) when the changes stop for `quiet`. While the load lasts the gap
/// doubles, up to `max_gap` — unless the catalog is growing fast (a mass import), when it keeps
/// doubling (up to `max_growth_gap`): the writes of a burst then add up to a few times the final
/// catalog whatever the burst's length, where a fixed gap would rewrite it again and again.
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
    /// How long it took.
    took: Duration,
    /// Whether it was part of a load: written under load, or cutting into a flow of changes
    /// (one came less than `quiet` before it began) rather than after the end of one.
    in_load: bool,
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
    into_flow: bool,
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
    /// than `min_gap` after that write ended, or, when that write was part of a load, less than
    /// `max_gap` after. A server slow to write the catalog is slow to answer the operator's
    /// other writes meanwhile, so the changes pause after each catalog write: that pause is the
    /// writer's own echo, not the end of the load.
    fn loaded(&self, round: &Round) -> Option<Instant> {
        let last = self.last?;
        let bound = if last.in_load {
            self.pace.max_gap
        } else {
            self.pace.min_gap
        };
        (round.changed && round.woke.duration_since(last.end) < bound).then_some(last.end)
    }

    /// How long the changes must stop for a load to count as over: `quiet`, or as long as the
    /// last write took if longer, since a server that slow also answers in fits and starts.
    fn quiet(&self) -> Duration {
        self.last
            .map_or(self.pace.quiet, |last| self.pace.quiet.max(last.took))
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
            into_flow: now.duration_since(round.last_change) < self.pace.quiet,
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
                took: now.duration_since(write.began),
                in_load: write.under_load || write.into_flow,
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
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// A pacing whose last write of changes ended at `t0`, `streak` writes into a load.
    fn after_write(t0: Instant, streak: u32) -> Pacing {
        let mut pacing = Pacing::new(Pace::default());
        pacing.streak = streak;
        pacing.last = Some(LastWrite {
            end: t0,
            took: ms(10),
            in_load: false,
        });
        pacing
    }

    #[test]
    fn the_first_change_at_idle_is_written_after_the_first_delay() {
        let t0 = Instant::now();
        let pacing = Pacing::new(Pace::default());
        let round = pacing.round(t0, true);
        assert_eq!(pacing.due(&round), t0 + ms(25));
    }

    #[test]
    fn under_load_the_gap_doubles_up_to_its_bound_and_further_while_the_catalog_grows() {
        let pace = Pace::default();
        let gaps: Vec<u128> = (0..7).map(|s| pace.gap(s, false).as_millis()).collect();
        assert_eq!(gaps, vec![200, 400, 800, 1_600, 3_200, 5_000, 5_000]);
        let growing: Vec<u128> = (5..10).map(|s| pace.gap(s, true).as_millis()).collect();
        assert_eq!(growing, vec![6_400, 12_800, 25_600, 51_200, 60_000]);
    }

    #[test]
    fn changes_that_keep_coming_are_written_one_gap_after_the_last_write() {
        let t0 = Instant::now();
        let pacing = after_write(t0, 3);
        let mut round = pacing.round(t0 + ms(50), true);
        for step in 1..100 {
            round.change(t0 + ms(50 + 20 * step));
        }
        assert_eq!(pacing.due(&round), t0 + ms(1_600));
    }

    #[test]
    fn changes_that_stop_for_the_quiet_period_are_written_no_sooner_than_the_least_gap() {
        let t0 = Instant::now();
        let pacing = after_write(t0, 3);
        let mut round = pacing.round(t0 + ms(10), true);
        assert_eq!(
            pacing.due(&round),
            t0 + ms(200),
            "quiet since 10 ms: the least gap"
        );
        round.change(t0 + ms(400));
        assert_eq!(
            pacing.due(&round),
            t0 + ms(500),
            "quiet since 400 ms: 100 ms on"
        );
    }

    #[test]
    fn changes_after_a_pause_of_the_least_gap_are_no_load_and_end_the_streak() {
        let t0 = Instant::now();
        let mut pacing = after_write(t0, 4);
        let round = pacing.round(t0 + ms(200), true);
        assert_eq!(pacing.due(&round), t0 + ms(225));
        let write = pacing.write(round, t0 + ms(225));
        assert_eq!(pacing.streak(), 0);
        pacing.written(write, t0 + ms(300), true, 1_000);
        assert_eq!(pacing.streak(), 0, "a write at idle starts no streak");

        let round = pacing.round(t0 + ms(350), true);
        let write = pacing.write(round, pacing.due(&round));
        pacing.written(write, t0 + ms(700), true, 1_100);
        assert_eq!(
            pacing.streak(),
            1,
            "changes 50 ms after a write: under load"
        );
    }

    #[test]
    fn a_comparison_without_changes_neither_waits_for_the_gap_nor_touches_the_streak() {
        let t0 = Instant::now();
        let mut pacing = after_write(t0, 4);
        let round = pacing.round(t0 + ms(10), false);
        assert_eq!(pacing.due(&round), t0 + ms(35));
        let write = pacing.write(round, t0 + ms(35));
        pacing.written(write, t0 + ms(40), true, 1);
        assert_eq!(pacing.streak(), 4);
        assert_eq!(pacing.last.map(|l| l.end), Some(t0));
    }

    #[test]
    fn a_failed_write_waits_longer_each_time_and_a_good_one_resets_the_wait() {
        let t0 = Instant::now();
        let mut pacing = Pacing::new(Pace::default());
        let waits: Vec<u64> = (0..8).map(|_| pacing.failed().as_secs()).collect();
        assert_eq!(waits, vec![1, 2, 4, 8, 16, 32, 32, 32]);
        let round = pacing.round(t0, true);
        let write = pacing.write(round, t0);
        pacing.written(write, t0, false, 0);
        assert_eq!(pacing.failed(), Duration::from_secs(1));
    }

    /// A burst of activations as a server and an operator play it out.
    #[derive(Clone, Copy, Debug)]
    struct Burst {
        /// How many entries the burst publishes, `clump` at a time every `every`.
        services: usize,
        clump: usize,
        every: Duration,
        /// The bytes of one entry.
        entry: usize,
        /// How long writing the catalog takes: `fixed` plus `per_mib` for each MiB written.
        fixed: Duration,
        per_mib: Duration,
        /// Whether the changes stop while the catalog is written (the server answers the
        /// operator's status writes after the catalog's) and, if so, how long after the write
        /// they come again.
        stalls: Option<Duration>,
    }

    /// What the writer did: writes, bytes written over the final catalog's, the streak at each
    /// write.
    #[derive(Debug)]
    struct Played {
        writes: usize,
        ratio: f64,
        streaks: Vec<u32>,
    }

    /// The changes of a burst as they reach the writer.
    struct Flow {
        burst: Burst,
        published: usize,
        next: Instant,
    }

    impl Flow {
        fn more(&self) -> bool {
            self.published < self.burst.services
        }

        /// The next change comes before `at`: take it.
        fn before(&mut self, at: Instant) -> Option<Instant> {
            if !self.more() || self.next >= at {
                return None;
            }
            let now = self.next;
            self.published += 1;
            if self.published.is_multiple_of(self.burst.clump) {
                self.next += self.burst.every;
            }
            Some(now)
        }
    }

    fn play(burst: Burst) -> Played {
        let t0 = Instant::now();
        let forever = t0 + Duration::from_secs(86_400);
        let mut pacing = Pacing::new(Pace::default());
        let mut flow = Flow {
            burst,
            published: 0,
            next: t0,
        };
        let (mut written, mut writes, mut streaks) = (0usize, 0usize, Vec::new());
        let (mut pending, mut clock) = (false, t0);
        while flow.more() || pending {
            // Changes that came during the last write start the next round at once.
            let woke = match pending {
                true => clock,
                false => flow.before(forever).expect("more changes"),
            };
            pending = false;
            let mut round = pacing.round(woke, true);
            let now = loop {
                let due = pacing.due(&round);
                match flow.before(due) {
                    Some(at) => round.change(at),
                    None => break due,
                }
            };
            let write = pacing.write(round, now);
            let bytes = flow.published * burst.entry;
            let end = now + burst.fixed + burst.per_mib.mul_f64(bytes as f64 / f64::from(1 << 20));
            match burst.stalls {
                Some(resume) => flow.next = flow.next.max(end + resume),
                None => pending = flow.before(end).is_some(),
            }
            while burst.stalls.is_none() && flow.before(end).is_some() {}
            clock = end;
            pacing.written(write, end, true, bytes);
            written += bytes;
            writes += 1;
            streaks.push(pacing.streak());
        }
        Played {
            writes,
            ratio: written as f64 / (burst.services * burst.entry) as f64,
            streaks,
        }
    }

    /// 10,000 Services published in 12 s, 1.7 KB each, written at 100 MiB/s.
    const TEN_THOUSAND: Burst = Burst {
        services: 10_000,
        clump: 1,
        every: Duration::from_micros(1_200),
        entry: 1_700,
        fixed: Duration::from_millis(20),
        per_mib: Duration::from_millis(10),
        stalls: None,
    };

    /// The same burst on a server 30 times slower to write the catalog.
    const SLOW: Burst = Burst {
        fixed: Duration::from_millis(100),
        per_mib: Duration::from_millis(300),
        ..TEN_THOUSAND
    };

    #[test]
    fn a_burst_costs_a_few_times_the_final_catalog_in_writes() {
        for burst in [TEN_THOUSAND, SLOW] {
            let played = play(burst);
            assert!(played.ratio < 3.0, "{burst:?}: {played:?}");
            assert!(played.writes <= 8, "{burst:?}: {played:?}");
        }
    }

    /// The bench's slow server: its own catalog writes hold the operator's status writes back,
    /// so the changes stop while the catalog is written and come again a moment after. Counted
    /// as idle, each such pause ended the streak and the gap fell back to its least: the
    /// catalog was rewritten hundreds of times over.
    #[test]
    fn changes_held_back_by_a_slow_catalog_write_do_not_end_the_load() {
        for resume in [ms(250), ms(1_000)] {
            let played = play(Burst {
                stalls: Some(resume),
                ..SLOW
            });
            assert!(played.ratio < 3.0, "{resume:?}: {played:?}");
            assert!(played.streaks.windows(2).all(|w| w[1] > w[0]), "{played:?}");
        }
    }

    /// A slow server also answers in fits: pauses longer than `quiet` within the load are not
    /// its end when a catalog write takes longer than they do.
    #[test]
    fn a_slow_server_answering_in_fits_does_not_set_off_the_quiet_period() {
        let played = play(Burst {
            clump: 150,
            every: ms(180),
            stalls: Some(ms(250)),
            ..SLOW
        });
        assert!(played.ratio < 3.0, "{played:?}");
    }

    #[test]
    fn after_a_write_that_cut_into_a_flow_a_pause_shorter_than_the_longest_gap_is_no_idle() {
        let t0 = Instant::now();
        let mut pacing = Pacing::new(Pace::default());
        let mut round = pacing.round(t0, true);
        round.change(t0 + ms(20));
        let write = pacing.write(round, t0 + ms(25));
        pacing.written(write, t0 + ms(1_025), true, 1_000);

        let round = pacing.round(t0 + ms(2_000), true);
        assert!(
            pacing.due(&round) < t0 + ms(2_000),
            "the least gap has passed"
        );
        let write = pacing.write(round, t0 + ms(2_000));
        pacing.written(write, t0 + ms(3_000), true, 2_000);
        assert_eq!(pacing.streak(), 1, "one write under load");

        let round = pacing.round(t0 + ms(8_000), true);
        assert_eq!(pacing.due(&round), t0 + ms(8_025), "5 s later: idle");
    }

    #[test]
    fn under_load_the_quiet_period_lasts_as_long_as_the_last_write_took() {
        let t0 = Instant::now();
        let mut pacing = after_write(t0, 4);
        pacing.last = Some(LastWrite {
            end: t0,
            took: ms(1_000),
            in_load: true,
        });
        let round = pacing.round(t0 + ms(50), true);
        assert_eq!(pacing.due(&round), t0 + ms(1_050));
    }
}
