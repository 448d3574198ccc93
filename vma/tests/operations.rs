//! The building blocks around the merge engine: split limits, modify kinds, anon_vma reuse
//! on first fault, the cursor, sticky flags, stale handles and snapshot isolation.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use common::*;
use vma::{
    anon_vma_prepare, copy_vma, merge_existing_range, merge_new_range, split_vma, validate_view, vma_expand,
    vma_modify, AnonRef, File, MemPolicy, MergeState, UffdCtx, VmFlags, VmOps, Vma, VmaChange, VmaCursor, VmaError,
    VmaMergeRequest, VmaTree,
};

#[test]
fn split_respects_the_map_count_limit() {
    let tree = VmaTree::with_max_map_count(2);
    let v = add(&tree, 0, 0x3000, 0);
    add(&tree, 0x5000, 0x6000, 5);
    let before = dump(&tree);
    assert_eq!(split_vma(&tree, &v, 0x1000, false).unwrap_err(), VmaError::MapCount);
    assert_eq!(dump(&tree), before);
    tree.set_max_map_count(3);
    let (lower, upper) = split_vma(&tree, &v, 0x1000, false).unwrap();
    assert_eq!((lower.id(), lower.end, upper.start, upper.pgoff), (v.id(), 0x1000, 0x1000, 1));
    assert_eq!(tree.map_count(), 3);
    check(&tree);
}

#[test]
fn split_asks_may_split() {
    let tree = VmaTree::new();
    let ops = VmOps::new().with_may_split(|_, addr| if addr % 0x2000 == 0 { Ok(()) } else { Err(22) });
    let v = put(&tree, Vma::new(0, 0x4000, 0, F).with_ops(ops));
    assert_eq!(split_vma(&tree, &v, 0x1000, true).unwrap_err(), VmaError::SplitRefused(22));
    assert_eq!(tree.map_count(), 1);
    let (lower, upper) = split_vma(&tree, &v, 0x2000, true).unwrap();
    // new_below: the lower piece is new, the original keeps the upper part.
    assert_ne!(lower.id(), v.id());
    assert_eq!((upper.id(), upper.start, upper.pgoff), (v.id(), 0x2000, 2));
    assert_eq!(split_vma(&tree, &upper, 0x2000, true).unwrap_err(), VmaError::InvalidRange);
    assert_eq!(split_vma(&tree, &upper, 0x2800, true).unwrap_err(), VmaError::InvalidRange);
    check(&tree);
}

#[test]
fn modify_and_back_remerges() {
    // mprotect the middle read-only, then back: one VMA again (scenario 04 of kernel-cases).
    let tree = VmaTree::new();
    let v = add(&tree, 0, 0x3000, 0);
    let ro = VmFlags::READ | VmFlags::MAYREAD | VmFlags::MAYWRITE;
    let mid = vma_modify(&tree, &v, 0x1000, 0x2000, VmaChange::Flags(ro)).unwrap();
    assert_eq!(tree.map_count(), 3);
    let back = vma_modify(&tree, &mid, 0x1000, 0x2000, VmaChange::Flags(F)).unwrap();
    assert_eq!((back.start, back.end, back.pgoff, back.flags), (0, 0x3000, 0, F));
    assert_eq!(tree.map_count(), 1);
    check(&tree);
}

#[test]
fn modify_name_policy_and_uffd() {
    let tree = VmaTree::new();
    let v = put(&tree, Vma::new(0, 0x4000, 0, F).with_anon_name("heap"));
    let named = vma_modify(&tree, &v, 0, 0x1000, VmaChange::Name(Some("stack".into()))).unwrap();
    assert_eq!((named.end, named.anon_name.as_deref()), (0x1000, Some("stack")));
    // Equal strings are equal names: renaming back merges.
    let back = vma_modify(&tree, &named, 0, 0x1000, VmaChange::Name(Some(Arc::from("heap")))).unwrap();
    assert_eq!((back.start, back.end), (0, 0x4000));

    let policy = MemPolicy::new(2, 0, 0b1);
    let bound = vma_modify(&tree, &back, 0x3000, 0x4000, VmaChange::Policy(Some(policy))).unwrap();
    assert_eq!((bound.start, tree.map_count()), (0x3000, 2));
    // An equal policy in another object merges with it.
    let rest = at(&tree, 0);
    let same = vma_modify(&tree, &rest, 0x2000, 0x3000, VmaChange::Policy(Some(MemPolicy::new(2, 0, 0b1)))).unwrap();
    assert_eq!((same.start, same.end, same.id()), (0x2000, 0x4000, bound.id()));

    let ctx = UffdCtx::new();
    let flags = F | VmFlags::UFFD_MISSING;
    let rest = at(&tree, 0);
    let reg = vma_modify(&tree, &rest, 0, 0x1000, VmaChange::Uffd { ctx: Some(ctx.clone()), flags }).unwrap();
    assert!(reg.uffd.is_some() && reg.flags.contains(VmFlags::UFFD_MISSING));
    // Another context with the same flags does not merge.
    let rest = at(&tree, 0x1000);
    let other = vma_modify(&tree, &rest, 0x1000, 0x2000, VmaChange::Uffd { ctx: Some(UffdCtx::new()), flags }).unwrap();
    assert_eq!((other.start, other.end), (0x1000, 0x2000));
    assert_eq!(tree.map_count(), 3);
    check(&tree);
}

#[test]
fn modify_keeps_the_first_split_at_the_map_count_limit() {
    let tree = VmaTree::with_max_map_count(2);
    let v = add(&tree, 0, 0x3000, 0);
    let err = vma_modify(&tree, &v, 0x1000, 0x2000, VmaChange::Flags(VmFlags::READ)).unwrap_err();
    assert_eq!(err, VmaError::MapCount);
    assert_eq!(layout(&tree), [(0, 0x1000, 0), (0x1000, 0x3000, 1)]);
    assert_eq!(at(&tree, 0x1000).id(), v.id());
    assert!(tree.vmas().iter().all(|v| v.flags == F));
    check(&tree);
}

#[test]
fn modify_keeps_the_first_split_when_may_split_refuses_the_second() {
    let tree = VmaTree::new();
    let ops = VmOps::new().with_may_split(|_, addr| if addr == 0x2000 { Err(22) } else { Ok(()) });
    let v = put(&tree, Vma::new(0, 0x3000, 0, F).with_ops(ops));
    let err = vma_modify(&tree, &v, 0x1000, 0x2000, VmaChange::Flags(VmFlags::READ)).unwrap_err();
    assert_eq!(err, VmaError::SplitRefused(22));
    assert_eq!(layout(&tree), [(0, 0x1000, 0), (0x1000, 0x3000, 1)]);
    assert_eq!(at(&tree, 0x1000).id(), v.id());
    assert!(tree.vmas().iter().all(|v| v.flags == F));
    check(&tree);
}

#[test]
fn first_fault_borrows_from_next_first() {
    let tree = VmaTree::new();
    let (x, y) = (AnonRef::new(), AnonRef::new());
    put(&tree, Vma::new(0, 0x1000, 0, F).with_anon(x));
    let v = add(&tree, 0x1000, 0x2000, 1);
    // next differs only in access bits: still compatible for lending.
    put(&tree, Vma::new(0x2000, 0x3000, 2, F - VmFlags::WRITE).with_anon(y.clone()));
    let v = anon_vma_prepare(&tree, &v).unwrap();
    assert_anon(&v, Some(&y));
    assert_eq!(v.anon.as_ref().unwrap().chain_len, 1);
    check(&tree);
}

#[test]
fn first_fault_does_not_borrow_from_forked_or_incompatible() {
    let tree = VmaTree::new();
    let x = AnonRef::new();
    put(&tree, Vma::new(0, 0x1000, 0, F).with_anon(x.forked()));
    let v = add(&tree, 0x1000, 0x2000, 1);
    put(&tree, Vma::new(0x2000, 0x3000, 2, F).with_anon(x.clone()).with_file(File::new("f")));
    let v = anon_vma_prepare(&tree, &v).unwrap();
    let own = v.anon.clone().unwrap();
    assert!(!own.same(&x) && own.chain_len == 1);
    // Already has one: nothing changes.
    let again = anon_vma_prepare(&tree, &v).unwrap();
    assert!(again.anon.as_ref().unwrap().same(&own));
    check(&tree);
}

#[test]
fn halves_faulted_apart_never_remerge() {
    // Two halves with different anon_vmas (scenario 06 of kernel-cases).
    let tree = VmaTree::new();
    let v = add(&tree, 0, 0x4000, 0);
    let (lower, upper) = split_vma(&tree, &v, 0x2000, false).unwrap();
    set(&tree, Vma::clone(&lower).with_anon(AnonRef::new()));
    set(&tree, Vma::clone(&upper).with_anon(AnonRef::new()));
    let (merged, vmg) = merge_existing(&tree, 0x2000, 0x4000);
    assert!(merged.is_none());
    assert_eq!(vmg.state, MergeState::NoMerge);
    assert_eq!(tree.map_count(), 2);
}

#[test]
fn sticky_flags_are_ignored_and_united() {
    let tree = VmaTree::new();
    let p = add(&tree, 0, 0x1000, 0);
    put(&tree, Vma::new(0x2000, 0x3000, 2, F | VmFlags::MAYBE_GUARD));
    let mut vmg = VmaMergeRequest::new_range(0x1000, 0x2000, 1, F | VmFlags::SOFTDIRTY, None);
    fill_neighbours(&tree, &mut vmg);
    let merged = merge_new_range(&tree, &mut vmg).unwrap();
    assert_eq!(merged.id(), p.id());
    assert_eq!(merged.flags, F | VmFlags::SOFTDIRTY | VmFlags::MAYBE_GUARD);
    assert_eq!(merged.flags.to_string(), "rd wr mr mw gu sd");
}

#[test]
fn stale_handles_do_not_merge_or_split() {
    let tree = VmaTree::new();
    let old = add(&tree, 0, 0x2000, 0);
    let mut vmg = VmaMergeRequest::new_range(0, 0x3000, 0, F, None);
    vmg.target = Some(old.clone());
    vma_expand(&tree, &mut vmg).unwrap();
    assert_eq!(split_vma(&tree, &old, 0x1000, false).unwrap_err(), VmaError::Stale);
    let mut vmg = VmaMergeRequest::existing(&old, 0, 0x1000);
    assert!(merge_existing_range(&tree, &mut vmg).is_none());
    assert_eq!(vmg.state, MergeState::NoMerge);
    let mut vmg = VmaMergeRequest::new_range(0x3000, 0x4000, 3, F, None);
    vmg.prev = Some(old);
    assert!(merge_new_range(&tree, &mut vmg).is_none());
    assert_eq!(tree.map_count(), 1);
}

#[test]
fn occupied_ranges_and_overlapping_expands_are_refused() {
    let tree = VmaTree::new();
    let p = add(&tree, 0, 0x1000, 0);
    add(&tree, 0x1000, 0x2000, 1);
    add(&tree, 0x3000, 0x5000, 3);
    let before = dump(&tree);
    let mut vmg = VmaMergeRequest::new_range(0x1000, 0x2000, 1, F, None);
    vmg.prev = Some(p.clone());
    assert!(merge_new_range(&tree, &mut vmg).is_none());
    // Expanding over a next area only partly is refused.
    let mut vmg = VmaMergeRequest::new_range(0, 0x4000, 0, F, None);
    vmg.target = Some(at(&tree, 0x1000));
    assert_eq!(vma_expand(&tree, &mut vmg).unwrap_err(), VmaError::InvalidRange);
    // The target must be the current version.
    let mut vmg = VmaMergeRequest::new_range(0, 0x2000, 0, F, None);
    vmg.target = Some(Arc::new(Vma::new(0, 0x1000, 0, F)));
    assert_eq!(vma_expand(&tree, &mut vmg).unwrap_err(), VmaError::Stale);
    assert_eq!(dump(&tree), before);
}

#[test]
fn copy_of_a_faulted_area_keeps_its_pgoff() {
    let tree = VmaTree::new();
    let v = put(&tree, Vma::new(0, 0x2000, 0, F).with_anon(AnonRef::new()));
    add(&tree, 0x6000, 0x8000, 6);
    let (copy, merged) = copy_vma(&tree, &v, 0x4000, 0x2000, 0).unwrap();
    assert!(!merged);
    assert_eq!((copy.start, copy.pgoff), (0x4000, 0));
    assert_anon(&copy, v.anon.as_ref());
    assert_eq!(copy_vma(&tree, &v, 0x4000, 0x1000, 0).unwrap_err(), VmaError::Occupied);
    assert_eq!(tree.map_count(), 3);
}

#[test]
fn cursor_walks_and_finds_gaps() {
    let tree = VmaTree::new();
    for i in 0..5u64 {
        add(&tree, i * 0x3000, i * 0x3000 + 0x2000, i * 3);
    }
    let snap = tree.snapshot();
    let mut c = VmaCursor::new(&snap, 0);
    assert_eq!(c.find(0x1000).unwrap().start, 0);
    assert_eq!(c.next_vma().unwrap().start, 0x3000);
    assert_eq!(c.prev_vma().unwrap().start, 0);
    assert!(c.prev_vma().is_none());
    assert_eq!(c.find_vma(0x2000).unwrap().start, 0x3000);
    assert_eq!(c.first_intersecting(0x2000, 0x3000).map(|v| v.start), None);
    assert_eq!(c.first_intersecting(0x2000, 0x7000).unwrap().start, 0x3000);
    let (p, n) = c.around(0x2000, 0x3000);
    assert_eq!((p.unwrap().start, n.unwrap().start), (0, 0x3000));
    let (p, n) = c.around(0, 0x1000);
    assert!(p.is_none() && n.is_none(), "the window is mapped: nothing around it");
    let (p, n) = c.around(0xe000, 0x20000);
    assert_eq!((p.unwrap().start, n.map(|v| v.start)), (0xc000, None));
    validate_view(&snap).unwrap();
    assert_eq!(snap.len(), 5);
}

#[test]
fn txn_clear_trims_and_counts() {
    let tree = VmaTree::new();
    let a = add(&tree, 0, 0x4000, 0);
    add(&tree, 0x4000, 0x5000, 4);
    add(&tree, 0x6000, 0x9000, 6);
    let mut txn = tree.transaction();
    let removed = txn.clear(0x2000, 0x7000).unwrap();
    txn.commit();
    assert_eq!(removed.len(), 1);
    assert_eq!(layout(&tree), [(0, 0x2000, 0), (0x7000, 0x9000, 7)]);
    assert_eq!(at(&tree, 0).id(), a.id());
    assert_eq!(tree.map_count(), 2);
    let mut txn = tree.transaction();
    txn.clear(0x8000, 0x9000).unwrap();
    txn.commit();
    assert_eq!(layout(&tree), [(0, 0x2000, 0), (0x7000, 0x8000, 7)]);
    check(&tree);
    let mut txn = tree.transaction();
    assert!(txn.clear(0x1000, 0x1000).is_err());
    drop(txn);
    // Punching a hole in one VMA makes two.
    let tree = VmaTree::new();
    add(&tree, 0, 0x3000, 0);
    let mut txn = tree.transaction();
    txn.clear(0x1000, 0x2000).unwrap();
    txn.commit();
    assert_eq!(tree.map_count(), 2);
    check(&tree);
}

#[test]
fn snapshots_see_before_or_after_a_merge() {
    let tree = VmaTree::new();
    add(&tree, 0, 0x1000, 0);
    add(&tree, 0x1000, 0x2000, 1);
    put(&tree, Vma::new(0x2000, 0x3000, 2, F));
    let before = tree.snapshot();
    let mid = at(&tree, 0x1000);
    let mut vmg = VmaMergeRequest::existing(&mid, 0x1000, 0x2000);
    merge_existing_range(&tree, &mut vmg).unwrap();
    assert_eq!(before.iter().count(), 3);
    validate_view(&before).unwrap();
    assert_eq!(before.len(), 3);
    assert_eq!(tree.snapshot().iter().count(), 1);
}

/// Marks the reader gone when dropped, on a normal return or while unwinding from a failed
/// assertion, so that a writer waiting for it stops waiting and the join reports the panic.
struct Gone<'a>(&'a AtomicBool);

impl Drop for Gone<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

#[test]
fn readers_never_see_half_a_merge() {
    // A reader checks every snapshot while a writer splits and re-merges the same areas.
    // Handshake, not hope: the writer starts only once the reader has checked a snapshot, and
    // every WAIT_EVERY rounds waits until the reader has checked one taken after that round,
    // so the reader provably races the writer however the threads are scheduled.
    const ROUNDS: u64 = size(2000, 20);
    const WAIT_EVERY: u64 = size(100, 5);
    let tree = Arc::new(VmaTree::new());
    add(&tree, 0, 0x8000, 0);
    let stop = Arc::new(AtomicBool::new(false));
    let checked = Arc::new(AtomicU64::new(0));
    let gone = Arc::new(AtomicBool::new(false));
    let reader = {
        let (tree, stop, checked, gone) = (tree.clone(), stop.clone(), checked.clone(), gone.clone());
        std::thread::spawn(move || {
            let _gone = Gone(&gone);
            let mut seen = 0u64;
            while !stop.load(Ordering::Acquire) {
                let snap = tree.snapshot();
                let mut covered = 0;
                let mut last_end = 0;
                for (range, v) in snap.iter() {
                    assert_eq!(range, v.range());
                    assert_eq!(v.start, last_end, "a hole or an overlap");
                    assert_eq!(v.pgoff, v.start >> 12);
                    last_end = v.end;
                    covered += v.end - v.start;
                }
                assert_eq!(covered, 0x8000);
                seen += 1;
                checked.fetch_add(1, Ordering::Release);
            }
            seen
        })
    };
    // Waits until the reader has finished a check that began after this call (two more
    // checks than now: the one under way may have begun before), or is gone. The reader
    // checks without pause until `stop`, which is set only after the last wait, so this
    // returns; a reader that panicked is gone, and the join below reports its panic.
    let wait_for_a_fresh_check = || {
        let target = checked.load(Ordering::Acquire) + 2;
        while checked.load(Ordering::Acquire) < target && !gone.load(Ordering::Acquire) {
            std::thread::yield_now();
        }
    };
    wait_for_a_fresh_check();
    for round in 0..ROUNDS {
        let addr = 0x1000 * (1 + round % 6);
        let v = at(&tree, addr);
        let flags = if round % 2 == 0 { VmFlags::READ } else { F };
        let end = (addr + 0x1000).min(v.end);
        vma_modify(&tree, &v, addr, end, VmaChange::Flags(flags)).unwrap();
        if round % 7 == 0 {
            for v in tree.vmas() {
                if v.flags != F {
                    vma_modify(&tree, &v, v.start, v.end, VmaChange::Flags(F)).unwrap();
                }
            }
        }
        if round % WAIT_EVERY == WAIT_EVERY - 1 {
            wait_for_a_fresh_check();
        }
    }
    stop.store(true, Ordering::Release);
    let seen = reader.join().unwrap();
    // Two checks before the first round and two more at each wait, all counted in `seen`.
    assert!(seen >= 2 + 2 * (ROUNDS / WAIT_EVERY), "the reader checked {seen} snapshots");
    check(&tree);
}

#[test]
fn try_clone_is_independent() {
    let tree = VmaTree::new();
    let v = add(&tree, 0, 0x2000, 0);
    let copy = tree.try_clone().unwrap();
    split_vma(&tree, &v, 0x1000, false).unwrap();
    assert_eq!((tree.map_count(), copy.map_count()), (2, 1));
    check(&copy);
}
