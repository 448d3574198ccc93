//! Model tests: random operation sequences on the tree and on a plain `BTreeMap` reference
//! (written in `common`, with the queries below), compared after every step with every kind
//! of query.

use maple::{Error, Range, Tree, View};
use proptest::prelude::*;

#[allow(dead_code)]
mod common;

use common::{apply_model, apply_tree, apply_txn, content, size, SplitMix};

/// The reference: non-empty ranges by first index, `first -> (last, value)`.
type Model = common::Model<u32>;
type Op = common::Op<u32>;

/// The queries these tests ask of the model, with ranges as `Range`.
impl Model {
    fn ranged_values(&self) -> impl DoubleEndedIterator<Item = (Range, u32)> + '_ {
        self.values().map(|(first, last, value)| (Range { first, last }, value))
    }

    fn load(&self, index: u64) -> (Range, Option<u32>) {
        let (first, last, value) = self.at(index);
        (Range { first, last }, value)
    }

    fn gap(&self, within: Range, size: u64, lowest: bool) -> Result<Range, Error> {
        if size == 0 {
            return Err(Error::ZeroSize);
        }
        let fits = |first: u64, last: u64| {
            let room = Range::new(first.max(within.first), last.min(within.last))?;
            (room.len() >= size).then(|| {
                let first = if lowest { room.first } else { room.last - (size - 1) };
                Range { first, last: first + (size - 1) }
            })
        };
        if lowest {
            // Walk the empty rooms upwards from `within.first`.
            let mut cursor = Some(within.first);
            for (range, _) in self.values_from(self.load(within.first).0.first) {
                let Some(at) = cursor.filter(|&at| at <= within.last) else { break };
                if range.first > at {
                    if let Some(found) = fits(at, range.first - 1) {
                        return Ok(found);
                    }
                }
                cursor = range.last.checked_add(1).map(|next| next.max(at));
            }
            cursor.and_then(|at| fits(at, u64::MAX)).ok_or(Error::NoSpace)
        } else {
            // Walk the empty rooms downwards from `within.last`.
            let mut cursor = Some(within.last);
            for (range, _) in self.ranged_values().rev().skip_while(|(range, _)| range.first > within.last) {
                let Some(at) = cursor.filter(|&at| at >= within.first) else { break };
                if range.last < at {
                    if let Some(found) = fits(range.last + 1, at) {
                        return Ok(found);
                    }
                }
                cursor = range.first.checked_sub(1).map(|next| next.min(at));
            }
            cursor.and_then(|at| fits(0, at)).ok_or(Error::NoSpace)
        }
    }

    fn values_from(&self, first: u64) -> impl Iterator<Item = (Range, u32)> + '_ {
        self.map.range(first..).map(|(&first, &(last, value))| (Range { first, last }, value))
    }
}

/// Indexes that crowd together (so ranges collide), with the ends of the space mixed in.
fn index() -> impl Strategy<Value = u64> {
    prop_oneof![
        8 => 0u64..3000,
        1 => Just(0u64),
        1 => (u64::MAX - 3000)..=u64::MAX,
    ]
}

fn span() -> impl Strategy<Value = u64> {
    prop_oneof![6 => 0u64..20, 3 => 0u64..300, 1 => 0u64..5000]
}

fn op() -> impl Strategy<Value = Op> {
    (0u8..10, index(), span(), any::<u32>()).prop_map(|(kind, first, len, value)| {
        let last = first.saturating_add(len);
        match kind {
            0..=4 => Op::Store(first, last, value),
            5..=6 => Op::Insert(first, last, value),
            7..=8 => Op::Clear(first, last),
            _ => Op::Erase(first),
        }
    })
}

/// The proptest configuration: `cases` cases natively. Under Miri two short ones (a write costs
/// it a tenth of a second), and no failure persistence: looking up the regressions file needs
/// the working directory, which Miri's isolation refuses.
fn config(cases: u32) -> ProptestConfig {
    if cfg!(miri) {
        ProptestConfig { cases: 2, failure_persistence: None, ..ProptestConfig::default() }
    } else {
        ProptestConfig { cases, ..ProptestConfig::default() }
    }
}

/// Exclusive bounds on the length of a case's op sequences, and of its aborted transaction.
const LONG: usize = size(300, 13) as usize;
const SHORT: usize = size(40, 7) as usize;

/// Compares every query of `view` with the model, probing around `probes` (under Miri, where
/// these queries take a second a probe, at the first probe only).
fn check(view: &View<'_, u32>, model: &Model, probes: &[u64]) {
    if let Err(invalid) = view.validate() {
        eprintln!("{invalid}");
        panic!("{invalid}\n{view:?}");
    }
    assert_eq!(content(view), model.content(), "ranges differ");
    assert_eq!(view.len(), model.map.len(), "len differs");
    assert_eq!(view.is_empty(), model.map.is_empty(), "is_empty differs");
    let values: Vec<(Range, u32)> = view.iter().map(|(r, v)| (r, *v)).collect();
    let expected: Vec<(Range, u32)> = model.ranged_values().collect();
    assert_eq!(values, expected, "iter differs");
    let reversed: Vec<(Range, u32)> = view.iter().rev().map(|(r, v)| (r, *v)).collect();
    assert_eq!(reversed, model.ranged_values().rev().collect::<Vec<_>>(), "reverse iter differs");
    for &probe in if cfg!(miri) { &probes[..probes.len().min(1)] } else { probes } {
        let around = [probe.saturating_sub(1), probe, probe.saturating_add(1)];
        for &index in if cfg!(miri) { &around[1..2] } else { &around[..] } {
            check_index(view, model, index);
        }
    }
}

fn check_index(view: &View<'_, u32>, model: &Model, index: u64) {
    let entry = view.load(index);
    assert_eq!((entry.range, entry.value.copied()), model.load(index), "load({index})");
    assert_eq!(view.get(index).copied(), model.load(index).1, "get({index})");
    let limit = index.saturating_add(700);
    let expected_find = model.ranged_values().find(|(r, _)| r.last >= index && r.first <= limit);
    assert_eq!(view.find(index, limit).map(|(r, v)| (r, *v)), expected_find, "find({index}, {limit})");
    let here = model.load(index).0;
    let expected_next = model.ranged_values().find(|(r, _)| r.first > here.last);
    assert_eq!(view.next(index).map(|(r, v)| (r, *v)), expected_next, "next({index})");
    let expected_prev = model.ranged_values().rev().find(|(r, _)| r.last < here.first);
    assert_eq!(view.prev(index).map(|(r, v)| (r, *v)), expected_prev, "prev({index})");
    let next_range = here.last.checked_add(1).map(|i| model.load(i));
    assert_eq!(view.next_range(index).map(|e| (e.range, e.value.copied())), next_range, "next_range({index})");
    let prev_range = here.first.checked_sub(1).map(|i| model.load(i));
    assert_eq!(view.prev_range(index).map(|e| (e.range, e.value.copied())), prev_range, "prev_range({index})");
    let window = Range { first: index, last: limit };
    let in_window: Vec<(Range, u32)> = view.range(window).rev().map(|(r, v)| (r, *v)).collect();
    let expected_window: Vec<(Range, u32)> = model.ranged_values().rev().filter(|(r, _)| r.overlaps(&window)).collect();
    assert_eq!(in_window, expected_window, "range({window}).rev()");
    // Under Miri one size, and the windows up from the index and from zero.
    let sizes = [7, 1, 64, 1000];
    let windows = [Range::ALL, window, Range { first: index.saturating_sub(5000), last: index }];
    let (sizes, windows) = if cfg!(miri) { (&sizes[..1], &windows[..2]) } else { (&sizes[..], &windows[..]) };
    for &size in sizes {
        for &within in windows {
            assert_eq!(view.lowest_gap(within, size), model.gap(within, size, true), "lowest_gap({within}, {size})");
            assert_eq!(view.highest_gap(within, size), model.gap(within, size, false), "highest_gap({within}, {size})");
        }
    }
}

fn probes_of(op: &Op) -> Vec<u64> {
    match *op {
        Op::Store(first, last, _) | Op::Insert(first, last, _) | Op::Clear(first, last) => {
            vec![first, last]
        }
        Op::Erase(index) => vec![index],
    }
}

proptest! {
    #![proptest_config(config(96))]

    /// In-place edits through `&mut Tree`.
    #[test]
    fn exclusive_edits_match_the_model(ops in prop::collection::vec(op(), 1..LONG)) {
        let (mut tree, mut model) = (Tree::new(), Model::default());
        for op in &ops {
            let expected = apply_model(&mut model, *op);
            prop_assert_eq!(apply_tree(&mut tree, *op), expected, "{:?}", op);
            check(&tree.snapshot(), &model, &probes_of(op));
        }
    }

    /// Copy-on-write edits through transactions of random lengths, checked through the
    /// transaction as it goes and through a snapshot after each commit; a snapshot taken
    /// before the transaction must not change.
    #[test]
    fn transactions_match_the_model(ops in prop::collection::vec(op(), 1..LONG), cuts in prop::collection::vec(1usize..12, 40)) {
        let tree = Tree::new();
        let mut model = Model::default();
        let mut rest = &ops[..];
        for cut in cuts.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (batch, tail) = rest.split_at((*cut).min(rest.len()));
            rest = tail;
            let before = tree.snapshot();
            let committed = model.clone();
            let mut txn = tree.transaction();
            for op in batch {
                let expected = apply_model(&mut model, *op);
                prop_assert_eq!(apply_txn(&mut txn, *op), expected, "{:?}", op);
                check(&txn, &model, &probes_of(op));
            }
            check(&before, &committed, &[]);
            txn.commit();
            check(&before, &committed, &[]);
            check(&tree.snapshot(), &model, &[]);
        }
    }

    /// A dropped transaction leaves the published tree as it was.
    #[test]
    fn aborted_transactions_change_nothing(setup in prop::collection::vec(op(), 0..LONG / 2), ops in prop::collection::vec(op(), 1..SHORT)) {
        let mut tree = Tree::new();
        let mut model = Model::default();
        for op in &setup {
            let _ = apply_model(&mut model, *op);
            let _ = apply_tree(&mut tree, *op);
        }
        {
            let mut txn = tree.transaction();
            let mut shadow = model.clone();
            for op in &ops {
                let _ = apply_model(&mut shadow, *op);
                let _ = apply_txn(&mut txn, *op);
                prop_assert_eq!(txn.len(), shadow.map.len(), "{:?}", op);
            }
        }
        check(&tree.snapshot(), &model, &[]);
        let mut shadow = model.clone();
        for op in &ops {
            let expected = apply_model(&mut shadow, *op);
            prop_assert_eq!(apply_tree(&mut tree, *op), expected);
        }
        check(&tree.snapshot(), &shadow, &[]);
    }
}

/// 10^5 ranges, then random edits (some spanning thousands of ranges), validated and compared
/// after each one; every other edit goes through a transaction while a clone (fork) of the
/// tree from before the edit must stay as it was. (Under Miri, where comparing a tree of 300
/// ranges with the model takes seconds, 60 ranges and 4 edits, the first with a fork.)
#[test]
fn a_hundred_thousand_ranges_match_the_model() {
    let mut rng = SplitMix(7);
    let mut sorted = Vec::new();
    let mut at = 0u64;
    for id in 0..size(100_000, 60) as u32 {
        at += rng.below(3) * 16;
        let len = 1 + rng.below(40);
        sorted.push((Range::new(at, at + len - 1).unwrap(), id));
        at += len;
    }
    let mut model = Model::default();
    for &(range, id) in &sorted {
        model.store(range.first, range.last, Some(id));
    }
    let mut tree = Tree::from_sorted(sorted).unwrap();
    check(&tree.snapshot(), &model, &[0, at / 2, at]);
    for step in 0..size(300, 4) as u32 {
        let first = rng.below(at + 100);
        let len = if step % 10 == 0 { rng.below(at / 20) } else { rng.below(200) };
        let op = match rng.below(4) {
            0 => Op::Clear(first, first + len),
            1 => Op::Erase(first),
            _ => Op::Store(first, first + len, 1_000_000 + step),
        };
        let before = model.clone();
        let expected = apply_model(&mut model, op);
        let fork = if step % size(25, 4) as u32 == 0 { Some(tree.clone()) } else { None };
        if step % 2 == 0 {
            assert_eq!(apply_tree(&mut tree, op), expected, "{op:?}");
        } else {
            let mut txn = tree.transaction();
            assert_eq!(apply_txn(&mut txn, op), expected, "{op:?}");
            txn.commit();
        }
        let snap = tree.snapshot();
        snap.validate().unwrap();
        assert_eq!(snap.len(), model.map.len(), "len after {op:?}");
        for probe in probes_of(&op) {
            check_index(&snap, &model, probe);
        }
        if let Some(fork) = fork {
            check(&fork.snapshot(), &before, &[]);
            check(&snap, &model, &[]);
        }
    }
    check(&tree.snapshot(), &model, &[]);
}
