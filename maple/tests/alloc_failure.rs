//! Allocation failure at every allocation point (docs/maple.md, section 8): a write whose k-th
//! node allocation fails reports `Error::AllocFailed` and leaves the tree (or the open
//! transaction) exactly as it was; the first k that lets the write through gives the
//! expected result. Also: a failure in the middle of a transaction keeps the transaction's
//! earlier changes, a dropped transaction changes nothing, and bad input is refused.
//!
//! Expected contents come from a reference model written in `common` (a `BTreeMap` of value
//! ranges), never from the tree.

#![cfg(not(loom))]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use maple::{AllocHook, Error, Range, Tree};

#[allow(dead_code)]
mod common;

use common::{apply_model, apply_tree, apply_txn, content, sampled, size, valid, SplitMix};

type Model = common::Model<u64>;
type Op = common::Op<u64>;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    InPlace,
    Transaction,
}

/// Runs `op` on fresh clones of `base` with allocation k failing, for k = 0, 1, ... until
/// the write goes through. Returns how many attempts failed.
fn inject(base: &Tree<u64>, model: &Model, op: Op, mode: Mode) -> usize {
    let before = model.content();
    assert_eq!(content(&base.snapshot()), before, "the base matches its model");
    let height = valid(&base.snapshot()).height;
    let mut expected = model.clone();
    let want = apply_model(&mut expected, op);
    let after = expected.content();
    // The kernel's worst case for one store (spanning, height h) is 3h + 1 nodes.
    let bound = if height == 0 { 1 } else { 3 * height + 1 };
    let mut failures = 0;
    for k in 0.. {
        assert!(k <= bound, "{op:?} ({mode:?}, height {height}) failed more than {bound} times");
        let mut tree = base.try_clone().unwrap();
        tree.set_alloc_hook(Some(AllocHook::fail_at(k)));
        let got = match mode {
            Mode::InPlace => apply_tree(&mut tree, op),
            Mode::Transaction => {
                let mut txn = tree.transaction();
                let got = apply_txn(&mut txn, op);
                if got == Err(Error::AllocFailed) {
                    // The transaction is as it was before the failed change.
                    assert_eq!(content(&txn), before, "{op:?} k={k}: the transaction changed");
                    assert_eq!(txn.len(), model.map.len(), "{op:?} k={k}: the transaction's len");
                    valid(&txn);
                    drop(txn);
                } else {
                    assert_eq!(content(&txn), after, "{op:?} k={k}: transaction content");
                    txn.commit();
                }
                got
            }
        };
        let snap = tree.snapshot();
        // (Under Miri a failed write is checked by the walk comparing the content below only,
        // but for the first.)
        if got != Err(Error::AllocFailed) || k == 0 || !cfg!(miri) {
            valid(&snap);
        }
        if got == Err(Error::AllocFailed) {
            failures += 1;
            assert_eq!(content(&snap), before, "{op:?} ({mode:?}) k={k}: a failed write changed the tree");
            assert_eq!(snap.len(), model.map.len(), "{op:?} ({mode:?}) k={k}: len after a failed write");
            drop(snap);
            // The tree still works: with the hook gone the same write goes through (under Miri
            // checked after the first failure only).
            if k % 2 == 0 && (k == 0 || !cfg!(miri)) {
                tree.set_alloc_hook(None);
                assert_eq!(apply_tree(&mut tree, op), want, "{op:?} retried");
                assert_eq!(content(&tree.snapshot()), after);
                valid(&tree.snapshot());
            }
            continue;
        }
        assert_eq!(got, want, "{op:?} ({mode:?}) k={k}");
        assert_eq!(content(&snap), after, "{op:?} ({mode:?}) k={k}: result");
        assert_eq!(snap.len(), expected.map.len(), "{op:?} ({mode:?}) k={k}: len");
        break;
    }
    failures
}

/// `n` values `[10i, 10i + 7]` holding `i` (an empty pair of indexes after each), built by
/// bulk load (full leaves) or one insert at a time (half-full leaves after splits).
fn spaced(n: u64, bulk: bool) -> (Tree<u64>, Model) {
    let mut model = Model::default();
    for i in 0..n {
        model.store(10 * i, 10 * i + 7, Some(i));
    }
    let tree = if bulk {
        Tree::from_sorted((0..n).map(|i| (Range::new(10 * i, 10 * i + 7).unwrap(), i))).unwrap()
    } else {
        let mut tree = Tree::new();
        for i in 0..n {
            tree.insert(10 * i, 10 * i + 7, i).unwrap();
        }
        tree
    };
    assert_eq!(content(&tree.snapshot()), model.content());
    (tree, model)
}

/// The writes tried on a tree of `n` spaced values.
fn writes(n: u64) -> Vec<Op> {
    const NEW: u64 = 1_000_000;
    let mut ops = vec![
        Op::Store(0, u64::MAX, NEW),                // one value over everything
        Op::Clear(0, u64::MAX),                     // clear everything
        Op::Insert(u64::MAX, u64::MAX, NEW),        // at the very top
        Op::Store(3, 3, NEW),                       // first leaf
        Op::Clear(10 * n + 100, u64::MAX),          // an empty range over the empty tail
        Op::Store(10 * n + 100, 10 * n + 200, NEW), // past the last value
    ];
    if n == 0 {
        return ops;
    }
    let m = 10 * (n / 2);
    ops.extend([
        Op::Store(m, m + 7, NEW),       // exact fit
        Op::Store(m + 2, m + 3, NEW),   // split one value in three
        Op::Insert(m + 8, m + 9, NEW),  // fill an empty range exactly
        Op::Insert(m + 8, m + 8, NEW),  // part of an empty range: one more slot
        Op::Insert(m + 5, m + 8, NEW),  // occupied: no write
        Op::Erase(m + 1),               // erase a value
        Op::Erase(m + 9),               // erase an empty range: no write
        Op::Clear(m + 1, m + 1),        // a hole inside a value
        Op::Clear(25, u64::MAX),        // shrinks the tree to one leaf
        Op::Clear(0, 10 * (n - 1) + 3), // leaves a piece of the last value
    ]);
    if n >= 4 {
        ops.extend([
            Op::Store(13, 10 * (n - 2) + 3, NEW), // spans every leaf but the ends
            Op::Clear(13, 10 * (n - 2) + 3),
            Op::Store(m.saturating_sub(25), m + 25, NEW), // a few values around the middle
        ]);
    }
    ops
}

#[test]
fn every_allocation_point_of_single_writes() {
    let mut total = [0usize; 2];
    // Under Miri, where injecting into one write costs over a second, three leaves at most, a
    // fifth of the writes (a different fifth for each tree) and one mode for each, in turn.
    let counts = [0u64, 1, 7, 100, 1000];
    let counts = if cfg!(miri) { &[1, 16][..] } else { &counts[..] };
    for (which, &n) in counts.iter().enumerate() {
        for bulk in [true, false] {
            let (tree, model) = spaced(n, bulk);
            let turn = 2 * which + usize::from(bulk);
            for (number, op) in writes(n).into_iter().enumerate() {
                if cfg!(miri) && number % 5 != turn % 5 {
                    continue;
                }
                let changes = {
                    let mut scratch = model.clone();
                    apply_model(&mut scratch, op).is_ok() && scratch.content() != model.content()
                };
                for (slot, mode) in [Mode::InPlace, Mode::Transaction].into_iter().enumerate() {
                    if cfg!(miri) && slot != number % 2 {
                        continue;
                    }
                    let failures = inject(&tree, &model, op, mode);
                    total[slot] += failures;
                    if mode == Mode::Transaction && changes {
                        // Copy-on-write always needs a new node.
                        assert!(failures >= 1, "{op:?} on {n} values never allocated");
                    }
                }
            }
        }
    }
    let least = size(50, 5) as usize;
    assert!(total[0] > least && total[1] > least, "injection points tried: {total:?}");
}

#[test]
fn tall_tree_spanning_store_and_height_shrinking_clear() {
    // Height 4 at least: every level of a spanning store and of a collapse is hit. Under Miri
    // height 3, bulk loaded (inserting the 800 values height 4 takes would alone take a minute
    // there), and the spanning store in place only (its failure points are the most).
    let (n, least) = if cfg!(miri) { (90, 3) } else { (3000, 4) };
    let (tree, model) = spaced(n, cfg!(miri));
    let height = valid(&tree.snapshot()).height;
    assert!(height >= least, "height {height}");
    let ops = [
        Op::Store(5, 10 * (n - 2) + 5, 1),
        Op::Clear(5, 10 * (n - 2) + 5),
        Op::Clear(0, u64::MAX),
        Op::Store(10 * (n * 2 / 5) + 5, 10 * (n * 2 / 5) + 6, 2),
        Op::Store(10 * (n / 2) + 8, 10 * (n / 2) + 9, 3),
    ];
    for (number, op) in ops.into_iter().enumerate() {
        for mode in [Mode::InPlace, Mode::Transaction] {
            if cfg!(miri) && (number, mode) != (0, Mode::InPlace) {
                continue;
            }
            let failures = inject(&tree, &model, op, mode);
            assert!(failures >= 1, "{op:?} {mode:?}");
        }
    }
}

#[test]
fn a_failure_mid_transaction_keeps_the_earlier_changes() {
    let n = size(500, 24);
    let (base, model) = spaced(n, true);
    // With n = 500: [1003, 1004], [1008, 1009], [2000, 2500], 4000, [100, 3333], [4990, 4995].
    let ops = [
        Op::Store(10 * (n / 5) + 3, 10 * (n / 5) + 4, 7001),
        Op::Insert(10 * (n / 5) + 8, 10 * (n / 5) + 9, 7002),
        Op::Clear(10 * (n * 2 / 5), 10 * (n / 2)),
        Op::Erase(10 * (n * 4 / 5)),
        Op::Store(10 * (n / 50), 10 * (n * 2 / 3) + 3, 7003), // spanning many leaves
        Op::Store(10 * (n - 1), 10 * (n - 1) + 5, 7004),
        Op::Clear(0, 50),
    ];
    let models: Vec<Model> = (0..=ops.len())
        .map(|j| {
            let mut m = model.clone();
            for &op in &ops[..j] {
                apply_model(&mut m, op).unwrap();
            }
            m
        })
        .collect();
    let mut failed_at = Vec::new();
    // Under Miri the retry is made at every third failure point only.
    for k in 0.. {
        assert!(k < 200, "the transaction never got through");
        for retry in [false, true] {
            if retry && cfg!(miri) && k % 3 != 0 {
                continue;
            }
            let tree = base.try_clone().unwrap();
            tree.set_alloc_hook(Some(AllocHook::fail_at(k)));
            let mut txn = tree.transaction();
            let mut failure = None;
            for (j, &op) in ops.iter().enumerate() {
                match apply_txn(&mut txn, op) {
                    Err(Error::AllocFailed) => {
                        failure = Some(j);
                        break;
                    }
                    got => assert_eq!(got.map(|_| ()), Ok(()), "{op:?}"),
                }
                if !cfg!(miri) {
                    valid(&txn);
                }
            }
            // (Under Miri the walks of the tree below are made at every third failure point.)
            let walk = !cfg!(miri) || k % 3 == 0;
            let Some(j) = failure else {
                // Nothing failed: the whole transaction commits.
                txn.commit();
                assert_eq!(content(&tree.snapshot()), models[ops.len()].content());
                assert!(failed_at.len() > 2);
                let mut distinct = failed_at.clone();
                distinct.dedup();
                assert!(distinct.len() >= 2 && distinct.iter().any(|&j| j >= 2), "failures at ops {distinct:?}");
                return;
            };
            if !retry {
                failed_at.push(j);
            }
            // The ops before the failed one are intact, in the transaction only.
            assert_eq!(content(&txn), models[j].content(), "k={k}: after a failure at op {j}");
            if walk {
                valid(&txn);
                assert_eq!(content(&tree.snapshot()), model.content());
            }
            if retry {
                // The hook fails one allocation only: the failed op and the rest go through.
                for &op in &ops[j..] {
                    apply_txn(&mut txn, op).unwrap();
                }
                txn.commit();
                assert_eq!(content(&tree.snapshot()), models[ops.len()].content());
            } else {
                txn.commit();
                assert_eq!(content(&tree.snapshot()), models[j].content(), "k={k}: commit after a failure");
            }
            if walk {
                valid(&tree.snapshot());
            }
        }
    }
}

#[test]
fn a_dropped_transaction_changes_nothing() {
    // Under Miri the big tree is bulk loaded: inserting it would take most of a minute there.
    let (mid, big) = (size(300, 20), size(2000, 60));
    for (n, bulk) in [(0, true), (1, true), (mid, true), (mid, false), (big, cfg!(miri))] {
        let (tree, model) = spaced(n, bulk);
        let before = model.content();
        let shape = valid(&tree.snapshot());
        let snap = tree.snapshot();
        {
            let mut txn = tree.transaction();
            txn.store(5, 10 * n + 5, 1).unwrap();
            txn.clear(0, 2).unwrap();
            txn.insert(u64::MAX - 9, u64::MAX, 2).unwrap();
            txn.erase(7).unwrap();
            assert_ne!(content(&txn), before);
            valid(&txn);
            // Readers never saw any of it.
            assert_eq!(content(&tree.snapshot()), before);
        }
        assert_eq!(content(&tree.snapshot()), before);
        assert_eq!(content(&snap), before, "a snapshot taken before is untouched");
        assert_eq!(valid(&tree.snapshot()), shape);
        {
            // A transaction whose change failed, then dropped.
            drop(snap);
            tree.set_alloc_hook(Some(AllocHook::fail_at(0)));
            let mut txn = tree.transaction();
            assert_eq!(txn.clear(0, u64::MAX), Err(Error::AllocFailed));
            assert_eq!(txn.store(0, 3, 9), Ok(()));
            assert_eq!(txn.get(2), Some(&9));
            valid(&txn);
        }
        tree.set_alloc_hook(None);
        assert_eq!(content(&tree.snapshot()), before);
        assert_eq!(valid(&tree.snapshot()), shape);
        // The tree takes the next transaction normally.
        let mut txn = tree.transaction();
        txn.store(3, 4, 42).unwrap();
        txn.commit();
        let mut expected = model.clone();
        expected.store(3, 4, Some(42));
        assert_eq!(content(&tree.snapshot()), expected.content());
        valid(&tree.snapshot());
    }
}

#[test]
fn bad_ranges_are_refused_and_change_nothing() {
    for n in [0, 1, size(300, 20)] {
        let (mut tree, model) = spaced(n, false);
        let before = model.content();
        for (first, last) in [(1, 0), (u64::MAX, 0), (u64::MAX, u64::MAX - 1), (500, 499)] {
            let refused = Err(Error::InvalidRange { first, last });
            assert_eq!(tree.store(first, last, 1), refused);
            assert_eq!(tree.insert(first, last, 1), refused);
            assert_eq!(tree.clear(first, last), refused);
            assert_eq!(content(&tree.snapshot()), before);
            valid(&tree.snapshot());
            let mut txn = tree.transaction();
            txn.store(10, 11, 5).unwrap();
            let kept = content(&txn);
            assert_eq!(txn.store(first, last, 1), refused);
            assert_eq!(txn.insert(first, last, 1), refused);
            assert_eq!(txn.clear(first, last), refused);
            assert_eq!(content(&txn), kept, "a refused change leaves the transaction as it was");
            drop(txn);
            assert_eq!(content(&tree.snapshot()), before);
            // Bad input is refused even when no memory can be had.
            tree.set_alloc_hook(Some(AllocHook::new(|| false)));
            assert_eq!(tree.store(first, last, 1), refused);
            tree.set_alloc_hook(None);
            assert_eq!(Range::new(first, last), None);
        }
        assert_eq!(content(&tree.snapshot()), before);
    }
}

#[test]
fn no_memory_at_all_refuses_every_write() {
    let n = size(400, 40);
    let (tree, model) = spaced(n, true);
    let before = model.content();
    let asked = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&asked);
    tree.set_alloc_hook(Some(AllocHook::new(move || {
        counter.fetch_add(1, Ordering::Relaxed);
        false
    })));
    let mut txn = tree.transaction();
    for (number, op) in writes(n).into_iter().enumerate() {
        let mut scratch = model.clone();
        let want = apply_model(&mut scratch, op);
        let got = apply_txn(&mut txn, op);
        if want.is_ok() && scratch.content() != before {
            assert_eq!(got, Err(Error::AllocFailed), "{op:?}");
        } else {
            // Writes that change nothing may or may not need memory; either way no change.
            assert!(got == want || got == Err(Error::AllocFailed), "{op:?}: {got:?}");
        }
        if sampled(number as u64, 4) {
            assert_eq!(content(&txn), before);
        }
    }
    txn.commit();
    assert_eq!(content(&tree.snapshot()), before);
    valid(&tree.snapshot());
    assert!(asked.load(Ordering::Relaxed) > 0, "the hook was consulted");
    // Reads need no memory.
    let snap = tree.snapshot();
    assert_eq!(snap.get(10 * 7 + 3), Some(&7));
    assert_eq!(snap.iter().count(), n as usize);
}

/// A random write on the `[0, 4000)` area.
fn random_op(rng: &mut SplitMix, tag: u64) -> Op {
    let first = rng.below(4000);
    let last = first + [0, 1, 5, 30, 300][rng.below(5) as usize];
    match rng.below(8) {
        0..=3 => Op::Store(first, last, tag),
        4 => Op::Insert(first, last, tag),
        5 | 6 => Op::Clear(first, last),
        _ => Op::Erase(first),
    }
}

#[test]
fn random_failures_never_corrupt_the_tree() {
    // About one allocation in eight fails, on a pseudo-random schedule. The hook is set
    // anew before each write (or transaction), which also drops the spare nodes, so that
    // every write has to allocate.
    let hook = |seed: u64| {
        let mut state = seed.wrapping_mul(0x2545_f491_4f6c_dd1d) | 1;
        AllocHook::new(move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % 8 != 0
        })
    };
    let mut rng = SplitMix(99);
    // About one write in eight fails; the counts of failures are checked with a wide margin.
    let (steps, rounds) = (size(3000, 30), size(300, 5));

    let mut tree = Tree::new();
    let mut model = Model::default();
    let mut failed = 0;
    for step in 0..steps {
        tree.set_alloc_hook(Some(hook(step)));
        let op = random_op(&mut rng, step);
        let mut next = model.clone();
        let want = apply_model(&mut next, op);
        match apply_tree(&mut tree, op) {
            Err(Error::AllocFailed) => failed += 1,
            got => {
                assert_eq!(got, want, "step {step}: {op:?}");
                model = next;
            }
        }
        if sampled(step, 6) {
            valid(&tree.snapshot());
        }
        assert_eq!(tree.snapshot().len(), model.map.len(), "step {step}: len");
        if step % 10 == 0 {
            assert_eq!(content(&tree.snapshot()), model.content(), "step {step}");
        }
    }
    assert!(failed > steps / 60, "{failed} failures");
    assert_eq!(content(&tree.snapshot()), model.content());

    let tree = Tree::new();
    let mut model = Model::default();
    let mut failed = 0;
    for round in 0..rounds {
        tree.set_alloc_hook(Some(hook(round + 7)));
        let mut txn = tree.transaction();
        let mut pending = model.clone();
        for i in 0..10 {
            let op = random_op(&mut rng, round * 10 + i);
            let mut next = pending.clone();
            let want = apply_model(&mut next, op);
            match apply_txn(&mut txn, op) {
                Err(Error::AllocFailed) => failed += 1,
                got => {
                    assert_eq!(got, want, "round {round}: {op:?}");
                    pending = next;
                }
            }
            assert_eq!(txn.len(), pending.map.len(), "round {round}: len");
            valid(&txn);
        }
        assert_eq!(content(&txn), pending.content(), "round {round}");
        if round % 3 == 0 {
            drop(txn); // abort: nothing of the round remains
        } else {
            txn.commit();
            model = pending;
        }
        assert_eq!(content(&tree.snapshot()), model.content(), "round {round}");
        assert_eq!(tree.snapshot().len(), model.map.len(), "round {round}: len");
    }
    assert!(failed > rounds / 6, "{failed} failures");
}
