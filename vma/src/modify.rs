//! Changing the attributes of part of a VMA (mprotect, madvise, mlock, mbind, uffd,
//! naming): merge if possible, otherwise split and change the middle.

use std::sync::Arc;

use crate::{
    merge_existing_range_in, split_vma_in, MemPolicy, MergeState, UffdCtx, VmFlags, Vma, VmaError, VmaMergeRequest,
    VmaTree, VmaTxn, PAGE_SIZE,
};

/// What [`vma_modify`] changes.
///
/// ```
/// use vma::{Vma, VmaChange, VmFlags};
/// let v = Vma::new(0, 0x1000, 0, VmFlags::READ);
/// let changed = VmaChange::Name(Some("heap".into())).applied_to(&v);
/// assert_eq!(changed.anon_name.as_deref(), Some("heap"));
/// ```
#[derive(Clone, Debug)]
pub enum VmaChange {
    /// New flags (mprotect, madvise, mlock, ...).
    Flags(VmFlags),
    /// New anonymous name (`PR_SET_VMA_ANON_NAME`).
    Name(Option<Arc<str>>),
    /// New memory policy (mbind).
    Policy(Option<Arc<MemPolicy>>),
    /// New userfaultfd context and flags (register/unregister).
    Uffd {
        /// The context (none to unregister).
        ctx: Option<Arc<UffdCtx>>,
        /// The area's flags with the userfaultfd bits as they should be.
        flags: VmFlags,
    },
}

impl VmaChange {
    /// `vma` with the change made (same id).
    ///
    /// ```
    /// use vma::{Vma, VmaChange, VmFlags};
    /// let v = Vma::new(0, 0x1000, 0, VmFlags::READ | VmFlags::WRITE);
    /// assert_eq!(VmaChange::Flags(VmFlags::READ).applied_to(&v).flags, VmFlags::READ);
    /// ```
    pub fn applied_to(&self, vma: &Vma) -> Vma {
        let mut out = vma.clone();
        match self {
            VmaChange::Flags(flags) => out.flags = *flags,
            VmaChange::Name(name) => out.anon_name = name.clone(),
            VmaChange::Policy(policy) => out.policy = policy.clone(),
            VmaChange::Uffd { ctx, flags } => {
                out.uffd = ctx.clone();
                out.flags = *flags;
            }
        }
        out
    }

    fn apply_to_request(&self, vmg: &mut VmaMergeRequest) {
        match self {
            VmaChange::Flags(flags) => vmg.flags = *flags,
            VmaChange::Name(name) => vmg.anon_name = name.clone(),
            VmaChange::Policy(policy) => vmg.policy = policy.clone(),
            VmaChange::Uffd { ctx, flags } => {
                vmg.uffd = ctx.clone();
                vmg.flags = *flags;
            }
        }
    }
}

/// Applies `change` to `[start, end)`, a part of `vma`; returns the VMA that now covers
/// exactly that range with the change.
///
/// First a merge of the changed range with its neighbours is tried
/// ([`merge_existing_range`]). If the merge failed for lack of memory, that is the error.
/// Otherwise the VMA is split at `start` (the new VMA below) and at `end` (the new VMA
/// above) as needed, and the middle, which keeps `vma`'s id, gets the change:
///
/// ```text
///   VVVVVVVVVVVV   change [s, e)  ->   aaaa|VVVV|bbbb     (a, b: new VMAs)
///        s   e
/// ```
///
/// One transaction ([`vma_modify_in`]: inside the caller's). The second split and the
/// change are one atomic step after the first split: if that step fails (map count,
/// `may_split`, memory), the first split stays, as in the kernel, and is committed with the
/// error.
///
/// ```
/// use vma::{vma_modify, Vma, VmaChange, VmaTree, VmFlags};
/// let tree = VmaTree::new();
/// let v = tree.insert(Vma::new(0, 0x3000, 0, VmFlags::READ | VmFlags::WRITE)).unwrap();
/// let mid = vma_modify(&tree, &v, 0x1000, 0x2000, VmaChange::Flags(VmFlags::READ)).unwrap();
/// assert_eq!((mid.start, mid.end, mid.pgoff, mid.id()), (0x1000, 0x2000, 1, v.id()));
/// assert_eq!(tree.map_count(), 3);
/// ```
pub fn vma_modify(
    tree: &VmaTree,
    vma: &Arc<Vma>,
    start: u64,
    end: u64,
    change: VmaChange,
) -> Result<Arc<Vma>, VmaError> {
    let mut txn = tree.transaction();
    let changed = vma_modify_in(&mut txn, vma, start, end, change);
    // Also on an error: the first split, if any, stays.
    txn.commit();
    changed
}

/// [`vma_modify`] inside the caller's transaction. On an error the transaction may hold
/// the first split (as the kernel keeps it); nothing else changed.
///
/// ```
/// use vma::{vma_modify_in, Vma, VmaChange, VmaTree, VmFlags};
/// let tree = VmaTree::new();
/// let rw = VmFlags::READ | VmFlags::WRITE;
/// let a = tree.insert(Vma::new(0, 0x3000, 0, rw)).unwrap();
/// let b = tree.insert(Vma::new(0x4000, 0x7000, 4, rw)).unwrap();
/// // mprotect of the middle page of both areas, published as one change.
/// let mut txn = tree.transaction();
/// vma_modify_in(&mut txn, &a, 0x1000, 0x2000, VmaChange::Flags(VmFlags::READ)).unwrap();
/// vma_modify_in(&mut txn, &b, 0x5000, 0x6000, VmaChange::Flags(VmFlags::READ)).unwrap();
/// assert_eq!(tree.map_count(), 2);
/// txn.commit();
/// assert_eq!(tree.map_count(), 6);
/// ```
pub fn vma_modify_in(
    txn: &mut VmaTxn<'_>,
    vma: &Arc<Vma>,
    start: u64,
    end: u64,
    change: VmaChange,
) -> Result<Arc<Vma>, VmaError> {
    if start >= end || start % PAGE_SIZE != 0 || end % PAGE_SIZE != 0 || start < vma.start || end > vma.end {
        return Err(VmaError::InvalidRange);
    }
    let mut vmg = VmaMergeRequest::existing(vma, start, end);
    change.apply_to_request(&mut vmg);
    if let Some(merged) = merge_existing_range_in(txn, &mut vmg) {
        return Ok(merged);
    }
    if vmg.state == MergeState::ErrorNoMem {
        return Err(VmaError::NoMemory);
    }

    let mut current = txn.current(vma)?.clone();
    if current.start < start {
        // aaaa|VVVVVVVV   a step of its own: it stays even if what follows fails.
        current = split_vma_in(txn, &current, start, true)?.1;
    }
    txn.atomic(|txn| {
        if end < current.end {
            // VVVV|bbbb      in one step with the change.
            current = split_vma_in(txn, &current, end, false)?.0;
        }
        let changed = Arc::new(change.applied_to(&current));
        txn.replace(changed.clone())?;
        Ok(changed)
    })
}
