//! The merge scenarios of Linux's userland VMA tests (`tools/testing/vma`), one test each.

mod common;

use std::sync::Arc;

use common::*;
use maple::AllocHook;
use vma::{
    copy_vma, merge_extend, merge_new_range, vma_expand, vma_modify, vma_shrink, AnonRef, MergeState, VmFlags, Vma,
    VmaChange, VmaMergeRequest, VmaTree,
};

#[test]
fn s01_simple_merge() {
    let tree = VmaTree::new();
    let left = add(&tree, 0, 0x1000, 0);
    add(&tree, 0x2000, 0x3000, 2);
    let (merged, vmg) = merge_new(&tree, 0x1000, 0x2000, 1);
    let merged = merged.unwrap();
    assert_eq!(vmg.state, MergeState::Success);
    assert_eq!((merged.start, merged.end, merged.pgoff), (0, 0x3000, 0));
    assert_eq!(merged.id(), left.id());
    assert_eq!(layout(&tree), [(0, 0x3000, 0)]);
    assert_eq!(tree.map_count(), 1);
    check(&tree);
}

#[test]
fn s02_simple_modify() {
    let tree = VmaTree::new();
    let v = add(&tree, 0, 0x3000, 0);
    let ro = VmFlags::READ | VmFlags::MAYREAD | VmFlags::MAYWRITE;
    let mid = vma_modify(&tree, &v, 0x1000, 0x2000, VmaChange::Flags(ro)).unwrap();
    assert_eq!((mid.start, mid.end, mid.pgoff, mid.flags), (0x1000, 0x2000, 1, ro));
    assert_eq!(mid.id(), v.id());
    assert_eq!(layout(&tree), [(0, 0x1000, 0), (0x1000, 0x2000, 1), (0x2000, 0x3000, 2)]);
    assert_eq!(at(&tree, 0).flags, F);
    assert_eq!(at(&tree, 0x2000).flags, F);
    assert_eq!(tree.map_count(), 3);
    check(&tree);
}

#[test]
fn s03_simple_expand() {
    let tree = VmaTree::new();
    let v = add(&tree, 0, 0x1000, 0);
    let mut vmg = VmaMergeRequest::new_range(0, 0x3000, 0, F, None);
    vmg.target = Some(v.clone());
    let grown = vma_expand(&tree, &mut vmg).unwrap();
    assert_eq!(vmg.state, MergeState::Success);
    assert_eq!((grown.start, grown.end, grown.pgoff, grown.id()), (0, 0x3000, 0, v.id()));
    assert_eq!(tree.map_count(), 1);
    check(&tree);
}

#[test]
fn s04_simple_shrink() {
    let tree = VmaTree::new();
    let v = add(&tree, 0, 0x3000, 0);
    let small = vma_shrink(&tree, &v, 0, 0x1000, 0).unwrap();
    assert_eq!((small.start, small.end, small.pgoff, small.id()), (0, 0x1000, 0, v.id()));
    assert_eq!(layout(&tree), [(0, 0x1000, 0)]);
    assert!(tree.find(0x1000).is_none());
    assert_eq!(tree.map_count(), 1);
    check(&tree);
}

#[test]
fn s05_merge_new_in_order() {
    let tree = VmaTree::new();
    let a = add(&tree, 0, 0x2000, 0);
    let b = add(&tree, 0x3000, 0x4000, 3);
    let c = add(&tree, 0xb000, 0xc000, 0xb);
    let x = AnonRef::new();

    // a. no neighbour touches [0x7000, 0x9000): a new VMA D.
    let (merged, vmg) = merge_new(&tree, 0x7000, 0x9000, 7);
    assert!(merged.is_none());
    assert_eq!(vmg.state, MergeState::NoMerge);
    let d = add(&tree, 0x7000, 0x9000, 7);
    assert_eq!(tree.map_count(), 4);

    // b. A gets a close hook (it survives, so it does not matter); B gets anon X.
    set(&tree, edited(&a, |v| v.ops = Some(Arc::new(close_ops()))));
    set(&tree, edited(&b, |v| v.anon = Some(x.clone())));
    let (merged, vmg) = merge_new(&tree, 0x2000, 0x3000, 2);
    let merged = merged.unwrap();
    assert_eq!(vmg.state, MergeState::Success);
    assert_eq!((merged.start, merged.end, merged.pgoff, merged.id()), (0, 0x4000, 0, a.id()));
    assert_anon(&merged, Some(&x));
    assert!(tree.vmas().iter().all(|v| v.id() != b.id()));
    assert_eq!(tree.map_count(), 3);

    // c. grow A by one page.
    let (merged, _) = merge_new(&tree, 0x4000, 0x5000, 4);
    let merged = merged.unwrap();
    assert_eq!((merged.start, merged.end, merged.id()), (0, 0x5000, a.id()));
    assert_eq!(tree.map_count(), 3);

    // d. D gets anon X and a close hook; [0x6000, 0x7000) merges into D (A is not adjacent).
    let d = set(
        &tree,
        edited(&d, |v| {
            v.anon = Some(x.clone());
            v.ops = Some(Arc::new(close_ops()));
        }),
    );
    let (merged, _) = merge_new(&tree, 0x6000, 0x7000, 6);
    let merged = merged.unwrap();
    assert_eq!((merged.start, merged.end, merged.pgoff, merged.id()), (0x6000, 0x9000, 6, d.id()));
    assert_eq!(tree.map_count(), 3);

    // e. D loses its close hook; filling [0x5000, 0x6000) joins A and D, D deleted.
    set(&tree, edited(&merged, |v| v.ops = None));
    let (merged, _) = merge_new(&tree, 0x5000, 0x6000, 5);
    let merged = merged.unwrap();
    assert_eq!((merged.start, merged.end, merged.pgoff, merged.id()), (0, 0x9000, 0, a.id()));
    assert!(tree.vmas().iter().all(|v| v.id() != d.id()));
    assert_eq!(tree.map_count(), 2);

    // f. C gets anon X; [0xa000, 0xb000) merges into C.
    set(&tree, edited(&c, |v| v.anon = Some(x.clone())));
    let (merged, _) = merge_new(&tree, 0xa000, 0xb000, 0xa);
    let merged = merged.unwrap();
    assert_eq!((merged.start, merged.end, merged.pgoff, merged.id()), (0xa000, 0xc000, 0xa, c.id()));
    assert_eq!(tree.map_count(), 2);

    // g. the last hole: everything is A.
    let (merged, _) = merge_new(&tree, 0x9000, 0xa000, 9);
    let merged = merged.unwrap();
    assert_eq!((merged.start, merged.end, merged.pgoff, merged.id()), (0, 0xc000, 0, a.id()));
    assert_anon(&merged, Some(&x));
    assert_eq!(tree.map_count(), 1);
    check(&tree);
}

/// A copy of `from` (same id) changed by `edit`.
fn edited(from: &Vma, edit: impl FnOnce(&mut Vma)) -> Vma {
    let mut v = from.clone();
    edit(&mut v);
    v
}

#[test]
fn s06_special_flags_never_merge() {
    for special in [VmFlags::IO, VmFlags::DONTEXPAND, VmFlags::PFNMAP, VmFlags::MIXEDMAP] {
        let flags = F | special;
        // New range next to L.
        let tree = VmaTree::new();
        put(&tree, Vma::new(0, 0x3000, 0, flags));
        let mut vmg = VmaMergeRequest::new_range(0x3000, 0x4000, 3, flags, None);
        fill_neighbours(&tree, &mut vmg);
        assert!(merge_new_range(&tree, &mut vmg).is_none());
        assert_eq!(vmg.state, MergeState::NoMerge);
        // Existing range V next to L.
        put(&tree, Vma::new(0x3000, 0x4000, 3, flags));
        let (merged, vmg) = merge_existing(&tree, 0x3000, 0x4000);
        assert!(merged.is_none());
        assert_eq!(vmg.state, MergeState::NoMerge);
        assert_eq!(tree.map_count(), 2);
        check(&tree);
    }
}

#[test]
fn s07_1_new_range_next_has_close() {
    let tree = VmaTree::new();
    let p = add(&tree, 0, 0x3000, 0);
    let n = put(&tree, Vma::new(0x5000, 0x9000, 5, F).with_ops(close_ops()));
    let (merged, vmg) = merge_new(&tree, 0x3000, 0x5000, 3);
    let merged = merged.unwrap();
    assert_eq!(vmg.state, MergeState::Success);
    assert_eq!((merged.start, merged.end, merged.id()), (0, 0x5000, p.id()));
    assert_eq!(at(&tree, 0x5000).id(), n.id());
    assert_eq!(layout(&tree), [(0, 0x5000, 0), (0x5000, 0x9000, 5)]);
    assert_eq!(tree.map_count(), 2);
    check(&tree);
}

#[test]
fn s07_2_middle_with_close_prev_only() {
    let tree = VmaTree::new();
    add(&tree, 0, 0x3000, 0);
    put(&tree, Vma::new(0x3000, 0x5000, 3, F).with_ops(close_ops()));
    assert_no_existing_merge(&tree, 0x3000, 0x5000);
}

#[test]
fn s07_3_middle_with_close_next_only() {
    let tree = VmaTree::new();
    put(&tree, Vma::new(0x3000, 0x5000, 3, F).with_ops(close_ops()));
    add(&tree, 0x5000, 0x9000, 5);
    assert_no_existing_merge(&tree, 0x3000, 0x5000);
}

#[test]
fn s07_4_middle_with_close_both_sides() {
    let tree = VmaTree::new();
    add(&tree, 0, 0x3000, 0);
    put(&tree, Vma::new(0x3000, 0x5000, 3, F).with_ops(close_ops()));
    add(&tree, 0x5000, 0x9000, 5);
    assert_no_existing_merge(&tree, 0x3000, 0x5000);
    assert_eq!(tree.map_count(), 3);
}

#[test]
fn s07_5_next_with_close_merges_left_only() {
    let tree = VmaTree::new();
    let p = add(&tree, 0, 0x3000, 0);
    add(&tree, 0x3000, 0x5000, 3);
    let n = put(&tree, Vma::new(0x5000, 0x9000, 5, F).with_ops(close_ops()));
    let (merged, vmg) = merge_existing(&tree, 0x3000, 0x5000);
    let merged = merged.unwrap();
    assert_eq!(vmg.state, MergeState::Success);
    assert_eq!((merged.start, merged.end, merged.id()), (0, 0x5000, p.id()));
    assert_eq!(at(&tree, 0x5000).id(), n.id());
    assert_eq!(layout(&tree), [(0, 0x5000, 0), (0x5000, 0x9000, 5)]);
    assert_eq!(tree.map_count(), 2);
    check(&tree);
}

#[test]
fn s08_new_range_both_have_close() {
    let tree = VmaTree::new();
    let p = put(&tree, Vma::new(0, 0x2000, 0, F).with_ops(close_ops()));
    put(&tree, Vma::new(0x5000, 0x7000, 5, F).with_ops(close_ops()));
    let (merged, vmg) = merge_new(&tree, 0x2000, 0x5000, 2);
    let merged = merged.unwrap();
    assert_eq!(vmg.state, MergeState::Success);
    assert_eq!((merged.start, merged.end, merged.id()), (0, 0x5000, p.id()));
    assert_eq!(layout(&tree), [(0, 0x5000, 0), (0x5000, 0x7000, 5)]);
    assert_eq!(tree.map_count(), 2);
    check(&tree);
}

#[test]
fn s09_a_right_partial_with_close_hooks() {
    let tree = VmaTree::new();
    let x = AnonRef::new();
    let v = put(&tree, Vma::new(0x2000, 0x6000, 2, F).with_ops(close_ops()).with_anon(x.clone()));
    let n = put(&tree, Vma::new(0x6000, 0x9000, 6, F).with_ops(close_ops()));
    let (merged, vmg) = merge_existing(&tree, 0x3000, 0x6000);
    let merged = merged.unwrap();
    assert_eq!(vmg.state, MergeState::Success);
    assert_eq!((merged.start, merged.end, merged.pgoff, merged.id()), (0x3000, 0x9000, 3, n.id()));
    assert_anon(&merged, Some(&x));
    let rest = at(&tree, 0x2000);
    assert_eq!((rest.start, rest.end, rest.pgoff, rest.id()), (0x2000, 0x3000, 2, v.id()));
    assert_eq!(tree.map_count(), 2);
    check(&tree);
}

#[test]
fn s09_b_right_full_next_has_close() {
    let tree = VmaTree::new();
    add(&tree, 0x2000, 0x6000, 2);
    let n = put(&tree, Vma::new(0x6000, 0x9000, 6, F).with_ops(close_ops()));
    let (merged, vmg) = merge_existing(&tree, 0x2000, 0x6000);
    let merged = merged.unwrap();
    assert_eq!(vmg.state, MergeState::Success);
    assert_eq!((merged.start, merged.end, merged.pgoff, merged.id()), (0x2000, 0x9000, 2, n.id()));
    assert_eq!(tree.map_count(), 1);
    check(&tree);
}

#[test]
fn s09_c_left_partial_with_close_hooks() {
    let tree = VmaTree::new();
    let p = put(&tree, Vma::new(0, 0x3000, 0, F).with_ops(close_ops()));
    let v = put(&tree, Vma::new(0x3000, 0x7000, 3, F).with_ops(close_ops()));
    let (merged, vmg) = merge_existing(&tree, 0x3000, 0x6000);
    let merged = merged.unwrap();
    assert_eq!(vmg.state, MergeState::Success);
    assert_eq!((merged.start, merged.end, merged.pgoff, merged.id()), (0, 0x6000, 0, p.id()));
    let rest = at(&tree, 0x6000);
    assert_eq!((rest.start, rest.end, rest.pgoff, rest.id()), (0x6000, 0x7000, 6, v.id()));
    assert_eq!(tree.map_count(), 2);
    check(&tree);
}

#[test]
fn s09_d_left_full_prev_has_close() {
    let tree = VmaTree::new();
    let p = put(&tree, Vma::new(0, 0x3000, 0, F).with_ops(close_ops()));
    add(&tree, 0x3000, 0x7000, 3);
    let (merged, vmg) = merge_existing(&tree, 0x3000, 0x7000);
    let merged = merged.unwrap();
    assert_eq!(vmg.state, MergeState::Success);
    assert_eq!((merged.start, merged.end, merged.id()), (0, 0x7000, p.id()));
    assert_eq!(tree.map_count(), 1);
    check(&tree);
}

#[test]
fn s09_e_both_prev_has_close() {
    let tree = VmaTree::new();
    let p = put(&tree, Vma::new(0, 0x3000, 0, F).with_ops(close_ops()));
    add(&tree, 0x3000, 0x7000, 3);
    add(&tree, 0x7000, 0x9000, 7);
    let (merged, vmg) = merge_existing(&tree, 0x3000, 0x7000);
    let merged = merged.unwrap();
    assert_eq!(vmg.state, MergeState::Success);
    assert_eq!((merged.start, merged.end, merged.pgoff, merged.id()), (0, 0x9000, 0, p.id()));
    assert_eq!(tree.map_count(), 1);
    check(&tree);
}

#[test]
fn s09_f_ranges_not_touching_the_edges_do_not_merge() {
    let tree = VmaTree::new();
    add(&tree, 0, 0x3000, 0);
    add(&tree, 0x3000, 0x8000, 3);
    add(&tree, 0x8000, 0xa000, 8);
    let before = dump(&tree);
    for (start, end) in [(0x4000, 0x5000), (0x5000, 0x6000), (0x6000, 0x7000), (0x4000, 0x7000), (0x4000, 0x6000)] {
        let (merged, vmg) = merge_existing(&tree, start, end);
        assert!(merged.is_none(), "{start:#x}-{end:#x}");
        assert_eq!(vmg.state, MergeState::NoMerge);
        assert_eq!(dump(&tree), before);
    }
    assert_eq!(tree.map_count(), 3);
}

#[test]
fn s10_anon_non_mergeable() {
    // Existing range: all of V merges left only (prev X and next Y differ).
    let tree = VmaTree::new();
    let (x, y) = (AnonRef::new(), AnonRef::new());
    let p = put(&tree, Vma::new(0, 0x3000, 0, F).with_anon(x.clone()));
    add(&tree, 0x3000, 0x7000, 3);
    let n = put(&tree, Vma::new(0x7000, 0x9000, 7, F).with_anon(y.clone()));
    let (merged, vmg) = merge_existing(&tree, 0x3000, 0x7000);
    let merged = merged.unwrap();
    assert_eq!(vmg.state, MergeState::Success);
    assert_eq!((merged.start, merged.end, merged.id()), (0, 0x7000, p.id()));
    assert_anon(&merged, Some(&x));
    let next = at(&tree, 0x7000);
    assert_eq!((next.start, next.end, next.id()), (0x7000, 0x9000, n.id()));
    assert_anon(&next, Some(&y));
    assert_eq!(tree.map_count(), 2);
    check(&tree);

    // New range: the same.
    let tree = VmaTree::new();
    let p = put(&tree, Vma::new(0, 0x3000, 0, F).with_anon(x.clone()));
    put(&tree, Vma::new(0x7000, 0x9000, 7, F).with_anon(y.clone()));
    let (merged, vmg) = merge_new(&tree, 0x3000, 0x7000, 3);
    let merged = merged.unwrap();
    assert_eq!(vmg.state, MergeState::Success);
    assert_eq!((merged.start, merged.end, merged.id()), (0, 0x7000, p.id()));
    assert_eq!(tree.map_count(), 2);
    check(&tree);
}

#[test]
fn s11_a_dup_anon_on_expand() {
    let tree = VmaTree::new();
    let x = AnonRef::new();
    let p = add(&tree, 0, 0x3000, 0);
    put(&tree, Vma::new(0x3000, 0x5000, 3, F).with_anon(x.clone()));
    let mut vmg = VmaMergeRequest::new_range(0, 0x5000, 0, F, None);
    vmg.target = Some(p.clone());
    let grown = vma_expand(&tree, &mut vmg).unwrap();
    assert_eq!((grown.start, grown.end, grown.id()), (0, 0x5000, p.id()));
    assert_anon(&grown, Some(&x));
    assert_eq!(tree.map_count(), 1);
    check(&tree);
}

#[test]
fn s11_b_dup_anon_from_next() {
    let tree = VmaTree::new();
    let x = AnonRef::new();
    let p = add(&tree, 0, 0x3000, 0);
    add(&tree, 0x3000, 0x5000, 3);
    put(&tree, Vma::new(0x5000, 0x8000, 5, F).with_anon(x.clone()));
    let (merged, _) = merge_existing(&tree, 0x3000, 0x5000);
    let merged = merged.unwrap();
    assert_eq!((merged.start, merged.end, merged.id()), (0, 0x8000, p.id()));
    assert_anon(&merged, Some(&x));
    assert_eq!(tree.map_count(), 1);
}

#[test]
fn s11_c_dup_anon_from_middle() {
    let tree = VmaTree::new();
    let x = AnonRef::new();
    let p = add(&tree, 0, 0x3000, 0);
    put(&tree, Vma::new(0x3000, 0x5000, 3, F).with_anon(x.clone()));
    add(&tree, 0x5000, 0x8000, 5);
    let (merged, _) = merge_existing(&tree, 0x3000, 0x5000);
    let merged = merged.unwrap();
    assert_eq!((merged.start, merged.end, merged.id()), (0, 0x8000, p.id()));
    assert_anon(&merged, Some(&x));
    assert_eq!(tree.map_count(), 1);
}

#[test]
fn s11_d_dup_anon_left_partial() {
    let tree = VmaTree::new();
    let x = AnonRef::new();
    let p = add(&tree, 0, 0x3000, 0);
    let v = put(&tree, Vma::new(0x3000, 0x8000, 3, F).with_anon(x.clone()));
    let (merged, _) = merge_existing(&tree, 0x3000, 0x5000);
    let merged = merged.unwrap();
    assert_eq!((merged.start, merged.end, merged.id()), (0, 0x5000, p.id()));
    assert_anon(&merged, Some(&x));
    let rest = at(&tree, 0x5000);
    assert_eq!((rest.start, rest.end, rest.pgoff, rest.id()), (0x5000, 0x8000, 5, v.id()));
    assert_anon(&rest, Some(&x));
    assert_eq!(tree.map_count(), 2);
}

#[test]
fn s11_e_dup_anon_right_partial() {
    let tree = VmaTree::new();
    let x = AnonRef::new();
    put(&tree, Vma::new(0, 0x5000, 0, F).with_anon(x.clone()));
    let n = add(&tree, 0x5000, 0x8000, 5);
    let (merged, _) = merge_existing(&tree, 0x3000, 0x5000);
    let merged = merged.unwrap();
    assert_eq!((merged.start, merged.end, merged.pgoff, merged.id()), (0x3000, 0x8000, 3, n.id()));
    assert_anon(&merged, Some(&x));
    assert_eq!(layout(&tree), [(0, 0x3000, 0), (0x3000, 0x8000, 3)]);
    assert_eq!(tree.map_count(), 2);
}

#[test]
fn s12_allocation_failure() {
    let tree = VmaTree::new();
    let x = AnonRef::new();
    let p = add(&tree, 0, 0x3000, 0);
    put(&tree, Vma::new(0x3000, 0x5000, 3, F).with_anon(x.clone()));
    let before = dump(&tree);

    tree.set_alloc_hook(Some(AllocHook::fail_at(0)));
    let (merged, vmg) = merge_existing(&tree, 0x3000, 0x5000);
    assert!(merged.is_none());
    assert_eq!(vmg.state, MergeState::ErrorNoMem);
    assert_eq!(dump(&tree), before);

    tree.set_alloc_hook(Some(AllocHook::fail_at(0)));
    let mut vmg = VmaMergeRequest::new_range(0, 0x5000, 0, F, None);
    vmg.target = Some(p.clone());
    assert!(vma_expand(&tree, &mut vmg).is_err());
    assert_eq!(vmg.state, MergeState::ErrorNoMem);
    assert_eq!(dump(&tree), before);
    tree.set_alloc_hook(None);
    check(&tree);
}

#[test]
fn s13_merge_extend() {
    let tree = VmaTree::new();
    let v = add(&tree, 0, 0x1000, 0);
    add(&tree, 0x3000, 0x4000, 3);
    let grown = merge_extend(&tree, &v, 0x2000).unwrap();
    assert_eq!((grown.start, grown.end, grown.pgoff, grown.id()), (0, 0x4000, 0, v.id()));
    assert_eq!(tree.map_count(), 1);
    check(&tree);
}

#[test]
fn s14_copy_vma() {
    let tree = VmaTree::new();
    let v = add(&tree, 0x3000, 0x5000, 3);
    let (copy, merged) = copy_vma(&tree, &v, 0, 0x2000, 0).unwrap();
    assert!(!merged);
    assert_eq!((copy.start, copy.end, copy.pgoff), (0, 0x2000, 0));
    assert_ne!(copy.id(), v.id());
    assert_eq!(tree.map_count(), 2);

    let tree = VmaTree::new();
    let v = add(&tree, 0, 0x2000, 0);
    let n = add(&tree, 0x6000, 0x8000, 6);
    let (copy, merged) = copy_vma(&tree, &v, 0x4000, 0x2000, 4).unwrap();
    assert!(merged);
    assert_eq!((copy.start, copy.end, copy.pgoff, copy.id()), (0x4000, 0x8000, 4, n.id()));
    assert_eq!(tree.map_count(), 2);
    check(&tree);
}

#[test]
fn s15_expand_only() {
    let tree = VmaTree::new();
    add(&tree, 0, 0x2000, 0);
    let p = add(&tree, 0x3000, 0x5000, 3);
    let mut vmg = VmaMergeRequest::new_range(0x5000, 0x9000, 5, F, None);
    vmg.prev = Some(p.clone());
    vmg.just_expand = true;
    let grown = merge_new_range(&tree, &mut vmg).unwrap();
    assert_eq!(vmg.state, MergeState::Success);
    assert_eq!((grown.start, grown.end, grown.pgoff, grown.id()), (0x3000, 0x9000, 3, p.id()));
    assert_eq!(tree.map_count(), 2);
    check(&tree);
}

#[test]
fn s15_just_expand_ignores_next() {
    let tree = VmaTree::new();
    let p = add(&tree, 0x3000, 0x5000, 3);
    add(&tree, 0x9000, 0xa000, 9);
    let mut vmg = VmaMergeRequest::new_range(0x5000, 0x9000, 5, F, None);
    fill_neighbours(&tree, &mut vmg);
    vmg.just_expand = true;
    let grown = merge_new_range(&tree, &mut vmg).unwrap();
    assert_eq!((grown.start, grown.end, grown.id()), (0x3000, 0x9000, p.id()));
    assert_eq!(tree.map_count(), 2);
}

#[test]
fn s16_mmap_basic() {
    let tree = VmaTree::new();
    for addr in [0x300000u64, 0x250000, 0x303000, 0x24d000] {
        map(&tree, addr, addr + 0x3000, addr >> 12);
    }
    assert_eq!(layout(&tree), [(0x24d000, 0x253000, 0x24d), (0x300000, 0x306000, 0x300)]);
    assert_eq!(tree.map_count(), 2);
    check(&tree);
}

/// Asks for an existing-range merge of `[start, end)` and checks that none happens: no VMA
/// returned, state `NoMerge`, and the tree exactly as before.
fn assert_no_existing_merge(tree: &VmaTree, start: u64, end: u64) {
    let before = dump(tree);
    let (merged, vmg) = merge_existing(tree, start, end);
    assert!(merged.is_none(), "{start:#x}-{end:#x} merged");
    assert_eq!(vmg.state, MergeState::NoMerge);
    assert_eq!(dump(tree), before);
}
