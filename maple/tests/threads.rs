//! The reader contract under real threads (docs/concurrency.md, section 1): every snapshot a reader
//! takes shows one committed state, whole, through full iterations in both directions,
//! point lookups and gap searches, while a writer commits multi-range transactions; and
//! values a transaction replaces are dropped once no snapshot can reach them, each exactly
//! once.
//!
//! The writer's states are a deterministic function of the version number, worked out
//! beforehand on the reference model in `common`; every value the transaction of version
//! `v` writes carries `v`, and each transaction stamps `v` into a marker at `u64::MAX`, so
//! a reader knows which state its snapshot must equal exactly.

#![cfg(not(loom))]

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use crossbeam_epoch::Collector;
use maple::{Range, Tree, View};

#[allow(dead_code)]
mod common;

use common::{apply_model, apply_txn, content, size, SplitMix};

/// A value: the version of the transaction that wrote it, and which write of it.
type Value = (u64, u64);
/// Every range of a state, empty ones included, in index order.
type Content = common::Content<Value>;
/// The reference: the ranges holding a value.
type Model = common::Model<Value>;
type Op = common::Op<Value>;

/// The id of the marker value at `[u64::MAX, u64::MAX]`.
const MARKER: u64 = u64::MAX;
/// The writes land in `[0, SPACE)`. (Under Miri, where every write and walk costs a thousand
/// times more and the readers share one interpreter with the writer, a tenth of the space and
/// 16 initial ranges.)
const SPACE: u64 = size(20_000, 2_000);
/// How many ranges version 0 holds.
const INITIAL: u64 = size(400, 16);

/// The range of `content` holding `index`.
fn at(content: &Content, index: u64) -> (u64, u64, Option<Value>) {
    content[content.partition_point(|(first, _, _)| *first <= index) - 1]
}

/// The lowest window of `size` in `within` among the empty ranges of `content`.
fn lowest_gap(content: &Content, within: Range, size: u64) -> Option<Range> {
    content.iter().filter(|(_, _, v)| v.is_none()).find_map(|&(f, l, _)| {
        let (f, l) = (f.max(within.first), l.min(within.last));
        (f <= l && l - f >= size - 1).then(|| Range { first: f, last: f + size - 1 })
    })
}

/// The writes of version `v`: two to six of them, each over part of an entry, an entry,
/// several entries or many nodes, then the marker. A function of `v` alone.
fn ops_of(v: u64) -> Vec<Op> {
    let mut rng = SplitMix(v.wrapping_mul(0x1000_0000_01b3));
    let count = 2 + rng.below(5);
    let mut ops = Vec::new();
    for k in 0..count {
        let first = rng.below(SPACE);
        let len = [0, 2, 9, 60, 400, 3000][rng.below(6) as usize];
        let last = (first + len).min(SPACE - 1);
        ops.push(match rng.below(10) {
            0..=5 => Op::Store(first, last, (v, k)),
            6..=8 => Op::Clear(first, last),
            _ => Op::Erase(first),
        });
    }
    ops.push(Op::Store(u64::MAX, u64::MAX, (v, MARKER)));
    ops
}

/// Version 0: INITIAL ranges `[50i, 50i + 29]`, and the marker.
fn initial(tree: &mut Tree<Value>, model: &mut Model) {
    for i in 0..INITIAL {
        tree.store(50 * i, 50 * i + 29, (0, i)).unwrap();
        model.store(50 * i, 50 * i + 29, Some((0, i)));
    }
    tree.store(u64::MAX, u64::MAX, (0, MARKER)).unwrap();
    model.store(u64::MAX, u64::MAX, Some((0, MARKER)));
}

/// The content of every state `0..=versions`, worked out on the model.
fn states(versions: u64) -> Vec<Content> {
    let mut model = Model::default();
    initial(&mut Tree::new(), &mut model);
    let mut out = vec![model.content()];
    for v in 1..=versions {
        for op in ops_of(v) {
            apply_model(&mut model, op).unwrap();
        }
        out.push(model.content());
    }
    out
}

/// The version a snapshot shows, by its marker.
fn version(view: &View<'_, Value>) -> u64 {
    let marker = view.get(u64::MAX).expect("every state has a marker");
    assert_eq!(marker.1, MARKER);
    marker.0
}

/// What readers saw: checks made, and the distinct versions observed.
#[derive(Default)]
struct Seen {
    checks: AtomicUsize,
    versions: Mutex<BTreeSet<u64>>,
}

/// One reader's side of the handshake: the last version it has recorded, plus one (0 before
/// its first check), and whether it is gone.
#[derive(Default)]
struct Slot {
    recorded: AtomicU64,
    gone: AtomicBool,
}

impl Slot {
    /// Called by the reader once it has checked and recorded a snapshot of version `v`.
    fn record(&self, v: u64) {
        self.recorded.store(v + 1, Ordering::Release);
    }

    /// Waits until the reader has recorded version `v` or a later one, or is gone. Called by
    /// the writer right after committing `v` (or before its first commit, for `v` = 0) and
    /// before committing anything more, so the version the reader records is exactly `v`. A
    /// reader checks snapshot after snapshot until the writer is done, so the wait ends; a
    /// reader that panicked is gone, and the scope reports its panic.
    fn wait_for(&self, v: u64) {
        while self.recorded.load(Ordering::Acquire) <= v && !self.gone.load(Ordering::Acquire) {
            thread::yield_now();
        }
    }
}

/// Sets its flag when dropped: on a normal return, or while unwinding from a failed assertion.
/// A reader holds one for its slot's `gone`, so that the writer stops waiting for it; the writer
/// holds one for `done`, so that the readers stop if the writer panics (the scope then reports
/// the panic instead of waiting forever for readers that wait for `done`).
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

#[test]
fn readers_see_whole_committed_states_only() {
    const VERSIONS: u64 = size(600, 4);
    /// Every STEP-th version, the writer waits until one reader, in turn, has recorded it.
    const STEP: u64 = size(20, 2);
    const READERS: usize = 4;
    let expected = states(VERSIONS);
    let mut tree = Tree::new();
    initial(&mut tree, &mut Model::default());
    assert_eq!(content(&tree.snapshot()), expected[0]);

    let done = AtomicBool::new(false);
    let seen = Seen::default();
    let slots: Vec<Slot> = (0..READERS).map(|_| Slot::default()).collect();
    thread::scope(|s| {
        s.spawn(|| {
            let _done = SetOnDrop(&done);
            // Handshake, not hope: every reader has checked version 0 before the first commit,
            // and after every STEP-th commit one reader, in turn, checks that version before
            // the writer goes on. So the readers provably see 1 + VERSIONS / STEP distinct
            // states, however the threads are scheduled.
            for slot in &slots {
                slot.wait_for(0);
            }
            for v in 1..=VERSIONS {
                let mut txn = tree.transaction();
                for op in ops_of(v) {
                    apply_txn(&mut txn, op).unwrap();
                }
                txn.commit();
                if v % STEP == 0 {
                    // Published: a snapshot taken from now on shows `v` (were it not, the
                    // reader below would wait for it forever).
                    assert_eq!(version(&tree.snapshot()), v, "the commit of {v} is not visible");
                    slots[(v / STEP) as usize % READERS].wait_for(v);
                }
            }
        });
        for (reader, slot) in slots.iter().enumerate() {
            let (tree, expected, seen, done) = (&tree, &expected, &seen, &done);
            s.spawn(move || {
                let _gone = SetOnDrop(&slot.gone);
                let mut rng = SplitMix(reader as u64 + 1);
                let mut last = 0;
                loop {
                    // Read the flag first: a snapshot taken after it is set is the last state.
                    let finished = done.load(Ordering::Acquire);
                    let snap = tree.snapshot();
                    let v = version(&snap);
                    assert!(v >= last, "reader {reader}: version {v} after {last}");
                    last = v;
                    let want = &expected[v as usize];
                    match reader {
                        0 => {
                            // Full forward walk over every range, empty ones included.
                            assert_eq!(&content(&snap), want, "reader {reader}, version {v}");
                        }
                        1 => {
                            // Full reverse walk over the values.
                            let back: Vec<(u64, u64, Value)> =
                                snap.iter().rev().map(|(range, value)| (range.first, range.last, *value)).collect();
                            let values: Vec<(u64, u64, Value)> =
                                want.iter().rev().filter_map(|&(f, l, v)| Some((f, l, v?))).collect();
                            assert_eq!(back, values, "reader {reader}, version {v}");
                        }
                        2 => {
                            // Point lookups, all through one snapshot.
                            for _ in 0..size(300, 12) {
                                let index = rng.below(SPACE + 10);
                                let entry = snap.load(index);
                                let got = (entry.range.first, entry.range.last, entry.value.copied());
                                assert_eq!(got, at(want, index), "reader {reader}, version {v}, index {index}");
                                assert_eq!(snap.get(index).copied(), at(want, index).2);
                            }
                        }
                        _ => {
                            // Gap searches and a structural check of the state seen.
                            for size in [1, 2, 10, 50, 300] {
                                let within = Range { first: rng.below(SPACE), last: SPACE + 1000 };
                                assert_eq!(snap.lowest_gap(within, size).ok(), lowest_gap(want, within, size));
                            }
                            snap.validate().unwrap_or_else(|e| panic!("reader {reader}, version {v}: {e}"));
                        }
                    }
                    seen.versions.lock().unwrap().insert(v);
                    seen.checks.fetch_add(1, Ordering::Relaxed);
                    slot.record(v);
                    if finished {
                        assert_eq!(v, VERSIONS, "the last snapshot shows the last commit");
                        break;
                    }
                }
            });
        }
    });
    // Guaranteed by the handshakes: a check of version 0 by every reader, one of each
    // STEP-th version, and each reader's last check, of the last version.
    let waits = (VERSIONS / STEP) as usize;
    assert!(seen.checks.load(Ordering::Relaxed) >= 2 * READERS + waits);
    let distinct = seen.versions.lock().unwrap().len();
    assert!(distinct > waits, "readers saw {distinct} distinct states, expected at least {}", 1 + waits);
    assert_eq!(content(&tree.snapshot()), expected[VERSIONS as usize]);
}

/// Layout of version `v` of the whole-tree test: even versions hold `[10i, 10i + 4]`, odd
/// ones `[10i + 3, 10i + 8]` without every seventh; all values carry `v`.
fn layout(v: u64) -> Vec<(u64, u64, Value)> {
    (0..ENTRIES)
        .filter(|i| v % 2 == 0 || i % 7 != 0)
        .map(|i| if v % 2 == 0 { (10 * i, 10 * i + 4, (v, i)) } else { (10 * i + 3, 10 * i + 8, (v, i)) })
        .collect()
}

/// Entries of a layout: enough for a tree three levels high (16 slots a leaf, 10 a branch);
/// under Miri, where a version's transaction of some 25 writes takes seconds and the readers
/// share the interpreter with the writer, two leaves.
const ENTRIES: u64 = size(600, 8);

#[test]
fn whole_tree_overwrites_are_seen_old_or_new() {
    const VERSIONS: u64 = size(60, 6);
    // (Two under Miri, which interprets the readers' walks too, in turn with the writer's.)
    const READERS: u64 = size(3, 2);
    let tree = Tree::new();
    {
        let mut txn = tree.transaction();
        for (f, l, value) in layout(0) {
            txn.store(f, l, value).unwrap();
        }
        txn.commit();
    }
    let last_seen = AtomicU64::new(0);
    let changes = AtomicUsize::new(0);
    let done = AtomicBool::new(false);
    let slots: Vec<Slot> = (0..READERS).map(|_| Slot::default()).collect();
    thread::scope(|s| {
        s.spawn(|| {
            let _done = SetOnDrop(&done);
            for v in 1..=VERSIONS {
                let mut txn = tree.transaction();
                // Odd versions overwrite without clearing first: every old entry is cut,
                // half-covered or replaced; even versions start from nothing.
                if v % 2 == 0 {
                    txn.clear(0, u64::MAX).unwrap();
                } else {
                    txn.clear(10 * ENTRIES, u64::MAX).unwrap();
                }
                for (f, l, value) in layout(v) {
                    txn.store(f, l, value).unwrap();
                }
                if v % 2 == 1 {
                    // The even layout's entries the odd one does not cover go too.
                    for i in 0..ENTRIES {
                        txn.clear(10 * i, 10 * i + 2).unwrap();
                        if i % 7 == 0 {
                            txn.clear(10 * i, 10 * i + 9).unwrap();
                        }
                    }
                }
                txn.commit();
                // Handshake, not hope: reader `v % READERS` checks version `v` before the
                // writer goes on, so each reader provably sees VERSIONS / READERS distinct
                // versions; the others race the writer freely meanwhile.
                assert_eq!(tree.snapshot().iter().next().map(|(_, value)| value.0), Some(v));
                slots[(v % READERS) as usize].wait_for(v);
            }
        });
        for slot in &slots {
            let (tree, changes, last_seen, done) = (&tree, &changes, &last_seen, &done);
            s.spawn(move || {
                let _gone = SetOnDrop(&slot.gone);
                let mut previous = None;
                loop {
                    let finished = done.load(Ordering::Acquire);
                    let snap = tree.snapshot();
                    let values: Vec<(u64, u64, Value)> =
                        snap.iter().map(|(range, value)| (range.first, range.last, *value)).collect();
                    let v = values[0].2 .0;
                    assert_eq!(values, layout(v), "a snapshot mixes states");
                    if previous.is_some_and(|p| p != v) {
                        changes.fetch_add(1, Ordering::Relaxed);
                    }
                    previous = Some(v);
                    last_seen.fetch_max(v, Ordering::Relaxed);
                    slot.record(v);
                    if finished {
                        assert_eq!(v, VERSIONS);
                        break;
                    }
                }
            });
        }
    });
    assert_eq!(last_seen.load(Ordering::Relaxed), VERSIONS);
    // Each reader saw at least the VERSIONS / READERS versions it was waited for.
    let least = (READERS * (VERSIONS / READERS - 1)) as usize;
    let changes = changes.load(Ordering::Relaxed);
    assert!(changes >= least, "readers observed {changes} changes, expected at least {least}");
}

/// A value that counts how many instances of it exist.
struct Tracked {
    version: u64,
    live: &'static AtomicUsize,
}

impl Tracked {
    fn new(version: u64, live: &'static AtomicUsize) -> Self {
        live.fetch_add(1, Ordering::SeqCst);
        Tracked { version, live }
    }
}

impl Clone for Tracked {
    fn clone(&self) -> Self {
        Tracked::new(self.version, self.live)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Pins and flushes a handle of `collector` until `done` holds (at most `rounds` times).
fn drive(collector: &Collector, rounds: usize, done: impl Fn() -> bool) -> bool {
    let handle = collector.register();
    for _ in 0..rounds {
        if done() {
            return true;
        }
        handle.pin().flush();
    }
    done()
}

#[test]
fn replaced_values_are_dropped_once_when_readers_are_gone() {
    static LIVE: AtomicUsize = AtomicUsize::new(0);
    let collector = Collector::new();
    let tree = Tree::with_collector(collector.clone());
    let stop = AtomicBool::new(false);
    const VERSIONS: u64 = size(400, 8);
    thread::scope(|s| {
        s.spawn(|| {
            let mut rng = SplitMix(5);
            for v in 0..VERSIONS {
                let mut txn = tree.transaction();
                for _ in 0..4 {
                    let first = rng.below(5000);
                    let last = first + rng.below(200);
                    if rng.below(4) == 0 {
                        txn.clear(first, last).unwrap();
                    } else {
                        txn.store(first, last, Tracked::new(v, &LIVE)).unwrap();
                    }
                }
                txn.commit();
            }
            stop.store(true, Ordering::Release);
        });
        for _ in 0..3 {
            s.spawn(|| {
                while !stop.load(Ordering::Acquire) {
                    let snap = tree.snapshot();
                    // A snapshot holds values alive: every one of them is readable.
                    let newest = snap.iter().map(|(_, value)| value.version).max();
                    assert!(newest.unwrap_or(0) < VERSIONS);
                    assert!(LIVE.load(Ordering::SeqCst) >= snap.iter().count());
                }
            });
        }
    });
    let in_tree = tree.snapshot().validate().unwrap().values;
    assert!(in_tree > size(10, 5) as usize);
    // Every value the tree no longer holds is freed once the epoch moves on.
    let settled = drive(&collector, 10_000, || LIVE.load(Ordering::SeqCst) == in_tree);
    assert!(settled, "{} values alive, the tree holds {in_tree}", LIVE.load(Ordering::SeqCst));
    // And the tree's own values go with the tree and its collector: none twice, none leaked.
    drop(tree);
    drop(collector);
    assert_eq!(LIVE.load(Ordering::SeqCst), 0);
}

#[test]
fn a_snapshot_keeps_overwritten_values_alive() {
    let collector = Collector::new();
    let tree = Tree::with_collector(collector.clone());
    let old = Arc::new(1u64);
    let mut txn = tree.transaction();
    txn.store(0, 9, Arc::clone(&old)).unwrap();
    txn.store(20, 29, Arc::new(2)).unwrap();
    txn.commit();
    assert_eq!(Arc::strong_count(&old), 2);

    let snap = tree.snapshot();
    let mut txn = tree.transaction();
    txn.store(0, 9, Arc::new(10)).unwrap();
    txn.commit();
    assert_eq!(**tree.snapshot().get(5).unwrap(), 10);
    // The snapshot taken before still reads the old value, which must stay alive.
    assert!(Arc::ptr_eq(snap.get(5).unwrap(), &old));
    drive(&collector, 200, || false);
    assert!(Arc::strong_count(&old) >= 2, "freed under a live snapshot");
    assert!(Arc::ptr_eq(snap.get(5).unwrap(), &old));
    drop(snap);

    // With the snapshot gone, a few pins let the collector free it.
    let freed = drive(&collector, 10_000, || Arc::strong_count(&old) == 1);
    assert!(freed, "strong count stays {}", Arc::strong_count(&old));

    // Erased values go the same way; values still in the tree stay.
    let kept = Arc::clone(tree.snapshot().get(25).unwrap());
    let erased = Arc::clone(tree.snapshot().get(5).unwrap());
    assert_eq!(Arc::strong_count(&erased), 2);
    let mut txn = tree.transaction();
    txn.erase(5).unwrap();
    txn.commit();
    assert!(drive(&collector, 10_000, || Arc::strong_count(&erased) == 1));
    assert_eq!(Arc::strong_count(&kept), 2);
    drop(tree);
    drop(collector);
    assert_eq!(Arc::strong_count(&kept), 1);
}

#[test]
fn a_dropped_transaction_drops_its_own_values_at_once() {
    static LIVE: AtomicUsize = AtomicUsize::new(0);
    let collector = Collector::new();
    let tree = Tree::with_collector(collector.clone());
    let n = size(300, 30);
    let mut txn = tree.transaction();
    for i in 0..n {
        txn.store(10 * i, 10 * i + 5, Tracked::new(0, &LIVE)).unwrap();
    }
    txn.commit();
    assert_eq!(LIVE.load(Ordering::SeqCst), n as usize);
    {
        let mut txn = tree.transaction();
        for i in 0..n {
            txn.store(10 * i + 6, 10 * i + 7, Tracked::new(1, &LIVE)).unwrap();
        }
        // With n = 300: clears [0, 999], and at least 500 values are alive.
        txn.clear(0, 10 * n / 3 - 1).unwrap();
        assert!(LIVE.load(Ordering::SeqCst) >= (n * 5 / 3) as usize);
    }
    // Values only the transaction held are gone; published ones copied into its private
    // nodes were clones, gone too; the published values are untouched.
    assert_eq!(LIVE.load(Ordering::SeqCst), n as usize);
    assert_eq!(tree.snapshot().iter().filter(|(_, v)| v.version == 0).count(), n as usize);
    drop(tree);
    drop(collector);
    assert_eq!(LIVE.load(Ordering::SeqCst), 0);
}

/// Threads share one tree: it is `Send` and `Sync` for `Send + Sync` values.
#[test]
fn the_tree_is_send_and_sync() {
    fn shared<T: Send + Sync>() {}
    shared::<Tree<Value>>();
    shared::<Tree<Arc<String>>>();
    const EACH: u64 = size(50, 5);
    let tree = Arc::new(Tree::new());
    let handles: Vec<_> = (0..4u64)
        .map(|t| {
            let tree = Arc::clone(&tree);
            thread::spawn(move || {
                for i in 0..EACH {
                    let mut txn = tree.transaction();
                    txn.insert(t * 1000 + i * 10, t * 1000 + i * 10 + 4, (t, i)).unwrap();
                    txn.commit();
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    // Writers were serialised: all 4 * EACH inserts landed.
    let snap = tree.snapshot();
    assert_eq!(snap.validate().unwrap().values, 4 * EACH as usize);
    for t in 0..4u64 {
        for i in 0..EACH {
            assert_eq!(snap.get(t * 1000 + i * 10 + 2), Some(&(t, i)));
        }
    }
}
