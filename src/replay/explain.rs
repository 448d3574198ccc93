//! `maple-mm replay --explain`: a real program's replay with, after each call, what it did to
//! the task's areas and why touching areas stayed apart, and a summary of merges and splits.

use std::fmt::Write;
use std::sync::Arc;

use mm::Mm;
use vma::Vma;

use super::calls::given_range;
use super::report::call_line;
use super::run::{run_watched, Faults, Replay, Replayed, Watched};
use super::Initial;
use crate::explain::{describe, tally, Addresses, Summary};
use crate::trace::{MemoryCall, Ret, Trace};

/// Replays `trace` with the explanation of each call; returns the replay, the text and the
/// summary.
pub fn explain(trace: &Trace, initial: Initial, faults: Faults) -> (Replay, String, Summary) {
    let mut text = String::new();
    let mut summary = Summary::default();
    let replay = explain_each(trace, initial, faults, |told| {
        let _ = writeln!(text, "{}", call_line(told.call));
        text.push_str(&told.text);
        summary += told.tally;
    });
    (replay, text, summary)
}

/// One replayed call as [`explain_each`] tells it.
///
/// ```
/// use maple_mm::{replay::{build, explain_each, Faults}, trace::{parse, parse_maps}};
/// let maps = parse_maps("00400000-00401000 r--p 00000000 fe:00 1 /bin/x\n").unwrap();
/// let log = parse(
///     "1 execve(\"/bin/x\", [\"x\"], 0x7ffe /* 0 vars */) = 0\n\
///      1 mmap(0x10000000, 8192, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED, -1, 0) = 0x10000000\n",
/// )
/// .unwrap();
/// let mut told = Vec::new();
/// explain_each(&log, build(&maps, 8 << 20, None).unwrap(), Faults::None, |call| {
///     told.push((call.call.line, call.main, call.tally.created, call.text));
/// });
/// assert_eq!(told, [(2, true, 1, "  + [10000000,10002000) r--p new\n".to_string())]);
/// ```
pub struct ToldCall<'a> {
    /// The call.
    pub call: &'a Replayed,
    /// What it did to its task's areas (the lines of [`describe`]), or a line saying it
    /// changed none.
    pub text: String,
    /// Its share of the merge story.
    pub tally: Summary,
    /// Whether the call was made in the main process (by its main thread or another thread).
    pub main: bool,
    /// The task's address space after the call.
    pub mm: &'a Mm,
}

/// Replays `trace`, showing each call performed, explained, to `each` (see [`ToldCall`] for
/// an example).
pub fn explain_each(trace: &Trace, initial: Initial, faults: Faults, mut each: impl FnMut(ToldCall<'_>)) -> Replay {
    let mut watch = |watched: &Watched<'_>| {
        let mut text = String::new();
        let effect = describe(&mut text, watched.before, watched.after, Addresses::Hex);
        if effect.created + effect.changed + effect.merged_away + effect.gone == 0 {
            text.push_str("  = no area changed\n");
        }
        let call = watched.call;
        let given = given_range(&call.call, &call.engine).or_else(|| brk_growth(call, watched.before, watched.after));
        let tally = tally(given, effect, watched.before, watched.after);
        each(ToldCall { call, text, tally, main: watched.main, mm: watched.mm });
    };
    run_watched(trace, initial, faults, Some(&mut watch))
}

/// The range brk added to the heap, from the areas before and after.
fn brk_growth(call: &Replayed, before: &[Arc<Vma>], after: &[Arc<Vma>]) -> Option<(u64, u64)> {
    let MemoryCall::Brk { .. } = call.call else { return None };
    let covered = |areas: &[Arc<Vma>]| areas.iter().map(|area| area.end - area.start).sum::<u64>();
    let (old, new) = (covered(before), covered(after));
    if new <= old {
        return None;
    }
    let Ret::Value(brk) = call.engine else { return None };
    Some((brk - (new - old), brk))
}
