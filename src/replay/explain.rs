//! `maple-mm replay --explain`: a real program's replay with, after each call, what it did to
//! the task's areas and why touching areas stayed apart, and a summary of merges and splits.

use std::fmt::Write;
use std::sync::Arc;

use vma::Vma;

use super::calls::given_range;
use super::report::{call_text, ret_text};
use super::run::{run_watched, Faults, Replay, Replayed};
use super::Initial;
use crate::explain::{describe, Addresses, Effect};
use crate::trace::{MemoryCall, Ret, Trace};

/// How the calls of a replay changed the areas, in all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// New ranges that became areas of their own (merged with nothing).
    pub created: usize,
    /// New ranges (mmap, brk growth, a mremap's new place or growth) that joined the area
    /// before them, the area after them, or both.
    pub joined_left: usize,
    /// See `joined_left`.
    pub joined_right: usize,
    /// See `joined_left`.
    pub joined_both: usize,
    /// Areas that merged away when a call changed existing ranges (mprotect, madvise, mlock,
    /// ...).
    pub merged_existing: usize,
    /// Merges of a changed existing range (Linux's `merge_existing_range`), by case.
    pub existing: ExistingCases,
    /// Areas split off an existing one (by a change to part of it, an unmap of its middle, or
    /// a mapping over part of it).
    pub splits: usize,
    /// Areas unmapped.
    pub unmapped: usize,
    /// Touching pairs left apart, counted after each call that touched one of them.
    pub kept_apart: usize,
}

/// The five cases of `merge_existing_range`, counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExistingCases {
    /// The area before absorbed the middle one and the one after.
    pub both: usize,
    /// The area before absorbed all of the middle one.
    pub left_full: usize,
    /// The area before absorbed the start of the middle one.
    pub left_partial: usize,
    /// The area after absorbed all of the middle one.
    pub right_full: usize,
    /// The area after absorbed the end of the middle one.
    pub right_partial: usize,
}

/// Replays `trace` with the explanation of each call; returns the replay, the text and the
/// summary.
pub fn explain(trace: &Trace, initial: Initial, faults: Faults) -> (Replay, String, Summary) {
    let mut text = String::new();
    let mut summary = Summary::default();
    let mut watch = |call: &Replayed, before: &[Arc<Vma>], after: &[Arc<Vma>]| {
        let pid = call.pid.map_or(String::new(), |pid| format!(" [{pid}]"));
        let _ = writeln!(text, "line {}{pid}: {} = {}", call.line, call_text(&call.call), ret_text(&call.engine));
        let effect = describe(&mut text, before, after, Addresses::Hex);
        if effect.created + effect.changed + effect.merged_away + effect.gone == 0 {
            let _ = writeln!(text, "  = no area changed");
        }
        count(&mut summary, call, effect, before, after);
    };
    let replay = run_watched(trace, initial, faults, Some(&mut watch));
    (replay, text, summary)
}

fn count(summary: &mut Summary, call: &Replayed, effect: Effect, before: &[Arc<Vma>], after: &[Arc<Vma>]) {
    summary.unmapped += effect.gone;
    summary.kept_apart += effect.kept_apart;
    let Some((start, end)) = given_range(&call.call, &call.engine).or_else(|| brk_growth(call, before, after)) else {
        summary.merged_existing += effect.merged_away;
        summary.splits += effect.created;
        existing_cases(&mut summary.existing, before, after);
        return;
    };
    // The area now holding the new range, if it is one that existed before: the range merged
    // into it (and the area reaches past the range on the side of each neighbour it joined).
    let holder = after.iter().find(|area| area.start <= start && end <= area.end);
    match holder.filter(|area| before.iter().any(|old| old.id() == area.id())) {
        Some(area) => {
            let (left, right) = (area.start < start, area.end > end);
            match (left, right) {
                (true, true) => summary.joined_both += 1,
                (true, false) => summary.joined_left += 1,
                (false, true) => summary.joined_right += 1,
                (false, false) => summary.created += 1,
            }
            let absorbed = usize::from(left && right);
            summary.merged_existing += effect.merged_away.saturating_sub(absorbed);
            summary.splits += effect.created;
        }
        None => {
            // The new range is one of the areas created; the others are pieces of an area it
            // was mapped over.
            summary.created += 1;
            summary.splits += effect.created.saturating_sub(1);
            summary.merged_existing += effect.merged_away;
        }
    }
}

/// Classifies the merges of a call that changed existing ranges: each area that existed
/// before and grew absorbed its neighbours' ranges; the areas that went away inside what it
/// gained tell whole absorptions from partial ones.
fn existing_cases(cases: &mut ExistingCases, before: &[Arc<Vma>], after: &[Arc<Vma>]) {
    for area in after {
        let Some(was) = before.iter().find(|old| old.id() == area.id()) else { continue };
        let gained = |from: u64, to: u64| {
            let gone = |old: &&Arc<Vma>| after.iter().all(|new| new.id() != old.id());
            before.iter().filter(gone).filter(|old| from <= old.start && old.end <= to).count()
        };
        match (area.start < was.start, area.end > was.end) {
            (false, true) => match gained(was.end, area.end) {
                0 => cases.left_partial += 1,
                1 => cases.left_full += 1,
                _ => cases.both += 1,
            },
            (true, false) => match gained(area.start, was.start) {
                0 => cases.right_partial += 1,
                _ => cases.right_full += 1,
            },
            (true, true) => cases.both += 1,
            (false, false) => {}
        }
    }
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

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "summary:")?;
        writeln!(f, "  new ranges that became areas of their own: {}", self.created)?;
        writeln!(
            f,
            "  new ranges merged into a neighbour (merge_new_range): {} with the area before, {} with the area after, {} with both",
            self.joined_left, self.joined_right, self.joined_both
        )?;
        let cases = &self.existing;
        writeln!(
            f,
            "  changed existing ranges merged (merge_existing_range): {} into both neighbours; into the area before: \
             {} all of the middle area, {} part of it; into the area after: {} all, {} part ({} areas merged away)",
            cases.both,
            cases.left_full,
            cases.left_partial,
            cases.right_full,
            cases.right_partial,
            self.merged_existing
        )?;
        writeln!(f, "  splits of existing areas: {}", self.splits)?;
        writeln!(f, "  areas unmapped: {}", self.unmapped)?;
        writeln!(
            f,
            "  touching pairs left apart, counted after each call that touched one (rules above): {}",
            self.kept_apart
        )
    }
}
