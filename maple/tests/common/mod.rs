//! Helpers shared by the integration tests: a small deterministic generator, a reference
//! model of the tree's contents (a `BTreeMap` of value ranges, written independently of the
//! tree), the writes applied alike to the model and to the tree, and snapshots of a view's
//! contents as plain data.
//!
//! Each test file includes this with `mod common;`; files that use only part of it allow
//! `dead_code` on that line.

use std::collections::BTreeMap;

use maple::{Error, Range, Transaction, Tree, View};

/// A small deterministic generator (splitmix64).
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// `native` normally, `miri` under Miri. The interpreter runs the tree's code thousands of
/// times slower (a write costs it about a tenth of a second), so under it the tests take smaller
/// trees and fewer steps; they still reach the same code paths, which is what Miri checks.
pub const fn size(native: u64, miri: u64) -> u64 {
    if cfg!(miri) {
        miri
    } else {
        native
    }
}

/// Whether a check that walks the whole tree runs at step `step`: at every step natively, at
/// every `every`-th under Miri (the writes between are still checked for undefined behaviour).
pub fn sampled(step: u64, every: u64) -> bool {
    !cfg!(miri) || step % every == 0
}

pub fn r(first: u64, last: u64) -> Range {
    Range::new(first, last).unwrap()
}

/// Validates the view, panicking with the reason when it is not valid, and checks that its
/// O(1) `len` equals the values the validator counted.
pub fn valid<T>(view: &View<'_, T>) -> maple::Shape {
    let shape = view.validate().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(view.len(), shape.values, "len() against the values counted");
    shape
}

/// Every range of a state, empty ones included, in index order.
pub type Content<T> = Vec<(u64, u64, Option<T>)>;

/// Every range of a view, empty ones included, values cloned.
pub fn content<T: Clone>(view: &View<'_, T>) -> Content<T> {
    view.ranges(Range::ALL).map(|e| (e.range.first, e.range.last, e.value.cloned())).collect()
}

/// The reference: the ranges holding a value, `first -> (last, value)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Model<T> {
    pub map: BTreeMap<u64, (u64, T)>,
}

impl<T> Default for Model<T> {
    fn default() -> Self {
        Model { map: BTreeMap::new() }
    }
}

impl<T: Clone> Model<T> {
    /// Stores `value` (or emptiness) over `[first, last]`, trimming what it overlaps.
    pub fn store(&mut self, first: u64, last: u64, value: Option<T>) {
        let hit: Vec<u64> =
            self.map.range(..=last).rev().take_while(|(_, (end, _))| *end >= first).map(|(&start, _)| start).collect();
        for start in hit {
            let (end, old) = self.map.remove(&start).unwrap();
            if start < first {
                self.map.insert(start, (first - 1, old.clone()));
            }
            if end > last {
                self.map.insert(last + 1, (end, old));
            }
        }
        if let Some(value) = value {
            self.map.insert(first, (last, value));
        }
    }

    /// The range holding `index` (a maximal empty range when no value is there).
    pub fn at(&self, index: u64) -> (u64, u64, Option<T>) {
        let before = self.map.range(..=index).next_back();
        if let Some((&first, (last, value))) = before {
            if *last >= index {
                return (first, *last, Some(value.clone()));
            }
        }
        let first = before.map_or(0, |(_, (last, _))| last + 1);
        let last = self.map.range(index..).next().map_or(u64::MAX, |(&f, _)| f - 1);
        (first, last, None)
    }

    /// Empties the whole range holding `index`; the range if it held a value.
    pub fn erase(&mut self, index: u64) -> Option<Range> {
        let (first, last, value) = self.at(index);
        value?;
        self.store(first, last, None);
        Range::new(first, last)
    }

    /// The first value range meeting `[first, last]`.
    pub fn occupied(&self, first: u64, last: u64) -> Option<Range> {
        self.values().find(|(f, l, _)| *f <= last && *l >= first).map(|(f, l, _)| Range { first: f, last: l })
    }

    /// The value ranges, in order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = (u64, u64, T)> + '_ {
        self.map.iter().map(|(&first, (last, value))| (first, *last, value.clone()))
    }

    /// Every range, empty ones included, in order.
    pub fn content(&self) -> Content<T> {
        let mut out = Vec::new();
        let mut next = Some(0u64);
        for (first, last, value) in self.values() {
            let start = next.expect("no value after one ending at u64::MAX");
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
}

/// One write, applied alike to the tree (in place or in a transaction) and to the model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op<V> {
    Store(u64, u64, V),
    Insert(u64, u64, V),
    Clear(u64, u64),
    Erase(u64),
}

/// What the op returns when it succeeds, worked out on the model (which it then changes).
pub fn apply_model<V: Clone>(model: &mut Model<V>, op: Op<V>) -> Result<Option<Range>, Error> {
    match op {
        Op::Store(f, l, _) | Op::Insert(f, l, _) | Op::Clear(f, l) if f > l => {
            Err(Error::InvalidRange { first: f, last: l })
        }
        Op::Store(f, l, v) => {
            model.store(f, l, Some(v));
            Ok(None)
        }
        Op::Insert(f, l, v) => match model.occupied(f, l) {
            Some(range) => Err(Error::Occupied(range)),
            None => {
                model.store(f, l, Some(v));
                Ok(None)
            }
        },
        Op::Clear(f, l) => {
            model.store(f, l, None);
            Ok(None)
        }
        Op::Erase(i) => Ok(model.erase(i)),
    }
}

pub fn apply_tree<V: Clone + Send + Sync + 'static>(tree: &mut Tree<V>, op: Op<V>) -> Result<Option<Range>, Error> {
    match op {
        Op::Store(f, l, v) => tree.store(f, l, v).map(|()| None),
        Op::Insert(f, l, v) => tree.insert(f, l, v).map(|()| None),
        Op::Clear(f, l) => tree.clear(f, l).map(|()| None),
        Op::Erase(i) => tree.erase(i),
    }
}

pub fn apply_txn<V: Clone + Send + Sync + 'static>(
    txn: &mut Transaction<'_, V>,
    op: Op<V>,
) -> Result<Option<Range>, Error> {
    match op {
        Op::Store(f, l, v) => txn.store(f, l, v).map(|()| None),
        Op::Insert(f, l, v) => txn.insert(f, l, v).map(|()| None),
        Op::Clear(f, l) => txn.clear(f, l).map(|()| None),
        Op::Erase(i) => txn.erase(i),
    }
}
