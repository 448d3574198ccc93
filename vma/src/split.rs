//! Splitting one VMA in two.

use std::sync::Arc;

use crate::{Vma, VmaError, VmaTree, VmaTxn, PAGE_SIZE};

/// Splits `vma` at `addr` into `[start, addr)` and `[addr, end)`; returns `(lower, upper)`.
///
/// With `new_below` the lower piece is the new VMA (new id) and the original keeps the
/// upper part; otherwise the original keeps the lower part and the upper piece is new. The
/// upper piece's pgoff advances by the pages below `addr`. Both pieces share the file,
/// anon_vma (same chain), ops, policy, uffd context and name.
///
/// ```text
///   new_below:   VVVVVVVV  ->  nnnn|VVVV      (n: new id)
///   otherwise:   VVVVVVVV  ->  VVVV|nnnn
/// ```
///
/// Fails, changing nothing, with [`VmaError::MapCount`] when the tree already holds
/// `max_map_count` VMAs, [`VmaError::SplitRefused`] when the `may_split` hook refuses,
/// [`VmaError::InvalidRange`] when `addr` is unaligned or not strictly inside, and
/// [`VmaError::NoMemory`] when an allocation fails. One transaction; [`split_vma_in`] works
/// inside the caller's.
///
/// ```
/// use vma::{split_vma, Vma, VmaTree, VmFlags};
/// let tree = VmaTree::new();
/// let v = tree.insert(Vma::new(0, 0x3000, 0, VmFlags::READ)).unwrap();
/// let (lower, upper) = split_vma(&tree, &v, 0x1000, false).unwrap();
/// assert_eq!((lower.id(), lower.end), (v.id(), 0x1000));
/// assert_eq!((upper.start, upper.pgoff), (0x1000, 1));
/// assert_eq!(tree.map_count(), 2);
/// ```
pub fn split_vma(tree: &VmaTree, vma: &Arc<Vma>, addr: u64, new_below: bool) -> Result<(Arc<Vma>, Arc<Vma>), VmaError> {
    tree.write(|txn| split_vma_in(txn, vma, addr, new_below))
}

/// [`split_vma`] inside an open transaction; on an error the transaction is as it was.
///
/// ```
/// use vma::{split_vma_in, Vma, VmaTree, VmFlags};
/// let tree = VmaTree::new();
/// let v = tree.insert(Vma::new(0, 0x3000, 0, VmFlags::READ)).unwrap();
/// let mut txn = tree.transaction();
/// let (_, upper) = split_vma_in(&mut txn, &v, 0x1000, false).unwrap();
/// split_vma_in(&mut txn, &upper, 0x2000, false).unwrap();
/// txn.commit(); // readers see one change: one area became three
/// assert_eq!(tree.map_count(), 3);
/// ```
pub fn split_vma_in(
    txn: &mut VmaTxn<'_>,
    vma: &Arc<Vma>,
    addr: u64,
    new_below: bool,
) -> Result<(Arc<Vma>, Arc<Vma>), VmaError> {
    txn.atomic(|txn| split(txn, vma, addr, new_below))
}

fn split(txn: &mut VmaTxn<'_>, vma: &Arc<Vma>, addr: u64, new_below: bool) -> Result<(Arc<Vma>, Arc<Vma>), VmaError> {
    let current = txn.current(vma)?.clone();
    if addr % PAGE_SIZE != 0 || addr <= current.start || addr >= current.end {
        return Err(VmaError::InvalidRange);
    }
    if txn.map_count() >= txn.max_map_count() {
        return Err(VmaError::MapCount);
    }
    current.may_split(addr).map_err(VmaError::SplitRefused)?;
    let (low_base, high_base) =
        if new_below { (current.duplicate(), (*current).clone()) } else { ((*current).clone(), current.duplicate()) };
    let lower = Arc::new(Vma { end: addr, ..low_base });
    let upper = Arc::new(Vma { start: addr, pgoff: current.pgoff_at(addr), ..high_base });
    txn.replace(lower.clone())?;
    txn.replace(upper.clone())?;
    Ok((lower, upper))
}
