//! Criterion benchmarks of the merge engine: each merge case, a split and a modify on trees
//! of 10^2 to 10^5 VMAs, beside one plain maple store (one transaction replacing one VMA)
//! on the same tree, which is the floor every operation pays.
//!
//! Each measured operation is undone outside the timed region (by the inverse operation),
//! so one tree per size serves every case: `iter_custom` times only the operation itself.
//!
//! Layout: VMA `i` is `[i * 64K, i * 64K + 16K)` with pgoff `start / 4K`, so no two VMAs
//! touch; the cases work on the VMA in the middle of the tree.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use vma::{
    merge_existing_range, merge_new_range, split_vma, vma_expand, vma_modify, vma_shrink, VmFlags, Vma, VmaChange,
    VmaCursor, VmaMergeRequest, VmaTree,
};

const SIZES: [u64; 4] = [100, 1_000, 10_000, 100_000];
const STRIDE: u64 = 0x10000;
const LEN: u64 = 0x4000;
const PAGE: u64 = 0x1000;

fn rw() -> VmFlags {
    VmFlags::READ | VmFlags::WRITE | VmFlags::MAYREAD | VmFlags::MAYWRITE
}

fn ro() -> VmFlags {
    VmFlags::READ | VmFlags::MAYREAD | VmFlags::MAYWRITE
}

fn build(n: u64) -> VmaTree {
    // 10^5 VMAs is above the kernel's default limit of 65530.
    let tree = VmaTree::with_max_map_count(usize::MAX);
    let mut txn = tree.transaction();
    for i in 0..n {
        let start = i * STRIDE;
        txn.insert(Arc::new(Vma::new(start, start + LEN, start / PAGE, rw()))).unwrap();
    }
    txn.commit();
    tree
}

fn at(tree: &VmaTree, addr: u64) -> Arc<Vma> {
    tree.find(addr).unwrap()
}

fn new_range(tree: &VmaTree, start: u64, end: u64) -> Option<Arc<Vma>> {
    let mut vmg = VmaMergeRequest::new_range(start, end, start / PAGE, rw(), None);
    {
        let snap = tree.snapshot();
        let (prev, next) = VmaCursor::new(&snap, start).around(start, end);
        vmg.prev = prev.cloned();
        vmg.next = next.cloned();
    }
    merge_new_range(tree, &mut vmg)
}

fn existing(tree: &VmaTree, start: u64, end: u64, flags: VmFlags) -> Option<Arc<Vma>> {
    let middle = at(tree, start);
    let mut vmg = VmaMergeRequest::existing(&middle, start, end);
    vmg.flags = flags;
    merge_existing_range(tree, &mut vmg)
}

fn set_flags(tree: &VmaTree, start: u64, end: u64, flags: VmFlags) {
    vma_modify(tree, &at(tree, start), start, end, VmaChange::Flags(flags)).unwrap();
}

fn clear(tree: &VmaTree, start: u64, end: u64) {
    let mut txn = tree.transaction();
    txn.clear(start, end).unwrap();
    txn.commit();
}

/// Times `op` alone; `undo` puts the tree back after each run.
fn timed(tree: &VmaTree, iters: u64, op: impl Fn(&VmaTree), undo: impl Fn(&VmaTree)) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let t = Instant::now();
        op(tree);
        total += t.elapsed();
        undo(tree);
    }
    total
}

fn merge_cases(c: &mut Criterion) {
    let mut group = c.benchmark_group("vma");
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    for n in SIZES {
        let tree = build(n);
        let base = (n / 2) * STRIDE;
        let v = base; // the VMA [base, base + 16K)

        // The floor: one transaction storing one VMA version over its own range.
        group.bench_function(BenchmarkId::new("maple_store", n), |b| {
            b.iter_custom(|iters| {
                timed(
                    &tree,
                    iters,
                    |t| {
                        let mut txn = t.transaction();
                        txn.replace(black_box(at(t, v))).unwrap();
                        txn.commit();
                    },
                    |_| {},
                )
            })
        });

        //  VVVV ....  ->  VVVVVVVV
        group.bench_function(BenchmarkId::new("new_left", n), |b| {
            b.iter_custom(|iters| {
                timed(
                    &tree,
                    iters,
                    |t| drop(black_box(new_range(t, v + LEN, v + LEN + PAGE).unwrap())),
                    |t| drop(vma_shrink(t, &at(t, v), v, v + LEN, v / PAGE).unwrap()),
                )
            })
        });

        //  .... VVVV  ->  VVVVVVVV
        group.bench_function(BenchmarkId::new("new_right", n), |b| {
            b.iter_custom(|iters| {
                timed(
                    &tree,
                    iters,
                    |t| drop(black_box(new_range(t, v - PAGE, v).unwrap())),
                    |t| drop(vma_shrink(t, &at(t, v), v, v + LEN, v / PAGE).unwrap()),
                )
            })
        });

        //  VV .. VV  ->  VVVVVV   (the hole is punched outside the timing)
        clear(&tree, v + PAGE, v + 2 * PAGE);
        group.bench_function(BenchmarkId::new("new_both", n), |b| {
            b.iter_custom(|iters| {
                timed(
                    &tree,
                    iters,
                    |t| drop(black_box(new_range(t, v + PAGE, v + 2 * PAGE).unwrap())),
                    |t| clear(t, v + PAGE, v + 2 * PAGE),
                )
            })
        });
        drop(new_range(&tree, v + PAGE, v + 2 * PAGE).unwrap());

        //  PPPP[MMMM]NNNN  ->  one VMA   (undo: mprotect the middle back)
        set_flags(&tree, v + PAGE, v + 2 * PAGE, ro());
        group.bench_function(BenchmarkId::new("existing_both", n), |b| {
            b.iter_custom(|iters| {
                timed(
                    &tree,
                    iters,
                    |t| drop(black_box(existing(t, v + PAGE, v + 2 * PAGE, rw()).unwrap())),
                    |t| set_flags(t, v + PAGE, v + 2 * PAGE, ro()),
                )
            })
        });

        //  PPPP[MM]MM  ->  PPPPPP MM   and back: MM[MM]PPPP  ->  MM PPPPPP (right, partial)
        // Now rw [v, v+P), ro [v+P, v+2P), rw [v+2P, v+4P); make it rw [v, v+P), ro [v+P, v+4P).
        set_flags(&tree, v + 2 * PAGE, v + LEN, ro());
        group.bench_function(BenchmarkId::new("existing_left_partial", n), |b| {
            b.iter_custom(|iters| {
                timed(
                    &tree,
                    iters,
                    |t| drop(black_box(existing(t, v + PAGE, v + 2 * PAGE, rw()).unwrap())),
                    |t| drop(existing(t, v + PAGE, v + 2 * PAGE, ro()).unwrap()),
                )
            })
        });
        // Now rw [v, v+2P), ro [v+2P, v+4P): the range [v+P, v+2P) is the right part of rw.
        drop(existing(&tree, v + PAGE, v + 2 * PAGE, rw()).unwrap());
        group.bench_function(BenchmarkId::new("existing_right_partial", n), |b| {
            b.iter_custom(|iters| {
                timed(
                    &tree,
                    iters,
                    |t| drop(black_box(existing(t, v + PAGE, v + 2 * PAGE, ro()).unwrap())),
                    |t| drop(existing(t, v + PAGE, v + 2 * PAGE, rw()).unwrap()),
                )
            })
        });
        set_flags(&tree, v + 2 * PAGE, v + LEN, rw());
        assert_eq!((at(&tree, v).start, at(&tree, v).end), (v, v + LEN));

        //  VVVVVVVV  ->  VVVV|vvvv   (undo: expand the lower over the upper)
        group.bench_function(BenchmarkId::new("split", n), |b| {
            b.iter_custom(|iters| {
                timed(
                    &tree,
                    iters,
                    |t| drop(black_box(split_vma(t, &at(t, v), v + 2 * PAGE, false).unwrap())),
                    |t| {
                        let mut vmg = VmaMergeRequest::new_range(v, v + LEN, v / PAGE, rw(), None);
                        vmg.target = Some(at(t, v));
                        vma_expand(t, &mut vmg).unwrap();
                    },
                )
            })
        });

        //  VVVVVVVV  ->  VV|mm|VVVV  (two splits and the change; undo: the both-merge)
        group.bench_function(BenchmarkId::new("modify_split", n), |b| {
            b.iter_custom(|iters| {
                timed(
                    &tree,
                    iters,
                    |t| set_flags(t, v + PAGE, v + 2 * PAGE, black_box(ro())),
                    |t| drop(existing(t, v + PAGE, v + 2 * PAGE, rw()).unwrap()),
                )
            })
        });
        assert_eq!(tree.map_count() as u64, n);
    }
    group.finish();
}

criterion_group!(benches, merge_cases);
criterion_main!(benches);
