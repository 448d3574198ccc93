//! The merge story in numbers: how ops changed the areas, counted by kind of merge (Linux's
//! `merge_new_range` on the left, right or both sides; the five cases of
//! `merge_existing_range`), splits, unmaps and touching pairs left apart.

use std::ops::AddAssign;
use std::sync::Arc;

use vma::Vma;

use super::Effect;

/// How ops changed the areas, in all (or one op's share: see [`tally`]).
///
/// ```
/// use maple_mm::explain::Summary;
/// let mut total = Summary::default();
/// total += Summary { joined_left: 1, splits: 2, ..Summary::default() };
/// total += Summary { joined_left: 1, ..Summary::default() };
/// assert_eq!((total.joined_left, total.splits), (2, 2));
/// ```
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
    /// Areas that merged away when an op changed existing ranges (mprotect, madvise, mlock,
    /// ...).
    pub merged_existing: usize,
    /// Merges of a changed existing range (Linux's `merge_existing_range`), by case.
    pub existing: ExistingCases,
    /// Areas split off an existing one (by a change to part of it, an unmap of its middle, or
    /// a mapping over part of it).
    pub splits: usize,
    /// Areas unmapped.
    pub unmapped: usize,
    /// Touching pairs left apart, counted after each op that touched one of them.
    pub kept_apart: usize,
}

/// The five cases of `merge_existing_range`, counted.
///
/// ```
/// use maple_mm::explain::ExistingCases;
/// let cases = ExistingCases { both: 1, right_partial: 2, ..ExistingCases::default() };
/// assert_eq!(cases.total(), 3);
/// ```
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

impl ExistingCases {
    /// All five cases together.
    pub fn total(&self) -> usize {
        self.both + self.left_full + self.left_partial + self.right_full + self.right_partial
    }
}

impl Summary {
    /// New ranges merged into a neighbour (`merge_new_range`), on any side.
    ///
    /// ```
    /// let one = maple_mm::explain::Summary { joined_both: 1, ..Default::default() };
    /// assert_eq!(one.joined(), 1);
    /// ```
    pub fn joined(&self) -> usize {
        self.joined_left + self.joined_right + self.joined_both
    }

    /// Merges of any kind: new ranges joined to a neighbour, changed ranges merged.
    ///
    /// ```
    /// use maple_mm::explain::{ExistingCases, Summary};
    /// let some = Summary { joined_left: 1, existing: ExistingCases { both: 1, ..Default::default() }, ..Default::default() };
    /// assert_eq!(some.merges(), 2);
    /// ```
    pub fn merges(&self) -> usize {
        self.joined() + self.existing.total()
    }
}

impl AddAssign for ExistingCases {
    fn add_assign(&mut self, other: ExistingCases) {
        self.both += other.both;
        self.left_full += other.left_full;
        self.left_partial += other.left_partial;
        self.right_full += other.right_full;
        self.right_partial += other.right_partial;
    }
}

impl AddAssign for Summary {
    fn add_assign(&mut self, other: Summary) {
        self.created += other.created;
        self.joined_left += other.joined_left;
        self.joined_right += other.joined_right;
        self.joined_both += other.joined_both;
        self.merged_existing += other.merged_existing;
        self.existing += other.existing;
        self.splits += other.splits;
        self.unmapped += other.unmapped;
        self.kept_apart += other.kept_apart;
    }
}

/// One op's share of the story: `effect` is what [`describe`](super::describe) counted for
/// it, `before` and `after` the areas around it, and `given` the new range the op gave the
/// program (a mapping, a mremap's new place or growth, brk's growth), if any: a new range is
/// told apart from changes to existing ones.
///
/// ```
/// use std::sync::Arc;
/// use maple_mm::explain::{describe, tally, Addresses};
/// use vma::{VmFlags, Vma};
/// // [0x1000,0x2000) grew over a new page mapped after it: a new range joined on the left.
/// let before = [Arc::new(Vma::new(0x1000, 0x2000, 1, VmFlags::READ))];
/// let after = [Arc::new(before[0].resized(0x1000, 0x3000))];
/// let effect = describe(&mut String::new(), &before, &after, Addresses::Hex);
/// assert_eq!(tally(Some((0x2000, 0x3000)), effect, &before, &after).joined_left, 1);
/// ```
pub fn tally(given: Option<(u64, u64)>, effect: Effect, before: &[Arc<Vma>], after: &[Arc<Vma>]) -> Summary {
    let mut summary = Summary { unmapped: effect.gone, kept_apart: effect.kept_apart, ..Summary::default() };
    let Some((start, end)) = given else {
        summary.merged_existing = effect.merged_away;
        summary.splits = effect.created;
        summary.existing = existing_cases(before, after);
        return summary;
    };
    // The area now holding the new range, if it is one that existed before: the range merged
    // into it (and the area reaches past the range on the side of each neighbour it joined).
    let holder = after.iter().find(|area| area.start <= start && end <= area.end);
    match holder.filter(|area| before.iter().any(|old| old.id() == area.id())) {
        Some(area) => {
            let (left, right) = (area.start < start, area.end > end);
            match (left, right) {
                (true, true) => summary.joined_both = 1,
                (true, false) => summary.joined_left = 1,
                (false, true) => summary.joined_right = 1,
                (false, false) => summary.created = 1,
            }
            let absorbed = usize::from(left && right);
            summary.merged_existing = effect.merged_away.saturating_sub(absorbed);
            summary.splits = effect.created;
        }
        None => {
            // The new range is one of the areas created; the others are pieces of an area it
            // was mapped over.
            summary.created = 1;
            summary.splits = effect.created.saturating_sub(1);
            summary.merged_existing = effect.merged_away;
        }
    }
    summary
}

/// Classifies the merges of an op that changed existing ranges: each area that existed
/// before and grew absorbed its neighbours' ranges; the areas that went away inside what it
/// gained tell whole absorptions from partial ones.
fn existing_cases(before: &[Arc<Vma>], after: &[Arc<Vma>]) -> ExistingCases {
    let mut cases = ExistingCases::default();
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
    cases
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
            "  touching pairs left apart, counted after each op that touched one (rules above): {}",
            self.kept_apart
        )
    }
}
