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
    for call in replay.calls.iter().filter(|call| !call.agrees()) {
        let _ = writeln!(out, "line {}: {}", call.line, describe(call));
    }
    for skipped in &replay.skipped {
        let _ = writeln!(out, "line {}: not replayed: {}", skipped.line, skipped.why);
    }
    if let Some(diff) = layout {
        for area in &diff.missing {
            let _ = writeln!(out, "layout: Linux has       {area}");
        }
        for area in &diff.extra {
            let _ = writeln!(out, "layout: the engine has  {area}");
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

/// A call whose result differs: the call, Linux's result and the engine's.
fn describe(call: &Replayed) -> String {
    format!("{}: Linux {}, engine {}", call_text(&call.call), ret_text(&call.linux), ret_text(&call.engine))
}

fn ret_text(ret: &Ret) -> String {
    match ret {
        Ret::Value(value) if *value > 0xffff => format!("{value:#x}"),
        Ret::Value(value) => value.to_string(),
        Ret::Error(errno) => errno.clone(),
        Ret::Unknown => "?".to_string(),
    }
}

/// A short form of a call: its name and the arguments that place it.
pub fn call_text(call: &MemoryCall) -> String {
    match call {
        MemoryCall::Mmap { addr, len, prot, flags, fd, offset } => {
            let file = fd.path.as_deref().map_or(String::new(), |path| format!(" {path}@{offset:#x}"));
            format!("mmap({addr:#x}, {len:#x}, {}, {}){file}", prot.names.join("|"), flags.names.join("|"))
        }
        MemoryCall::Munmap { addr, len } => format!("munmap({addr:#x}, {len:#x})"),
        MemoryCall::Mprotect { addr, len, prot } => format!("mprotect({addr:#x}, {len:#x}, {})", prot.names.join("|")),
        MemoryCall::PkeyMprotect { addr, len, prot, pkey } => {
            format!("pkey_mprotect({addr:#x}, {len:#x}, {}, {pkey})", prot.names.join("|"))
        }
        MemoryCall::Brk { addr } => format!("brk({addr:#x})"),
        MemoryCall::Mremap { addr, old_len, new_len, flags, new_addr } => {
            let to = new_addr.map_or(String::new(), |to| format!(", {to:#x}"));
            format!("mremap({addr:#x}, {old_len:#x}, {new_len:#x}, {}{to})", flags.names.join("|"))
        }
        MemoryCall::Madvise { addr, len, advice } => {
            format!("madvise({addr:#x}, {len:#x}, {})", advice.names.join("|"))
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
