//! loom models of the reader contract (docs/concurrency.md, section 1): a reader racing one commit sees
//! exactly the complete old state or the complete new state, through every lookup and a full
//! iteration of one snapshot, and the snapshot validates.
//!
//! Built only under `RUSTFLAGS="--cfg loom"` (see `scripts/loom.sh`); normal builds compile
//! this file to nothing. Each model builds a small tree with `&mut` methods before any loom
//! thread starts, then runs one writer transaction against one or two readers that take one
//! snapshot each. The expected old and new states are computed by a plain `Vec` reference
//! model, independently of the tree.
//!
//! Every node carries a loom-tracked witness cell that the writer marks when it fills the
//! node and readers mark on every visit, so a publication that is not `Release` (the
//! `--cfg maple_canary` build) makes loom report a causality violation: these models must
//! fail under the canary.

#![cfg(loom)]

use std::sync::atomic::{AtomicUsize, Ordering};

use loom::sync::Arc;
use loom::thread;
use maple::{Shape, Transaction, Tree};

/// A committed state as the reference model sees it: the ranges holding a value, in order.
type State = Vec<(u64, u64, u32)>;

/// One change, applied alike to the tree (in place or in a transaction) and to the reference.
#[derive(Clone, Copy, Debug)]
enum Op {
    Store(u64, u64, u32),
    Clear(u64, u64),
    Erase(u64),
}

/// The reference model: `[first, last]` gets `value` (or nothing), trimming its neighbours.
fn reference_store(state: &mut State, first: u64, last: u64, value: Option<u32>) {
    let mut out = State::new();
    for &(f, l, v) in state.iter() {
        if l < first || f > last {
            out.push((f, l, v));
            continue;
        }
        if f < first {
            out.push((f, first - 1, v));
        }
        if l > last {
            out.push((last + 1, l, v));
        }
    }
    if let Some(value) = value {
        out.push((first, last, value));
    }
    out.sort_unstable();
    *state = out;
}

fn reference_apply(state: &mut State, op: Op) {
    match op {
        Op::Store(first, last, value) => reference_store(state, first, last, Some(value)),
        Op::Clear(first, last) => reference_store(state, first, last, None),
        Op::Erase(index) => state.retain(|&(f, l, _)| !(f <= index && index <= l)),
    }
}

/// What `View::load(index)` must answer in `state`: the whole range holding `index` (empty
/// ranges are maximal) and its value.
fn reference_load(state: &State, index: u64) -> (u64, u64, Option<u32>) {
    if let Some(&(f, l, v)) = state.iter().find(|&&(f, l, _)| f <= index && index <= l) {
        return (f, l, Some(v));
    }
    let first = state.iter().filter(|&&(_, l, _)| l < index).map(|&(_, l, _)| l + 1).max().unwrap_or(0);
    let last = state.iter().filter(|&&(f, _, _)| f > index).map(|&(f, _, _)| f - 1).min().unwrap_or(u64::MAX);
    (first, last, None)
}

fn apply_mut(tree: &mut Tree<u32>, op: Op) {
    match op {
        Op::Store(first, last, value) => tree.store(first, last, value).unwrap(),
        Op::Clear(first, last) => tree.clear(first, last).unwrap(),
        Op::Erase(index) => {
            tree.erase(index).unwrap();
        }
    }
}

fn apply_txn(txn: &mut Transaction<'_, u32>, op: Op) {
    match op {
        Op::Store(first, last, value) => txn.store(first, last, value).unwrap(),
        Op::Clear(first, last) => txn.clear(first, last).unwrap(),
        Op::Erase(index) => {
            txn.erase(index).unwrap();
        }
    }
}

/// Every index worth looking up in either state: each range's ends and the indexes just
/// outside them, plus both ends of the index space.
fn interesting(old: &State, new: &State) -> Vec<u64> {
    let mut indexes = vec![0, u64::MAX];
    for &(f, l, _) in old.iter().chain(new.iter()) {
        indexes.extend([f, l, f.saturating_sub(1), l.saturating_add(1)]);
    }
    indexes.sort_unstable();
    indexes.dedup();
    indexes
}

/// One model: the tree `initial` builds, one transaction applying `change`, `readers`
/// readers; the tree's height before and after the commit must be as given.
struct Model {
    name: &'static str,
    initial: Vec<Op>,
    change: Vec<Op>,
    readers: usize,
    heights: (usize, usize),
}

/// How the readers of one model fared over the whole exploration.
#[derive(Default)]
struct Tally {
    iterations: AtomicUsize,
    saw_old: AtomicUsize,
    saw_new: AtomicUsize,
    /// The tree's shape before and after the commit (the same in every iteration).
    shapes: std::sync::Mutex<Option<(Shape, Shape)>>,
}

/// Takes one snapshot and checks it shows exactly `old` or exactly `new`, in every answer.
fn read_one_snapshot(tree: &Tree<u32>, old: &State, new: &State, indexes: &[u64], tally: &Tally) {
    let snap = tree.snapshot();
    let seen: State = snap.iter().map(|(range, value)| (range.first, range.last, *value)).collect();
    let state = if seen == *old {
        tally.saw_old.fetch_add(1, Ordering::Relaxed);
        old
    } else if seen == *new {
        tally.saw_new.fetch_add(1, Ordering::Relaxed);
        new
    } else {
        panic!("a snapshot iterated {seen:?}: neither the old state {old:?} nor the new {new:?}");
    };
    assert_eq!(snap.len(), state.len(), "len() disagrees with the iterated state");
    for &index in indexes {
        let expected = reference_load(state, index);
        assert_eq!(snap.get(index).copied(), expected.2, "get({index:#x}) disagrees with the iterated state");
        let entry = snap.load(index);
        assert_eq!(
            (entry.range.first, entry.range.last, entry.value.copied()),
            expected,
            "load({index:#x}) disagrees with the iterated state"
        );
    }
    snap.validate().unwrap_or_else(|invalid| panic!("a reader's snapshot is invalid: {invalid}"));
}

impl Model {
    fn check(self) {
        let mut old = State::new();
        for &op in &self.initial {
            reference_apply(&mut old, op);
        }
        let mut new = old.clone();
        for &op in &self.change {
            reference_apply(&mut new, op);
        }
        assert_ne!(old, new, "{}: the change must change something", self.name);
        let indexes = interesting(&old, &new);
        let model = std::sync::Arc::new((self, old, new, indexes));
        let tally = std::sync::Arc::new(Tally::default());

        let started = std::time::Instant::now();
        {
            let (model, tally) = (model.clone(), tally.clone());
            loom::model(move || {
                tally.iterations.fetch_add(1, Ordering::Relaxed);
                let (this, old, new, _) = &*model;

                let mut tree = Tree::new();
                for &op in &this.initial {
                    apply_mut(&mut tree, op);
                }
                let before = tree.snapshot().validate().unwrap();
                assert_eq!(before.height, this.heights.0, "{}: height of the initial tree", this.name);
                let tree = Arc::new(tree);

                let readers: Vec<_> = (0..this.readers)
                    .map(|_| {
                        let (tree, model, tally) = (tree.clone(), model.clone(), tally.clone());
                        thread::spawn(move || {
                            let (_, old, new, indexes) = &*model;
                            read_one_snapshot(&tree, old, new, indexes, &tally);
                        })
                    })
                    .collect();
                let writer = {
                    let (tree, model) = (tree.clone(), model.clone());
                    thread::spawn(move || {
                        let mut txn = tree.transaction();
                        for &op in &model.0.change {
                            apply_txn(&mut txn, op);
                        }
                        txn.commit();
                    })
                };
                writer.join().unwrap();
                for reader in readers {
                    reader.join().unwrap();
                }

                let snap = tree.snapshot();
                let state: State = snap.iter().map(|(range, value)| (range.first, range.last, *value)).collect();
                assert_eq!(state, *new, "{}: the state after the commit", this.name);
                assert_eq!(snap.len(), new.len(), "{}: len() after the commit", this.name);
                assert_ne!(state, *old);
                let after = snap.validate().unwrap();
                assert_eq!(after.height, this.heights.1, "{}: height after the commit", this.name);
                *tally.shapes.lock().unwrap() = Some((before, after));
            });
        }

        let (iterations, saw_old, saw_new) = (
            tally.iterations.load(Ordering::Relaxed),
            tally.saw_old.load(Ordering::Relaxed),
            tally.saw_new.load(Ordering::Relaxed),
        );
        let (before, after) = tally.shapes.lock().unwrap().expect("the model ran");
        println!(
            "loom model {}: {iterations} interleavings, reader snapshots old {saw_old} / new {saw_new}, \
             height {} -> {}, leaves {} -> {}, {:.2?}",
            model.0.name,
            before.height,
            after.height,
            before.leaves,
            after.leaves,
            started.elapsed()
        );
        assert!(saw_old > 0 && saw_new > 0, "{}: the exploration must let readers see both states", model.0.name);
    }
}

/// `count` ranges of 5 indexes every 10 (`[10i, 10i + 4]` holds `i + 1`), so each value has
/// an empty range after it: `count` values take `2 * count` leaf slots.
fn spaced(count: u64) -> Vec<Op> {
    (0..count).map(|i| Op::Store(i * 10, i * 10 + 4, i as u32 + 1)).collect()
}

/// (a) One range's value is overwritten: one leaf slot changes (the leaf is still copied).
#[test]
fn one_slot_overwrite() {
    Model {
        name: "one_slot_overwrite",
        initial: spaced(3),
        change: vec![Op::Store(10, 14, 100)],
        readers: 2,
        heights: (1, 1),
    }
    .check();
}

/// (b) The root leaf holds 16 slots; a store into the middle of a range needs two more, so
/// the leaf splits and the tree grows a level.
#[test]
fn leaf_split_grows_height() {
    Model {
        name: "leaf_split_grows_height",
        initial: spaced(8),
        change: vec![Op::Store(32, 32, 100)],
        readers: 2,
        heights: (1, 2),
    }
    .check();
}

/// (c) One store replaces ranges across several leaves of a two-level tree.
#[test]
fn spanning_store() {
    Model {
        name: "spanning_store",
        initial: spaced(40),
        change: vec![Op::Store(95, 254, 100)],
        readers: 2,
        heights: (2, 2),
    }
    .check();
}

/// (d) A clear and an erase leave the leaves under-full: they merge into one root leaf and
/// the tree loses a level.
#[test]
fn clear_and_erase_shrink_height() {
    Model {
        name: "clear_and_erase_shrink_height",
        initial: spaced(12),
        change: vec![Op::Clear(0, 64), Op::Erase(110)],
        readers: 2,
        heights: (2, 1),
    }
    .check();
}
