//! Every recorded kernel case (tests/kernel-cases: 40 scenarios and 200 random scripts, the
//! answers of Linux 6.18) replayed on the engine gives exactly the kernel's output.

use std::path::{Path, PathBuf};

use maple_mm::{engine, script};

fn cases(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kernel-cases").join(dir);
    let mut ops: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "ops"))
        .collect();
    ops.sort();
    ops
}

/// Replays every case of `dir`; returns the failures' names and diffs.
fn mismatches(dir: &str) -> (usize, Vec<String>) {
    let cases = cases(dir);
    let mut failed = Vec::new();
    for ops in &cases {
        let text = std::fs::read_to_string(ops).unwrap();
        let script = script::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", ops.display()));
        let recorded = std::fs::read_to_string(ops.with_extension("out")).unwrap();
        let kernel = script::parse_outcome(&recorded).unwrap();
        let ours = engine::run(&script).unwrap();
        if let Some(diff) = script::diff_outcomes(&kernel, &ours, "kernel", "engine") {
            failed.push(format!("== {}\n{diff}", ops.display()));
        }
    }
    (cases.len(), failed)
}

fn check(dir: &str, expected_cases: usize) {
    let (count, failed) = mismatches(dir);
    assert_eq!(count, expected_cases, "the number of recorded {dir} cases");
    assert!(
        failed.is_empty(),
        "{} of {count} {dir} cases differ from the kernel:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

#[test]
fn scenarios_match_the_kernel() {
    check("scenarios", 40);
}

#[test]
fn random_scripts_match_the_kernel() {
    check("fuzz", 200);
}
