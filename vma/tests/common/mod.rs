//! Helpers shared by the vma integration tests.
#![allow(dead_code)]

use std::sync::Arc;

use vma::{merge_existing_range, merge_new_range, AnonRef, MergeState, VmFlags, VmOps, Vma, VmaMergeRequest, VmaTree};

/// `native` normally, `miri` under Miri, which runs the engine thousands of times slower (a
/// tree write costs it about a tenth of a second): smaller trees and fewer steps there, through
/// the same code paths, which is what Miri checks.
pub const fn size(native: u64, miri: u64) -> u64 {
    if cfg!(miri) {
        miri
    } else {
        native
    }
}

/// read | write | mayread | maywrite, the flags of the kernel's userland merge tests.
pub const F: VmFlags = VmFlags::from_bits(
    VmFlags::READ.bits() | VmFlags::WRITE.bits() | VmFlags::MAYREAD.bits() | VmFlags::MAYWRITE.bits(),
);

pub fn close_ops() -> VmOps {
    VmOps::new().with_close(|_| {})
}

/// Inserts an area with flags F.
pub fn add(tree: &VmaTree, start: u64, end: u64, pgoff: u64) -> Arc<Vma> {
    tree.insert(Vma::new(start, end, pgoff, F)).unwrap()
}

/// Inserts a prepared area.
pub fn put(tree: &VmaTree, vma: Vma) -> Arc<Vma> {
    tree.insert(vma).unwrap()
}

/// Replaces the current version of an area by `vma` (same id), for setting up a scenario.
pub fn set(tree: &VmaTree, vma: Vma) -> Arc<Vma> {
    let vma = Arc::new(vma);
    let mut txn = tree.transaction();
    txn.replace(vma.clone()).unwrap();
    txn.commit();
    vma
}

/// The current version of the VMA holding `addr`.
pub fn at(tree: &VmaTree, addr: u64) -> Arc<Vma> {
    tree.find(addr).unwrap_or_else(|| panic!("nothing mapped at {addr:#x}"))
}

/// (start, end, pgoff) of every VMA.
pub fn layout(tree: &VmaTree) -> Vec<(u64, u64, u64)> {
    tree.vmas().iter().map(|v| (v.start, v.end, v.pgoff)).collect()
}

/// One VMA as [`dump`] sees it. Compared as data and printed only when an assertion fails
/// (formatting every VMA of every tree compared cost Miri most of the allocation-failure tests).
#[derive(PartialEq)]
pub struct Row {
    start: u64,
    end: u64,
    pgoff: u64,
    flags: VmFlags,
    id: u64,
    anon: Option<(u64, usize)>,
    close: bool,
    name: Option<Arc<str>>,
}

impl std::fmt::Debug for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:#x}-{:#x} pg {:#x} {:?} id {} anon {:?} close {} name {:?}",
            self.start, self.end, self.pgoff, self.flags, self.id, self.anon, self.close, self.name
        )
    }
}

/// Everything observable about the tree, to compare before and after.
pub fn dump(tree: &VmaTree) -> (Vec<Row>, usize) {
    let rows = tree
        .vmas()
        .iter()
        .map(|v| Row {
            start: v.start,
            end: v.end,
            pgoff: v.pgoff,
            flags: v.flags,
            id: v.id().get(),
            anon: v.anon.as_ref().map(|a| (a.anon_vma.id(), a.chain_len)),
            close: v.has_close(),
            name: v.anon_name.clone(),
        })
        .collect();
    (rows, tree.map_count())
}

/// Asserts that `vma` links the anon_vma of `anon` (or none).
pub fn assert_anon(vma: &Vma, anon: Option<&AnonRef>) {
    match (&vma.anon, anon) {
        (None, None) => {}
        (Some(a), Some(b)) => assert!(a.same(b), "different anon_vma at {:#x}", vma.start),
        (a, b) => panic!("anon_vma at {:#x}: {:?} vs expected {:?}", vma.start, a.is_some(), b.is_some()),
    }
}

/// A new-range merge of `[start, end)` at `pgoff` with flags F and the areas around it.
pub fn merge_new(tree: &VmaTree, start: u64, end: u64, pgoff: u64) -> (Option<Arc<Vma>>, VmaMergeRequest) {
    let mut vmg = VmaMergeRequest::new_range(start, end, pgoff, F, None);
    fill_neighbours(tree, &mut vmg);
    let merged = merge_new_range(tree, &mut vmg);
    (merged, vmg)
}

/// Sets `prev` and `next` of a new-range request from the tree.
pub fn fill_neighbours(tree: &VmaTree, vmg: &mut VmaMergeRequest) {
    let snap = tree.snapshot();
    let mut cursor = vma::VmaCursor::new(&snap, vmg.start);
    let (prev, next) = cursor.around(vmg.start, vmg.end);
    vmg.prev = prev.cloned();
    vmg.next = next.cloned();
}

/// mmap-like: merge the new range, or insert a new area with flags F.
pub fn map(tree: &VmaTree, start: u64, end: u64, pgoff: u64) -> Arc<Vma> {
    match merge_new(tree, start, end, pgoff) {
        (Some(v), vmg) => {
            assert_eq!(vmg.state, MergeState::Success);
            v
        }
        (None, vmg) => {
            assert_eq!(vmg.state, MergeState::NoMerge);
            add(tree, start, end, pgoff)
        }
    }
}

/// An existing-range merge of `[start, end)` of the VMA holding `start`, attributes
/// unchanged (what the kernel's merge tests do).
pub fn merge_existing(tree: &VmaTree, start: u64, end: u64) -> (Option<Arc<Vma>>, VmaMergeRequest) {
    let middle = at(tree, start);
    let mut vmg = VmaMergeRequest::existing(&middle, start, end);
    let merged = merge_existing_range(tree, &mut vmg);
    (merged, vmg)
}

/// Every invariant the tree has.
pub fn check(tree: &VmaTree) {
    tree.validate().unwrap();
}
