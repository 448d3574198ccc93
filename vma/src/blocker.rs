//! Why two adjacent areas are separate: the first merge rule that keeps them apart.

use core::fmt;

use crate::data::data_continues;
use crate::vma::same_object;
use crate::{MemPolicy, VmFlags, Vma};

/// The first rule of the merge engine that forbids merging two adjacent areas (`left`
/// ending where `right` starts), in the order the engine checks them.
///
/// ```
/// use vma::{merge_blocker, MergeBlocker, Vma, VmFlags};
/// let rw = VmFlags::READ | VmFlags::WRITE;
/// let left = Vma::new(0, 0x1000, 0, rw);
/// assert_eq!(merge_blocker(&left, &Vma::new(0x1000, 0x2000, 1, rw)), None);
/// let blocker = merge_blocker(&left, &Vma::new(0x1000, 0x2000, 1, VmFlags::READ)).unwrap();
/// assert_eq!(blocker, MergeBlocker::Flags { left_only: VmFlags::WRITE, right_only: VmFlags::EMPTY });
/// assert_eq!(blocker.to_string(), "flags differ: only left has wr");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MergeBlocker {
    /// The areas do not touch.
    NotAdjacent,
    /// One of them has flags that never merge (io, pfnmap, dontexpand, mixedmap).
    Special(VmFlags),
    /// Their flags differ (sticky flags aside).
    Flags {
        /// Set on the left area only.
        left_only: VmFlags,
        /// Set on the right area only.
        right_only: VmFlags,
    },
    /// They map different file objects (or only one maps a file).
    File,
    /// Their memory policies differ.
    Policy,
    /// Their userfaultfd contexts differ.
    Uffd,
    /// Their anonymous names differ.
    Name,
    /// The runtime's data of the left area does not continue into the right one's (only one
    /// has data, or the values' rule says no).
    Data,
    /// The right area's file offset does not continue the left one's.
    Offset {
        /// The pgoff the right area would need.
        expected: u64,
        /// Its pgoff.
        found: u64,
    },
    /// Each has an anon_vma, and they are different ones.
    AnonVma,
    /// Only one has an anon_vma, and that one took part in a fork (its chain is longer than
    /// one), so the other cannot share it.
    ForkedAnonVma,
}

/// The first rule that keeps `left` and `right` apart, or `None` when the engine would merge
/// them if an operation proposed it.
///
/// ```
/// use vma::{merge_blocker, AnonRef, MergeBlocker, Vma, VmFlags};
/// let a = Vma::new(0, 0x1000, 0, VmFlags::READ).with_anon(AnonRef::new());
/// let b = Vma::new(0x1000, 0x2000, 1, VmFlags::READ).with_anon(AnonRef::new());
/// assert_eq!(merge_blocker(&a, &b), Some(MergeBlocker::AnonVma));
/// ```
pub fn merge_blocker(left: &Vma, right: &Vma) -> Option<MergeBlocker> {
    if left.end != right.start {
        return Some(MergeBlocker::NotAdjacent);
    }
    let special = (left.flags | right.flags) & VmFlags::SPECIAL;
    if !special.is_empty() {
        return Some(MergeBlocker::Special(special));
    }
    let (l, r) = (left.flags.without_sticky(), right.flags.without_sticky());
    if l != r {
        return Some(MergeBlocker::Flags { left_only: l - r, right_only: r - l });
    }
    if !same_object(left.file.as_ref(), right.file.as_ref()) {
        return Some(MergeBlocker::File);
    }
    if !MemPolicy::same(left.policy.as_ref(), right.policy.as_ref()) {
        return Some(MergeBlocker::Policy);
    }
    if !same_object(left.uffd.as_ref(), right.uffd.as_ref()) {
        return Some(MergeBlocker::Uffd);
    }
    if left.anon_name != right.anon_name {
        return Some(MergeBlocker::Name);
    }
    if left.end_pgoff() != right.pgoff {
        return Some(MergeBlocker::Offset { expected: left.end_pgoff(), found: right.pgoff });
    }
    if !data_continues(left.data.as_ref(), left.end_pgoff(), right.data.as_ref(), right.pgoff) {
        return Some(MergeBlocker::Data);
    }
    match (&left.anon, &right.anon) {
        (Some(a), Some(b)) if !a.same(b) => Some(MergeBlocker::AnonVma),
        (Some(only), None) | (None, Some(only)) if only.chain_len != 1 => Some(MergeBlocker::ForkedAnonVma),
        _ => None,
    }
}

impl fmt::Display for MergeBlocker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |flags: VmFlags| flags.mnemonics().collect::<Vec<_>>().join(",");
        match self {
            MergeBlocker::NotAdjacent => f.write_str("they do not touch"),
            MergeBlocker::Special(flags) => write!(f, "special flags never merge: {}", list(*flags)),
            MergeBlocker::Flags { left_only, right_only } => {
                f.write_str("flags differ:")?;
                let mut sep = " ";
                for (side, flags) in [("left", left_only), ("right", right_only)] {
                    if !flags.is_empty() {
                        write!(f, "{sep}only {side} has {}", list(*flags))?;
                        sep = "; ";
                    }
                }
                Ok(())
            }
            MergeBlocker::File => f.write_str("different files (or open file descriptions)"),
            MergeBlocker::Policy => f.write_str("different memory policies"),
            MergeBlocker::Uffd => f.write_str("different userfaultfd contexts"),
            MergeBlocker::Name => f.write_str("different anonymous names"),
            MergeBlocker::Data => f.write_str("the runtime's data does not continue"),
            MergeBlocker::Offset { expected, found } => {
                write!(f, "file offsets not contiguous: right starts at page {found}, not {expected}")
            }
            MergeBlocker::AnonVma => f.write_str("each has its own anon_vma"),
            MergeBlocker::ForkedAnonVma => f.write_str("the one anon_vma belongs to a forked area"),
        }
    }
}
