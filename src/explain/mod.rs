//! `maple-mm explain`: a script replayed on the engine with, after each op, what the op did to
//! the areas of the window and, for each pair of touching areas it left apart, the merge rule
//! that keeps them apart ([`vma::merge_blocker`]).
//!
//! (op lines carry a tab before the `#`)
//!
//! ```text
//! op 3 ok    # mmap 8 4 rw anon_private
//!   ~ [0,8) rw-p grew to [0,12)
//! op 5 ok    # touch 16
//!   ~ [16,20) rw-p: anon_vma attached
//!   | [12,16) rw-p and [16,20) rw-p stay apart: each has its own anon_vma
//! ```

mod describe;
mod tally;

pub use describe::{describe, Addresses, Effect};
pub use tally::{tally, ExistingCases, Summary};

use std::fmt::Write;
use std::sync::Arc;

use vma::Vma;

use crate::engine::{Replay, WINDOW_BASE};
use crate::script::{LimitError, Op, OpLine, OpResult, Outcome, Script};

/// The explained replay of `script`: each op line with its echo, the changes and the
/// reasons under it, then the final VMA lines as `run` prints them.
///
/// ```
/// use maple_mm::{explain::explain, script::parse};
/// let script = parse("window 16\nmmap 0 4 rw anon_private\nmmap 4 4 r anon_private\n").unwrap();
/// let text = explain(&script).unwrap();
/// assert!(text.contains("+ [4,8) r--p new"));
/// assert!(text.contains("stay apart: flags differ: only left has wr,ac"));
/// ```
pub fn explain(script: &Script) -> Result<String, LimitError> {
    let mut out = String::new();
    let replay = explain_each(script, |told| {
        for note in script.notes_before(told.index) {
            let _ = writeln!(out, "# {note}");
        }
        let _ = writeln!(out, "{}\t# {}", OpLine { n: told.index + 1, result: told.result.clone() }, told.op);
        out.push_str(&told.text);
    })?;
    for note in script.notes_before(script.ops.len()) {
        let _ = writeln!(out, "# {note}");
    }
    out.push_str("# the areas at the end: start end perms pgoff backing vmflags\n");
    out.push_str(&Outcome { ops: Vec::new(), vmas: replay.window_vmas() }.to_string());
    Ok(out)
}

/// One op of a script as [`explain_each`] tells it.
///
/// ```
/// use maple_mm::{explain::explain_each, script::{parse, OpResult}};
/// let script = parse("window 8\nmmap 0 2 rw anon_private\n").unwrap();
/// explain_each(&script, |told| {
///     assert_eq!((told.index, &told.result), (0, &OpResult::OkAt(0)));
///     assert_eq!((told.before.len(), told.after.len(), told.tally.created), (0, 1, 1));
///     assert_eq!(told.text, "  + [0,2) rw-p new\n");
/// })
/// .unwrap();
/// ```
pub struct ToldOp<'a> {
    /// The op's index in the script (0 for the first).
    pub index: usize,
    /// The op.
    pub op: &'a Op,
    /// What the engine answered.
    pub result: OpResult,
    /// The lines [`describe`] wrote for it (areas new, changed, gone; pairs kept apart).
    pub text: String,
    /// Its share of the merge story.
    pub tally: Summary,
    /// The areas of the window before and after it.
    pub before: &'a [Arc<Vma>],
    /// See `before`.
    pub after: &'a [Arc<Vma>],
    /// The address space, after the op.
    pub replay: &'a Replay,
}

/// Replays `script`, showing each op, explained, to `each`; returns the address space at
/// the end.
///
/// ```
/// use maple_mm::{explain::explain_each, script::parse};
/// let script = parse("window 16\nmmap 0 4 rw anon_private\nmmap 4 4 rw anon_private\n").unwrap();
/// let mut joined = 0;
/// explain_each(&script, |told| joined += told.tally.joined_left).unwrap();
/// assert_eq!(joined, 1);
/// ```
pub fn explain_each(script: &Script, mut each: impl FnMut(ToldOp<'_>)) -> Result<Replay, LimitError> {
    let replay = Replay::new(script)?;
    let mut before = window_areas(&replay, script.window);
    for (index, op) in script.ops.iter().enumerate() {
        let result = if op.leaves_window(script.window) { OpResult::SkipOutOfWindow } else { replay.apply(op) };
        let after = window_areas(&replay, script.window);
        let mut text = String::new();
        let effect = describe(&mut text, &before, &after, Addresses::WindowPages);
        let tally = tally(given_range(op, &result), effect, &before, &after);
        each(ToldOp { index, op, result, text, tally, before: &before, after: &after, replay: &replay });
        before = after;
    }
    Ok(replay)
}

/// The new range an op gave, in window pages made addresses: an mmap's pages, a mremap's new
/// place or its growth in place.
fn given_range(op: &Op, result: &OpResult) -> Option<(u64, u64)> {
    let range = |page: u64, npages: u64| Some((Replay::addr(page), Replay::addr(page + npages)));
    let OpResult::OkAt(at) = *result else { return None };
    match *op {
        Op::Mmap { npages, .. } => range(at, npages),
        Op::Mremap { old_page, new_npages, .. } if at != old_page => range(at, new_npages),
        Op::Mremap { old_page, old_npages, new_npages, .. } if new_npages > old_npages => {
            range(old_page + old_npages, new_npages - old_npages)
        }
        _ => None,
    }
}

/// The areas inside the window, in address order.
fn window_areas(replay: &Replay, window: u64) -> Vec<Arc<Vma>> {
    let snap = replay.mm().snapshot();
    snap.vmas_in(WINDOW_BASE, Replay::addr(window)).cloned().collect()
}
