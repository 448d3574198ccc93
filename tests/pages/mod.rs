//! Report pages of the bundled inputs, for the report tests: made as `maple-mm report` makes
//! them, with the real final layouts they must end at.

use maple_mm::replay::{build, Faults};
use maple_mm::report::{page, History};
use maple_mm::script;
use maple_mm::trace::{parse, parse_maps, AreaName, MapsArea};

/// The five bundled programs (tests/traces/).
pub const PROGRAMS: [&str; 5] = ["py_threads", "py_mmap", "perl", "git", "cc1"];

/// A bundled file's text.
pub fn data(path: &str) -> String {
    let path = format!("{}/tests/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// The areas of a bundled maps or smaps file, less the gate area (outside every process).
pub fn real_areas(path: &str) -> Vec<MapsArea> {
    let areas = parse_maps(&data(path)).unwrap();
    areas.into_iter().filter(|area| !matches!(&area.name, AreaName::Special(name) if name == "[vsyscall]")).collect()
}

/// A program's history and page, replayed with `faults` and compared with its real final
/// layout.
pub fn program(name: &str, faults: Faults) -> (History, String) {
    let log = parse(&data(&format!("traces/{name}.strace"))).unwrap();
    let initial = build(&parse_maps(&data(&format!("traces/{name}.initial.smaps"))).unwrap(), 8 << 20, None).unwrap();
    let real = parse_maps(&data(&format!("traces/{name}.final.smaps"))).unwrap();
    let (history, _) = History::of_replay(name, &log, (initial, faults), Some(&real));
    let html = page(&history);
    (history, html)
}

/// A recorded scenario's history and page (tests/kernel-cases/scenarios/NAME.ops).
pub fn scenario(name: &str) -> (History, String) {
    let script = script::parse(&data(&format!("kernel-cases/scenarios/{name}.ops"))).unwrap();
    let history = History::of_script(name, &script, None).unwrap();
    let html = page(&history);
    (history, html)
}
