//! `cargo bench --bench throughput`: N Services (`CHARTER_BENCH_N`, default 10,000) converge
//! against the embedded API server; `CHARTER_BENCH_CURVE=1` also runs N = 1,000 and 3,000.
//! The logic lives in `testkit/src/bench/` so that `tests/bench_smoke.rs` runs it too.

use testkit::bench;

// The same allocator as the `charter` binary, so the figures are the ones a user gets.
charter::jemalloc!();

fn main() {
    bench::main_with(bench::Options::from_env());
}
