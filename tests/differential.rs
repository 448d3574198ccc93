//! Differential fuzzing: `maple-mm fuzz` runs random scripts on the engine and on the real
//! kernel and stops at the first difference. The seed comes from the clock and is printed, so
//! a failure can be replayed with `maple-mm fuzz --seed <seed> --count 1`.

#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

#[test]
fn the_engine_agrees_with_the_kernel_on_random_scripts() {
    let seed = SystemTime::now().duration_since(UNIX_EPOCH).expect("a clock after 1970").as_secs();
    println!("differential fuzz seed: {seed} (replay: maple-mm fuzz --seed {seed} --count 500)");
    let output = Command::new(env!("CARGO_BIN_EXE_maple-mm"))
        .args(["fuzz", "--seed", &seed.to_string(), "--count", "500"])
        .output()
        .expect("maple-mm runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "seed {seed}: maple-mm fuzz failed ({}):\n{stdout}\n{stderr}", output.status);
}
