//! maple transactions against a `BTreeMap` model of ranges.
//!
//! The input is a sequence of steps: writes (store, insert, erase, clear over any `u64`
//! range), queries, and the end of a transaction (commit or drop); a step may also arm an
//! allocation failure for the next transaction. Checked:
//! - every write returns what the model says (including `InvalidRange`, `Occupied` and the
//!   erased range), and a failed write (also `AllocFailed`) leaves the transaction as it was;
//! - inside a transaction its view shows exactly its own changes;
//! - after a commit the tree's contents (every range, empty ones included, forwards and
//!   backwards), point lookups, neighbour lookups, range iteration and gap searches agree
//!   with the model, and the tree validates; a snapshot taken before the transaction still
//!   shows the state before it;
//! - a dropped transaction changes nothing;
//! - a rollback to a savepoint returns the transaction to the state at the savepoint, and
//!   keeping one changes nothing (savepoints nest; the later ones end with it).
#![no_main]

use std::collections::BTreeMap;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use maple::{AllocHook, Error, Range, Tree, View};

/// An index: mostly small (so ranges collide), near `u64::MAX`, near an existing boundary,
/// or anything.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Idx {
    Small(u16),
    Top(u8),
    Boundary(u8, i8),
    Raw(u64),
}

#[derive(Arbitrary, Debug)]
enum Step {
    Store(Idx, Idx, u8),
    Insert(Idx, Idx, u8),
    Erase(Idx),
    Clear(Idx, Idx),
    /// Point and neighbour queries at an index, in the open transaction (or the tree).
    Probe(Idx, Idx),
    /// A gap search of `size` indexes inside `[first, last]`.
    Gap {
        first: Idx,
        last: Idx,
        size: Idx,
        lowest: bool,
    },
    /// `count` stores (or clears, when `clear`) of `len + 1` indexes every `stride + 1`
    /// from `start`: enough ranges for trees several levels deep.
    Bulk {
        start: Idx,
        count: u8,
        stride: u8,
        len: u8,
        clear: bool,
        value: u8,
    },
    /// `Transaction::savepoint`: marks the state to return to.
    Savepoint,
    /// `Transaction::roll_back` to the `n`-th open savepoint (ending the later ones).
    RollBack(u8),
    /// `Transaction::keep` of the `n`-th open savepoint (ending the later ones).
    Keep(u8),
    Commit,
    Drop,
    /// Make the n-th node allocation of the next transaction fail.
    FailAlloc(u8),
}

/// The reference: value ranges by first index, `first -> (last, value)`.
#[derive(Clone, Default, PartialEq, Debug)]
struct Model {
    map: BTreeMap<u64, (u64, u8)>,
}

/// Every range, empty ones included: `(first, last, value)`.
type Content = Vec<(u64, u64, Option<u8>)>;

impl Model {
    fn store(&mut self, first: u64, last: u64, value: Option<u8>) {
        let hit: Vec<u64> =
            self.map.range(..=last).rev().take_while(|(_, &(end, _))| end >= first).map(|(&start, _)| start).collect();
        for start in hit {
            let (end, old) = self.map.remove(&start).unwrap();
            if start < first {
                self.map.insert(start, (first - 1, old));
            }
            if end > last {
                self.map.insert(last + 1, (end, old));
            }
        }
        if let Some(value) = value {
            self.map.insert(first, (last, value));
        }
    }

    fn content(&self) -> Content {
        let mut out = Vec::new();
        let mut next = Some(0u64);
        for (&first, &(last, value)) in &self.map {
            let start = next.expect("nothing after u64::MAX");
            if first > start {
                out.push((start, first - 1, None));
            }
            out.push((first, last, Some(value)));
            next = last.checked_add(1);
        }
        if let Some(start) = next {
            out.push((start, u64::MAX, None));
        }
        out
    }

    /// The range holding `index` (a maximal empty one when no value is there).
    fn at(&self, index: u64) -> (u64, u64, Option<u8>) {
        let before = self.map.range(..=index).next_back();
        if let Some((&first, &(last, value))) = before {
            if last >= index {
                return (first, last, Some(value));
            }
        }
        let first = before.map_or(0, |(_, &(last, _))| last + 1);
        let last = self.map.range(index..).next().map_or(u64::MAX, |(&f, _)| f - 1);
        (first, last, None)
    }

    /// The value ranges meeting `[first, last]`, in order.
    fn overlapping(&self, first: u64, last: u64) -> impl Iterator<Item = (u64, u64, u8)> + '_ {
        let holding = self.map.range(..first).next_back().filter(|(_, &(l, _))| l >= first);
        let rest = self.map.range(first..=last.max(first)).filter(move |_| first <= last);
        holding.into_iter().chain(rest).map(|(&f, &(l, v))| (f, l, v))
    }

    fn first_occupied(&self, first: u64, last: u64) -> Option<(u64, u64, u8)> {
        self.overlapping(first, last).next()
    }

    fn values(&self) -> impl DoubleEndedIterator<Item = (u64, u64, u8)> + '_ {
        self.map.iter().map(|(&f, &(l, v))| (f, l, v))
    }

    fn gap(&self, within: Range, size: u64, lowest: bool) -> Result<Range, Error> {
        if size == 0 {
            return Err(Error::ZeroSize);
        }
        let fits = |(first, last, value): &(u64, u64, Option<u8>)| -> Option<Range> {
            if value.is_some() {
                return None;
            }
            let room = Range::new((*first).max(within.first), (*last).min(within.last))?;
            (room.len() >= size).then(|| {
                let first = if lowest { room.first } else { room.last - (size - 1) };
                Range { first, last: first + (size - 1) }
            })
        };
        let content = self.content();
        let found = if lowest { content.iter().find_map(fits) } else { content.iter().rev().find_map(fits) };
        found.ok_or(Error::NoSpace)
    }

    /// The boundaries of the ranges, for `Idx::Boundary`.
    fn boundary(&self, k: u8, delta: i8) -> u64 {
        let edges: Vec<u64> = self.map.iter().flat_map(|(&f, &(l, _))| [f, l]).collect();
        let base = if edges.is_empty() { 0 } else { edges[k as usize % edges.len()] };
        base.wrapping_add(delta as i64 as u64)
    }

    fn index(&self, idx: Idx) -> u64 {
        match idx {
            Idx::Small(i) => i as u64,
            Idx::Top(k) => u64::MAX - k as u64,
            Idx::Boundary(k, delta) => self.boundary(k, delta),
            Idx::Raw(i) => i,
        }
    }
}

fn content(view: &View<'_, u8>) -> Content {
    view.ranges(Range::ALL).map(|e| (e.range.first, e.range.last, e.value.copied())).collect()
}

fn values(view: &View<'_, u8>) -> Vec<(u64, u64, u8)> {
    view.iter().map(|(r, v)| (r.first, r.last, *v)).collect()
}

/// The view holds exactly the model: every range, both directions, and it validates.
fn same_contents(view: &View<'_, u8>, model: &Model, what: &str) {
    if let Err(e) = view.validate() {
        panic!("{what}: {e}");
    }
    assert_eq!(content(view), model.content(), "{what}: ranges differ");
    let forward: Vec<_> = model.values().collect();
    assert_eq!(values(view), forward, "{what}: iteration differs");
    let mut backward: Vec<_> = view.iter().rev().map(|(r, v)| (r.first, r.last, *v)).collect();
    backward.reverse();
    assert_eq!(backward, forward, "{what}: reverse iteration differs");
    assert_eq!(view.is_empty(), model.map.is_empty(), "{what}: is_empty");
    assert_eq!(view.len(), model.map.len(), "{what}: len");
}

/// Point lookups at `index`, neighbour lookups, and a range iteration from `index` to `limit`.
fn probe(view: &View<'_, u8>, model: &Model, index: u64, limit: u64) {
    let (first, last, value) = model.at(index);
    let entry = view.load(index);
    assert_eq!((entry.range.first, entry.range.last, entry.value.copied()), (first, last, value), "load({index:#x})");
    assert_eq!(view.get(index).copied(), value, "get({index:#x})");
    let found = view.find(index, limit).map(|(r, v)| (r.first, r.last, *v));
    let expected = if index > limit { None } else { model.first_occupied(index, limit) };
    assert_eq!(found, expected, "find({index:#x}, {limit:#x})");
    let next = view.next(index).map(|(r, v)| (r.first, r.last, *v));
    let expected_next = last.checked_add(1).and_then(|after| model.first_occupied(after, u64::MAX));
    assert_eq!(next, expected_next, "next({index:#x})");
    let prev = view.prev(index).map(|(r, v)| (r.first, r.last, *v));
    let expected_prev = first.checked_sub(1).and_then(|before| model.map.range(..=before).next_back());
    assert_eq!(prev, expected_prev.map(|(&f, &(l, v))| (f, l, v)), "prev({index:#x})");
    let next_range = view.next_range(index).map(|e| (e.range.first, e.range.last, e.value.copied()));
    assert_eq!(next_range, last.checked_add(1).map(|after| model.at(after)), "next_range({index:#x})");
    let prev_range = view.prev_range(index).map(|e| (e.range.first, e.range.last, e.value.copied()));
    assert_eq!(prev_range, first.checked_sub(1).map(|before| model.at(before)), "prev_range({index:#x})");
    if let Some(window) = Range::new(index, limit) {
        let got: Vec<_> = view.range(window).map(|(r, v)| (r.first, r.last, *v)).collect();
        let want: Vec<_> = model.overlapping(window.first, window.last).collect();
        assert_eq!(got, want, "range({window})");
        let mut back: Vec<_> = view.range(window).rev().map(|(r, v)| (r.first, r.last, *v)).collect();
        back.reverse();
        assert_eq!(back, want, "range({window}).rev()");
    }
}

/// Lookups at every boundary of the model (and just outside each), plus gap searches.
fn full_check(view: &View<'_, u8>, model: &Model, what: &str) {
    same_contents(view, model, what);
    let mut points: Vec<u64> = vec![0, u64::MAX];
    for (first, last, _) in model.values() {
        points.extend([first, last, first.saturating_sub(1), last.saturating_add(1)]);
    }
    points.sort_unstable();
    points.dedup();
    for &p in points.iter().take(64) {
        probe(view, model, p, p.saturating_add(0x40));
    }
    for (within, size) in
        [(Range::ALL, 1), (Range::ALL, 0x100), (Range::ALL, u64::MAX), (Range { first: 0, last: 0xffff }, 7)]
    {
        for lowest in [true, false] {
            let got = if lowest { view.lowest_gap(within, size) } else { view.highest_gap(within, size) };
            assert_eq!(got, model.gap(within, size, lowest), "{what}: gap({within}, {size:#x}, lowest={lowest})");
        }
    }
}

/// What a write returns on the model (which it changes on success).
fn apply_model(model: &mut Model, step: &Step, first: u64, last: u64) -> Result<Option<Range>, Error> {
    match step {
        Step::Store(..) | Step::Insert(..) | Step::Clear(..) if first > last => {
            Err(Error::InvalidRange { first, last })
        }
        Step::Store(_, _, v) => {
            model.store(first, last, Some(*v));
            Ok(None)
        }
        Step::Insert(_, _, v) => match model.first_occupied(first, last) {
            Some((f, l, _)) => Err(Error::Occupied(Range { first: f, last: l })),
            None => {
                model.store(first, last, Some(*v));
                Ok(None)
            }
        },
        Step::Clear(..) => {
            model.store(first, last, None);
            Ok(None)
        }
        Step::Erase(_) => {
            let (f, l, value) = model.at(first);
            Ok(value.map(|_| {
                model.store(f, l, None);
                Range { first: f, last: l }
            }))
        }
        _ => unreachable!("not a write"),
    }
}

fuzz_target!(|steps: Vec<Step>| {
    let tree: Tree<u8> = Tree::new();
    let mut committed = Model::default();
    let mut steps = steps.into_iter().take(400).peekable();
    let mut fail_next: Option<u8> = None;
    while steps.peek().is_some() {
        // One transaction: the steps up to a commit or a drop (or the end of the input).
        let fail_armed = fail_next.is_some();
        if let Some(n) = fail_next.take() {
            tree.set_alloc_hook(Some(AllocHook::fail_at(n as usize)));
        }
        let before = tree.snapshot();
        let old = committed.clone();
        let mut pending = committed.clone();
        let mut txn = tree.transaction();
        let mut commit = false;
        // The open savepoints, oldest first, each with the model at that point.
        let mut points: Vec<(maple::Savepoint, Model)> = Vec::new();
        // The state before each write, kept only when allocations may fail (an allocation
        // failure must leave the transaction as it was).
        let may_fail = fail_armed;
        for step in steps.by_ref() {
            match step {
                Step::Commit => {
                    commit = true;
                    break;
                }
                Step::Drop => break,
                Step::FailAlloc(n) => fail_next = Some(n),
                Step::Savepoint => points.push((txn.savepoint(), pending.clone())),
                Step::RollBack(n) | Step::Keep(n) if !points.is_empty() => {
                    let at = usize::from(n) % points.len();
                    let (point, model) = points.drain(at..).next().expect("at < len");
                    if let Step::RollBack(_) = step {
                        txn.roll_back(point);
                        pending = model;
                    } else {
                        txn.keep(point);
                    }
                    same_contents(&txn, &pending, "inside the transaction, after a savepoint ended");
                }
                Step::RollBack(_) | Step::Keep(_) => {}
                Step::Probe(i, l) => probe(&txn, &pending, pending.index(i), pending.index(l)),
                Step::Gap { first, last, size, lowest } => {
                    let (first, last, size) = (pending.index(first), pending.index(last), pending.index(size));
                    if let Some(within) = Range::new(first, last) {
                        let got = if lowest { txn.lowest_gap(within, size) } else { txn.highest_gap(within, size) };
                        assert_eq!(got, pending.gap(within, size, lowest), "gap({within}, {size:#x}, {lowest})");
                    }
                }
                Step::Store(a, b, _) | Step::Insert(a, b, _) | Step::Clear(a, b) => {
                    let (first, last) = (pending.index(a), pending.index(b));
                    let result = match step {
                        Step::Store(_, _, v) => txn.store(first, last, v).map(|()| None),
                        Step::Insert(_, _, v) => txn.insert(first, last, v).map(|()| None),
                        _ => txn.clear(first, last).map(|()| None),
                    };
                    let was = may_fail.then(|| pending.clone());
                    let expected = apply_model(&mut pending, &step, first, last);
                    check_write(&txn, result, expected, &mut pending, was, &step);
                }
                Step::Bulk { start, count, stride, len, clear, value } => {
                    let first = pending.index(start);
                    let (stride, len) = (u64::from(stride) + 1, u64::from(len));
                    for k in 0..u64::from(count) {
                        let Some(a) = first.checked_add(k * stride) else { break };
                        let b = a.saturating_add(len);
                        let result = if clear { txn.clear(a, b) } else { txn.store(a, b, value) };
                        let was = may_fail.then(|| pending.clone());
                        let step = if clear {
                            Step::Clear(Idx::Raw(a), Idx::Raw(b))
                        } else {
                            Step::Store(Idx::Raw(a), Idx::Raw(b), value)
                        };
                        let expected = apply_model(&mut pending, &step, a, b);
                        match result {
                            Err(Error::AllocFailed) => {
                                pending = was.expect("an allocation failed with no failure armed")
                            }
                            _ => assert_eq!(result.map(|()| None), expected, "{step:?}"),
                        }
                    }
                    same_contents(&txn, &pending, "inside the transaction, after a bulk write");
                }
                Step::Erase(i) => {
                    let index = pending.index(i);
                    let result = txn.erase(index);
                    let was = may_fail.then(|| pending.clone());
                    let expected = apply_model(&mut pending, &step, index, index);
                    check_write(&txn, result, expected, &mut pending, was, &step);
                }
            }
        }
        if commit {
            txn.commit();
            committed = pending;
        } else {
            drop(txn);
        }
        tree.set_alloc_hook(None);
        let after = tree.snapshot();
        full_check(&after, &committed, if commit { "after commit" } else { "after drop" });
        // The snapshot taken before the transaction still shows the state before it.
        same_contents(&before, &old, "a snapshot taken before the transaction");
        drop(before);
    }
});

/// A write's result against the model's, and the transaction's view against the model
/// (unchanged after a failure, including an allocation failure the model cannot predict).
fn check_write(
    txn: &View<'_, u8>,
    result: Result<Option<Range>, Error>,
    expected: Result<Option<Range>, Error>,
    pending: &mut Model,
    was: Option<Model>,
    step: &Step,
) {
    match result {
        Err(Error::AllocFailed) => *pending = was.expect("an allocation failed with no failure armed"),
        _ => assert_eq!(result, expected, "{step:?}"),
    }
    same_contents(txn, pending, "inside the transaction");
}
