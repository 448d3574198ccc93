//! `maple-mm kernel` against the kernel's recorded answers in `tests/kernel-cases`: the same
//! kernel (Linux 6.18, x86_64) must give the same output for every case.
//!
//! Each case runs in a fresh `maple-mm kernel` process: the test harness is multithreaded, and
//! another thread's allocation could land in the window while it is open.

#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use maple_mm::script::{diff_outcomes, parse_outcome};

/// Every `.ops` file under `tests/kernel-cases`, sorted.
fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kernel-cases");
    let mut cases = Vec::new();
    for dir in ["scenarios", "fuzz"] {
        for entry in fs::read_dir(root.join(dir)).expect("kernel-cases directory") {
            let path = entry.expect("directory entry").path();
            if path.extension().is_some_and(|ext| ext == "ops") {
                cases.push(path);
            }
        }
    }
    cases.sort();
    cases
}

/// Runs `maple-mm kernel` on one case; `Err` with a report when it fails or differs.
fn check(case: &Path) -> Result<(), String> {
    let output = Command::new(env!("CARGO_BIN_EXE_maple-mm"))
        .arg("kernel")
        .arg(case)
        .output()
        .map_err(|error| format!("cannot start maple-mm: {error}"))?;
    if !output.status.success() {
        return Err(format!("maple-mm kernel failed ({}): {}", output.status, String::from_utf8_lossy(&output.stderr)));
    }
    let got = parse_outcome(&String::from_utf8_lossy(&output.stdout)).map_err(|error| format!("output: {error}"))?;
    let recorded_text = fs::read_to_string(case.with_extension("out")).map_err(|error| error.to_string())?;
    let recorded = parse_outcome(&recorded_text).map_err(|error| format!("recorded output: {error}"))?;
    match diff_outcomes(&recorded, &got, "recorded", "maple-mm kernel") {
        None => Ok(()),
        Some(diff) => Err(diff),
    }
}

#[test]
fn the_kernel_runner_reproduces_every_recorded_case() {
    let cases = cases();
    assert_eq!(cases.len(), 240, "the recorded cases");
    let mut failures = Vec::new();
    for case in &cases {
        if let Err(report) = check(case) {
            failures.push(format!("=== {}\n{report}", case.display()));
        }
    }
    println!("{} of {} recorded cases reproduced", cases.len() - failures.len(), cases.len());
    assert!(failures.is_empty(), "{} of {} cases differ:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

/// The scenario outputs carry the op text after a tab; `--echo` writes it the same way.
#[test]
fn echo_matches_the_recorded_scenario_format() {
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kernel-cases/scenarios/01_anon_adjacent_merge.ops");
    let output = Command::new(env!("CARGO_BIN_EXE_maple-mm")).arg("kernel").arg("--echo").arg(&case).output().unwrap();
    assert!(output.status.success());
    let recorded = fs::read_to_string(case.with_extension("out")).unwrap();
    assert_eq!(String::from_utf8(output.stdout).unwrap(), recorded);
}
