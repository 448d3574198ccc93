//! `maple-mm explain` on the recorded scenarios: one line per op, and the reasons the
//! kernel's own comments give for areas that stay apart.

use std::path::Path;

use maple_mm::{explain::explain, script};

fn scenario(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kernel-cases/scenarios").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    explain(&script::parse(&text).unwrap()).unwrap()
}

#[test]
fn every_scenario_is_explained_op_by_op() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kernel-cases/scenarios");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|ext| ext != "ops") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let parsed = script::parse(&text).unwrap();
        let explained = explain(&parsed).unwrap();
        let op_lines = explained.lines().filter(|l| l.starts_with("op ")).count();
        assert_eq!(op_lines, parsed.ops.len(), "{}", path.display());
        // The final layout is the one `run` reports.
        let run = maple_mm::engine::run(&parsed).unwrap();
        let vma_lines: Vec<&str> = explained.lines().filter(|l| l.starts_with("vma ")).collect();
        let expected: Vec<String> = run.vmas.iter().map(ToString::to_string).collect();
        assert_eq!(vma_lines, expected, "{}", path.display());
    }
}

#[test]
fn the_reasons_match_the_kernels_rules() {
    let two_anon_vmas = scenario("06_two_anon_vmas_no_merge.ops");
    assert!(two_anon_vmas.contains("stay apart: each has its own anon_vma"), "{two_anon_vmas}");
    let account = scenario("14_vm_account.ops");
    assert!(account.contains("stay apart: flags differ: only right has ac"), "{account}");
    let stack = scenario("15_map_stack.ops");
    assert!(stack.contains("nh"), "{stack}");
    let shared = scenario("19_anon_shared.ops");
    assert!(shared.contains("different files"), "{shared}");
}

#[test]
fn the_scripts_own_comments_introduce_its_ops() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/scripts/demo.ops");
    let explained = explain(&script::parse(&std::fs::read_to_string(path).unwrap()).unwrap()).unwrap();
    let lines: Vec<&str> = explained.lines().collect();
    let first_op = lines.iter().position(|line| line.starts_with("op 1 ")).unwrap();
    assert_eq!(lines[first_op - 1], "# 1. Two adjacent anonymous mappings merge into one VMA.");
    let mprotect = lines.iter().position(|line| line.starts_with("op 3 ")).unwrap();
    assert_eq!(lines[mprotect - 1], "# 2. mprotect of the middle splits in three; putting it back merges again.");
    let first_vma = lines.iter().position(|line| line.starts_with("vma ")).unwrap();
    assert_eq!(lines[first_vma - 1], "# the areas at the end: start end perms pgoff backing vmflags");
}
