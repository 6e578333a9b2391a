//! The `charter` binary runs on jemalloc with the options `charter::allocator` gives it:
//! jemalloc prints the options in effect when asked for its statistics at exit.

use std::process::Command;

#[test]
fn the_binary_returns_freed_pages_within_a_second() {
    let out = Command::new(env!("CARGO_BIN_EXE_charter"))
        .arg("--version")
        .env("_RJEM_MALLOC_CONF", "stats_print:true")
        .output()
        .expect("charter runs");
    let stats =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(
        stats.contains("opt.dirty_decay_ms: 1000 ("),
        "jemalloc's options in effect: {stats}"
    );
}
