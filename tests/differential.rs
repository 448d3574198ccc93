//! Differential fuzzing: `maple-mm fuzz` runs random scripts on the engine and on the real
//! kernel and stops at the first difference. The seed comes from the clock and is printed, so
//! a failure can be replayed with `maple-mm fuzz --seed <seed> --count 1` (plus the shape
//! options the failing run printed).

#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

/// Runs `maple-mm fuzz` on `count` fresh scripts of the given shape; fails with the seed,
/// the script and the diff of the first mismatch.
fn fuzz(count: u32, shape: &[&str]) {
    let seed = SystemTime::now().duration_since(UNIX_EPOCH).expect("a clock after 1970").as_nanos() as u64 >> 10;
    println!(
        "differential fuzz seed: {seed} (replay: maple-mm fuzz --seed {seed} --count {count} {})",
        shape.join(" ")
    );
    let output = Command::new(env!("CARGO_BIN_EXE_maple-mm"))
        .args(["fuzz", "--seed", &seed.to_string(), "--count", &count.to_string()])
        .args(shape)
        .output()
        .expect("maple-mm runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "seed {seed}: maple-mm fuzz failed ({}):\n{stdout}\n{stderr}", output.status);
    assert!(stdout.contains("kernel and engine agree"), "{stdout}");
}

#[test]
fn the_engine_agrees_with_the_kernel_on_random_scripts() {
    fuzz(500, &[]);
}

/// Small windows and long scripts: ops keep meeting the areas earlier ops left.
#[test]
fn the_engine_agrees_with_the_kernel_on_crowded_windows() {
    fuzz(200, &["--window-min", "16", "--window-max", "48", "--ops-min", "100", "--ops-max", "300"]);
}
