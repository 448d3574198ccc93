//! Criterion benchmarks of the `vma` merge engine, beside one plain maple store on the same
//! tree, to show what the engine adds.
//!
//! Groups: `merge_new` (a new range merging with prev, next, both, or neither: the mmap path),
//! `merge_existing` (`vma_modify` of part of a VMA: the five merge cases and the no-merge
//! split in three: the mprotect path) and `split` (`split_vma`), each on trees of 10^2 to 10^5
//! VMAs. Every group has a `maple_store` peer: one store and commit through the VMA tree's own
//! maple transaction ([`vma::VmaTxn::replace`]), at the same place in the same tree.
//!
//! Each fixture is a tree of exactly `n` VMAs: random filler VMAs (1-16 pages, 1-16 page gaps,
//! so no two touch and nothing merges), inserted in a fixed random order, with the case's
//! neighbours (its "site") in the middle of the address range. The benchmarked operation runs
//! on the site; its undo (untimed) restores the tree, so every iteration sees the same tree.
//! Only the operation is timed (`iter_custom`), so each figure is the cost of one operation.
//! Each case is checked once before it is timed (the operation must do what the case says and
//! the undo must restore the tree), and the tree is validated and compared with the original
//! once the benchmark is done. See `docs/benchmarks.md`, section "vma: merge engine costs".

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput};
use vma::{
    merge_new_range, split_vma, vma_modify, VmFlags, Vma, VmaChange, VmaCursor, VmaMergeRequest, VmaTree, PAGE_SIZE,
};

/// Tree sizes, in VMAs.
const SIZES: [usize; 4] = [100, 1_000, 10_000, 100_000];
/// Where the first filler VMA may start: 4 GiB, like a user mapping base.
const BASE: u64 = 1 << 32;
/// Largest filler VMA and filler gap, in pages (gaps are at least one page).
const MAX_FILLER_PAGES: u64 = 16;
/// Empty pages on each side of the site.
const SITE_GAP: u64 = 8;
const LAYOUT_SEED: u64 = 0x766d_615f_6265_6e63;

/// read | write | mayread | maywrite: the flags of an ordinary private mapping.
const RW: VmFlags = VmFlags::from_bits(
    VmFlags::READ.bits() | VmFlags::WRITE.bits() | VmFlags::MAYREAD.bits() | VmFlags::MAYWRITE.bits(),
);
/// The same mapping after mprotect(PROT_READ): not mergeable with `RW`.
const RO: VmFlags = VmFlags::from_bits(VmFlags::READ.bits() | VmFlags::MAYREAD.bits() | VmFlags::MAYWRITE.bits());
/// Flags mergeable with neither `RW` nor `RO`: a neighbour that is there but never merges.
const OTHER: VmFlags = VmFlags::from_bits(VmFlags::READ.bits() | VmFlags::MAYREAD.bits());

/// splitmix64, for the filler layout and the insertion order.
struct SplitMix(u64);

impl SplitMix {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + ((u128::from(self.next_u64()) * u128::from(hi - lo + 1)) >> 64) as u64
    }
}

/// What a case's fixture holds: the tree, the site's first address, and the value the
/// `maple_store` peer stores.
struct Fixture {
    tree: VmaTree,
    base: u64,
    spare: Arc<Vma>,
}

impl Fixture {
    /// The address `pages` pages into the site.
    fn at(&self, pages: u64) -> u64 {
        self.base + pages * PAGE_SIZE
    }
}

/// One benchmarked operation.
struct Case {
    /// The benchmark's peer name.
    name: &'static str,
    /// The site's VMAs: (first page, pages, flags), pages counted from the site's start.
    site: &'static [(u64, u64, VmFlags)],
    /// The peer's value: (first page, pages) in the site, flags `RW` (only `maple_store`).
    spare: (u64, u64),
    /// The operation, returning the VMA it produced (the one to check).
    op: fn(&Fixture) -> Arc<Vma>,
    /// Undoes the operation, given what it returned.
    undo: fn(&Fixture, Arc<Vma>),
    /// What `op` must return, (first page, end page) in the site, and by how much it must
    /// change the map count.
    expect: (u64, u64, isize),
}

/// Everything about a tree the benchmarks must leave as they found it: (start, end, pgoff,
/// flags) of every VMA, and the map count.
type Dump = (Vec<(u64, u64, u64, u64)>, usize);

/// The [`Dump`] of `tree`.
fn dump(tree: &VmaTree) -> Dump {
    let rows = tree.snapshot().iter().map(|(_, v)| (v.start, v.end, v.pgoff, v.flags.bits())).collect();
    (rows, tree.map_count())
}

/// A tree of `n` VMAs with `site` in the middle; returns it and the site's first address.
fn build(n: usize, site: &[(u64, u64, VmFlags)]) -> (VmaTree, u64) {
    let mut rng = SplitMix(LAYOUT_SEED ^ n as u64);
    let fillers = n - site.len();
    let mut vmas = Vec::with_capacity(n);
    let mut next = BASE;
    let mut base = 0;
    for i in 0..=fillers {
        if i == fillers / 2 {
            base = next + SITE_GAP * PAGE_SIZE;
            let span = site.iter().map(|&(first, pages, _)| first + pages).max().unwrap_or(0);
            for &(first, pages, flags) in site {
                vmas.push((base + first * PAGE_SIZE, pages, flags));
            }
            next = base + (span + SITE_GAP) * PAGE_SIZE;
        }
        if i < fillers {
            let start = next + rng.between(1, MAX_FILLER_PAGES) * PAGE_SIZE;
            let pages = rng.between(1, MAX_FILLER_PAGES);
            vmas.push((start, pages, RW));
            next = start + pages * PAGE_SIZE;
        }
    }
    // Fisher-Yates: insert in a fixed random order, for the node fill of a long-lived tree.
    for i in (1..vmas.len()).rev() {
        let j = rng.between(0, i as u64) as usize;
        vmas.swap(i, j);
    }
    let tree = VmaTree::with_max_map_count(usize::MAX); // 10^5 VMAs is above the default limit
    for (start, pages, flags) in vmas {
        tree.insert(Vma::new(start, start + pages * PAGE_SIZE, start / PAGE_SIZE, flags)).expect("disjoint");
    }
    assert_eq!(tree.map_count(), n);
    (tree, base)
}

/// Builds the fixture of `case` at `n` VMAs and checks, once, that the operation does what
/// the case says and that the undo restores the tree.
fn fixture(case: &Case, n: usize) -> (Fixture, Dump) {
    let (tree, base) = build(n, case.site);
    let (first, pages) = case.spare;
    let start = base + first * PAGE_SIZE;
    let spare = Arc::new(Vma::new(start, start + pages * PAGE_SIZE, start / PAGE_SIZE, RW));
    let fixture = Fixture { tree, base, spare };
    let before = dump(&fixture.tree);
    let out = (case.op)(&fixture);
    let (first, end, delta) = case.expect;
    assert_eq!((out.start, out.end), (fixture.at(first), fixture.at(end)), "{}: wrong result", case.name);
    assert_eq!(fixture.tree.map_count() as isize, n as isize + delta, "{}: wrong map count", case.name);
    (case.undo)(&fixture, out);
    fixture.tree.validate().expect("valid after the undo");
    assert!(dump(&fixture.tree) == before, "{}: the undo did not restore the tree", case.name);
    (fixture, before)
}

/// Benchmarks `case` at `n` VMAs: only the operation is timed, the undo is not.
fn bench_case(group: &mut BenchmarkGroup<'_, WallTime>, case: &Case, n: usize) {
    let mut state = None;
    group.bench_function(BenchmarkId::new(case.name, n), |b| {
        let (fixture, _) = state.get_or_insert_with(|| fixture(case, n));
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let out = black_box((case.op)(black_box(&*fixture)));
                total += start.elapsed();
                (case.undo)(fixture, out);
            }
            total
        })
    });
    if let Some((fixture, before)) = &state {
        fixture.tree.validate().expect("valid after the benchmark");
        assert!(dump(&fixture.tree) == *before, "{}/{n}: tree not restored", case.name);
    }
}

fn run_group(c: &mut Criterion, name: &str, cases: &[Case]) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(1));
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    for n in SIZES {
        for case in cases {
            bench_case(&mut group, case, n);
        }
    }
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// Operations shared by the groups

/// The `maple_store` peer: the spare value stored over its range in one transaction, as one
/// more VMA (`VmaTxn::replace` is one maple `Transaction::store`).
fn maple_store(f: &Fixture) -> Arc<Vma> {
    let mut txn = f.tree.transaction();
    txn.replace(f.spare.clone()).expect("store");
    txn.note_added(1);
    txn.commit();
    f.spare.clone()
}

/// Stores `vma` (a current VMA's original version, or a new one) over its range in one
/// transaction, and counts `removed` VMAs less: a raw undo.
fn restore(f: &Fixture, vma: Arc<Vma>, removed: usize) {
    let mut txn = f.tree.transaction();
    txn.replace(vma).expect("store");
    txn.note_removed(removed);
    txn.commit();
}

/// munmap's tree part: empties `[start, end)`, trimming the VMAs at its edges.
fn unmap(f: &Fixture, start: u64, end: u64) {
    let mut txn = f.tree.transaction();
    txn.clear(start, end).expect("clear");
    txn.commit();
}

// ---------------------------------------------------------------------------------------------
// merge_new: mmap of [start, end): find the neighbours, try to merge, else insert a new VMA.

/// What mmap does with the tree: look up prev and next, try the merge, insert if none.
fn map_new(f: &Fixture, first: u64, end: u64) -> Arc<Vma> {
    let (start, end) = (f.at(first), f.at(end));
    let mut vmg = VmaMergeRequest::new_range(start, end, start / PAGE_SIZE, RW, None);
    {
        let snap = f.tree.snapshot();
        let (prev, next) = VmaCursor::new(&snap, start).around(start, end);
        vmg.prev = prev.cloned();
        vmg.next = next.cloned();
    }
    match merge_new_range(&f.tree, &mut vmg) {
        Some(merged) => merged,
        None => f.tree.insert(Vma::new(start, end, start / PAGE_SIZE, RW)).expect("the range is free"),
    }
}

/// prev = [0, 4), next = [7, 11), a 3-page hole between them.
const NEW_SITE: &[(u64, u64, VmFlags)] = &[(0, 4, RW), (7, 4, RW)];

const MERGE_NEW: [Case; 5] = [
    // PPPP+...NNNN  ->  PPPPP..NNNN
    Case {
        name: "prev",
        site: NEW_SITE,
        spare: (5, 1),
        op: |f| map_new(f, 4, 5),
        undo: |f, _| unmap(f, f.at(4), f.at(5)),
        expect: (0, 5, 0),
    },
    // PPPP...+NNNN  ->  PPPP..NNNNN
    Case {
        name: "next",
        site: NEW_SITE,
        spare: (5, 1),
        op: |f| map_new(f, 6, 7),
        undo: |f, _| unmap(f, f.at(6), f.at(7)),
        expect: (6, 11, 0),
    },
    // PPPP+++NNNN  ->  PPPPPPPPPPP  (next deleted)
    Case {
        name: "both",
        site: NEW_SITE,
        spare: (5, 1),
        op: |f| map_new(f, 4, 7),
        undo: |f, _| unmap(f, f.at(4), f.at(7)),
        expect: (0, 11, -1),
    },
    // PPPP.+.NNNN  ->  PPPP.X.NNNN  (no merge: a new VMA is inserted)
    Case {
        name: "none_insert",
        site: NEW_SITE,
        spare: (5, 1),
        op: |f| map_new(f, 5, 6),
        undo: |f, _| unmap(f, f.at(5), f.at(6)),
        expect: (5, 6, 1),
    },
    // The same new page as none_insert, by one plain store.
    Case {
        name: "maple_store",
        site: NEW_SITE,
        spare: (5, 1),
        op: maple_store,
        undo: |f, _| unmap(f, f.at(5), f.at(6)),
        expect: (5, 6, 1),
    },
];

// ---------------------------------------------------------------------------------------------
// merge_existing: mprotect of [start, end) inside the VMA holding start: find it, then
// vma_modify (merge with the neighbours if possible, else split). The undo is the mprotect
// back, itself one of the other cases.

/// What mprotect does with the tree: find the VMA, then `vma_modify` to `flags`.
fn protect(f: &Fixture, first: u64, end: u64, flags: VmFlags) -> Arc<Vma> {
    let (start, end) = (f.at(first), f.at(end));
    let vma = f.tree.find(start).expect("mapped");
    vma_modify(&f.tree, &vma, start, end, VmaChange::Flags(flags)).expect("modify")
}

/// Undo of an existing-range case: `[first, end)` back to `RO`.
fn protect_back(f: &Fixture, first: u64, end: u64) {
    protect(f, first, end, RO);
}

const MERGE_EXISTING: [Case; 7] = [
    // PPPP[MMMM]NNNN  ->  PPPPPPPPPPPP  (middle and next deleted)
    Case {
        name: "both",
        site: &[(0, 4, RW), (4, 4, RO), (8, 4, RW)],
        spare: (4, 2),
        op: |f| protect(f, 4, 8, RW),
        undo: |f, _| protect_back(f, 4, 8),
        expect: (0, 12, -2),
    },
    // PPPP[MMMM]OOOO  ->  PPPPPPPPOOOO  (middle deleted; O never merges)
    Case {
        name: "left_full",
        site: &[(0, 4, RW), (4, 4, RO), (8, 4, OTHER)],
        spare: (4, 2),
        op: |f| protect(f, 4, 8, RW),
        undo: |f, _| protect_back(f, 4, 8),
        expect: (0, 8, -1),
    },
    // PPPP[MM]MMOOOO  ->  PPPPPPMMOOOO  (middle starts at the range's end)
    Case {
        name: "left_partial",
        site: &[(0, 4, RW), (4, 4, RO), (8, 4, OTHER)],
        spare: (4, 2),
        op: |f| protect(f, 4, 6, RW),
        undo: |f, _| protect_back(f, 4, 6),
        expect: (0, 6, 0),
    },
    // OOOO[MMMM]NNNN  ->  OOOONNNNNNNN  (middle deleted)
    Case {
        name: "right_full",
        site: &[(0, 4, OTHER), (4, 4, RO), (8, 4, RW)],
        spare: (4, 2),
        op: |f| protect(f, 4, 8, RW),
        undo: |f, _| protect_back(f, 4, 8),
        expect: (4, 12, -1),
    },
    // OOOOMM[MM]NNNN  ->  OOOOMMNNNNNN  (middle ends at the range's start)
    Case {
        name: "right_partial",
        site: &[(0, 4, OTHER), (4, 4, RO), (8, 4, RW)],
        spare: (4, 2),
        op: |f| protect(f, 6, 8, RW),
        undo: |f, _| protect_back(f, 6, 8),
        expect: (6, 12, 0),
    },
    // OOOOM[MM]MOOOO  ->  OOOOMXXMOOOO  (no merge: split in three, two transactions)
    Case {
        name: "none_split3",
        site: &[(0, 4, OTHER), (4, 4, RO), (8, 4, OTHER)],
        spare: (4, 2),
        op: |f| protect(f, 5, 7, RW),
        undo: |f, _| protect_back(f, 5, 7),
        expect: (5, 7, 2),
    },
    // One store of a 2-page RW version over the first half of the middle VMA (the maple
    // range splits in two); the undo stores the original back over its range.
    Case {
        name: "maple_store",
        site: &[(0, 4, OTHER), (4, 4, RO), (8, 4, OTHER)],
        spare: (4, 2),
        op: maple_store,
        undo: |f, _| restore(f, f.tree.find(f.at(6)).expect("mapped"), 1),
        expect: (4, 6, 1),
    },
];

// ---------------------------------------------------------------------------------------------
// split: split_vma of an 8-page VMA in the middle (the original keeps the lower half).

const SPLIT_SITE: &[(u64, u64, VmFlags)] = &[(0, 8, RW)];

const SPLIT: [Case; 2] = [
    // VVVVVVVV  ->  VVVV|nnnn
    Case {
        name: "split_vma",
        site: SPLIT_SITE,
        spare: (4, 4),
        op: |f| {
            let vma = f.tree.find(f.at(0)).expect("mapped");
            split_vma(&f.tree, &vma, f.at(4), false).expect("split").1
        },
        undo: |f, _| {
            let lower = f.tree.find(f.at(0)).expect("mapped");
            restore(f, Arc::new(lower.resized(f.at(0), f.at(8))), 1);
        },
        expect: (4, 8, 1),
    },
    // One store of a new VMA over the upper half (the maple range splits in two).
    Case {
        name: "maple_store",
        site: SPLIT_SITE,
        spare: (4, 4),
        op: maple_store,
        undo: |f, _| restore(f, f.tree.find(f.at(0)).expect("mapped"), 1),
        expect: (4, 8, 1),
    },
];

fn merge_new(c: &mut Criterion) {
    run_group(c, "merge_new", &MERGE_NEW);
}

fn merge_existing(c: &mut Criterion) {
    run_group(c, "merge_existing", &MERGE_EXISTING);
}

fn split(c: &mut Criterion) {
    run_group(c, "split", &SPLIT);
}

criterion_group!(benches, merge_new, merge_existing, split);
criterion_main!(benches);
