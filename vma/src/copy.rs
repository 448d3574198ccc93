//! mremap's helpers: copying a VMA to a new place, and growing one in place.

use std::sync::Arc;

use crate::{
    merge_new_range_in, MergeState, Vma, VmaCursor, VmaError, VmaMergeRequest, VmaTree, VmaTxn, PAGE_SHIFT, PAGE_SIZE,
};

/// Copies `vma` to `[addr, addr + len)` with file offset `pgoff` (the move half of
/// mremap); returns the VMA now covering the destination and whether it was a merge.
///
/// An anonymous source that was never faulted (no anon_vma) takes `pgoff = addr /
/// PAGE_SIZE`, so that it can merge at its new place. The destination must be empty. A
/// new-range merge with the areas around the destination is tried first, carrying all of
/// the source's attributes (its anon_vma too); otherwise a duplicate of the source (new
/// id) is inserted.
///
/// ```text
///   ....VVVV....        copy V to the hole before N:
///   ....VVVV.... ..NNNN  ->  ....VVVV....VVNNNN  (merged into N when compatible)
/// ```
///
/// ```
/// use vma::{copy_vma, Vma, VmaTree, VmFlags};
/// let tree = VmaTree::new();
/// let v = tree.insert(Vma::new(0x3000, 0x5000, 3, VmFlags::READ)).unwrap();
/// let (copy, merged) = copy_vma(&tree, &v, 0, 0x2000, 0).unwrap();
/// assert!(!merged);
/// assert_eq!((copy.start, copy.end), (0, 0x2000));
/// assert_ne!(copy.id(), v.id());
/// ```
pub fn copy_vma(tree: &VmaTree, vma: &Arc<Vma>, addr: u64, len: u64, pgoff: u64) -> Result<(Arc<Vma>, bool), VmaError> {
    tree.write(|txn| copy_vma_in(txn, vma, addr, len, pgoff))
}

/// [`copy_vma`] inside the caller's transaction; on an error the transaction is as it was.
///
/// ```
/// use vma::{copy_vma_in, Vma, VmaTree, VmFlags};
/// let tree = VmaTree::new();
/// let v = tree.insert(Vma::new(0x3000, 0x5000, 3, VmFlags::READ)).unwrap();
/// let mut txn = tree.transaction();
/// let (copy, _) = copy_vma_in(&mut txn, &v, 0, 0x2000, 0).unwrap();
/// txn.remove(&v).unwrap(); // a move: the copy and the removal are one change
/// txn.commit();
/// assert_eq!(tree.vmas().len(), 1);
/// assert_eq!(tree.vmas()[0].start, copy.start);
/// ```
pub fn copy_vma_in(
    txn: &mut VmaTxn<'_>,
    vma: &Arc<Vma>,
    addr: u64,
    len: u64,
    pgoff: u64,
) -> Result<(Arc<Vma>, bool), VmaError> {
    let end = addr.checked_add(len).ok_or(VmaError::InvalidRange)?;
    if len == 0 || addr % PAGE_SIZE != 0 || len % PAGE_SIZE != 0 {
        return Err(VmaError::InvalidRange);
    }
    let new_pgoff = if vma.is_anonymous() && vma.anon.is_none() { addr >> PAGE_SHIFT } else { pgoff };
    // The data offsets stay those of the source pages, whatever the new pgoff. Guard markers
    // are page-table state: the copy has none (mremap moves the markers of the pages it
    // moves, which may be fewer than the copy's).
    let data = vma.data.as_ref().map(|data| data.repgoffed(pgoff, new_pgoff));
    let pgoff = new_pgoff;
    let mut vmg = VmaMergeRequest::with_attrs_of(vma, addr, end, pgoff);
    vmg.data = data.clone();
    if txn.find(addr, end - 1).is_some() {
        return Err(VmaError::Occupied);
    }
    let (prev, next) = VmaCursor::new(txn, addr).around(addr, end);
    vmg.prev = prev.cloned();
    vmg.next = next.cloned();
    if let Some(merged) = merge_new_range_in(txn, &mut vmg) {
        return Ok((merged, true));
    }
    if vmg.state == MergeState::ErrorNoMem {
        return Err(VmaError::NoMemory);
    }
    let copy = Arc::new(Vma { start: addr, end, pgoff, data, guards: None, ..vma.duplicate() });
    txn.insert(copy.clone())?;
    Ok((copy, false))
}

/// Grows `vma` in place by `delta` bytes (mremap growing in place): a new-range merge of
/// `[vma.end, vma.end + delta)` with `prev = vma` and the pgoff right after it, which may
/// also swallow a compatible next VMA. `None` when the range is occupied or nothing merges.
///
/// ```text
///   VVVV........WWWW    extend V by the hole  ->  VVVVVVVVVVVVVVVV
/// ```
///
/// ```
/// use vma::{merge_extend, Vma, VmaTree, VmFlags};
/// let tree = VmaTree::new();
/// let v = tree.insert(Vma::new(0, 0x1000, 0, VmFlags::READ)).unwrap();
/// let grown = merge_extend(&tree, &v, 0x1000).unwrap();
/// assert_eq!((grown.end, grown.id()), (0x2000, v.id()));
/// ```
pub fn merge_extend(tree: &VmaTree, vma: &Arc<Vma>, delta: u64) -> Option<Arc<Vma>> {
    tree.write(|txn| merge_extend_in(txn, vma, delta))
}

/// [`merge_extend`] inside the caller's transaction; on `None` the transaction is as it
/// was.
///
/// ```
/// use vma::{merge_extend_in, Vma, VmaTree, VmFlags};
/// let tree = VmaTree::new();
/// let v = tree.insert(Vma::new(0, 0x1000, 0, VmFlags::READ)).unwrap();
/// let mut txn = tree.transaction();
/// assert_eq!(merge_extend_in(&mut txn, &v, 0x1000).unwrap().end, 0x2000);
/// ```
pub fn merge_extend_in(txn: &mut VmaTxn<'_>, vma: &Arc<Vma>, delta: u64) -> Option<Arc<Vma>> {
    let end = vma.end.checked_add(delta)?;
    let mut vmg = VmaMergeRequest::with_attrs_of(vma, vma.end, end, vma.end_pgoff());
    vmg.prev = Some(vma.clone());
    vmg.next = VmaCursor::new(txn, vma.end).around(vma.end, end).1.cloned();
    merge_new_range_in(txn, &mut vmg)
}
