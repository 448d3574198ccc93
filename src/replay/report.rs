//! What `maple-mm replay` prints: each call whose result differs from Linux's, what was not
//! replayed, the layout's differences, and the two summary lines.

use std::fmt::Write;

use super::{LayoutDiff, Replay, Replayed};
use crate::trace::{MemoryCall, Ret};

/// The report of a replay: the differences first, the summary lines last.
///
/// `layout` is the comparison with the real final layout, when one was given.
pub fn render(replay: &Replay, layout: Option<&LayoutDiff>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} memory calls by {} process{} and {} thread{}; at most {} areas in the main process",
        replay.calls.len() + replay.skipped.len(),
        replay.processes,
        if replay.processes == 1 { "" } else { "es" },
        replay.threads,
        if replay.threads == 1 { "" } else { "s" },
        replay.peak_areas
    );
    let _ = writeln!(out, "results identical to Linux's, by call:");
    for (name, agreeing, total) in tally(replay) {
        let _ = writeln!(out, "  {name:<14} {agreeing:>5}/{total}");
    }
    for call in replay.calls.iter().filter(|call| !call.agrees()) {
        let _ = writeln!(out, "line {}: {}", call.line, describe(call));
    }
    for skipped in &replay.skipped {
        let _ = writeln!(out, "line {}: not replayed: {}", skipped.line, skipped.why);
    }
    if let Some(diff) = layout {
        let sides = [("Linux has      ", &diff.missing, &diff.real), ("the engine has ", &diff.extra, &diff.engine)];
        for (who, areas, layout) in sides {
            for area in areas {
                let _ = writeln!(out, "layout: {who} {area}");
                if let Some(call) = last_touching(replay, area.start.unwrap_or(area.end - 1), area.end) {
                    let _ = writeln!(out, "        last changed by line {}: {}", call.line, call_text(&call.call));
                }
                let (before, after) = LayoutDiff::around(layout, area);
                for (place, neighbour) in [("the area before:", before), ("the area after: ", after)] {
                    if let Some(neighbour) = neighbour {
                        let _ = writeln!(out, "        {place} {neighbour}");
                    }
                }
            }
        }
    }
    let (agreeing, total) = (replay.calls.iter().filter(|call| call.agrees()).count(), replay.calls.len());
    let _ = writeln!(out, "returns: {agreeing}/{total} identical");
    if let Some(diff) = layout {
        if diff.is_empty() {
            let _ = writeln!(out, "layout: identical ({} areas)", diff.expected);
        } else {
            let differing = diff.missing.len().max(diff.extra.len());
            let _ = writeln!(out, "layout: {differing} of {} areas differ", diff.expected);
        }
    }
    out
}

/// The last replayed call whose range meets `[start, end)`.
fn last_touching(replay: &Replay, start: u64, end: u64) -> Option<&Replayed> {
    replay.calls.iter().rev().find(|call| touches(call, start, end))
}

/// Whether `call` acted on part of `[start, end)` (a failed call acted on nothing, except
/// those Linux does not undo: mprotect, madvise, the mlock family).
fn touches(call: &Replayed, start: u64, end: u64) -> bool {
    touched(call).into_iter().any(|(from, to)| from < end && start < to)
}

/// The address ranges a call acted on, as the engine placed it: none for a failed call,
/// except those Linux does not undo on failure (mprotect, madvise and the mlock family change
/// the areas before the one that fails).
fn touched(call: &Replayed) -> Vec<(u64, u64)> {
    let result = match call.engine {
        Ret::Value(value) => Some(value),
        _ => None,
    };
    let partial = matches!(
        call.call,
        MemoryCall::Mprotect { .. }
            | MemoryCall::PkeyMprotect { .. }
            | MemoryCall::Madvise { .. }
            | MemoryCall::Mlock { .. }
            | MemoryCall::Mlock2 { .. }
            | MemoryCall::Munlock { .. }
    );
    if result.is_none() && !partial {
        return Vec::new();
    }
    match &call.call {
        MemoryCall::Mmap { len, .. } => result.map(|at| (at, at.saturating_add(*len))).into_iter().collect(),
        MemoryCall::Mremap { addr, old_len, new_len, .. } => {
            let moved = result.map(|at| (at, at.saturating_add(*new_len)));
            [Some((*addr, addr.saturating_add(*old_len))), moved].into_iter().flatten().collect()
        }
        MemoryCall::Brk { addr } => result.map(|at| (at.min(*addr), at.max(*addr))).into_iter().collect(),
        MemoryCall::Munmap { addr, len }
        | MemoryCall::Mprotect { addr, len, .. }
        | MemoryCall::PkeyMprotect { addr, len, .. }
        | MemoryCall::Madvise { addr, len, .. }
        | MemoryCall::Mlock { addr, len }
        | MemoryCall::Mlock2 { addr, len, .. }
        | MemoryCall::Munlock { addr, len }
        | MemoryCall::Msync { addr, len, .. }
        | MemoryCall::Mincore { addr, len }
        | MemoryCall::Mseal { addr, len, .. } => vec![(*addr, addr.saturating_add(*len))],
        MemoryCall::Mlockall { .. } | MemoryCall::Munlockall => Vec::new(),
    }
}

/// Per call name, in order of first appearance: the calls whose result agrees, and all.
fn tally(replay: &Replay) -> Vec<(&'static str, usize, usize)> {
    let mut rows: Vec<(&'static str, usize, usize)> = Vec::new();
    for call in &replay.calls {
        let name = call_name(&call.call);
        let row = match rows.iter().position(|row| row.0 == name) {
            Some(at) => &mut rows[at],
            None => {
                rows.push((name, 0, 0));
                rows.last_mut().expect("just pushed")
            }
        };
        row.1 += usize::from(call.agrees());
        row.2 += 1;
    }
    rows
}

fn call_name(call: &MemoryCall) -> &'static str {
    match call {
        MemoryCall::Mmap { .. } => "mmap",
        MemoryCall::Munmap { .. } => "munmap",
        MemoryCall::Mprotect { .. } => "mprotect",
        MemoryCall::PkeyMprotect { .. } => "pkey_mprotect",
        MemoryCall::Brk { .. } => "brk",
        MemoryCall::Mremap { .. } => "mremap",
        MemoryCall::Madvise { .. } => "madvise",
        MemoryCall::Mlock { .. } => "mlock",
        MemoryCall::Mlock2 { .. } => "mlock2",
        MemoryCall::Munlock { .. } => "munlock",
        MemoryCall::Mlockall { .. } => "mlockall",
        MemoryCall::Munlockall => "munlockall",
        MemoryCall::Msync { .. } => "msync",
        MemoryCall::Mincore { .. } => "mincore",
        MemoryCall::Mseal { .. } => "mseal",
    }
}

/// A call whose result differs: the call, Linux's result and the engine's.
/// A replayed call as `--explain` heads it: its log line, task, text and the engine's result.
///
/// ```
/// use maple_mm::replay::{call_line, Replayed};
/// use maple_mm::trace::{MemoryCall, Ret};
/// let call = MemoryCall::Munmap { addr: 0x1000, len: 0x2000 };
/// let replayed = Replayed { line: 7, pid: Some(12), call, linux: Ret::Value(0), engine: Ret::Value(0) };
/// assert_eq!(call_line(&replayed), "line 7 [12]: munmap(0x1000, 0x2000) = 0");
/// ```
pub fn call_line(call: &Replayed) -> String {
    let pid = call.pid.map_or(String::new(), |pid| format!(" [{pid}]"));
    format!("line {}{pid}: {} = {}", call.line, call_text(&call.call), ret_text(&call.engine))
}

fn describe(call: &Replayed) -> String {
    format!("{}: Linux {}, engine {}", call_text(&call.call), ret_text(&call.linux), ret_text(&call.engine))
}

/// A result as the report writes it: an address in hexadecimal, a small value in decimal,
/// an errno's name, or `?`.
///
/// ```
/// use maple_mm::{replay::ret_text, trace::Ret};
/// assert_eq!(ret_text(&Ret::Value(0x7f0000000000)), "0x7f0000000000");
/// assert_eq!(ret_text(&Ret::Error("ENOMEM".into())), "ENOMEM");
/// ```
pub fn ret_text(ret: &Ret) -> String {
    match ret {
        Ret::Value(value) if *value > 0xffff => format!("{value:#x}"),
        Ret::Value(value) => value.to_string(),
        Ret::Error(errno) => errno.clone(),
        Ret::Unknown => "?".to_string(),
    }
}

/// A flag argument as strace printed it: its names and any numeric bits, or `0`.
fn flag_text(flags: &crate::trace::Flags) -> String {
    let mut parts: Vec<String> = flags.names.clone();
    if flags.bits != 0 || parts.is_empty() {
        parts.push(format!("{:#x}", flags.bits));
    }
    parts.join("|")
}

/// A short form of a call: its name and the arguments that place it.
pub fn call_text(call: &MemoryCall) -> String {
    match call {
        MemoryCall::Mmap { addr, len, prot, flags, fd, offset } => {
            let file = fd.path.as_deref().map_or(String::new(), |path| format!(" {path}@{offset:#x}"));
            format!("mmap({addr:#x}, {len:#x}, {}, {}){file}", flag_text(prot), flag_text(flags))
        }
        MemoryCall::Munmap { addr, len } => format!("munmap({addr:#x}, {len:#x})"),
        MemoryCall::Mprotect { addr, len, prot } => format!("mprotect({addr:#x}, {len:#x}, {})", flag_text(prot)),
        MemoryCall::PkeyMprotect { addr, len, prot, pkey } => {
            format!("pkey_mprotect({addr:#x}, {len:#x}, {}, {pkey})", flag_text(prot))
        }
        MemoryCall::Brk { addr } => format!("brk({addr:#x})"),
        MemoryCall::Mremap { addr, old_len, new_len, flags, new_addr } => {
            let to = new_addr.map_or(String::new(), |to| format!(", {to:#x}"));
            format!("mremap({addr:#x}, {old_len:#x}, {new_len:#x}, {}{to})", flag_text(flags))
        }
        MemoryCall::Madvise { addr, len, advice } => {
            format!("madvise({addr:#x}, {len:#x}, {})", flag_text(advice))
        }
        MemoryCall::Mlock { addr, len } => format!("mlock({addr:#x}, {len:#x})"),
        MemoryCall::Mlock2 { addr, len, .. } => format!("mlock2({addr:#x}, {len:#x})"),
        MemoryCall::Munlock { addr, len } => format!("munlock({addr:#x}, {len:#x})"),
        MemoryCall::Mlockall { .. } => "mlockall".to_string(),
        MemoryCall::Munlockall => "munlockall".to_string(),
        MemoryCall::Msync { addr, len, .. } => format!("msync({addr:#x}, {len:#x})"),
        MemoryCall::Mincore { addr, len } => format!("mincore({addr:#x}, {len:#x})"),
        MemoryCall::Mseal { addr, len, .. } => format!("mseal({addr:#x}, {len:#x})"),
    }
}
