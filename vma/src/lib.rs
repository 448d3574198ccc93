//! Virtual memory areas and the Linux VMA merge engine, built on [`maple`] transactions.
//!
//! - [`Vma`]: an immutable, versioned area `[start, end)` with its pgoff, [`VmFlags`], file,
//!   anon_vma link, ops, policy, userfaultfd context and name; a [`VmaId`] follows it
//!   across versions.
//! - [`VmaTree`]: the areas of one address space in a maple tree, with a [`VmaCursor`] and
//!   [`VmaTxn`] write transactions.
//! - The merge engine of Linux 6.12 and later (6.18 rules): a [`VmaMergeRequest`] and its
//!   two entry points [`merge_new_range`] and [`merge_existing_range`], both ending in
//!   [`commit_merge`]; [`vma_expand`], [`vma_shrink`], [`split_vma`], [`vma_modify`],
//!   [`copy_vma`], [`merge_extend`], [`dup_anon_vma`] and [`anon_vma_prepare`].
//!
//! Every operation is one maple transaction: it commits whole or changes nothing, also when
//! a node allocation fails halfway (the one documented exception is [`vma_modify`], which,
//! like the kernel, keeps its first split when the second fails). Each also has an `..._in`
//! form that works inside a caller's [`VmaTxn`], so that a caller (the `mm` crate: one
//! system call) can publish many operations as one change.
//!
//! ```
//! use vma::{merge_new_range, MergeState, Vma, VmaMergeRequest, VmaTree, VmFlags};
//! let f = VmFlags::READ | VmFlags::WRITE | VmFlags::MAYREAD | VmFlags::MAYWRITE;
//! let tree = VmaTree::new();
//! let prev = tree.insert(Vma::new(0, 0x1000, 0, f)).unwrap();
//! let next = tree.insert(Vma::new(0x2000, 0x3000, 2, f)).unwrap();
//!
//! //   prev   new    next            result
//! //   PPPP  ....   NNNN    ->   PPPPPPPPPPPPPP
//! let mut vmg = VmaMergeRequest::new_range(0x1000, 0x2000, 1, f, None);
//! vmg.prev = Some(prev.clone());
//! vmg.next = Some(next);
//! let merged = merge_new_range(&tree, &mut vmg).unwrap();
//! assert_eq!(vmg.state, MergeState::Success);
//! assert_eq!((merged.start, merged.end, merged.pgoff), (0, 0x3000, 0));
//! assert_eq!(merged.id(), prev.id());
//! assert_eq!(tree.map_count(), 1);
//! ```

mod anon;
mod blocker;
mod copy;
mod data;
mod error;
mod flags;
mod guards;
mod merge;
mod modify;
mod split;
mod sync;
mod tree;
mod vma;

pub use anon::{
    anon_vma_prepare, anon_vma_prepare_in, can_lend_anon_vma, dup_anon_vma, find_mergeable_anon_vma, same_anon,
    AnonRef, AnonVma,
};
pub use blocker::{merge_blocker, MergeBlocker};
pub use copy::{copy_vma, copy_vma_in, merge_extend, merge_extend_in};
pub use data::{AreaData, AreaValue, Fork};
pub use error::VmaError;
pub use flags::VmFlags;
pub use guards::GuardPages;
pub use merge::{
    commit_merge, merge_existing_range, merge_existing_range_in, merge_new_range, merge_new_range_in, vma_expand,
    vma_expand_in, vma_shrink, vma_shrink_in, Adjust, MergeState, VmaMergeRequest,
};
pub use modify::{vma_modify, vma_modify_in, VmaChange};
pub use split::{split_vma, split_vma_in};
pub use tree::{validate_view, AreaChanges, VmaCursor, VmaTree, VmaTxn, DEFAULT_MAX_MAP_COUNT};
pub use vma::{File, MemPolicy, UffdCtx, VmOps, Vma, VmaId, PAGE_SHIFT, PAGE_SIZE};
