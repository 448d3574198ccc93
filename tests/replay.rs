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
        let initial = build(&areas, 8 << 20).unwrap_or_else(|e| panic!("{name}: {e}"));
        let real = shown(&parse_maps(&data(&format!("{name}.initial.maps"))).unwrap());
        let diff = compare(&shown_by(&initial.mm), &real);
        assert!(diff.is_empty(), "{name}: {diff:#?}");
        // The heap starts right after the executable's bss, where the first brk(NULL) says.
        let first_brk = data(&format!("{name}.strace")).lines().find(|l| l.contains("brk(NULL)")).unwrap().to_string();
        let said = first_brk.rsplit("= ").next().unwrap();
        assert_eq!(format!("{:#x}", initial.mm.brk(0)), said, "{name}");
    }
}

/// Every call's result and the final layout, for each program.
#[test]
fn every_program_replays_as_linux_ran_it() {
    use maple_mm::replay::{render, run};
    use maple_mm::trace::parse;
    for name in PROGRAMS {
        let log = parse(&data(&format!("{name}.strace"))).unwrap();
        let areas = parse_maps(&data(&format!("{name}.initial.smaps"))).unwrap();
        let done = run(&log, build(&areas, 8 << 20).unwrap());
        let engine = shown(&parse_maps(&done.final_maps).unwrap());
        let real = shown(&parse_maps(&data(&format!("{name}.final.maps"))).unwrap());
        let diff = compare(&engine, &real);
        let report = render(&done, Some(&diff));
        assert!(done.skipped.is_empty(), "{name}:\n{report}");
        assert!(done.calls.iter().all(|call| call.agrees()), "{name}:\n{report}");
        assert!(diff.is_empty(), "{name}:\n{report}");
        // Every memory call of the log was replayed (none hidden among the skipped).
        let memory = log.events.iter().filter(|e| matches!(e.action, maple_mm::trace::Action::Memory { .. })).count();
        assert_eq!(done.calls.len(), memory, "{name}");
        assert!(report.ends_with(&format!("layout: identical ({} areas)\n", real.len())), "{name}:\n{report}");
    }
}
