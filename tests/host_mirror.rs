//! The notifications are complete: a real window of this process kept only from them (see
//! examples/host_mirror/ and docs/host_mirror.md) equals the engine's window page for
//! page, in `/proc/self/smaps` and `/proc/self/pagemap`, after every op of 500 generated
//! scripts (every op kind, faults and forks included) and of the 40 hand-written kernel
//! scenarios (tests/kernel-cases/scenarios); and punched ranges (MADV_REMOVE) reach the host
//! as MADV_REMOVE, the other discards as MADV_DONTNEED.

#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

#[path = "../examples/host_mirror/lib.rs"]
mod host_mirror;

use maple_mm::gen::GenConfig;

#[test]
fn a_host_window_kept_from_notifications_equals_the_engine_after_every_op() {
    // The generator's default shape: windows of 64 to 128 pages, 40 to 200 ops.
    let config = GenConfig::default();
    let scripts = 500;
    let totals = host_mirror::run(0..scripts, &config).unwrap_or_else(|error| panic!("{error}"));
    println!("{totals}");
    assert_eq!(totals.scripts, scripts);
    for kind in [
        "mmap",
        "munmap",
        "mprotect",
        "madvise",
        "mlock",
        "mlock_onfault",
        "munlock",
        "mseal",
        "mremap",
        "touch",
        "read",
        "fork",
    ] {
        assert!(totals.kinds.get(kind).is_some_and(|&n| n > 0), "no {kind} op was checked");
    }
    let calls = &totals.calls;
    assert!(
        calls.mremap > 0 && calls.dontneed > 0 && calls.remove > 0 && calls.guard_install > 0 && calls.guard_remove > 0
    );
}

#[test]
fn a_host_window_follows_the_hand_written_scenarios() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kernel-cases/scenarios");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "ops"))
        .collect();
    cases.sort();
    let mut totals = host_mirror::Totals::default();
    for case in &cases {
        let text = std::fs::read_to_string(case).unwrap();
        let name = case.file_name().unwrap().to_string_lossy();
        host_mirror::check_script(&name, &text, &mut totals).unwrap_or_else(|error| panic!("{error}"));
    }
    println!("{totals}");
    assert_eq!(totals.scripts, 40);
}

#[test]
fn punched_ranges_reach_the_host_as_madv_remove() {
    // MADV_REMOVE and MADV_DONTNEED publish the same areas and discards; only
    // `Change::punched` tells them apart. The punch keeps guard markers, on both sides.
    let script = "window 8\n\
                  mmap 0 4 rw file_shared:1:0\n\
                  mmap 4 2 rw anon_shared\n\
                  madvise 1 1 guard_install\n\
                  madvise 0 4 remove\n\
                  madvise 4 2 remove\n\
                  madvise 0 2 dontneed\n";
    let mut totals = host_mirror::Totals::default();
    host_mirror::check_script("punch", script, &mut totals).unwrap_or_else(|error| panic!("{error}"));
    // Guard installs discard too (MADV_DONTNEED on the host).
    assert_eq!((totals.calls.remove, totals.calls.dontneed, totals.calls.guard_install), (2, 2, 1));
}
