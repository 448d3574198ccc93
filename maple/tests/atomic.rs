//! Atomic scopes inside a transaction (`Transaction::atomic`): a scope that fails leaves the
//! transaction exactly as it was before the scope, nested scopes roll back to their own start,
//! and every value is dropped exactly once whether the transaction commits or is dropped.

use std::sync::atomic::{AtomicUsize, Ordering};

use crossbeam_epoch::Collector;
use maple::{AllocHook, Error, Tree};

#[allow(dead_code)]
mod common;

use common::{apply_model, apply_txn, content, size, valid, Op, SplitMix};

type Model = common::Model<u64>;

/// A random write over a space of 20,000 indices, some of them wide.
fn random_op(rng: &mut SplitMix, tag: u64) -> Op<u64> {
    let first = rng.below(20_000);
    let last = first + if rng.below(8) == 0 { rng.below(5_000) } else { rng.below(40) };
    match rng.below(4) {
        0 => Op::Store(first, last, tag),
        1 => Op::Insert(first, last, tag),
        2 => Op::Clear(first, last),
        _ => Op::Erase(first),
    }
}

/// Scope sizes: small enough for Miri, large enough to make and seal many nodes.
const ROUNDS: u64 = if cfg!(miri) { 6 } else { 300 };

#[test]
fn a_failed_scope_leaves_the_transaction_as_it_was() {
    let mut rng = SplitMix(7);
    let tree = Tree::new();
    let mut model = Model::default();
    let mut txn = tree.transaction();
    for round in 0..ROUNDS {
        // Some plain changes, then a scope that fails at its end or succeeds.
        for k in 0..3 {
            let op = random_op(&mut rng, round * 100 + k);
            if apply_model(&mut model.clone(), op).is_ok() {
                apply_model(&mut model, op).unwrap();
                apply_txn(&mut txn, op).unwrap();
            }
        }
        let before = content(&txn);
        let fail = rng.below(2) == 0;
        let mut scoped = model.clone();
        let result: Result<(), &str> = txn.atomic(|txn| {
            for k in 0..1 + rng.below(6) {
                let op = random_op(&mut rng, round * 100 + 10 + k);
                if apply_model(&mut scoped.clone(), op).is_ok() {
                    apply_model(&mut scoped, op).unwrap();
                    apply_txn(txn, op).unwrap();
                }
            }
            if fail {
                Err("planned")
            } else {
                Ok(())
            }
        });
        assert_eq!(result.is_err(), fail);
        if fail {
            assert_eq!(content(&txn), before, "round {round}: a failed scope left changes");
        } else {
            model = scoped;
        }
        assert_eq!(content(&txn), model.content(), "round {round}");
        assert_eq!(txn.len(), model.map.len(), "round {round}: len");
        valid(&txn);
    }
    // Nothing was published before the commit, and the commit publishes the model's state.
    assert!(tree.snapshot().is_empty());
    assert_eq!(tree.snapshot().len(), 0);
    txn.commit();
    assert_eq!(content(&tree.snapshot()), model.content());
    assert_eq!(tree.snapshot().len(), model.map.len());
    valid(&tree.snapshot());
}

#[test]
fn nested_scopes_roll_back_to_their_own_start() {
    // With n = 200 (30 under Miri, where a write costs a tenth of a second): the outer scope
    // clears [0, 999], the first half, and fails on the value at 1000.
    let n = size(200, 30);
    let tree = Tree::new();
    let mut txn = tree.transaction();
    for i in 0..n {
        txn.store(i * 10, i * 10 + 4, i).unwrap();
    }
    let outer: Result<(), Error> = txn.atomic(|txn| {
        txn.clear(0, 5 * n - 1)?;
        let inner: Result<(), Error> = txn.atomic(|txn| {
            txn.store(5000, 5999, 1)?;
            txn.insert(5500, 5501, 2) // occupied
        });
        assert!(matches!(inner, Err(Error::Occupied(_))), "{inner:?}");
        assert_eq!(txn.get(5000), None, "the inner scope's store is gone");
        assert_eq!(txn.get(3), None, "the outer scope's clear stays");
        assert_eq!(txn.len(), n as usize / 2, "the outer scope's clear counted");
        txn.atomic(|txn| txn.store(7000, 7001, 3))?;
        txn.insert(5 * n, 5 * n + 1, 4) // occupied: the outer scope fails too
    });
    assert!(outer.is_err());
    let want: Vec<(u64, u64, u64)> = (0..n).map(|i| (i * 10, i * 10 + 4, i)).collect();
    let got: Vec<(u64, u64, u64)> = txn.iter().map(|(range, value)| (range.first, range.last, *value)).collect();
    assert_eq!(got, want);
    assert_eq!(txn.len(), n as usize);
    valid(&txn);
    txn.commit();
    assert_eq!(tree.snapshot().iter().count(), n as usize);
    assert_eq!(tree.snapshot().len(), n as usize);
}

#[test]
fn an_allocation_failure_inside_a_scope_rolls_the_scope_back() {
    // 2000 values natively, 30 under Miri; `at` scales the indexes written below alike.
    let n = size(2000, 30);
    let at = |index: u64| index * n / 2000;
    let base = Tree::new();
    {
        let mut txn = base.transaction();
        for i in 0..n {
            txn.store(i * 10, i * 10 + 4, i).unwrap();
        }
        txn.commit();
    }
    let before = content(&base.snapshot());
    let mut passed = false;
    for k in 0..60 {
        let tree = base.try_clone().unwrap();
        tree.set_alloc_hook(Some(AllocHook::fail_at(k)));
        let mut txn = tree.transaction();
        let result = txn.atomic(|txn| {
            txn.store(at(100), at(199), 1)?;
            txn.clear(at(5000), at(9000))?;
            txn.store(at(15_000), at(19_999), 2)
        });
        match result {
            Err(Error::AllocFailed) => {
                assert_eq!(content(&txn), before, "k={k}");
                assert_eq!(txn.len(), n as usize, "k={k}");
            }
            Ok(()) => passed = true,
            Err(other) => panic!("k={k}: {other:?}"),
        }
        valid(&txn);
        txn.commit();
        valid(&tree.snapshot());
        if passed {
            return;
        }
    }
    panic!("the scope never got through");
}

/// The end of a scope that fails when `fail` is set.
fn failing_if(fail: bool) -> Result<(), Error> {
    if fail {
        Err(Error::ZeroSize)
    } else {
        Ok(())
    }
}

/// A value that counts its live instances, with a tag to tell versions apart.
struct Tracked {
    live: &'static AtomicUsize,
    tag: u64,
}

impl Tracked {
    fn new(live: &'static AtomicUsize) -> Tracked {
        Tracked::tagged(live, 0)
    }

    fn tagged(live: &'static AtomicUsize, tag: u64) -> Tracked {
        live.fetch_add(1, Ordering::SeqCst);
        Tracked { live, tag }
    }
}

impl Clone for Tracked {
    fn clone(&self) -> Tracked {
        Tracked::tagged(self.live, self.tag)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Scopes that fail and succeed in turn, then the transaction committed or dropped: no value
/// is leaked or dropped twice (Miri and valgrind see the nodes).
fn churn(tree: &Tree<Tracked>, live: &'static AtomicUsize, commit: bool) {
    let mut rng = SplitMix(11);
    let mut txn = tree.transaction();
    for round in 0..ROUNDS {
        let fail = round % 3 == 1;
        let _ = txn.atomic(|txn| {
            for _ in 0..4 {
                let first = rng.below(8000);
                let _ = txn.store(first, first + rng.below(300), Tracked::new(live));
            }
            let inner = txn.atomic(|txn| {
                txn.clear(rng.below(8000), 8000 + rng.below(100))?;
                failing_if(round % 2 == 0)
            });
            assert_eq!(inner.is_err(), round % 2 == 0);
            failing_if(fail)
        });
    }
    if commit {
        txn.commit();
    }
}

#[test]
fn values_are_dropped_once_whether_the_transaction_commits_or_not() {
    static LIVE: AtomicUsize = AtomicUsize::new(0);
    for commit in [false, true] {
        let collector = Collector::new();
        let tree = Tree::with_collector(collector.clone());
        churn(&tree, &LIVE, commit);
        let held = tree.snapshot().iter().count();
        assert_eq!(held == 0, !commit);
        drop(tree);
        drop(collector);
        assert_eq!(LIVE.load(Ordering::SeqCst), 0, "commit: {commit}");
    }
}

#[test]
fn savepoints_nest_and_end_together() {
    let tree = Tree::new();
    let mut txn = tree.transaction();
    txn.store(0, 9, 'a').unwrap();
    let outer = txn.savepoint();
    txn.store(10, 19, 'b').unwrap();
    let inner = txn.savepoint();
    txn.store(20, 29, 'c').unwrap();
    let _innermost = txn.savepoint();
    txn.clear(0, 29).unwrap();
    // Rolling back to `inner` (before 'c') ends `_innermost` too; `outer` stays.
    assert_eq!(txn.len(), 0);
    txn.roll_back(inner);
    let got: Vec<char> = txn.iter().map(|(_, v)| *v).collect();
    assert_eq!(got, ['a', 'b']);
    assert_eq!(txn.len(), 2);
    txn.store(30, 39, 'd').unwrap();
    assert_eq!(txn.len(), 3);
    txn.roll_back(outer);
    let got: Vec<char> = txn.iter().map(|(_, v)| *v).collect();
    assert_eq!(got, ['a']);
    assert_eq!(txn.len(), 1);
    txn.commit();
    assert_eq!(tree.snapshot().iter().count(), 1);
    assert_eq!(tree.snapshot().len(), 1);
}

#[test]
#[should_panic(expected = "a savepoint of this transaction that has not ended")]
fn an_ended_savepoint_is_refused() {
    let tree = Tree::new();
    let mut txn = tree.transaction();
    let outer = txn.savepoint();
    let inner = txn.savepoint();
    txn.store(0, 9, 1).unwrap();
    txn.keep(outer); // ends `inner` as well
    txn.roll_back(inner);
}

/// One transaction on a published tree: edits that stay inside a leaf (copied without cloning
/// its values), exact fits and edits that rebuild, a scope that fails half the time, then a commit or a
/// drop.
fn edit_published(tree: &Tree<Tracked>, live: &'static AtomicUsize, rng: &mut SplitMix, round: u64, commit: bool) {
    let mut txn = tree.transaction();
    for k in 0..4 {
        let first = rng.below(4000);
        let last = first + if k == 3 { rng.below(600) } else { rng.below(8) };
        match rng.below(3) {
            0 => drop(txn.clear(first, last)),
            _ => drop(txn.store(first, last, Tracked::tagged(live, round * 10 + k))),
        }
    }
    // Exact fits: a value over exactly the range of a value (one of the first 200 when it is
    // still whole), swapped in its slot.
    let whole = |i: u64| (i * 20, i * 20 + 9);
    let (first, last) = whole(rng.below(200));
    txn.store(first, last, Tracked::tagged(live, round * 10 + 4)).unwrap();
    let (exact_first, exact_last) = whole(rng.below(200));
    let _ = txn.atomic(|txn| {
        txn.store(exact_first, exact_last, Tracked::tagged(live, round * 10 + 8))?;
        txn.store(rng.below(4000), 4000 + rng.below(10), Tracked::tagged(live, round * 10 + 9))?;
        txn.erase(rng.below(4000))?;
        failing_if(round % 2 == 0)
    });
    if commit {
        txn.commit();
    }
}

#[test]
fn published_values_move_to_copies_and_are_dropped_once() {
    static LIVE: AtomicUsize = AtomicUsize::new(0);
    let collector = Collector::new();
    let tree = Tree::with_collector(collector.clone());
    let mut txn = tree.transaction();
    for i in 0..200 {
        txn.store(i * 20, i * 20 + 9, Tracked::tagged(&LIVE, i)).unwrap();
    }
    txn.commit();
    let mut rng = SplitMix(23);
    for round in 0..ROUNDS {
        // A reader holds the state before the transaction: the leaves the transaction copies
        // (and the values they lend the copies) must stay readable and unchanged for it.
        let snap = tree.snapshot();
        let seen: Vec<_> = snap.iter().map(|(range, value)| (range, value.tag)).collect();
        edit_published(&tree, &LIVE, &mut rng, round, round % 4 != 3);
        assert!(snap.iter().map(|(range, value)| (range, value.tag)).eq(seen), "round {round}");
        valid(&tree.snapshot());
    }
    // Once the readers are gone, exactly the values in the tree are alive.
    let in_tree = tree.snapshot().iter().count();
    let handle = collector.register();
    for _ in 0..10_000 {
        if LIVE.load(Ordering::SeqCst) == in_tree {
            break;
        }
        handle.pin().flush();
    }
    assert_eq!(LIVE.load(Ordering::SeqCst), in_tree);
    drop(handle);
    drop(tree);
    drop(collector);
    assert_eq!(LIVE.load(Ordering::SeqCst), 0);
}
