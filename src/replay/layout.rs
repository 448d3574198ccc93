//! Comparing a layout with a real process's: area by area, on what `/proc/PID/maps` shows
//! that the engine can know.

use std::fmt;

use mm::Mm;

use crate::trace::{parse_maps, AreaName, MapsArea};

/// One area as compared: its range, permissions, file offset and name. The device and inode
/// are the real system's and are not compared; neither is the lower end of `[stack]`, which
/// faults move, nor `[vsyscall]`, the gate area outside the task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// The first address (`None` for `[stack]`).
    pub start: Option<u64>,
    /// One past the last address.
    pub end: u64,
    /// `rwxp` as maps prints it.
    pub perms: String,
    /// The file offset (0 for anything but a file).
    pub offset: u64,
    /// The path or bracketed name; empty for anonymous memory.
    pub name: String,
    /// The `VmFlags` codes, when both layouts compared come from smaps (see [`compare`]).
    pub vm_flags: Option<String>,
}

impl Shown {
    fn of(area: &MapsArea) -> Shown {
        let perms = area.perms();
        let (offset, name) = match &area.name {
            AreaName::Path(path) => (area.offset, path.clone()),
            AreaName::Special(name) => (0, name.clone()),
            AreaName::Anonymous => (0, String::new()),
        };
        let start = (name != "[stack]").then_some(area.start);
        let vm_flags = area.vm_flags.as_ref().map(|codes| codes.join(" "));
        Shown { start, end: area.end, perms, offset, name, vm_flags }
    }
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.start {
            Some(start) => write!(f, "{start:08x}-{:08x} {} {:08x} {}", self.end, self.perms, self.offset, self.name)?,
            None => write!(f, "????????-{:08x} {} {:08x} {}", self.end, self.perms, self.offset, self.name)?,
        }
        match &self.vm_flags {
            Some(codes) => write!(f, " [{codes}]"),
            None => Ok(()),
        }
    }
}

/// The areas of `areas` as compared.
pub fn shown(areas: &[MapsArea]) -> Vec<Shown> {
    let gate = |area: &&MapsArea| matches!(&area.name, AreaName::Special(name) if name == "[vsyscall]");
    areas.iter().filter(|area| !gate(area)).map(Shown::of).collect()
}

/// The engine's areas as compared, read back from its own maps output.
pub fn shown_by(mm: &Mm) -> Vec<Shown> {
    shown(&parse_maps(&mm.maps()).expect("the engine's maps output reads back"))
}

/// The areas as smaps shows them, less the sizes: each maps line, then its `VmFlags`.
///
/// ```
/// let mm = mm::Mm::new();
/// let text = maple_mm::replay::smaps(&mm);
/// assert!(text.lines().all(|line| line.starts_with("VmFlags:") || line.contains(" 00:00 ")));
/// ```
pub fn smaps(mm: &Mm) -> String {
    let maps = mm.maps();
    let snapshot = mm.snapshot();
    let mut out = String::new();
    for (line, area) in maps.lines().zip(snapshot.vmas()) {
        out.push_str(line);
        out.push('\n');
        out.push_str(&mm::vm_flags_line(area));
    }
    out
}

/// Where two layouts differ: the areas only one of them has, in address order, and both
/// layouts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LayoutDiff {
    /// Areas the engine has and the real process does not.
    pub extra: Vec<Shown>,
    /// Areas the real process has and the engine does not.
    pub missing: Vec<Shown>,
    /// How many areas the real layout has.
    pub expected: usize,
    /// The engine's layout, as compared.
    pub engine: Vec<Shown>,
    /// The real layout, as compared.
    pub real: Vec<Shown>,
}

impl LayoutDiff {
    /// The areas on either side of `area` in `layout` (the engine's or the real one).
    pub fn around<'d>(layout: &'d [Shown], area: &Shown) -> (Option<&'d Shown>, Option<&'d Shown>) {
        match layout.iter().position(|shown| shown == area) {
            Some(at) => (at.checked_sub(1).map(|before| &layout[before]), layout.get(at + 1)),
            None => (None, None),
        }
    }
}

impl LayoutDiff {
    /// Whether the layouts are the same.
    pub fn is_empty(&self) -> bool {
        self.extra.is_empty() && self.missing.is_empty()
    }
}

/// Compares the final layout of a replay (the main process's at its exit) with the real one
/// `real` (a maps or smaps file's areas).
///
/// ```
/// use maple_mm::{replay::{build, compare_final, run, Faults}, trace::{parse, parse_maps}};
/// let maps = parse_maps("00400000-00401000 r--p 00000000 fe:00 1 /bin/x\n").unwrap();
/// let log = parse(
///     "1 execve(\"/bin/x\", [\"x\"], 0x7ffe /* 0 vars */) = 0\n\
///      1 mmap(0x10000000, 8192, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED, -1, 0) = 0x10000000\n",
/// )
/// .unwrap();
/// let replay = run(&log, build(&maps, 8 << 20, None).unwrap(), Faults::None);
/// // Linux's layout at the exit, had the mapping been one page long.
/// let real = parse_maps("00400000-00401000 r--p 00000000 fe:00 1 /bin/x\n10000000-10001000 r--p 00000000 00:00 0\n").unwrap();
/// let diff = compare_final(&replay, &real);
/// assert_eq!((diff.extra.len(), diff.missing.len()), (1, 1));
/// assert_eq!(diff.extra[0].end, 0x10002000);
/// ```
pub fn compare_final(replay: &super::Replay, real: &[MapsArea]) -> LayoutDiff {
    let engine = parse_maps(&replay.final_maps).expect("the engine's smaps output reads back");
    compare(&shown(&engine), &shown(real))
}

/// Compares the engine's layout with the real one. `VmFlags` are compared only when both
/// sides have them (the real layout came from smaps).
pub fn compare(engine: &[Shown], real: &[Shown]) -> LayoutDiff {
    let with_flags = engine.iter().chain(real).all(|area| area.vm_flags.is_some());
    let strip = |areas: &[Shown]| -> Vec<Shown> {
        areas
            .iter()
            .map(|area| Shown { vm_flags: area.vm_flags.clone().filter(|_| with_flags), ..area.clone() })
            .collect()
    };
    let (engine, real) = (strip(engine), strip(real));
    differences(&engine, &real)
}

fn differences(engine: &[Shown], real: &[Shown]) -> LayoutDiff {
    LayoutDiff {
        extra: engine.iter().filter(|area| !real.contains(area)).cloned().collect(),
        missing: real.iter().filter(|area| !engine.contains(area)).cloned().collect(),
        expected: real.len(),
        engine: engine.to_vec(),
        real: real.to_vec(),
    }
}
