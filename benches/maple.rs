//! Criterion benchmarks of the `maple` range tree against its peers.
//!
//! One group per question: `lookup` (random containing-range lookups at 10^3..10^6 ranges,
//! maple vs `BTreeMap`, `rangemap`, `scc::TreeIndex`, `crossbeam_skiplist::SkipMap`),
//! `iterate` (full forward and reverse iteration), `gap` (lowest and highest free window),
//! `store` (exact-fit overwrite, three-way split, erase/insert churn) and `build` (bulk build,
//! random inserts, clone). See `docs/benchmarks.md` for what each one measures and how to run
//! them.
//!
//! Every input is drawn from a fixed-seed PRNG, so runs are comparable. Fixtures are built
//! lazily the first time a benchmark needs them, so a filter (`cargo bench --bench maple --
//! lookup/maple`) builds only what it runs.

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::ops::Bound;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BatchSize, BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use maple::{Range, Tree};

mod support;
use support::{
    btree_batch, btree_collect, btree_random, fold, maple_batch, maple_random, maple_sorted, rangemap_random,
    scc_batch, scc_random, Layout, PAGE,
};

/// Lookups per measured iteration (one snapshot or guard held across them).
const BATCH: usize = 1000;
/// Tree sizes of the lookup group.
const LOOKUP_SIZES: [usize; 4] = [1_000, 10_000, 100_000, 1_000_000];
/// Distinct addresses the cold lookups cycle through (a multiple of the batch).
const COLD_ADDRESSES: usize = (1 << 20) / BATCH * BATCH;
/// Tree size of the iterate and store groups.
const SMALL: usize = 10_000;
/// Tree sizes of the gap group.
const GAP_SIZES: [usize; 2] = [10_000, 100_000];
/// Tree size of the build group.
const BUILD: usize = 100_000;
/// The common gap-search size, in pages: most gaps (0-64 pages) fit it.
const COMMON_PAGES: u64 = 16;
/// The rare gap-search size, in pages: larger than any random gap, so only the one hole
/// planted in the middle of the layout fits it.
const RARE_PAGES: u64 = 128;
/// Targets drawn for the mutating benchmarks (cycled through).
const TARGETS: usize = 4096;

const LAYOUT_SEED: u64 = 0x6d61_706c_6521;
const ADDRESS_SEED: u64 = 0xadd5;
const TARGET_SEED: u64 = 0x007a_46e7;

// ---------------------------------------------------------------------------------------------
// lookup

/// The crossbeam skiplist peer: keyed by range end, value (range start, value).
type SkipMap = crossbeam_skiplist::SkipMap<u64, (u64, u64)>;

fn skipmap_random(layout: &Layout) -> SkipMap {
    let map = SkipMap::new();
    for (first, last, value) in layout.shuffled() {
        map.insert(last, (first, value));
    }
    map
}

#[inline]
fn maple_pin_each_batch(tree: &Tree<u64>, addrs: &[u64]) -> u64 {
    addrs.iter().fold(0, |acc, &addr| {
        let snap = tree.snapshot();
        let entry = snap.load(addr);
        fold(acc, entry.value.map(|v| (entry.range.first, entry.range.last, *v)))
    })
}

#[inline]
fn rangemap_batch(map: &rangemap::RangeMap<u64, u64>, addrs: &[u64]) -> u64 {
    addrs.iter().fold(0, |acc, &addr| fold(acc, map.get_key_value(&addr).map(|(r, v)| (r.start, r.end - 1, *v))))
}

#[inline]
fn skipmap_batch(map: &SkipMap, addrs: &[u64]) -> u64 {
    addrs.iter().fold(0, |acc, &addr| {
        let found = map.lower_bound(Bound::Included(&addr)).and_then(|entry| {
            let (first, value) = *entry.value();
            (first <= addr).then_some((first, *entry.key(), value))
        });
        fold(acc, found)
    })
}

fn lookup(c: &mut Criterion) {
    let mut group = c.benchmark_group("lookup");
    group.throughput(Throughput::Elements(BATCH as u64));
    for n in LOOKUP_SIZES {
        let layout = Layout::random(n, LAYOUT_SEED ^ n as u64);
        let addrs = layout.addresses(BATCH, ADDRESS_SEED ^ n as u64);
        // The BTreeMap gives the reference answer; every other peer is checked against it
        // once, when it is built.
        let btree_cell = OnceCell::new();
        let btree = || btree_cell.get_or_init(|| btree_random(&layout));
        let expect = || btree_batch(btree(), &addrs);

        let maple_cell = OnceCell::new();
        let maple = || {
            maple_cell.get_or_init(|| {
                let tree = maple_random(&layout);
                assert_eq!(maple_batch(&tree.snapshot(), &addrs), expect(), "maple disagrees");
                tree
            })
        };
        group.bench_function(BenchmarkId::new("maple", n), |b| {
            let tree = maple();
            b.iter(|| maple_batch(&tree.snapshot(), black_box(&addrs)))
        });
        group.bench_function(BenchmarkId::new("maple_pin_each", n), |b| {
            let tree = maple();
            b.iter(|| maple_pin_each_batch(tree, black_box(&addrs)))
        });
        group.bench_function(BenchmarkId::new("btreemap", n), |b| {
            let map = btree();
            b.iter(|| btree_batch(map, black_box(&addrs)))
        });

        // Cold paths: each batch is the next 1000 of a million distinct addresses, so the
        // paths a batch walks were not walked just before.
        let cold = layout.addresses(COLD_ADDRESSES, ADDRESS_SEED ^ COLD_ADDRESSES as u64 ^ n as u64);
        let mut next = 0;
        let mut batch = || {
            let at = next;
            next = (next + BATCH) % COLD_ADDRESSES;
            &cold[at..at + BATCH]
        };
        group.bench_function(BenchmarkId::new("maple_cold", n), |b| {
            let tree = maple();
            b.iter(|| maple_batch(&tree.snapshot(), black_box(batch())))
        });
        group.bench_function(BenchmarkId::new("btreemap_cold", n), |b| {
            let map = btree();
            b.iter(|| btree_batch(map, black_box(batch())))
        });
        drop(maple_cell);

        // Both trees bulk-built from the sorted ranges (full nodes, laid out in order): how
        // much of the difference above is the fill that random inserts leave.
        let sorted_cell = OnceCell::new();
        group.bench_function(BenchmarkId::new("maple_from_sorted", n), |b| {
            let tree = sorted_cell.get_or_init(|| {
                let tree = maple_sorted(&layout);
                assert_eq!(maple_batch(&tree.snapshot(), &addrs), expect(), "maple (sorted) disagrees");
                tree
            });
            b.iter(|| maple_batch(&tree.snapshot(), black_box(&addrs)))
        });
        drop(sorted_cell);
        let collect_cell = OnceCell::new();
        group.bench_function(BenchmarkId::new("btreemap_collect", n), |b| {
            let map = collect_cell.get_or_init(|| btree_collect(&layout));
            b.iter(|| btree_batch(map, black_box(&addrs)))
        });
        drop(collect_cell);

        let rangemap_cell = OnceCell::new();
        group.bench_function(BenchmarkId::new("rangemap", n), |b| {
            let map = rangemap_cell.get_or_init(|| {
                let map = rangemap_random(&layout);
                assert_eq!(rangemap_batch(&map, &addrs), expect(), "rangemap disagrees");
                map
            });
            b.iter(|| rangemap_batch(map, black_box(&addrs)))
        });
        drop(rangemap_cell);

        let scc_cell = OnceCell::new();
        group.bench_function(BenchmarkId::new("scc_treeindex", n), |b| {
            let index = scc_cell.get_or_init(|| {
                let index = scc_random(&layout);
                assert_eq!(scc_batch(&index, &addrs), expect(), "scc disagrees");
                index
            });
            b.iter(|| scc_batch(index, black_box(&addrs)))
        });
        drop(scc_cell);

        let skipmap_cell = OnceCell::new();
        group.bench_function(BenchmarkId::new("crossbeam_skipmap", n), |b| {
            let map = skipmap_cell.get_or_init(|| {
                let map = skipmap_random(&layout);
                assert_eq!(skipmap_batch(&map, &addrs), expect(), "skipmap disagrees");
                map
            });
            b.iter(|| skipmap_batch(map, black_box(&addrs)))
        });
    }
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// iterate

fn iterate(c: &mut Criterion) {
    let mut group = c.benchmark_group("iterate");
    group.throughput(Throughput::Elements(SMALL as u64));
    let layout = Layout::random(SMALL, LAYOUT_SEED ^ SMALL as u64);
    let maple_cell = OnceCell::new();
    let maple = || {
        maple_cell.get_or_init(|| {
            let tree = maple_random(&layout);
            assert_eq!(tree.snapshot().iter().count(), SMALL);
            tree
        })
    };
    let btree_cell = OnceCell::new();
    let btree = || btree_cell.get_or_init(|| btree_random(&layout));
    let sum = |acc: u64, first: u64, value: u64| acc.wrapping_add(first ^ value);

    group.bench_function(BenchmarkId::new("maple_forward", SMALL), |b| {
        let tree = maple();
        b.iter(|| tree.snapshot().iter().fold(0, |acc, (r, v)| sum(acc, r.first, *v)))
    });
    group.bench_function(BenchmarkId::new("btreemap_forward", SMALL), |b| {
        let map = btree();
        b.iter(|| map.iter().fold(0, |acc, (first, (_, v))| sum(acc, *first, *v)))
    });
    group.bench_function(BenchmarkId::new("maple_reverse", SMALL), |b| {
        let tree = maple();
        b.iter(|| tree.snapshot().iter().rev().fold(0, |acc, (r, v)| sum(acc, r.first, *v)))
    });
    group.bench_function(BenchmarkId::new("btreemap_reverse", SMALL), |b| {
        let map = btree();
        b.iter(|| map.iter().rev().fold(0, |acc, (first, (_, v))| sum(acc, *first, *v)))
    });
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// gap

/// The lowest window of `size` empty indexes in `within`, by a linear scan of the BTreeMap.
fn btree_lowest_gap(map: &BTreeMap<u64, (u64, u64)>, within: Range, size: u64) -> Option<Range> {
    let mut free = within.first; // the first index not yet known to be taken
    for (&first, &(last, _)) in map.range(within.first..) {
        if first > free && first - free >= size {
            break;
        }
        free = free.max(last.saturating_add(1));
    }
    let last = free.checked_add(size - 1)?;
    (last <= within.last).then_some(Range { first: free, last })
}

/// The highest window of `size` empty indexes in `within`, by a linear reverse scan.
fn btree_highest_gap(map: &BTreeMap<u64, (u64, u64)>, within: Range, size: u64) -> Option<Range> {
    let mut free = within.last; // the last index not yet known to be taken
    for (&first, &(last, _)) in map.range(..=within.last).rev() {
        if last < free && free - last >= size {
            break;
        }
        free = free.min(first.saturating_sub(1));
    }
    let first = free.checked_sub(size - 1)?;
    (first >= within.first).then_some(Range { first, last: free })
}

fn gap(c: &mut Criterion) {
    let mut group = c.benchmark_group("gap");
    group.throughput(Throughput::Elements(1));
    for n in GAP_SIZES {
        let layout = Layout::with_hole(n, LAYOUT_SEED ^ n as u64, RARE_PAGES);
        let within = layout.span();
        let btree_cell = OnceCell::new();
        let btree = || btree_cell.get_or_init(|| btree_random(&layout));
        let maple_cell = OnceCell::new();
        let maple = || {
            maple_cell.get_or_init(|| {
                let tree = maple_random(&layout);
                let snap = tree.snapshot();
                for pages in [COMMON_PAGES, RARE_PAGES] {
                    let size = pages * PAGE;
                    assert_eq!(snap.lowest_gap(within, size).ok(), btree_lowest_gap(btree(), within, size));
                    assert_eq!(snap.highest_gap(within, size).ok(), btree_highest_gap(btree(), within, size));
                }
                drop(snap);
                tree
            })
        };
        for (label, pages) in [("common", COMMON_PAGES), ("rare", RARE_PAGES)] {
            let size = pages * PAGE;
            group.bench_function(BenchmarkId::new(format!("maple_lowest_{label}"), n), |b| {
                let tree = maple();
                b.iter(|| tree.snapshot().lowest_gap(black_box(within), black_box(size)))
            });
            group.bench_function(BenchmarkId::new(format!("maple_highest_{label}"), n), |b| {
                let tree = maple();
                b.iter(|| tree.snapshot().highest_gap(black_box(within), black_box(size)))
            });
            group.bench_function(BenchmarkId::new(format!("btreemap_scan_lowest_{label}"), n), |b| {
                let map = btree();
                b.iter(|| btree_lowest_gap(map, black_box(within), black_box(size)))
            });
            group.bench_function(BenchmarkId::new(format!("btreemap_scan_highest_{label}"), n), |b| {
                let map = btree();
                b.iter(|| btree_highest_gap(map, black_box(within), black_box(size)))
            });
        }
    }
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// store

/// `TARGETS` ranges drawn among those that satisfy `keep`, as `(first, last, value)`.
fn targets(layout: &Layout, keep: impl Fn(u64, u64) -> bool) -> Vec<(u64, u64, u64)> {
    let picks = layout.picks(TARGETS, TARGET_SEED, keep);
    picks.iter().map(|&i| (layout.ranges[i].0, layout.ranges[i].1, i as u64)).collect()
}

/// Benchmarks a self-restoring mutation: `op` applied to the next target (cycling) must leave
/// the fixture as it found it, so every iteration sees the same tree. The fixture is built at
/// first use (not at all when filtered out), and `check`ed once the benchmark is done.
fn bench_restoring<S>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: BenchmarkId,
    targets: &[(u64, u64, u64)],
    build: impl Fn() -> S,
    check: impl Fn(&S),
    mut op: impl FnMut(&mut S, (u64, u64, u64)),
) {
    let mut fixture = None;
    let mut next = 0;
    group.bench_function(id, |b| {
        let state = fixture.get_or_insert_with(&build);
        b.iter(|| {
            let target = black_box(targets[next]);
            next = (next + 1) % targets.len();
            op(state, target)
        })
    });
    if let Some(state) = &fixture {
        check(state);
    }
}

/// Marks the middle page of a split, so no merge with the neighbours can happen.
const SPLIT_VALUE: u64 = u64::MAX;

fn store(c: &mut Criterion) {
    let mut group = c.benchmark_group("store");
    let n = SMALL;
    let layout = Layout::random(n, LAYOUT_SEED ^ n as u64);
    let maple = || maple_random(&layout);
    let btree = || btree_random(&layout);
    let check = |tree: &Tree<u64>| {
        let snap = tree.snapshot();
        snap.validate().expect("valid after the benchmark");
        let now = snap.iter().map(|(r, v)| (r.first, r.last, *v));
        assert!(now.eq(layout.sorted().map(|(r, v)| (r.first, r.last, v))), "not restored");
    };
    let check_btree = |map: &BTreeMap<u64, (u64, u64)>| assert!(map == &btree_collect(&layout), "not restored");
    let any = targets(&layout, |_, _| true);
    let splittable = targets(&layout, |first, last| last - first + 1 >= 3 * PAGE);

    // Exact fit: store a range's own value over exactly that range (an overwrite in place).
    group.throughput(Throughput::Elements(1));
    bench_restoring(
        &mut group,
        BenchmarkId::new("maple_mut_exact", n),
        &any,
        maple,
        check,
        |tree, (first, last, value)| tree.store(first, last, value).unwrap(),
    );
    bench_restoring(
        &mut group,
        BenchmarkId::new("maple_txn_exact", n),
        &any,
        maple,
        check,
        |tree, (first, last, value)| {
            let mut txn = tree.transaction();
            txn.store(first, last, value).unwrap();
            txn.commit();
        },
    );
    bench_restoring(
        &mut group,
        BenchmarkId::new("btreemap_exact", n),
        &any,
        btree,
        check_btree,
        |map, (first, last, value)| {
            map.insert(first, (last, value));
        },
    );

    // Split: store one page inside a range of 3+ pages (one range becomes three), then store
    // the original range back (three become one). Two stores per iteration.
    group.throughput(Throughput::Elements(2));
    bench_restoring(
        &mut group,
        BenchmarkId::new("maple_mut_split", n),
        &splittable,
        maple,
        check,
        |tree, (first, last, value)| {
            tree.store(first + PAGE, first + 2 * PAGE - 1, SPLIT_VALUE).unwrap();
            tree.store(first, last, value).unwrap();
        },
    );
    bench_restoring(
        &mut group,
        BenchmarkId::new("maple_txn_split", n),
        &splittable,
        maple,
        check,
        |tree, (first, last, value)| {
            let mut txn = tree.transaction();
            txn.store(first + PAGE, first + 2 * PAGE - 1, SPLIT_VALUE).unwrap();
            txn.commit();
            let mut txn = tree.transaction();
            txn.store(first, last, value).unwrap();
            txn.commit();
        },
    );
    // The same range-map semantics by hand: trim the range, add the middle and the tail; then
    // remove both and restore the end.
    bench_restoring(
        &mut group,
        BenchmarkId::new("btreemap_split", n),
        &splittable,
        btree,
        check_btree,
        |map, (first, last, value)| {
            map.insert(first, (first + PAGE - 1, value));
            map.insert(first + PAGE, (first + 2 * PAGE - 1, SPLIT_VALUE));
            map.insert(first + 2 * PAGE, (last, value));
            map.remove(&(first + PAGE));
            map.remove(&(first + 2 * PAGE));
            map.insert(first, (last, value));
        },
    );

    // Churn: erase a range, then insert it again. Two operations per iteration.
    bench_restoring(
        &mut group,
        BenchmarkId::new("maple_mut_churn", n),
        &any,
        maple,
        check,
        |tree, (first, last, value)| {
            tree.erase(first).unwrap();
            tree.insert(first, last, value).unwrap();
        },
    );
    bench_restoring(
        &mut group,
        BenchmarkId::new("maple_txn_churn", n),
        &any,
        maple,
        check,
        |tree, (first, last, value)| {
            let mut txn = tree.transaction();
            txn.erase(first).unwrap();
            txn.commit();
            let mut txn = tree.transaction();
            txn.insert(first, last, value).unwrap();
            txn.commit();
        },
    );
    bench_restoring(
        &mut group,
        BenchmarkId::new("btreemap_churn", n),
        &any,
        btree,
        check_btree,
        |map, (first, last, value)| {
            map.remove(&first);
            map.insert(first, (last, value));
        },
    );
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// build

fn build(c: &mut Criterion) {
    let mut group = c.benchmark_group("build");
    group.throughput(Throughput::Elements(BUILD as u64));
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(10));
    let layout = Layout::random(BUILD, LAYOUT_SEED ^ BUILD as u64);
    let n = BUILD;

    // Built values are dropped outside the measurement (one per iteration).
    group.bench_function(BenchmarkId::new("maple_from_sorted", n), |b| {
        b.iter_batched(|| (), |()| maple_sorted(black_box(&layout)), BatchSize::PerIteration)
    });
    group.bench_function(BenchmarkId::new("btreemap_collect", n), |b| {
        b.iter_batched(|| (), |()| btree_collect(black_box(&layout)), BatchSize::PerIteration)
    });
    group.bench_function(BenchmarkId::new("maple_random_insert", n), |b| {
        b.iter_batched(|| (), |()| maple_random(black_box(&layout)), BatchSize::PerIteration)
    });
    group.bench_function(BenchmarkId::new("btreemap_random_insert", n), |b| {
        b.iter_batched(|| (), |()| btree_random(black_box(&layout)), BatchSize::PerIteration)
    });
    // Clone of a tree built by random inserts (the shape a long-lived address space has).
    let maple_cell = OnceCell::new();
    group.bench_function(BenchmarkId::new("maple_clone", n), |b| {
        let tree = maple_cell.get_or_init(|| maple_random(&layout));
        b.iter_batched(|| (), |()| tree.clone(), BatchSize::PerIteration)
    });
    let btree_cell = OnceCell::new();
    group.bench_function(BenchmarkId::new("btreemap_clone", n), |b| {
        let map = btree_cell.get_or_init(|| btree_random(&layout));
        b.iter_batched(|| (), |()| map.clone(), BatchSize::PerIteration)
    });
    group.finish();
}

criterion_group!(benches, lookup, iterate, gap, store, build);
criterion_main!(benches);
