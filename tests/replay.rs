//! Replays of the five bundled real programs (tests/traces/, docs/traces.md).

use maple_mm::replay::{build, compare, shown, shown_by};
use maple_mm::trace::parse_maps;

const PROGRAMS: [&str; 5] = ["py_threads", "py_mmap", "perl", "git", "cc1"];

fn data(file: &str) -> String {
    let path = format!("{}/tests/traces/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

#[test]
fn the_initial_layout_is_the_real_one() {
    for name in PROGRAMS {
        let areas = parse_maps(&data(&format!("{name}.initial.smaps"))).unwrap();
        let initial = build(&areas, 8 << 20, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        let real = shown(&parse_maps(&data(&format!("{name}.initial.maps"))).unwrap());
        let diff = compare(&shown_by(&initial.mm), &real);
        assert!(diff.is_empty(), "{name}: {diff:#?}");
        // The heap starts right after the executable's bss, where the first brk(NULL) says.
        let first_brk = data(&format!("{name}.strace")).lines().find(|l| l.contains("brk(NULL)")).unwrap().to_string();
        let said = first_brk.rsplit("= ").next().unwrap();
        assert_eq!(format!("{:#x}", initial.mm.brk(0)), said, "{name}");
    }
}

/// Replays `name` with `faults`: the replay, the layout difference with the final smaps
/// (VmFlags included) and the report.
fn replayed(
    name: &str,
    faults: maple_mm::replay::Faults,
) -> (maple_mm::replay::Replay, maple_mm::replay::LayoutDiff, String) {
    use maple_mm::replay::{render, run};
    let log = maple_mm::trace::parse(&data(&format!("{name}.strace"))).unwrap();
    let areas = parse_maps(&data(&format!("{name}.initial.smaps"))).unwrap();
    let done = run(&log, build(&areas, 8 << 20, None).unwrap(), faults);
    let engine = shown(&parse_maps(&done.final_maps).unwrap());
    let real = shown(&parse_maps(&data(&format!("{name}.final.smaps"))).unwrap());
    let diff = compare(&engine, &real);
    let report = render(&done, Some(&diff));
    (done, diff, report)
}

/// Every call's result and the final layout, VmFlags included, for each program, under the
/// default fault model.
#[test]
fn every_program_replays_as_linux_ran_it() {
    for name in PROGRAMS {
        let (done, diff, report) = replayed(name, Default::default());
        assert!(done.skipped.is_empty(), "{name}:\n{report}");
        assert!(done.calls.iter().all(|call| call.agrees()), "{name}:\n{report}");
        assert!(diff.is_empty(), "{name}:\n{report}");
        // Every memory call of the log was replayed (none hidden among the skipped).
        let log = maple_mm::trace::parse(&data(&format!("{name}.strace"))).unwrap();
        let memory = log.events.iter().filter(|e| matches!(e.action, maple_mm::trace::Action::Memory { .. })).count();
        assert_eq!(done.calls.len(), memory, "{name}");
        assert!(report.ends_with(&format!("layout: identical ({} areas)\n", diff.expected)), "{name}:\n{report}");
    }
}

/// Without faults the results and the maps lines are the same, but one area of py_mmap, which
/// the program wrote before making it PROT_NONE, keeps its charge (`ac`) in Linux only: the
/// anon_vma of the written page is what keeps it charged.
#[test]
fn the_fault_model_decides_one_area_of_py_mmap() {
    use maple_mm::replay::Faults;
    for name in PROGRAMS {
        let (done, diff, report) = replayed(name, Faults::None);
        assert!(done.calls.iter().all(|call| call.agrees()), "{name}:\n{report}");
        if name != "py_mmap" {
            assert!(diff.is_empty(), "{name}:\n{report}");
            continue;
        }
        let shown = |areas: &[maple_mm::replay::Shown]| areas.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        assert_eq!(shown(&diff.missing), ["7ffff7668000-7ffff766c000 ---p 00000000  [mr mw me ac]"]);
        assert_eq!(shown(&diff.extra), ["7ffff7668000-7ffff766c000 ---p 00000000  [mr mw me]"]);
    }
}

/// `--explain`: each call's effect, and a summary whose counts add up: the areas at the end
/// are those at the start, plus new ranges of their own and splits, less unmapped areas, areas
/// merged away and the neighbours a new range joined on both sides.
#[test]
fn the_explanation_accounts_for_every_area() {
    use maple_mm::replay::{explain, Faults};
    for name in ["py_threads", "perl", "git", "cc1"] {
        let log = maple_mm::trace::parse(&data(&format!("{name}.strace"))).unwrap();
        let areas = parse_maps(&data(&format!("{name}.initial.smaps"))).unwrap();
        let initial = build(&areas, 8 << 20, None).unwrap();
        let start = initial.mm.snapshot().map_count();
        let (done, text, summary) = explain(&log, initial, Faults::WriteNew);
        let end = done.main.snapshot().map_count();
        let grown = start + summary.created + summary.splits;
        let shrunk = summary.unmapped + summary.merged_existing + summary.joined_both;
        assert_eq!(grown - shrunk, end, "{name}: {summary:?}");
        assert_eq!(text.lines().filter(|line| line.starts_with("line ")).count(), done.calls.len(), "{name}");
    }
    let log = maple_mm::trace::parse(&data("py_threads.strace")).unwrap();
    let areas = parse_maps(&data("py_threads.initial.smaps")).unwrap();
    let (_, text, _) = explain(&log, build(&areas, 8 << 20, None).unwrap(), Faults::WriteNew);
    let libm_text =
        "line 6 [25450]: mmap(0x7ffff7ee7000, 0x74000, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE) \
                     /usr/lib/x86_64-linux-gnu/libm.so.6@0x10000 = 0x7ffff7ee7000\n  \
                     ~ [7ffff7ed7000,7ffff7fb7000) r--p: shrank to [7ffff7ed7000,7ffff7ee7000)\n  \
                     + [7ffff7ee7000,7ffff7f5b000) r-xp new\n";
    assert!(text.contains(libm_text), "{text}");
}

/// The merge cases of `--explain`'s summary on a log made for them: each call's effect worked
/// out by hand from Linux's rules (no faults, so no anon_vma keeps anything apart; making rw
/// memory read-only drops its `ac`, so equal access means equal flags).
#[test]
fn the_explanation_counts_each_merge_case() {
    use maple_mm::explain::ExistingCases;
    use maple_mm::replay::{explain, Faults};
    let base = 0x1000_0000u64;
    let page = |n: u64| format!("{:#x}", base + n * 4096);
    let mprotect =
        |from: u64, to: u64, prot: &str| format!("1 mprotect({}, {}, {prot}) = 0", page(from), (to - from) * 4096);
    let fixed = |from: u64, to: u64, prot: &str| {
        let (at, len) = (page(from), (to - from) * 4096);
        format!("1 mmap({at}, {len}, {prot}, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED, -1, 0) = {at}")
    };
    let (rw, r, rx) = ("PROT_READ|PROT_WRITE", "PROT_READ", "PROT_READ|PROT_EXEC");
    let log = [
        "1 execve(\"/bin/x\", [\"x\"], 0x7ffe /* 0 vars */) = 0".to_string(),
        fixed(0, 6, rw),    // [0,6) rw: a new area
        mprotect(1, 2, r),  // rw | r | rw: two splits
        mprotect(3, 4, r),  // rw | r | rw | r | rw: two splits
        mprotect(2, 3, r),  // [1,4) r: both neighbours absorb the middle
        mprotect(1, 2, rw), // [0,2) rw, [2,4) r: the start of the middle joins the area before
        mprotect(3, 4, rw), // [2,3) r, [3,6) rw: the end of the middle joins the area after
        mprotect(2, 3, rx), // [2,3) r-x: no merge
        mprotect(3, 6, rx), // [2,6) r-x: all of the middle joins the area before
        fixed(6, 7, r),     // [6,7) r: a new area
        mprotect(2, 6, r),  // [2,7) r: all of the middle joins the area after
    ]
    .join("\n");
    let trace = maple_mm::trace::parse(&log).unwrap();
    let maps = parse_maps("00400000-00401000 r--p 00000000 fe:00 1                          /bin/x\n").unwrap();
    let (done, text, summary) = explain(&trace, build(&maps, 8 << 20, None).unwrap(), Faults::None);
    assert!(done.calls.iter().all(|call| call.agrees()), "{text}");
    let cases = ExistingCases { both: 1, left_full: 1, left_partial: 1, right_full: 1, right_partial: 1 };
    assert_eq!(summary.existing, cases, "{text}");
    // Merged away: two by the merge into both neighbours, one by each full merge.
    assert_eq!((summary.created, summary.splits, summary.merged_existing), (2, 4, 4), "{text}");
    let areas: Vec<(u64, u64)> =
        done.main.snapshot().vmas_in(base, base + 7 * 4096).map(|v| (v.start, v.end)).collect();
    assert_eq!(areas, [(base, base + 2 * 4096), (base + 2 * 4096, base + 7 * 4096)], "{text}");
}

/// A layout caught later in a program's life (its final smaps, with a `[heap]`, thread stacks,
/// arenas) is built as exactly: the heap made by brk up to its end, the break there.
#[test]
fn a_layout_with_a_heap_is_built_as_it_is() {
    for name in PROGRAMS {
        let areas = parse_maps(&data(&format!("{name}.final.smaps"))).unwrap();
        let heap = areas.iter().find(|a| a.name == maple_mm::trace::AreaName::Special("[heap]".into())).unwrap();
        let built = build(&areas, 8 << 20, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(built.mm.brk(0), heap.end, "{name}");
        let real = shown(&parse_maps(&data(&format!("{name}.final.maps"))).unwrap());
        let diff = compare(&shown_by(&built.mm), &real);
        assert!(diff.is_empty(), "{name}: {diff:#?}");
    }
}

/// mlockall and munlockall are replayed: what is mapped, and what comes after `MCL_FUTURE`,
/// gets locked; munlockall unlocks everything.
#[test]
fn mlockall_is_replayed() {
    use maple_mm::replay::{run, Faults};
    let log = "\
1 execve(\"/bin/x\", [\"x\"], 0x7ffe /* 0 vars */) = 0
1 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7ffff7ffd000
1 mlockall(MCL_CURRENT|MCL_FUTURE) = 0
1 mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7ffff7ffc000
1 mlockall(MCL_ONFAULT) = -1 EINVAL (Invalid argument)
";
    let trace = maple_mm::trace::parse(log).unwrap();
    let maps = parse_maps("00400000-00401000 r--p 00000000 fe:00 1                          /bin/x\n").unwrap();
    let done = run(&trace, build(&maps, 8 << 20, None).unwrap(), Faults::WriteNew);
    assert!(done.skipped.is_empty() && done.calls.iter().all(|call| call.agrees()), "{:?}", done.calls);
    // The executable's area and the first mapping by MCL_CURRENT, the second by MCL_FUTURE.
    let snapshot = done.main.snapshot();
    assert_eq!(snapshot.map_count(), 3, "{}", done.final_maps);
    assert!(snapshot.vmas().all(|v| v.flags.contains(vma::VmFlags::LOCKED)), "{}", done.final_maps);
}
