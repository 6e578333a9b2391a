use super::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A pacing whose last write of changes ended at `t0`, `streak` writes into a load.
fn after_write(t0: Instant, streak: u32) -> Pacing {
    after_write_taking(t0, streak, Duration::ZERO)
}

/// `after_write`, that write having taken `took`.
fn after_write_taking(t0: Instant, streak: u32, took: Duration) -> Pacing {
    let mut pacing = Pacing::new(Pace::default());
    pacing.streak = streak;
    pacing.last = Some(LastWrite { end: t0, took });
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
    let write = pacing.write(round, t0 + ms(375));
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
    /// When the current clump began; its changes come 0.1 ms apart.
    clump_began: Instant,
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
            self.next = self.next.max(self.clump_began + self.burst.every);
            self.clump_began = self.next;
        } else {
            self.next += Duration::from_micros(100);
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
        clump_began: t0,
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
        assert!(played.streaks.windows(2).all(|w| w[1] > w[0]), "{played:?}");
    }
}

/// The burst of a slow server that takes the changes in clumps, pausing 200 ms between them:
/// longer than `quiet`, shorter than half of what writing the catalog soon takes.
const SLOW_IN_CLUMPS: Burst = Burst {
    clump: 20,
    every: Duration::from_millis(200),
    ..SLOW
};

#[test]
fn pauses_no_longer_than_a_write_takes_do_not_end_the_load() {
    // Each clump's pause wrote the catalog again (59 writes, 18x the final catalog's bytes)
    // while writes took longer than the pauses.
    let played = play(SLOW_IN_CLUMPS);
    assert!(played.ratio < 3.0, "{played:?}");
    assert!(played.writes <= 20, "{played:?}");

    let t0 = Instant::now();
    let mut pacing = after_write_taking(t0, 3, ms(1_600));
    let mut round = pacing.round(t0 + ms(500), true);
    assert_eq!(
        pacing.due(&round),
        t0 + ms(1_300),
        "changes 500 ms after a write that took 1.6 s: still the load, quiet for 800 ms"
    );
    round.change(t0 + ms(1_000));
    assert_eq!(pacing.due(&round), t0 + ms(1_600), "the gap comes first");
    let write = pacing.write(round, t0 + ms(1_600));
    pacing.written(write, t0 + ms(1_700), true, 1_000);
    assert_eq!(pacing.streak(), 4, "the streak goes on");
}

#[test]
fn a_single_change_written_after_the_first_delay_is_no_load() {
    let t0 = Instant::now();
    let mut pacing = Pacing::new(Pace::default());
    let round = pacing.round(t0, true);
    let write = pacing.write(round, t0);
    pacing.written(write, t0 + ms(60), true, 1_000);
    let round = pacing.round(t0 + ms(400), true);
    assert_eq!(
        pacing.due(&round),
        t0 + ms(425),
        "the next single change: at idle"
    );
}
