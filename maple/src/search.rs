//! Point search: the walk from the root to the leaf slot that holds an index.
//!
//! The walk counts, in each node, the pivots below the index over the node's whole fixed
//! pivot array. That loop has no data-dependent branch and vectorises; where the CPU has
//! AVX2 the walk is compiled a second time with it enabled and chosen at run time, so one
//! binary runs everywhere and uses the wide compares where they exist.

use crate::node::{Leaf, NodePtr, NodeRef, Slots};

/// The leaf slot holding an index, with the leaf's range.
pub(crate) struct Found<'a, T> {
    pub(crate) leaf: &'a Leaf<T>,
    pub(crate) slot: usize,
    pub(crate) min: u64,
    pub(crate) max: u64,
}

/// Walks from `root` to the leaf slot holding `index`.
///
/// # Safety
/// Every node reachable from `root` stays alive and unchanged for `'a`.
#[inline]
pub(crate) unsafe fn locate<'a, T>(root: NodePtr<T>, index: u64) -> Found<'a, T> {
    #[cfg(all(target_arch = "x86_64", not(loom)))]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above); the caller keeps the nodes alive.
        return unsafe { locate_avx2(root, index) };
    }
    // SAFETY: the caller keeps the nodes alive.
    unsafe { walk(root, index) }
}

/// [`walk`] compiled with AVX2.
///
/// # Safety
/// The CPU supports AVX2, and as for [`locate`].
#[cfg(all(target_arch = "x86_64", not(loom)))]
#[target_feature(enable = "avx2")]
unsafe fn locate_avx2<'a, T>(root: NodePtr<T>, index: u64) -> Found<'a, T> {
    // SAFETY: as promised by the caller.
    unsafe { walk(root, index) }
}

/// # Safety
/// As for [`locate`].
#[inline(always)]
unsafe fn walk<'a, T>(mut node: NodePtr<T>, index: u64) -> Found<'a, T> {
    let (mut min, mut max) = (0, u64::MAX);
    loop {
        // SAFETY: the caller keeps every node below the root alive for 'a.
        match unsafe { node.get::<'a>() } {
            NodeRef::Branch(branch) => {
                let slot = branch.slot_of(index);
                (min, max, node) = (branch.first_of(slot, min), branch.last_of(slot, max), branch.child(slot));
            }
            NodeRef::Leaf(leaf) => return Found { leaf, slot: leaf.slot_of(index), min, max },
        }
    }
}
