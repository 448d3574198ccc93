//! The merge engine: the merge request, its two entry points, and the one commit.
//!
//! A merge is planned by reading the tree inside a [`VmaTxn`] (so no other writer can change
//! it meanwhile), then applied by [`commit_merge`]: every store of the merge goes into that
//! transaction as one atomic scope. An allocation failure at any store rolls the scope back,
//! so the transaction is exactly as before and the request's state says `ErrorNoMem` (or
//! `NoMerge` when the caller asked to give up quietly). The entry points come in two forms:
//! on a [`VmaTree`] (one transaction, committed when something changed) and `..._in` a
//! caller's transaction, which the caller commits with whatever else it changes.
//!
//! Names: `prev` is the VMA just below the range, `next` the one just above, `middle` the
//! VMA whose part `[start, end)` is being changed (existing-range merges only), `target` the
//! VMA that survives and absorbs the range.

use std::sync::Arc;

use crate::anon::{dup_anon_vma, same_anon, AnonRef};
use crate::data::{data_continues, AreaData};
use crate::guards::GuardPages;
use crate::vma::same_object;
use crate::{File, MemPolicy, UffdCtx, VmFlags, Vma, VmaError, VmaTree, VmaTxn, PAGE_SHIFT, PAGE_SIZE};

/// Where a merge request stands.
///
/// ```
/// let vmg = vma::VmaMergeRequest::new_range(0, 0x1000, 0, vma::VmFlags::READ, None);
/// assert_eq!(vmg.state, vma::MergeState::Start);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MergeState {
    /// Not tried yet.
    Start,
    /// No merge was possible (or an allocation failed and `give_up_on_oom` was set).
    NoMerge,
    /// The merge was committed.
    Success,
    /// An allocation failed; nothing changed.
    ErrorNoMem,
}

/// A merge request (the kernel's "vmg"): the proposed range and attributes, the
/// neighbours, and the outcome.
///
/// Fill one with [`VmaMergeRequest::new_range`] (a range where nothing is mapped) or
/// [`VmaMergeRequest::existing`] (part of a mapped VMA), then call [`merge_new_range`] or
/// [`merge_existing_range`]. Both set `state` to `NoMerge` first and to `Success` only
/// once the commit went through. When no merge happens, `start`, `end`, `pgoff` and
/// `target` are as they were before the call.
///
/// ```
/// use vma::{Vma, VmaMergeRequest, VmFlags};
/// let v = std::sync::Arc::new(Vma::new(0x1000, 0x5000, 1, VmFlags::READ));
/// let vmg = VmaMergeRequest::existing(&v, 0x2000, 0x3000);
/// assert_eq!(vmg.pgoff, 2);
/// assert!(vmg.middle.is_some());
/// ```
#[derive(Clone, Debug)]
pub struct VmaMergeRequest {
    /// The VMA just before the range, if any. Supplied for new ranges; computed by
    /// [`merge_existing_range`].
    pub prev: Option<Arc<Vma>>,
    /// The VMA just after the range, if any. Supplied for new ranges; computed by
    /// [`merge_existing_range`].
    pub next: Option<Arc<Vma>>,
    /// The VMA being modified (existing-range merges); none for a new range.
    pub middle: Option<Arc<Vma>>,
    /// The VMA that survives the merge (set by the engine; the input of [`vma_expand`]).
    pub target: Option<Arc<Vma>>,
    /// First address of the range.
    pub start: u64,
    /// One past the last address of the range.
    pub end: u64,
    /// File page offset of `start`.
    pub pgoff: u64,
    /// Proposed flags.
    pub flags: VmFlags,
    /// Proposed file.
    pub file: Option<Arc<File>>,
    /// Proposed anon_vma link.
    pub anon: Option<AnonRef>,
    /// Proposed memory policy.
    pub policy: Option<Arc<MemPolicy>>,
    /// Proposed userfaultfd context.
    pub uffd: Option<Arc<UffdCtx>>,
    /// Proposed anonymous name.
    pub anon_name: Option<Arc<str>>,
    /// Proposed runtime data, placed (its offsets follow `pgoff`).
    pub data: Option<AreaData>,
    /// Only try to grow `prev`; never look at `next` (brk).
    pub just_expand: bool,
    /// An allocation failure ends the attempt quietly with `NoMerge` instead of
    /// `ErrorNoMem`.
    pub give_up_on_oom: bool,
    /// The outcome.
    pub state: MergeState,
}

impl VmaMergeRequest {
    /// A request for a new range `[start, end)`: only range, flags, file and pgoff are set.
    ///
    /// ```
    /// let vmg = vma::VmaMergeRequest::new_range(0x1000, 0x3000, 1, vma::VmFlags::READ, None);
    /// assert!(vmg.prev.is_none() && vmg.anon.is_none());
    /// ```
    pub fn new_range(start: u64, end: u64, pgoff: u64, flags: VmFlags, file: Option<Arc<File>>) -> Self {
        VmaMergeRequest {
            prev: None,
            next: None,
            middle: None,
            target: None,
            start,
            end,
            pgoff,
            flags,
            file,
            anon: None,
            policy: None,
            uffd: None,
            anon_name: None,
            data: None,
            just_expand: false,
            give_up_on_oom: false,
            state: MergeState::Start,
        }
    }

    /// A request for `[start, end)` inside `middle`, with every attribute copied from
    /// `middle` and `pgoff` its offset at `start`. Change the attributes (flags, name, ...)
    /// to propose a modification.
    ///
    /// ```
    /// use vma::{Vma, VmaMergeRequest, VmFlags};
    /// let v = std::sync::Arc::new(Vma::new(0, 0x3000, 4, VmFlags::READ).with_anon_name("x"));
    /// let vmg = VmaMergeRequest::existing(&v, 0x1000, 0x3000);
    /// assert_eq!((vmg.pgoff, vmg.anon_name.as_deref()), (5, Some("x")));
    /// ```
    pub fn existing(middle: &Arc<Vma>, start: u64, end: u64) -> Self {
        let mut vmg = VmaMergeRequest::with_attrs_of(middle, start, end, middle.pgoff_at(start));
        vmg.middle = Some(middle.clone());
        vmg
    }

    /// A new-range request for `[start, end)` at `pgoff` carrying all of `vma`'s attributes
    /// (flags, file, anon_vma, policy, uffd, name): what copying or extending `vma` proposes.
    ///
    /// ```
    /// use vma::{AnonRef, Vma, VmaMergeRequest, VmFlags};
    /// let v = Vma::new(0, 0x1000, 0, VmFlags::READ).with_anon(AnonRef::new());
    /// let vmg = VmaMergeRequest::with_attrs_of(&v, 0x5000, 0x6000, 5);
    /// assert!(vmg.anon.is_some() && vmg.middle.is_none());
    /// ```
    pub fn with_attrs_of(vma: &Vma, start: u64, end: u64, pgoff: u64) -> Self {
        VmaMergeRequest {
            anon: vma.anon.clone(),
            policy: vma.policy.clone(),
            uffd: vma.uffd.clone(),
            anon_name: vma.anon_name.clone(),
            data: vma.data.clone(),
            ..VmaMergeRequest::new_range(start, end, pgoff, vma.flags, vma.file.clone())
        }
    }

    /// The number of pages in `[start, end)`.
    ///
    /// ```
    /// assert_eq!(vma::VmaMergeRequest::new_range(0, 0x3000, 0, vma::VmFlags::READ, None).pages(), 3);
    /// ```
    pub fn pages(&self) -> u64 {
        (self.end - self.start) >> PAGE_SHIFT
    }

    /// Whether neighbour `n` has compatible attributes: equal policies, equal flags apart
    /// from the sticky ones, the same file and userfaultfd context, and equal names. (The
    /// anon_vma, pgoff and adjacency are checked separately.)
    ///
    /// ```
    /// use vma::{Vma, VmaMergeRequest, VmFlags};
    /// let vmg = VmaMergeRequest::new_range(0x1000, 0x2000, 1, VmFlags::READ, None);
    /// assert!(vmg.is_mergeable_with(&Vma::new(0, 0x1000, 0, VmFlags::READ | VmFlags::SOFTDIRTY)));
    /// assert!(!vmg.is_mergeable_with(&Vma::new(0, 0x1000, 0, VmFlags::WRITE)));
    /// ```
    pub fn is_mergeable_with(&self, n: &Vma) -> bool {
        MemPolicy::same(self.policy.as_ref(), n.policy.as_ref())
            && self.flags.without_sticky() == n.flags.without_sticky()
            && same_object(self.file.as_ref(), n.file.as_ref())
            && same_object(self.uffd.as_ref(), n.uffd.as_ref())
            && self.anon_name.as_deref() == n.anon_name.as_deref()
    }

    /// The anon_vma rule (6.16+) for `tgt` absorbing the range: one side without an
    /// anon_vma is fine unless the other side is forked; otherwise both must be the same.
    fn anon_allows(&self, tgt: &Vma) -> bool {
        match (&tgt.anon, &self.anon) {
            // dup from the source into the target: not if the source has forked pages.
            (None, Some(_)) => !self.middle.as_ref().is_some_and(|src| src.is_forked()),
            // the target's anon_vma covers the range: not if the target is forked.
            (Some(_), None) => !tgt.is_forked(),
            (ta, sa) => same_anon(ta.as_ref(), sa.as_ref()),
        }
    }

    /// Left adjacency: `prev` touches `start`, is compatible and pgoff-contiguous.
    ///
    /// ```text
    ///   prev     range
    ///   PPPPPPPP|.....
    ///   pgoff p  pgoff p + pages(prev)
    /// ```
    fn can_merge_left(&self, prev: &Vma) -> bool {
        prev.end == self.start
            && self.is_mergeable_with(prev)
            && self.anon_allows(prev)
            && prev.end_pgoff() == self.pgoff
            && data_continues(prev.data.as_ref(), prev.end_pgoff(), self.data.as_ref(), self.pgoff)
    }

    /// Right adjacency: `next` touches `end`, is compatible and pgoff-contiguous; when the
    /// left side merges too, `prev` and `next` must not bring two different anon_vmas.
    ///
    /// ```text
    ///   range      next
    ///   .....|NNNNNNNN
    ///   pgoff q    pgoff q + pages(range)
    /// ```
    fn can_merge_right(&self, next: &Vma, prev_merging: Option<&Vma>) -> bool {
        // prev and next must agree on anon_vma: one of them has none, or both the same.
        let prev_next_agree = match prev_merging {
            None => true,
            Some(prev) => {
                prev.anon.is_none() || next.anon.is_none() || same_anon(prev.anon.as_ref(), next.anon.as_ref())
            }
        };
        self.end == next.start
            && self.is_mergeable_with(next)
            && self.anon_allows(next)
            && next.pgoff == self.pgoff.wrapping_add(self.pages())
            && data_continues(self.data.as_ref(), next.pgoff, next.data.as_ref(), next.pgoff)
            && prev_next_agree
    }
}

/// A neighbour that a merge absorbs only partly: its new bounds (the pgoff follows the new
/// start).
///
/// ```
/// use std::sync::Arc;
/// let v = Arc::new(vma::Vma::new(0x1000, 0x4000, 1, vma::VmFlags::READ));
/// let adjust = vma::Adjust { vma: v, start: 0x2000, end: 0x4000 };
/// assert_eq!(adjust.version().pgoff, 2);
/// ```
#[derive(Clone, Debug)]
pub struct Adjust {
    /// The neighbour, as it is in the tree.
    pub vma: Arc<Vma>,
    /// Its new start (its old start, or higher).
    pub start: u64,
    /// Its new end (its old end, or lower).
    pub end: u64,
}

impl Adjust {
    /// The neighbour's new version (same id).
    ///
    /// ```
    /// use std::sync::Arc;
    /// let v = Arc::new(vma::Vma::new(0x1000, 0x4000, 1, vma::VmFlags::READ));
    /// let a = vma::Adjust { vma: v.clone(), start: 0x1000, end: 0x2000 };
    /// assert_eq!((a.version().end, a.version().id()), (0x2000, v.id()));
    /// ```
    pub fn version(&self) -> Vma {
        Vma { start: self.start, end: self.end, pgoff: self.vma.pgoff_at(self.start), ..(*self.vma).clone() }
    }
}

/// Applies a planned merge to the transaction: the one place a merge changes the tree.
///
/// The survivor is a new version of `vmg.target` covering `[vmg.start, vmg.end)` at
/// `vmg.pgoff`, with the sticky flags of every part, and the anon_vma the target already
/// has or else `anon_source` (see [`dup_anon_vma`]). It is stored over its range, which
/// overwrites the VMAs in `remove` (they are not closed); `adjust` is stored with its new
/// bounds; the map count (the tree's) drops by `remove.len()`. All of it is one atomic scope of the
/// transaction (the caller commits). On an allocation failure the transaction is as it was,
/// and the state is `ErrorNoMem` (`NoMerge` with `give_up_on_oom`); otherwise `Success`.
///
/// ```
/// use vma::{commit_merge, MergeState, Vma, VmaMergeRequest, VmaTree, VmFlags};
/// let tree = VmaTree::new();
/// let a = tree.insert(Vma::new(0, 0x1000, 0, VmFlags::READ)).unwrap();
/// let b = tree.insert(Vma::new(0x1000, 0x2000, 1, VmFlags::READ)).unwrap();
/// // AAAA BBBB  ->  AAAAAAAAA  (b deleted)
/// let mut vmg = VmaMergeRequest::new_range(0, 0x2000, 0, VmFlags::READ, None);
/// vmg.target = Some(a.clone());
/// let mut txn = tree.transaction();
/// let merged = commit_merge(&mut txn, &mut vmg, None, None, &[b]).unwrap();
/// txn.commit();
/// assert_eq!((merged.end, merged.id(), vmg.state), (0x2000, a.id(), MergeState::Success));
/// assert_eq!(tree.map_count(), 1);
/// ```
pub fn commit_merge(
    txn: &mut VmaTxn<'_>,
    vmg: &mut VmaMergeRequest,
    anon_source: Option<AnonRef>,
    adjust: Option<Adjust>,
    remove: &[Arc<Vma>],
) -> Result<Arc<Vma>, VmaError> {
    let Some(target) = vmg.target.clone() else {
        vmg.state = MergeState::NoMerge;
        return Err(VmaError::InvalidRange);
    };
    let middle_id = vmg.middle.as_ref().map(|m| m.id());
    let mut sticky = target.flags.sticky() | vmg.flags.sticky();
    for gone in remove.iter().filter(|v| Some(v.id()) != middle_id) {
        sticky |= gone.flags.sticky();
    }
    let survivor = Arc::new(Vma {
        start: vmg.start,
        end: vmg.end,
        pgoff: vmg.pgoff,
        flags: target.flags | sticky,
        anon: dup_anon_vma(&target, anon_source.as_ref()),
        guards: merged_guards(vmg, &target, adjust.as_ref(), remove),
        ..(*target).clone()
    });
    let applied = txn.atomic(|txn| {
        txn.replace(survivor.clone())?;
        if let Some(adjust) = &adjust {
            txn.replace(Arc::new(adjust.version()))?;
        }
        Ok::<(), VmaError>(())
    });
    match applied {
        Ok(()) => {
            vmg.state = MergeState::Success;
            vmg.target = Some(survivor.clone());
            Ok(survivor)
        }
        Err(err) => {
            vmg.state = if vmg.give_up_on_oom { MergeState::NoMerge } else { MergeState::ErrorNoMem };
            Err(err)
        }
    }
}

/// The guard markers of a merge's survivor: those of every area it is made of, each clipped
/// to the pages that area brings (a new range brings none: markers are page-table state).
fn merged_guards(
    vmg: &VmaMergeRequest,
    target: &Vma,
    adjust: Option<&Adjust>,
    remove: &[Arc<Vma>],
) -> Option<Arc<GuardPages>> {
    let survivor = vmg.pgoff..vmg.pgoff.wrapping_add(vmg.pages());
    let clip = |v: &Vma| v.pgoff.max(survivor.start)..v.end_pgoff().min(survivor.end);
    let areas = [Some(target), adjust.map(|a| &*a.vma), vmg.middle.as_deref()].into_iter().flatten();
    let parts = areas.chain(remove.iter().map(|v| &**v)).map(|v| (v.guards.as_ref(), clip(v)));
    GuardPages::union_within(parts)
}

/// The request's range before the engine touched it, to restore when nothing merges.
struct Saved {
    start: u64,
    end: u64,
    pgoff: u64,
    target: Option<Arc<Vma>>,
}

impl Saved {
    fn of(vmg: &VmaMergeRequest) -> Saved {
        Saved { start: vmg.start, end: vmg.end, pgoff: vmg.pgoff, target: vmg.target.clone() }
    }

    fn restore(self, vmg: &mut VmaMergeRequest) {
        vmg.start = self.start;
        vmg.end = self.end;
        vmg.pgoff = self.pgoff;
        vmg.target = self.target;
    }
}

fn aligned_range(start: u64, end: u64) -> bool {
    start < end && start % PAGE_SIZE == 0 && end % PAGE_SIZE == 0
}

/// Merges a new range `[start, end)`, where nothing is mapped, with `vmg.prev` and/or
/// `vmg.next`; returns the VMA that now covers the range, or `None`.
///
/// The three outcomes:
///
/// ```text
///   prev   new    next             result
///   PPPP  ....   NNNN    L only    PPPPPPPP   NNNN
///   PPPP  ....   NNNN    R only    PPPP   NNNNNNNNN     (next starts at the new pgoff)
///   PPPP  ....   NNNN    L and R   PPPPPPPPPPPPPPP      (next deleted, its anon_vma to prev)
///
///   L and R, but next has a close hook (it must not be deleted):
///   PPPP  ....   NNNN    ->        PPPPPPPP   NNNN      (prev grows to the original end)
/// ```
///
/// `None` with state `NoMerge` for special flags, no neighbours, incompatible neighbours,
/// or stale/misplaced `prev`/`next` or an occupied range; `None` with `ErrorNoMem` when an
/// allocation failed (`NoMerge` with `give_up_on_oom`). `just_expand` only tries `prev`.
///
/// ```
/// use vma::{merge_new_range, MergeState, Vma, VmaMergeRequest, VmaTree, VmFlags};
/// let tree = VmaTree::new();
/// let f = VmFlags::READ;
/// let next = tree.insert(Vma::new(0x2000, 0x3000, 2, f)).unwrap();
/// let mut vmg = VmaMergeRequest::new_range(0x1000, 0x2000, 1, f, None);
/// vmg.next = Some(next.clone());
/// let merged = merge_new_range(&tree, &mut vmg).unwrap();
/// assert_eq!((merged.start, merged.pgoff, merged.id()), (0x1000, 1, next.id()));
/// ```
pub fn merge_new_range(tree: &VmaTree, vmg: &mut VmaMergeRequest) -> Option<Arc<Vma>> {
    tree.write(|txn| merge_new_range_in(txn, vmg))
}

/// [`merge_new_range`] inside a transaction the caller may already have changed (mmap
/// clears the range it maps over in the same transaction, so readers see the old areas or
/// the new one, never the hole between) and commits.
///
/// On a merge the merged VMA is returned. When nothing merges (state `NoMerge`) or the
/// merge failed (state `ErrorNoMem`, or `NoMerge` with `give_up_on_oom`), `None`, and the
/// transaction is as it was.
///
/// ```
/// use std::sync::Arc;
/// use vma::{merge_new_range_in, Vma, VmaMergeRequest, VmaTree, VmFlags};
/// let tree = VmaTree::new();
/// let f = VmFlags::READ;
/// let prev = tree.insert(Vma::new(0, 0x1000, 0, f)).unwrap();
/// tree.insert(Vma::new(0x1000, 0x2000, 9, VmFlags::WRITE)).unwrap();
/// // Map over [0x1000, 0x2000) in one transaction: clear, then merge with prev.
/// let mut txn = tree.transaction();
/// txn.clear(0x1000, 0x2000).unwrap();
/// let mut vmg = VmaMergeRequest::new_range(0x1000, 0x2000, 1, f, None);
/// vmg.prev = Some(prev);
/// let merged = merge_new_range_in(&mut txn, &mut vmg).unwrap();
/// txn.commit();
/// assert_eq!((merged.start, merged.end), (0, 0x2000));
/// assert_eq!(tree.map_count(), 1);
/// ```
pub fn merge_new_range_in(txn: &mut VmaTxn<'_>, vmg: &mut VmaMergeRequest) -> Option<Arc<Vma>> {
    vmg.state = MergeState::NoMerge;
    if vmg.flags.is_special() || !aligned_range(vmg.start, vmg.end) {
        return None;
    }
    // The neighbours must be current and around an empty range.
    let prev = match &vmg.prev {
        Some(p) => Some(txn.current(p).ok()?.clone()).filter(|p| p.end <= vmg.start),
        None => None,
    };
    let next = match &vmg.next {
        Some(n) => Some(txn.current(n).ok()?.clone()).filter(|n| n.start >= vmg.end),
        None => None,
    };
    if prev.is_none() && next.is_none() {
        return None;
    }
    if txn.find(vmg.start, vmg.end - 1).is_some() {
        return None;
    }
    let saved = Saved::of(vmg);
    let left = prev.as_ref().is_some_and(|p| vmg.can_merge_left(p));
    let right = !vmg.just_expand
        && next.as_ref().is_some_and(|n| vmg.can_merge_right(n, if left { prev.as_deref() } else { None }));

    // R:   ....NNNN  ->  NNNNNNNN   next grows down; pgoff stays the range's own.
    if right {
        let next = next.as_ref().expect("right merge has a next");
        vmg.end = next.end;
        vmg.target = Some(next.clone());
    }
    // L:   PPPP....  ->  PPPPPPPP   prev grows up (and, with R, over next too).
    if left {
        let prev = prev.as_ref().expect("left merge has a prev");
        vmg.start = prev.start;
        vmg.pgoff = prev.pgoff;
        vmg.target = Some(prev.clone());
        if right && !next.as_ref().expect("right merge has a next").can_remove() {
            // PPPP....NNNN(close)  ->  PPPPPPPPNNNN(close): next stays.
            vmg.end = saved.end;
        }
    }
    if !left && !right {
        return None;
    }
    match vma_expand_in(txn, vmg) {
        Ok(vma) => Some(vma),
        Err(_) => {
            saved.restore(vmg);
            None
        }
    }
}

/// Grows `vmg.target` to `[vmg.start, vmg.end)`, deleting the VMA after the target when
/// the new end reaches exactly its end (the target then takes that VMA's anon_vma if it has
/// none). The target only grows; the VMA after it is never partly overwritten, and nothing
/// else may lie in the range.
///
/// ```text
///   target   next              target
///   TTTT     NNNN      ->      TTTTTTTTTTTT     (expanding to next.end deletes next)
///   TTTT          ->           TTTTTTTT         (expanding into empty space)
/// ```
///
/// One transaction ([`vma_expand_in`]: inside the caller's); state `Success`, or `ErrorNoMem`
/// (`NoMerge` with `give_up_on_oom`) on an allocation failure, `NoMerge` with
/// [`VmaError::InvalidRange`] for a range it cannot take; on an error nothing changed.
///
/// ```
/// use vma::{vma_expand, Vma, VmaMergeRequest, VmaTree, VmFlags};
/// let tree = VmaTree::new();
/// let v = tree.insert(Vma::new(0, 0x1000, 0, VmFlags::READ)).unwrap();
/// let mut vmg = VmaMergeRequest::new_range(0, 0x3000, 0, VmFlags::READ, None);
/// vmg.target = Some(v);
/// assert_eq!(vma_expand(&tree, &mut vmg).unwrap().end, 0x3000);
/// ```
pub fn vma_expand(tree: &VmaTree, vmg: &mut VmaMergeRequest) -> Result<Arc<Vma>, VmaError> {
    tree.write(|txn| vma_expand_in(txn, vmg))
}

/// [`vma_expand`] inside the caller's transaction.
///
/// ```
/// use vma::{vma_expand_in, Vma, VmaMergeRequest, VmaTree, VmFlags};
/// let tree = VmaTree::new();
/// let v = tree.insert(Vma::new(0, 0x1000, 0, VmFlags::READ)).unwrap();
/// let mut txn = tree.transaction();
/// let mut vmg = VmaMergeRequest::new_range(0, 0x3000, 0, VmFlags::READ, None);
/// vmg.target = Some(v);
/// assert_eq!(vma_expand_in(&mut txn, &mut vmg).unwrap().end, 0x3000);
/// assert!(tree.find(0x2000).is_none()); // not yet committed
/// ```
pub fn vma_expand_in(txn: &mut VmaTxn<'_>, vmg: &mut VmaMergeRequest) -> Result<Arc<Vma>, VmaError> {
    vmg.state = MergeState::NoMerge;
    let target = match &vmg.target {
        Some(t) => txn.current(t)?.clone(),
        None => return Err(VmaError::InvalidRange),
    };
    if !aligned_range(vmg.start, vmg.end) || vmg.start > target.start || vmg.end < target.end {
        return Err(VmaError::InvalidRange);
    }
    // Below the target: must be empty.
    if vmg.start < target.start && txn.find(vmg.start, target.start - 1).is_some() {
        return Err(VmaError::InvalidRange);
    }
    // Above the target: empty, or exactly one whole VMA ending at the new end.
    let mut remove = Vec::new();
    if vmg.end > target.end {
        let mut above = txn.range(maple::Range { first: target.end, last: vmg.end - 1 });
        if let Some((_, next)) = above.next() {
            if next.end != vmg.end || above.next().is_some() {
                return Err(VmaError::InvalidRange);
            }
            remove.push(next.clone());
        }
    }
    let anon_source = remove.first().and_then(|next| next.anon.clone()).or_else(|| vmg.anon.clone());
    vmg.target = Some(target);
    commit_merge(txn, vmg, anon_source, None, &remove)
}

/// Shrinks `vma` to `[start, end)`, keeping one end fixed, and clears the part removed;
/// `pgoff` is the new pgoff of `start`. One transaction ([`vma_shrink_in`]: inside the
/// caller's); on an error nothing changed.
///
/// ```text
///   VVVVVVVVVVVV   ->   VVVV........      (or ........VVVV)
/// ```
///
/// ```
/// use vma::{vma_shrink, Vma, VmaTree, VmFlags};
/// let tree = VmaTree::new();
/// let v = tree.insert(Vma::new(0, 0x3000, 0, VmFlags::READ)).unwrap();
/// let v = vma_shrink(&tree, &v, 0, 0x1000, 0).unwrap();
/// assert_eq!(v.end, 0x1000);
/// assert!(tree.find(0x1000).is_none());
/// ```
pub fn vma_shrink(tree: &VmaTree, vma: &Arc<Vma>, start: u64, end: u64, pgoff: u64) -> Result<Arc<Vma>, VmaError> {
    tree.write(|txn| vma_shrink_in(txn, vma, start, end, pgoff))
}

/// [`vma_shrink`] inside the caller's transaction.
///
/// ```
/// use vma::{vma_shrink_in, Vma, VmaTree, VmFlags};
/// let tree = VmaTree::new();
/// let v = tree.insert(Vma::new(0, 0x3000, 0, VmFlags::READ)).unwrap();
/// let mut txn = tree.transaction();
/// let v = vma_shrink_in(&mut txn, &v, 0x1000, 0x3000, 1).unwrap();
/// txn.commit();
/// assert_eq!(tree.find(0).map(|v| v.start), None);
/// ```
pub fn vma_shrink_in(
    txn: &mut VmaTxn<'_>,
    vma: &Arc<Vma>,
    start: u64,
    end: u64,
    pgoff: u64,
) -> Result<Arc<Vma>, VmaError> {
    txn.atomic(|txn| shrink(txn, vma, start, end, pgoff))
}

fn shrink(txn: &mut VmaTxn<'_>, vma: &Arc<Vma>, start: u64, end: u64, pgoff: u64) -> Result<Arc<Vma>, VmaError> {
    let current = txn.current(vma)?.clone();
    if !aligned_range(start, end)
        || start < current.start
        || end > current.end
        || (start != current.start && end != current.end)
    {
        return Err(VmaError::InvalidRange);
    }
    let version = Arc::new(Vma { start, end, pgoff, ..(*current).clone() });
    if start > current.start {
        txn.clear_raw(current.start, start)?;
    }
    if end < current.end {
        txn.clear_raw(end, current.end)?;
    }
    txn.replace(version.clone())?;
    Ok(version)
}

/// Merges `[vmg.start, vmg.end)`, part of the existing VMA `vmg.middle`, with the VMA
/// before and/or after it; returns the VMA that now covers the range, or `None`.
///
/// `prev` and `next` are looked up by the engine (and left in the request). Only a range
/// touching an end of `middle` can merge. A `middle` with a close hook is never deleted
/// (so "all of middle" does not merge), and a `next` with a close hook is never deleted
/// (a merge of both falls back to merging left only). The five cases:
///
/// ```text
///  both:            PPPP[MMMM]NNNN   ->  PPPPPPPPPPPPPP          middle, next deleted
///  left, full:      PPPP[MMMM]NNNN   ->  PPPPPPPP NNNN           middle deleted
///  left, partial:   PPPP[MM]MM       ->  PPPPPP MM               middle starts at end
///  right, full:     PPPP[MMMM]NNNN   ->  PPPP NNNNNNNNNN         middle deleted
///  right, partial:    MM[MM]NNNN     ->    MM NNNNNNNN           middle ends at start
///  ([..] is the range; the survivor takes middle's anon_vma if it has none, and in the
///   "both" case next's first)
/// ```
///
/// State as for [`merge_new_range`].
///
/// ```
/// use vma::{merge_existing_range, Vma, VmaMergeRequest, VmaTree, VmFlags};
/// let tree = VmaTree::new();
/// let rw = VmFlags::READ | VmFlags::WRITE;
/// let prev = tree.insert(Vma::new(0, 0x1000, 0, VmFlags::READ)).unwrap();
/// let v = tree.insert(Vma::new(0x1000, 0x3000, 1, rw)).unwrap();
/// // mprotect(0x1000, 0x1000, PROT_READ): left, partial
/// let mut vmg = VmaMergeRequest::existing(&v, 0x1000, 0x2000);
/// vmg.flags = VmFlags::READ;
/// let merged = merge_existing_range(&tree, &mut vmg).unwrap();
/// assert_eq!((merged.id(), merged.end), (prev.id(), 0x2000));
/// assert_eq!(tree.find(0x2000).unwrap().pgoff, 2);
/// ```
pub fn merge_existing_range(tree: &VmaTree, vmg: &mut VmaMergeRequest) -> Option<Arc<Vma>> {
    tree.write(|txn| merge_existing_range_in(txn, vmg))
}

/// [`merge_existing_range`] inside the caller's transaction; when it returns `None` the
/// transaction is as it was.
///
/// ```
/// use vma::{merge_existing_range_in, Vma, VmaMergeRequest, VmaTree, VmFlags};
/// let tree = VmaTree::new();
/// let prev = tree.insert(Vma::new(0, 0x1000, 0, VmFlags::READ)).unwrap();
/// let v = tree.insert(Vma::new(0x1000, 0x2000, 1, VmFlags::WRITE)).unwrap();
/// let mut txn = tree.transaction();
/// let mut vmg = VmaMergeRequest::existing(&v, 0x1000, 0x2000);
/// vmg.flags = VmFlags::READ;
/// assert_eq!(merge_existing_range_in(&mut txn, &mut vmg).unwrap().id(), prev.id());
/// txn.commit();
/// assert_eq!(tree.map_count(), 1);
/// ```
pub fn merge_existing_range_in(txn: &mut VmaTxn<'_>, vmg: &mut VmaMergeRequest) -> Option<Arc<Vma>> {
    vmg.state = MergeState::NoMerge;
    let middle = txn.current(vmg.middle.as_ref()?).ok()?.clone();
    if !aligned_range(vmg.start, vmg.end) || vmg.start < middle.start || vmg.end > middle.end {
        return None;
    }
    vmg.middle = Some(middle.clone());
    let left_side = vmg.start == middle.start;
    let right_side = vmg.end == middle.end;
    if vmg.flags.is_special() || (!left_side && !right_side) {
        // A range strictly inside middle cannot merge:  MM[MM]MM
        return None;
    }
    let (below, above) = txn.cursor(middle.start).around(middle.start, middle.end);
    let prev = if left_side { below.cloned() } else { None };
    let next = if right_side { above.cloned() } else { None };
    vmg.prev = if left_side { prev.clone() } else { Some(middle.clone()) };
    vmg.next = next.clone();

    let merge_left = left_side && prev.as_ref().is_some_and(|p| vmg.can_merge_left(p));
    let merge_right = right_side
        && next.as_ref().is_some_and(|n| vmg.can_merge_right(n, if merge_left { prev.as_deref() } else { None }));
    if !merge_left && !merge_right {
        return None;
    }
    let mut merge_both = merge_left && merge_right;
    if left_side && right_side && !middle.can_remove() {
        // All of middle would be deleted, but it has a close hook.
        return None;
    }
    if merge_both && !next.as_ref().is_some_and(|n| n.can_remove()) {
        // next would be deleted, but it has a close hook: merge left only.
        merge_both = false;
    }

    let saved = Saved::of(vmg);
    let range_anon = vmg.anon.clone();
    let result = if merge_both {
        //  PPPP[MMMM]NNNN  ->  PPPPPPPPPPPPPP
        let (prev, next) = (prev.expect("left merge has a prev"), next.expect("right merge has a next"));
        vmg.start = prev.start;
        vmg.end = next.end;
        vmg.pgoff = prev.pgoff;
        vmg.target = Some(prev);
        let anon = next.anon.clone().or(range_anon);
        commit_merge(txn, vmg, anon, None, &[middle, next])
    } else if merge_left {
        let prev = prev.expect("left merge has a prev");
        vmg.start = prev.start;
        vmg.pgoff = prev.pgoff;
        vmg.target = Some(prev);
        if right_side {
            //  PPPP[MMMM]  ->  PPPPPPPP
            commit_merge(txn, vmg, range_anon, None, &[middle])
        } else {
            //  PPPP[MM]MM  ->  PPPPPP MM
            let adjust = Adjust { start: vmg.end, end: middle.end, vma: middle };
            commit_merge(txn, vmg, range_anon, Some(adjust), &[])
        }
    } else {
        let next = next.expect("right merge has a next");
        vmg.end = next.end;
        vmg.target = Some(next);
        if left_side {
            //  [MMMM]NNNN  ->  NNNNNNNN
            commit_merge(txn, vmg, range_anon, None, &[middle])
        } else {
            //  MM[MM]NNNN  ->  MM NNNNNN
            let adjust = Adjust { start: middle.start, end: vmg.start, vma: middle };
            commit_merge(txn, vmg, range_anon, Some(adjust), &[])
        }
    };
    match result {
        Ok(vma) => Some(vma),
        Err(_) => {
            saved.restore(vmg);
            None
        }
    }
}
