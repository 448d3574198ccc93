//! Kernel-suite style tests for `maple` (the ideas of lib/test_maple_tree.c, written anew):
//! sequences inserted forward and in reverse, overlapping and spanning stores, rebalances up
//! to the root, height growth and shrink, gap windows at both ends of the index space,
//! iteration across node boundaries, paused walks, and the replay of a real process's
//! memory-map activity.
//!
//! Every expectation comes from a reference model written here and in `common` (a
//! `BTreeMap` of value ranges, with brute-force queries) or is worked out by hand in the test; the tree is
//! validated after the steps.

#![cfg(not(loom))]

use std::fmt::Debug;

use maple::{Error, Range, Tree, View};

mod common;

use common::{apply_model, apply_tree, apply_txn, content, r, sampled, size, valid, Model, SplitMix};

type Op = common::Op<u64>;

/// The queries only these tests ask of the model, by brute force.
impl<T: Clone> Model<T> {
    fn find(&self, index: u64, limit: u64) -> Option<(u64, u64, T)> {
        if index > limit {
            return None;
        }
        if let (first, last, Some(value)) = self.at(index) {
            return Some((first, last, value));
        }
        let (&first, (last, value)) = self.map.range(index..).next()?;
        (first <= limit).then(|| (first, *last, value.clone()))
    }

    /// The last value meeting `[index, limit]`.
    fn find_rev(&self, index: u64, limit: u64) -> Option<(u64, u64, T)> {
        let (&first, (last, value)) = self.map.range(..=limit).next_back()?;
        (*last >= index).then(|| (first, *last, value.clone()))
    }

    /// How many values meet `[index, limit]`.
    fn count(&self, index: u64, limit: u64) -> usize {
        self.map.range(..=limit).rev().take_while(|(_, (last, _))| *last >= index).count()
    }

    fn next(&self, index: u64) -> Option<(u64, u64, T)> {
        let (_, last, _) = self.at(index);
        let (&first, (last, value)) = self.map.range(last.checked_add(1)?..).next()?;
        Some((first, *last, value.clone()))
    }

    fn prev(&self, index: u64) -> Option<(u64, u64, T)> {
        let (first, _, _) = self.at(index);
        let (&first, (last, value)) = self.map.range(..first).next_back()?;
        Some((first, *last, value.clone()))
    }

    /// The empty ranges, in order.
    fn empties(&self) -> Vec<(u64, u64)> {
        self.content().into_iter().filter(|(_, _, value)| value.is_none()).map(|(f, l, _)| (f, l)).collect()
    }

    /// Brute force over the empty ranges: the lowest or highest window of `size` in `within`.
    fn gap(&self, within: Range, size: u64, lowest: bool) -> Result<Range, Error> {
        gap_among(&self.empties(), within, size, lowest)
    }
}

/// The lowest or highest window of `size` inside `within` among the empty ranges `empties`.
fn gap_among(empties: &[(u64, u64)], within: Range, size: u64, lowest: bool) -> Result<Range, Error> {
    if size == 0 {
        return Err(Error::ZeroSize);
    }
    let fits = |&(f, l): &(u64, u64)| {
        let (f, l) = (f.max(within.first), l.min(within.last));
        (f <= l && u128::from(l) - u128::from(f) + 1 >= u128::from(size)).then_some((f, l))
    };
    let room = if lowest { empties.iter().find_map(fits) } else { empties.iter().rev().find_map(fits) };
    match room {
        None => Err(Error::NoSpace),
        Some((f, _)) if lowest => Ok(Range { first: f, last: f + (size - 1) }),
        Some((_, l)) => Ok(Range { first: l - (size - 1), last: l }),
    }
}

/// Validates the view and compares every range of it with the model.
fn check<T: Clone + PartialEq + Debug>(view: &View<'_, T>, model: &Model<T>) {
    let shape = view.validate().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(shape.values, model.map.len(), "value count");
    assert_eq!(view.len(), model.map.len(), "len");
    assert_eq!(content(view), model.content());
}

/// The leaves of the tree, `[min, max]` each, read from the node structure `Debug` prints.
fn leaf_spans<T: Debug>(tree: &Tree<T>) -> Vec<(u64, u64)> {
    let text = format!("{tree:?}");
    let spans: Vec<(u64, u64)> = text
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("leaf ["))
        .map(|rest| {
            let (min, rest) = rest.split_once(", ").unwrap();
            let max = rest.split_once(']').unwrap().0;
            let hex = |s: &str| u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap();
            (hex(min), hex(max))
        })
        .collect();
    assert_eq!(spans.len(), valid(&tree.snapshot()).leaves);
    spans
}

/// Runs `ops` on copies of `base` twice (in place, and in one transaction per `batch` ops),
/// checking every step against the model that starts as `model`. Under Miri the checks (each a
/// walk of the whole tree) come at the end of each run only.
fn run_both(base: &Tree<u64>, model: &Model<u64>, ops: &[Op], batch: usize) {
    let mut tree = base.try_clone().unwrap();
    let mut expected = model.clone();
    for (step, &op) in ops.iter().enumerate() {
        let want = apply_model(&mut expected, op);
        assert_eq!(apply_tree(&mut tree, op), want, "{op:?} in place");
        if !cfg!(miri) || step + 1 == ops.len() {
            check(&tree.snapshot(), &expected);
        }
    }

    let tree = base.try_clone().unwrap();
    let mut expected = model.clone();
    for (number, chunk) in ops.chunks(batch).enumerate() {
        let last_chunk = (number + 1) * batch >= ops.len();
        let before = (!cfg!(miri) || number == 0).then(|| content(&tree.snapshot()));
        let mut txn = tree.transaction();
        for (step, &op) in chunk.iter().enumerate() {
            let want = apply_model(&mut expected, op);
            assert_eq!(apply_txn(&mut txn, op), want, "{op:?} in a transaction");
            if !cfg!(miri) || (last_chunk && step + 1 == chunk.len()) {
                check(&txn, &expected);
            }
        }
        // Readers see nothing of the transaction until it commits.
        if let Some(before) = before {
            assert_eq!(content(&tree.snapshot()), before);
        }
        txn.commit();
        if !cfg!(miri) || last_chunk {
            check(&tree.snapshot(), &expected);
        }
    }
}

/// `n` contiguous ranges `[10i, 10i + 9]` holding `i`, built by bulk load, with the model.
fn contiguous(n: u64) -> (Tree<u64>, Model<u64>) {
    let tree = Tree::from_sorted((0..n).map(|i| (r(10 * i, 10 * i + 9), i))).unwrap();
    let mut model = Model::default();
    for i in 0..n {
        model.store(10 * i, 10 * i + 9, Some(i));
    }
    check(&tree.snapshot(), &model);
    (tree, model)
}

// ---------------------------------------------------------------------------------------
// Sequences
// ---------------------------------------------------------------------------------------

#[test]
fn sequence_forward_insert_load_erase_every_other() {
    const N: u64 = size(2000, 40);
    let mut tree = Tree::new();
    for i in 0..N {
        tree.insert(i, i, i).unwrap();
        if i % size(50, 16) == 0 {
            valid(&tree.snapshot());
        }
    }
    let snap = tree.snapshot();
    let shape = valid(&snap);
    assert_eq!(shape.values, N as usize);
    assert_eq!(shape.empty_ranges, 1, "only the tail [N, MAX] is empty");
    let least = size(3, 2) as usize;
    assert!(shape.height >= least, "{N} entries need at least {least} levels: {shape:?}");
    for i in 0..N {
        assert_eq!(snap.get(i), Some(&i));
        let entry = snap.load(i);
        assert_eq!((entry.range, entry.value), (r(i, i), Some(&i)));
    }
    assert_eq!(snap.load(N).range, r(N, u64::MAX));
    assert_eq!(snap.load(u64::MAX).value, None);
    drop(snap);
    // Inserting over any of them fails and names the occupied range.
    assert_eq!(tree.insert(N - 1, N + 5, 0), Err(Error::Occupied(r(N - 1, N - 1))));

    for i in (0..N).step_by(2) {
        assert_eq!(tree.erase(i), Ok(Some(r(i, i))));
        if sampled(i, 16) {
            valid(&tree.snapshot());
        }
    }
    let snap = tree.snapshot();
    for i in 0..N {
        let entry = snap.load(i);
        if i % 2 == 0 {
            assert_eq!((entry.range, entry.value), (r(i, i), None), "index {i}");
        } else {
            assert_eq!((entry.range, entry.value), (r(i, i), Some(&i)), "index {i}");
        }
    }
    let shape = valid(&snap);
    assert_eq!((shape.values, shape.empty_ranges), (N as usize / 2, N as usize / 2 + 1));
    drop(snap);
    for i in (0..N).step_by(2) {
        assert_eq!(tree.erase(i), Ok(None), "erasing an empty range changes nothing");
    }
    for i in (1..N).rev().step_by(2) {
        assert_eq!(tree.erase(i), Ok(Some(r(i, i))));
        if sampled(i, 15) {
            valid(&tree.snapshot());
        }
    }
    assert!(tree.snapshot().is_empty());
    assert_eq!(valid(&tree.snapshot()).height, 0);
}

#[test]
fn sequence_reverse_insert_in_transactions() {
    const N: u64 = size(2000, 32);
    let tree = Tree::new();
    let mut model = Model::default();
    for i in (0..N).rev() {
        let mut txn = tree.transaction();
        txn.insert(i * 10, i * 10 + 4, i).unwrap();
        txn.commit();
        model.store(i * 10, i * 10 + 4, Some(i));
        if i % size(40, 16) == 0 {
            check(&tree.snapshot(), &model);
        }
    }
    let snap = tree.snapshot();
    check(&snap, &model);
    for i in 0..N {
        assert_eq!(snap.load(i * 10 + 2).value, Some(&i));
        let gap = snap.load(i * 10 + 7);
        let end = if i + 1 < N { i * 10 + 9 } else { u64::MAX };
        assert_eq!((gap.range, gap.value), (r(i * 10 + 5, end), None));
    }
    assert_eq!(snap.load(0).range, r(0, 4));
    assert_eq!(snap.load(N * 10 - 1).range, r(N * 10 - 5, u64::MAX));
    drop(snap);

    // Erase every other one, from the top down, one transaction each.
    for i in (0..N).rev().step_by(2) {
        let mut txn = tree.transaction();
        assert_eq!(txn.erase(i * 10 + 3), Ok(Some(r(i * 10, i * 10 + 4))));
        txn.commit();
        model.store(i * 10, i * 10 + 4, None);
        if sampled(i, 16) {
            valid(&tree.snapshot());
        }
    }
    check(&tree.snapshot(), &model);
    let snap = tree.snapshot();
    // The odd i are gone: an empty range from the end of i-1 to the start of i+1.
    assert_eq!(snap.load(15).range, r(5, 19));
}

// ---------------------------------------------------------------------------------------
// Overlapping and spanning stores
// ---------------------------------------------------------------------------------------

#[test]
fn overlapping_stores_trim_their_neighbours() {
    // Under Miri 120 ranges, two levels: the stores past index 1200 then land in the empty
    // tail instead.
    let (tree, model) = contiguous(size(300, 120));
    let ops = [
        Op::Store(15, 34, 1000),     // end of 1, all of 2, start of 3
        Op::Store(40, 49, 1001),     // exact fit over 4
        Op::Store(50, 50, 1002),     // first index of 5
        Op::Store(59, 59, 1003),     // last index of 5
        Op::Store(61, 68, 1004),     // inside 6: splits it in three
        Op::Store(65, 65, 1005),     // inside the new one
        Op::Store(100, 1099, 1006),  // a hundred whole ranges
        Op::Store(95, 1104, 1007),   // over the last store and its neighbours
        Op::Clear(1200, 1203),       // the start of 120
        Op::Clear(1300, 1399),       // exactly ten ranges
        Op::Store(1205, 1305, 1008), // across a value, an empty range and a value
        Op::Clear(1405, 1594),       // partial ends, many whole ones
        Op::Store(1400, 1599, 1009), // fill the hole and trim both sides
        Op::Insert(1600, 1600, 7),   // occupied
        Op::Clear(1600, 1600),
        Op::Insert(1600, 1600, 1010),
        Op::Insert(1205, 1210, 1011), // occupied by the store above
        Op::Erase(1300),              // the middle of a trimmed store
        Op::Store(0, 2999, 1012),     // everything
        Op::Store(0, 0, 1013),
        Op::Store(2999, 2999, 1014),
    ];
    run_both(&tree, &model, &ops, 4);
}

#[test]
fn stores_spanning_two_three_and_many_leaves() {
    let (tree, model) = contiguous(size(600, 170));
    let spans = leaf_spans(&tree);
    let leaves = size(30, 11) as usize;
    assert!(spans.len() >= leaves, "bulk load packs 16 slots a leaf: {} leaves", spans.len());
    let mid = |k: usize| spans[k].0 + (spans[k].1 - spans[k].0) / 2;
    let last = spans.len() - 1;
    let pairs = [(5, 6), (5, 7), (5, 30), (0, last), (0, 1), (last - 1, last)];
    // Under Miri none of these (a run of each costs seconds there): the four spanning stores in
    // one transaction below cross leaves and branches too.
    let pairs = if cfg!(miri) { &[][..] } else { &pairs[..] };
    for &(from, to) in pairs {
        let (first, last) = (mid(from), mid(to));
        // The ends lie in different leaves, `to - from` leaf boundaries apart.
        let crossed = spans.iter().filter(|(min, _)| *min > first && *min <= last).count();
        assert_eq!(crossed, to - from);
        // A value over the span, emptiness over the span, and a span ending at a leaf edge.
        run_both(&tree, &model, &[Op::Store(first, last, 7777)], 1);
        run_both(&tree, &model, &[Op::Clear(first, last)], 1);
        run_both(&tree, &model, &[Op::Store(spans[from].0, spans[to].1, 8888)], 1);
        run_both(&tree, &model, &[Op::Clear(spans[from].0, spans[to].1)], 1);
        run_both(&tree, &model, &[Op::Store(spans[from].1, spans[to].0, 9999)], 1);
    }
    // Spanning stores one after another in one transaction: the second touches nodes the
    // first made, the third reaches past the end.
    // (Under Miri the leaves are picked from fewer, at the same proportions of a tree of 21.)
    let mid = |k: usize| if cfg!(miri) { mid(k * last / 20) } else { mid(k) };
    let ops = [
        Op::Store(mid(3), mid(12), 1),
        Op::Clear(mid(10), mid(20)),
        Op::Store(mid(15), u64::MAX, 2),
        Op::Clear(0, mid(2)),
    ];
    run_both(&tree, &model, &ops, 4);
}

#[test]
fn rebalances_up_to_the_root() {
    // 1000 single-index values with a gap after each: 2000 slots, at least three levels (under
    // Miri 80 values, 160 slots, three levels still: appending fills leaves to 15 of 16).
    let n = size(1000, 80);
    let mut base = Tree::new();
    let mut model = Model::default();
    for i in 0..n {
        base.insert(2 * i, 2 * i, i).unwrap();
        model.store(2 * i, 2 * i, Some(i));
    }
    check(&base.snapshot(), &model);
    let start_height = valid(&base.snapshot()).height;
    assert!(start_height >= 3);

    let mut orders: Vec<(&str, Vec<u64>)> = vec![
        ("from the left", (0..n).collect()),
        ("from the right", (0..n).rev().collect()),
        ("from the middle out", {
            let mut v: Vec<u64> = Vec::new();
            for d in 0..n / 2 {
                v.push(n / 2 + d);
                v.push(n / 2 - 1 - d);
            }
            v
        }),
        ("by a stride of 7", (0..7).flat_map(|s| (s..n).step_by(7)).collect()),
    ];
    if cfg!(miri) {
        // One order of the four: the scattered one.
        orders.retain(|(name, _)| *name == "by a stride of 7");
    }
    for (name, order) in orders {
        assert_eq!(order.len(), n as usize, "{name}");
        let mut tree = base.try_clone().unwrap();
        let mut expected = model.clone();
        let mut height = start_height;
        for (step, &i) in order.iter().enumerate() {
            assert_eq!(tree.erase(2 * i), Ok(Some(r(2 * i, 2 * i))), "{name}, step {step}");
            expected.store(2 * i, 2 * i, None);
            if sampled(step as u64, 40) {
                let shape = valid(&tree.snapshot());
                assert!(shape.height <= height, "{name}: erasing grew the tree at step {step}");
                height = shape.height;
            }
            if step % 100 == 0 {
                check(&tree.snapshot(), &expected);
            }
        }
        assert!(tree.snapshot().is_empty(), "{name}");
    }

    // The same with transactions, several erasures per commit, and wide clears.
    let tree = base.try_clone().unwrap();
    let mut expected = model.clone();
    let mut rng = SplitMix(7);
    for round in 0..size(300, 4) {
        let mut txn = tree.transaction();
        for _ in 0..5 {
            let i = rng.below(n);
            let want = expected.erase(2 * i);
            assert_eq!(txn.erase(2 * i), Ok(want));
        }
        let first = rng.below(2 * n);
        let last = first + rng.below(60);
        txn.clear(first, last).unwrap();
        expected.store(first, last, None);
        if sampled(round, 3) {
            check(&txn, &expected);
        }
        txn.commit();
    }
    check(&tree.snapshot(), &expected);
    let mut txn = tree.transaction();
    txn.clear(0, u64::MAX).unwrap();
    txn.commit();
    assert!(tree.snapshot().is_empty());
    assert_eq!(valid(&tree.snapshot()).height, 0);
}

#[test]
fn height_grows_then_shrinks_to_one_then_empty() {
    const N: u64 = size(3000, 40);
    // Validating is linear in the tree: every step while small, then a sample.
    let (small, every) = (size(300, 10), size(16, 8));
    let mut tree = Tree::new();
    assert_eq!(valid(&tree.snapshot()).height, 0);
    let mut heights = Vec::new();
    for i in 0..N {
        tree.insert(i * 4, i * 4 + 1, i).unwrap();
        if i < small || i % every == 0 {
            heights.push(valid(&tree.snapshot()).height);
        }
    }
    heights.push(valid(&tree.snapshot()).height);
    assert_eq!(heights[0], 1, "one value fits the root leaf");
    assert!(heights.windows(2).all(|w| w[0] <= w[1]), "appending never shrinks the tree");
    let top = *heights.last().unwrap();
    // (Under Miri 80 slots, two levels: `rebalances_up_to_the_root` grows a third.)
    let least = size(4, 2) as usize;
    assert!(top >= least, "{} slots need at least {least} levels, got {top}", 2 * N);
    // Minimum occupancy keeps the tree shallow: 6 slots a leaf, 4 children a branch.
    assert!(top <= 1 + 6, "height {top} is more than minimum occupancy allows");
    for h in 1..=top {
        assert!(heights.contains(&h), "the tree skipped height {h}");
    }

    let mut heights = Vec::new();
    for i in (0..N).rev() {
        assert_eq!(tree.erase(i * 4), Ok(Some(r(i * 4, i * 4 + 1))));
        if i < small || i % every == 0 {
            let shape = valid(&tree.snapshot());
            assert_eq!(shape.values, i as usize);
            heights.push(shape.height);
        }
    }
    assert!(heights.windows(2).all(|w| w[0] >= w[1]), "erasing never grows the tree");
    assert_eq!(heights[heights.len() - 2], 1, "the last value sits in a root leaf");
    assert_eq!(*heights.last().unwrap(), 0);
    assert!(tree.snapshot().is_empty());

    // And through one wide clear: a tall tree back to nothing (bulk loading is cheap under
    // Miri, so 200 values there).
    let bulk = size(N, 200);
    let mut tree = Tree::from_sorted((0..bulk).map(|i| (r(i * 4, i * 4 + 1), i))).unwrap();
    assert!(valid(&tree.snapshot()).height >= 3);
    tree.clear(8, u64::MAX).unwrap();
    let shape = valid(&tree.snapshot());
    assert_eq!((shape.height, shape.values), (1, 2));
    tree.clear(0, 7).unwrap();
    assert!(tree.snapshot().is_empty());
}

// ---------------------------------------------------------------------------------------
// Gaps
// ---------------------------------------------------------------------------------------

#[test]
fn gap_windows_at_zero_and_at_the_top() {
    const MAX: u64 = u64::MAX;
    let mut tree = Tree::new();
    {
        let snap = tree.snapshot();
        assert_eq!(snap.lowest_gap(Range::ALL, 1), Ok(r(0, 0)));
        assert_eq!(snap.highest_gap(Range::ALL, 1), Ok(r(MAX, MAX)));
        // A window of u64::MAX indexes fits twice over in the 2^64 of the empty space.
        assert_eq!(snap.lowest_gap(Range::ALL, MAX), Ok(r(0, MAX - 1)));
        assert_eq!(snap.highest_gap(Range::ALL, MAX), Ok(r(1, MAX)));
        assert_eq!(snap.lowest_gap(r(0, 0), 1), Ok(r(0, 0)));
        assert_eq!(snap.highest_gap(r(MAX, MAX), 1), Ok(r(MAX, MAX)));
        assert_eq!(snap.lowest_gap(r(MAX, MAX), 2), Err(Error::NoSpace));
    }

    tree.store(0, 0, 'a').unwrap();
    {
        let snap = tree.snapshot();
        valid(&snap);
        assert_eq!(snap.lowest_gap(Range::ALL, 1), Ok(r(1, 1)));
        assert_eq!(snap.lowest_gap(Range::ALL, MAX), Ok(r(1, MAX)), "[1, MAX] is exactly MAX long");
        assert_eq!(snap.highest_gap(Range::ALL, MAX), Ok(r(1, MAX)));
        assert_eq!(snap.lowest_gap(r(0, 0), 1), Err(Error::NoSpace));
        assert_eq!(snap.lowest_gap(r(0, 1), 1), Ok(r(1, 1)));
        assert_eq!(snap.highest_gap(r(0, 1), 2), Err(Error::NoSpace));
    }

    tree.store(MAX, MAX, 'z').unwrap();
    {
        let snap = tree.snapshot();
        valid(&snap);
        assert_eq!(snap.lowest_gap(Range::ALL, MAX), Err(Error::NoSpace));
        assert_eq!(snap.lowest_gap(Range::ALL, MAX - 1), Ok(r(1, MAX - 1)));
        assert_eq!(snap.highest_gap(Range::ALL, MAX - 1), Ok(r(1, MAX - 1)));
        assert_eq!(snap.highest_gap(Range::ALL, 1), Ok(r(MAX - 1, MAX - 1)));
        assert_eq!(snap.highest_gap(r(MAX - 1, MAX), 1), Ok(r(MAX - 1, MAX - 1)));
        assert_eq!(snap.highest_gap(r(MAX - 1, MAX), 2), Err(Error::NoSpace));
        assert_eq!(snap.lowest_gap(r(MAX, MAX), 1), Err(Error::NoSpace));
    }

    tree.store(1, MAX - 1, 'm').unwrap();
    assert_eq!(tree.snapshot().lowest_gap(Range::ALL, 1), Err(Error::NoSpace));
    assert_eq!(tree.snapshot().highest_gap(Range::ALL, 1), Err(Error::NoSpace));
    assert_eq!(tree.erase(0), Ok(Some(r(0, 0))));
    assert_eq!(tree.snapshot().highest_gap(Range::ALL, 1), Ok(r(0, 0)));
    assert_eq!(tree.snapshot().lowest_gap(Range::ALL, 2), Err(Error::NoSpace));
    assert_eq!(tree.erase(MAX), Ok(Some(r(MAX, MAX))));
    assert_eq!(tree.snapshot().lowest_gap(r(1, MAX), 1), Ok(r(MAX, MAX)));
    assert_eq!(tree.erase(5), Ok(Some(r(1, MAX - 1))));
    assert!(tree.snapshot().is_empty());

    // A value over the whole space leaves no room at all; one short of it leaves one index.
    tree.store(0, MAX, 'w').unwrap();
    assert_eq!(tree.snapshot().lowest_gap(Range::ALL, 1), Err(Error::NoSpace));
    tree.clear(MAX, MAX).unwrap();
    valid(&tree.snapshot());
    assert_eq!(tree.snapshot().load(0).range, r(0, MAX - 1));
    assert_eq!(tree.snapshot().lowest_gap(Range::ALL, 1), Ok(r(MAX, MAX)));
    tree.clear(0, MAX).unwrap();
    tree.store(1, MAX, 'w').unwrap();
    assert_eq!(tree.snapshot().highest_gap(Range::ALL, 1), Ok(r(0, 0)));
}

#[test]
fn gap_windows_at_both_ends_of_a_tall_tree() {
    const MAX: u64 = u64::MAX;
    // [0, 0xfff], then 1000 pages every other page from 0x2000, then [MAX - 0xfff, MAX] (under
    // Miri 40 pages, two levels).
    const PAGES: u64 = size(1000, 40);
    let mut tree = Tree::new();
    let mut model = Model::default();
    let mut put = |tree: &mut Tree<u64>, f: u64, l: u64, v: u64| {
        tree.insert(f, l, v).unwrap();
        model.store(f, l, Some(v));
    };
    put(&mut tree, 0, 0xfff, 0);
    for i in 1..=PAGES {
        put(&mut tree, i * 0x2000, i * 0x2000 + 0xfff, i);
    }
    put(&mut tree, MAX - 0xfff, MAX, PAGES + 1);
    check(&tree.snapshot(), &model);
    assert!(valid(&tree.snapshot()).height >= size(3, 2) as usize);
    let end = PAGES * 0x2000 + 0x1000; // first free index after the pages
    let snap = tree.snapshot();
    assert_eq!(snap.lowest_gap(Range::ALL, 0x1000), Ok(r(0x1000, 0x1fff)));
    assert_eq!(snap.lowest_gap(Range::ALL, 0x1001), Ok(r(end, end + 0x1000)));
    assert_eq!(snap.highest_gap(Range::ALL, 0x1000), Ok(r(MAX - 0x1fff, MAX - 0x1000)));
    assert_eq!(snap.highest_gap(r(0, end - 1), 0x1000), Ok(r(end - 0x2000, end - 0x1001)));
    assert_eq!(snap.highest_gap(r(0, end - 1), 0x1001), Err(Error::NoSpace));
    assert_eq!(snap.lowest_gap(r(0x1800, end), 0x1000), Ok(r(0x3000, 0x3fff)));
    assert_eq!(snap.lowest_gap(r(0x1800, end), 0x800), Ok(r(0x1800, 0x1fff)));
    let big = MAX - 0x1000 - end + 1; // the one large hole
    assert_eq!(snap.lowest_gap(Range::ALL, big), Ok(r(end, MAX - 0x1000)));
    assert_eq!(snap.highest_gap(Range::ALL, big), Ok(r(end, MAX - 0x1000)));
    assert_eq!(snap.lowest_gap(Range::ALL, big + 1), Err(Error::NoSpace));
    drop(snap);

    // Erasing the ranges at the two ends opens windows there.
    assert_eq!(tree.erase(0x10), Ok(Some(r(0, 0xfff))));
    assert_eq!(tree.erase(MAX), Ok(Some(r(MAX - 0xfff, MAX))));
    model.store(0, 0xfff, None);
    model.store(MAX - 0xfff, MAX, None);
    check(&tree.snapshot(), &model);
    let snap = tree.snapshot();
    assert_eq!(snap.lowest_gap(Range::ALL, 0x2000), Ok(r(0, 0x1fff)));
    assert_eq!(snap.lowest_gap(Range::ALL, 0x2001), Ok(r(end, end + 0x2000)));
    assert_eq!(snap.highest_gap(Range::ALL, 1), Ok(r(MAX, MAX)));
    assert_eq!(snap.lowest_gap(Range::ALL, MAX - end + 1), Ok(r(end, MAX)));
    assert_eq!(snap.lowest_gap(Range::ALL, MAX - end + 2), Err(Error::NoSpace));
}

#[test]
fn gap_values_after_erases_match_brute_force() {
    let mut rng = SplitMix(42);
    let mut tree = Tree::new();
    let mut model = Model::default();
    // Ranges of random length with random holes, across [0, 2^20) (under Miri [0, 2^12)).
    const SPACE: u64 = size(1 << 20, 1 << 12);
    let mut at = 0u64;
    while at < SPACE {
        at += rng.below(64); // hole (maybe none)
        let len = 1 + rng.below(200);
        tree.store(at, at + len - 1, at).unwrap();
        model.store(at, at + len - 1, Some(at));
        at += len;
    }
    check(&tree.snapshot(), &model);
    let sizes = [1, 2, 3, 8, 17, 40, 63, 64, 100, 500, 5000, 1 << 30, u64::MAX];
    // (Under Miri every third size: 1, 8, 63, 500, 2^30.)
    let sizes: Vec<u64> = sizes.into_iter().step_by(size(1, 3) as usize).collect();
    let mut windows = vec![Range::ALL, r(0, SPACE - 1), r(SPACE / 2, u64::MAX)];
    for round in 0..size(6, 2) {
        for _ in 0..size(8, 2) {
            let a = rng.below(SPACE);
            windows.push(r(a, a + rng.below(SPACE / 16)));
        }
        let snap = tree.snapshot();
        let empties = model.empties();
        for &within in &windows {
            for &size in &sizes {
                assert_eq!(
                    snap.lowest_gap(within, size),
                    gap_among(&empties, within, size, true),
                    "round {round}, lowest {size} in {within}"
                );
                assert_eq!(
                    snap.highest_gap(within, size),
                    gap_among(&empties, within, size, false),
                    "round {round}, highest {size} in {within}"
                );
            }
        }
        drop(snap);
        // Erase a sixth of the values (gaps merge and grow), and clear a few windows.
        let firsts: Vec<u64> = model.values().map(|(f, _, _)| f).collect();
        for f in firsts.into_iter().filter(|_| rng.below(6) == 0) {
            assert_eq!(tree.erase(f), Ok(model.erase(f)));
        }
        for _ in 0..3 {
            let a = rng.below(SPACE);
            let b = a + rng.below(size(3000, 30));
            tree.clear(a, b).unwrap();
            model.store(a, b, None);
        }
        check(&tree.snapshot(), &model);
    }
}

#[test]
fn filling_a_window_exactly() {
    let mut tree = Tree::new();
    let mut model = Model::default();
    // Values outside and inside the window [0x10000, 0x1ffff].
    for (f, l) in [(0x0, 0xffff), (0x10400, 0x104ff), (0x12345, 0x12345), (0x18000, 0x18fff), (0x20000, 0x2ffff)] {
        tree.insert(f, l, f).unwrap();
        model.store(f, l, Some(f));
    }
    let within = r(0x10000, 0x1ffff);

    // Bottom-up: take 0x100-sized windows until none is left (0x1000-sized under Miri: a
    // sixteenth of the writes).
    const STEP: u64 = size(0x100, 0x1000);
    let mut taken = 0;
    loop {
        let expected = model.gap(within, STEP, true);
        let found = tree.snapshot().lowest_gap(within, STEP);
        assert_eq!(found, expected);
        let Ok(found) = found else { break };
        tree.insert(found.first, found.last, found.first).unwrap();
        model.store(found.first, found.last, Some(found.first));
        valid(&tree.snapshot());
        taken += 1;
    }
    check(&tree.snapshot(), &model);
    // 0x10000 free indexes minus 0x100 + 1 + 0x1000 used; 0x100 windows fit except for the
    // cuts the single index at 0x12345 and the page at 0x18000 leave behind.
    assert!(taken > size(200, 10), "{taken}");
    assert!(model
        .content()
        .iter()
        .filter(|(_, _, v)| v.is_none())
        .filter_map(|&(f, l, _)| Range::new(f.max(within.first), l.min(within.last)))
        .all(|room| room.len() < STEP));

    // Then fill every remaining run exactly, top-down, each with one window of its size.
    loop {
        let rooms: Vec<Range> = model
            .content()
            .iter()
            .filter(|(_, _, v)| v.is_none())
            .filter_map(|&(f, l, _)| Range::new(f.max(within.first), l.min(within.last)))
            .collect();
        let Some(&room) = rooms.last() else { break };
        assert_eq!(tree.snapshot().highest_gap(within, room.len()), Ok(room));
        tree.insert(room.first, room.last, room.first).unwrap();
        model.store(room.first, room.last, Some(room.first));
        valid(&tree.snapshot());
    }
    let snap = tree.snapshot();
    check(&snap, &model);
    assert_eq!(snap.lowest_gap(within, 1), Err(Error::NoSpace));
    assert_eq!(snap.highest_gap(within, 1), Err(Error::NoSpace));
    // The window is full end to end.
    assert_eq!(snap.ranges(within).filter(|e| e.value.is_none()).count(), 0);
    assert_eq!(snap.lowest_gap(Range::ALL, 1), Ok(r(0x30000, 0x30000)));
}

// ---------------------------------------------------------------------------------------
// Iteration and find
// ---------------------------------------------------------------------------------------

/// How many values `spaced` stores: under Miri 40, 80 slots in 6 leaves under one root.
const SPACED: u64 = size(1000, 40);

/// `SPACED` values `[3i, 3i + 1]` with an empty index after each, and the model.
fn spaced() -> (Tree<u64>, Model<u64>) {
    let mut tree = Tree::new();
    let mut model = Model::default();
    for i in 0..SPACED {
        tree.store(3 * i, 3 * i + 1, i).unwrap();
        model.store(3 * i, 3 * i + 1, Some(i));
    }
    check(&tree.snapshot(), &model);
    (tree, model)
}

/// Indexes around every leaf boundary, and both ends of the space.
fn probes(spans: &[(u64, u64)]) -> Vec<u64> {
    let mut out = vec![0, 1, 2, u64::MAX - 1, u64::MAX];
    for &(min, max) in spans {
        for x in [min.wrapping_sub(1), min, min + 1, max - 1, max, max.wrapping_add(1)] {
            out.push(x);
        }
    }
    out
}

#[test]
fn next_and_prev_across_node_boundaries() {
    let (tree, model) = spaced();
    // (Printing the tree to find its leaves is slow under Miri: once per test.)
    let spans = leaf_spans(&tree);
    assert!(spans.len() > size(20, 4) as usize);
    let snap = tree.snapshot();
    let own = |x: Option<(Range, &u64)>| x.map(|(range, v)| (range.first, range.last, *v));
    // Every index of the values and a hundred past them (under Miri a sixth of the probes only).
    let every = if cfg!(miri) { 0..0 } else { 0..3 * SPACED + 100 };
    for x in probes(&spans).into_iter().step_by(size(1, 6) as usize).chain(every) {
        assert_eq!(own(snap.next(x)), model.next(x), "next({x})");
        assert_eq!(own(snap.prev(x)), model.prev(x), "prev({x})");
        let (f, l, v) = model.at(x);
        let entry = snap.load(x);
        assert_eq!((entry.range, entry.value.copied()), (r(f, l), v), "load({x})");
        let next = snap.next_range(x).map(|e| (e.range.first, e.range.last, e.value.copied()));
        assert_eq!(next, l.checked_add(1).map(|n| model.at(n)), "next_range({x})");
        let prev = snap.prev_range(x).map(|e| (e.range.first, e.range.last, e.value.copied()));
        assert_eq!(prev, f.checked_sub(1).map(|p| model.at(p)), "prev_range({x})");
    }
    // Step through all of it with next and back with prev.
    let mut seen = vec![*snap.find(0, u64::MAX).unwrap().1];
    while let Some((range, v)) = snap.next(3 * seen.last().unwrap()) {
        assert_eq!(range, r(3 * v, 3 * v + 1));
        seen.push(*v);
    }
    assert_eq!(seen, (0..SPACED).collect::<Vec<u64>>());
    let mut back = vec![SPACED - 1];
    while let Some((_, v)) = snap.prev(3 * back.last().unwrap()) {
        back.push(*v);
    }
    assert_eq!(back, (0..SPACED).rev().collect::<Vec<u64>>());
    // Full iteration both ways.
    let forward: Vec<(u64, u64, u64)> = snap.iter().map(|(range, v)| (range.first, range.last, *v)).collect();
    assert_eq!(forward, model.values().collect::<Vec<_>>());
    let reverse: Vec<(u64, u64, u64)> = snap.iter().rev().map(|(range, v)| (range.first, range.last, *v)).collect();
    assert_eq!(reverse, model.values().rev().collect::<Vec<_>>());
    let all: Vec<_> = snap.ranges(Range::ALL).rev().map(|e| (e.range.first, e.range.last, e.value.copied())).collect();
    assert_eq!(all, model.content().into_iter().rev().collect::<Vec<_>>());
}

#[test]
fn find_with_limits_and_reverse_find() {
    let (tree, model) = spaced();
    let snap = tree.snapshot();
    let own = |x: Option<(Range, &u64)>| x.map(|(range, v)| (range.first, range.last, *v));
    let points = probes(&leaf_spans(&tree));
    let mut rng = SplitMix(3);
    let mut pairs: Vec<(u64, u64)> = Vec::new();
    // Under Miri every fifteenth probe point and a hundredth of the random windows.
    for &p in points.iter().step_by(size(1, 15) as usize) {
        for d in [0, 1, 2, 3, 47] {
            pairs.push((p, p.saturating_add(d)));
            pairs.push((p.saturating_sub(d), p));
        }
    }
    for _ in 0..size(500, 5) {
        let a = rng.below(3 * SPACED + 100);
        pairs.push((a, a + rng.below(20)));
    }
    pairs.push((0, u64::MAX));
    pairs.push((3 * SPACED - 1, u64::MAX));
    pairs.push((3 * SPACED, u64::MAX));
    for (index, limit) in pairs {
        assert_eq!(own(snap.find(index, limit)), model.find(index, limit), "find({index}, {limit})");
        let window = r(index, limit);
        assert_eq!(own(snap.range(window).next()), model.find(index, limit), "range({window}).next()");
        assert_eq!(own(snap.range(window).next_back()), model.find_rev(index, limit), "range({window}).next_back()");
        let count = model.count(index, limit);
        assert_eq!(snap.range(window).count(), count, "range({window}).count()");
        assert_eq!(snap.range(window).rev().count(), count, "range({window}).rev().count()");
    }
    // A limit below the value, an index inside it, and limit < index.
    assert_eq!(snap.find(2, 2), None);
    assert_eq!(own(snap.find(2, 3)), Some((3, 4, 1)));
    assert_eq!(own(snap.find(4, 4)), Some((3, 4, 1)));
    assert_eq!(snap.find(5, 4), None);
    assert_eq!(snap.find(3 * SPACED, u64::MAX), None);
}

#[test]
fn a_paused_walk_resumes_after_the_tree_changes() {
    let (tree, mut model) = spaced();
    let old = model.clone();
    let snap = tree.snapshot();
    let mut walk = snap.iter();
    // With SPACED = 1000: pause after 400 values, store over [1500, 2100] and at 1200.
    let pause = SPACED * 2 / 5;
    let firsts: Vec<(Range, u64)> = walk.by_ref().take(pause as usize).map(|(range, v)| (range, *v)).collect();
    assert_eq!(firsts.last().unwrap().1, pause - 1);
    let paused_at = firsts.last().unwrap().0.last;

    // Meanwhile: erase values ahead of the walk, store over some, and add new ones.
    let mut txn = tree.transaction();
    for i in (pause..SPACED).step_by(3) {
        txn.erase(3 * i).unwrap();
        model.store(3 * i, 3 * i + 1, None);
    }
    let (over, to, one) = (SPACED * 3 / 2, SPACED * 21 / 10, SPACED * 6 / 5);
    txn.store(over, to, 5000).unwrap();
    model.store(over, to, Some(5000));
    txn.store(one, one, 5001).unwrap();
    model.store(one, one, Some(5001));
    txn.commit();

    // The paused walk still sees the state it started on.
    let rest: Vec<(u64, u64, u64)> = walk.map(|(range, v)| (range.first, range.last, *v)).collect();
    let old_rest: Vec<_> = old.values().filter(|(f, _, _)| *f > paused_at).collect();
    assert_eq!(rest, old_rest);
    drop(snap);

    // Resumed on a new snapshot after the last index seen, it sees the new state.
    let snap = tree.snapshot();
    check(&snap, &model);
    let resumed: Vec<(u64, u64, u64)> =
        snap.range(r(paused_at + 1, u64::MAX)).map(|(range, v)| (range.first, range.last, *v)).collect();
    let new_rest: Vec<_> = model.values().filter(|(_, l, _)| *l > paused_at).collect();
    assert_eq!(resumed, new_rest);
}

// ---------------------------------------------------------------------------------------
// Replay of a recorded workload
// ---------------------------------------------------------------------------------------

/// `S`: a mapping (or mprotect, mremap target, brk growth) stores a new value over the range;
/// `C`: munmap, the old half of a mremap, or brk shrinking empties the range.
#[derive(Clone, Copy, Debug)]
enum Kind {
    S,
    C,
}
use Kind::{C, S};

fn replay_ops() -> Vec<Op> {
    PYTHON_OPS
        .iter()
        .enumerate()
        .map(|(n, &(kind, first, last))| match kind {
            S => Op::Store(first, last, n as u64),
            C => Op::Clear(first, last),
        })
        .collect()
}

#[test]
fn replay_of_a_python_process_memory_maps() {
    let mut ops = replay_ops();
    assert!(ops.len() > 800);
    // Under Miri the first 24 calls: the initial maps and the first mmaps.
    ops.truncate(size(ops.len() as u64, 24) as usize);
    // In place and in transactions of 8, each step validated and compared with the model.
    run_both(&Tree::new(), &Model::default(), &ops, 8);

    let mut tree = Tree::new();
    let mut model = Model::default();
    let mut tallest = valid(&tree.snapshot());
    for (step, &op) in ops.iter().enumerate() {
        assert_eq!(apply_tree(&mut tree, op), apply_model(&mut model, op));
        if sampled(step as u64, 4) {
            let shape = valid(&tree.snapshot());
            if shape.height > tallest.height {
                tallest = shape;
            }
        }
    }
    check(&tree.snapshot(), &model);
    let snap = tree.snapshot();
    // The heap grows by many brk calls, one range each, so the tree grows tall on the way.
    assert!(tallest.height >= size(3, 2) as usize, "{tallest:?}");
    // Top-down unmapped-area searches below the stack, as mmap would do them.
    let below_stack = r(0x10000, 0x7fff_ffff_efff);
    for size in [0x1000, 0x2000, 0x10000, 0x21000, 0x100000, 0x4000000] {
        assert_eq!(snap.highest_gap(below_stack, size), model.gap(below_stack, size, false), "size {size:#x}");
        assert_eq!(snap.lowest_gap(below_stack, size), model.gap(below_stack, size, true), "size {size:#x}");
    }
    drop(snap);

    // Tear it down in a scattered order with erase, as exit would.
    let mut firsts: Vec<u64> = model.values().map(|(f, _, _)| f).collect();
    let mut rng = SplitMix(11);
    while !firsts.is_empty() {
        let f = firsts.swap_remove(rng.below(firsts.len() as u64) as usize);
        let want = model.erase(f);
        assert!(want.is_some());
        assert_eq!(tree.erase(f), Ok(want));
        if sampled(firsts.len() as u64, 8) {
            valid(&tree.snapshot());
        }
    }
    assert!(tree.snapshot().is_empty());
}

// A python3 start-up as strace recorded it (the areas of its initial /proc/self/maps, then its
// mmap, munmap, mprotect, mremap and brk calls), converted to index ranges of 4 KiB-aligned
// addresses.

const PYTHON_OPS: &[(Kind, u64, u64)] = &[
    (S, 0x400000, 0x41efff),
    (S, 0x41f000, 0x6d1fff),
    (S, 0x6d2000, 0x944fff),
    (S, 0x945000, 0xa84fff),
    (S, 0xa85000, 0xac9fff),
    (S, 0x7ffff7fc2000, 0x7ffff7fc5fff),
    (S, 0x7ffff7fc6000, 0x7ffff7fc7fff),
    (S, 0x7ffff7fc8000, 0x7ffff7fc9fff),
    (S, 0x7ffff7fca000, 0x7ffff7fcafff),
    (S, 0x7ffff7fcb000, 0x7ffff7ff0fff),
    (S, 0x7ffff7ff1000, 0x7ffff7ffafff),
    (S, 0x7ffff7ffb000, 0x7ffff7ffefff),
    (S, 0x7ffffffde000, 0x7fffffffefff),
    (S, 0xffffffffff600000, 0xffffffffff600fff),
    (S, 0x7ffff7fc0000, 0x7ffff7fc1fff),
    (S, 0x7ffff7fb7000, 0x7ffff7fbffff),
    (S, 0x7ffff7ed7000, 0x7ffff7fb6fff),
    (S, 0x7ffff7ee7000, 0x7ffff7f5afff),
    (S, 0x7ffff7f5b000, 0x7ffff7fb4fff),
    (S, 0x7ffff7fb5000, 0x7ffff7fb6fff),
    (S, 0x7ffff7eb8000, 0x7ffff7ed6fff),
    (S, 0x7ffff7ebb000, 0x7ffff7ecdfff),
    (S, 0x7ffff7ece000, 0x7ffff7ed4fff),
    (S, 0x7ffff7ed5000, 0x7ffff7ed6fff),
    (S, 0x7ffff7e8d000, 0x7ffff7eb7fff),
    (S, 0x7ffff7e91000, 0x7ffff7eacfff),
    (S, 0x7ffff7ead000, 0x7ffff7eb4fff),
    (S, 0x7ffff7eb5000, 0x7ffff7eb7fff),
    (S, 0x7ffff7cab000, 0x7ffff7e8cfff),
    (S, 0x7ffff7cd1000, 0x7ffff7e26fff),
    (S, 0x7ffff7e27000, 0x7ffff7e79fff),
    (S, 0x7ffff7e7a000, 0x7ffff7e7ffff),
    (S, 0x7ffff7e80000, 0x7ffff7e8cfff),
    (S, 0x7ffff7ca9000, 0x7ffff7caafff),
    (S, 0x7ffff7e7a000, 0x7ffff7e7dfff),
    (S, 0x7ffff7eb5000, 0x7ffff7eb6fff),
    (S, 0x7ffff7ed5000, 0x7ffff7ed5fff),
    (S, 0x7ffff7fb5000, 0x7ffff7fb5fff),
    (S, 0x945000, 0x945fff),
    (S, 0x7ffff7ffb000, 0x7ffff7ffcfff),
    (C, 0x7ffff7fb7000, 0x7ffff7fbffff),
    (S, 0xaca000, 0xaeafff),
    (S, 0x7ffff7c52000, 0x7ffff7ca8fff),
    (S, 0x7ffff7fb9000, 0x7ffff7fbffff),
    (S, 0x7ffff7b52000, 0x7ffff7c51fff),
    (S, 0x7ffff7b11000, 0x7ffff7b51fff),
    (S, 0x7ffff7af0000, 0x7ffff7b10fff),
    (S, 0x7ffff7aec000, 0x7ffff7aeffff),
    (S, 0xaeb000, 0xb0bfff),
    (S, 0xb0c000, 0xb39fff),
    (S, 0x7ffff79ec000, 0x7ffff7aebfff),
    (S, 0xb3a000, 0xb5dfff),
    (C, 0xb56000, 0xb5dfff),
    (S, 0xb56000, 0xb76fff),
    (C, 0xb6f000, 0xb76fff),
    (S, 0xb6f000, 0xb9cfff),
    (S, 0xb9d000, 0xbbdfff),
    (S, 0x7ffff79df000, 0x7ffff79ebfff),
    (S, 0x7ffff79e1000, 0x7ffff79e7fff),
    (S, 0x7ffff79e8000, 0x7ffff79e9fff),
    (S, 0x7ffff79ea000, 0x7ffff79ebfff),
    (S, 0x7ffff79ea000, 0x7ffff79eafff),
    (S, 0x7ffff79d6000, 0x7ffff79defff),
    (S, 0x7ffff79d8000, 0x7ffff79dafff),
    (S, 0x7ffff79db000, 0x7ffff79dcfff),
    (S, 0x7ffff79dd000, 0x7ffff79defff),
    (S, 0x7ffff79dd000, 0x7ffff79ddfff),
    (S, 0xbbe000, 0xbecfff),
    (S, 0x7ffff78d6000, 0x7ffff79d5fff),
    (S, 0x7ffff78b6000, 0x7ffff78d5fff),
    (S, 0x7ffff78bd000, 0x7ffff78cbfff),
    (S, 0x7ffff78cc000, 0x7ffff78d2fff),
    (S, 0x7ffff78d3000, 0x7ffff78d5fff),
    (S, 0x7ffff78ad000, 0x7ffff78b5fff),
    (S, 0x7ffff774e000, 0x7ffff78acfff),
    (S, 0x7ffff7774000, 0x7ffff7867fff),
    (S, 0x7ffff7868000, 0x7ffff78a2fff),
    (S, 0x7ffff78a3000, 0x7ffff78acfff),
    (S, 0x7ffff78a3000, 0x7ffff78a8fff),
    (S, 0x7ffff78d3000, 0x7ffff78d3fff),
    (C, 0x7ffff78ad000, 0x7ffff78b5fff),
    (S, 0x7ffff764e000, 0x7ffff774dfff),
    (S, 0x7ffff754e000, 0x7ffff764dfff),
    (S, 0x7ffff744e000, 0x7ffff754dfff),
    (S, 0x7ffff734e000, 0x7ffff744dfff),
    (S, 0x7ffff724e000, 0x7ffff734dfff),
    (S, 0xbed000, 0xc24fff),
    (C, 0xc0e000, 0xc24fff),
    (S, 0x7ffff714e000, 0x7ffff724dfff),
    (S, 0x7ffff704e000, 0x7ffff714dfff),
    (S, 0x7ffff6f4e000, 0x7ffff704dfff),
    (S, 0xc0e000, 0xc40fff),
    (C, 0xc30000, 0xc40fff),
    (S, 0x7ffff6e4e000, 0x7ffff6f4dfff),
    (S, 0x7ffff6e18000, 0x7ffff6e4dfff),
    (C, 0xc1e000, 0xc2ffff),
    (C, 0x7ffff6e18000, 0x7ffff6e4dfff),
    (S, 0x7ffff6ddb000, 0x7ffff6e17fff),
    (C, 0x7ffff6ddb000, 0x7ffff6e17fff),
    (S, 0x7ffff6ddb000, 0x7ffff6e1efff),
    (C, 0x7ffff6ddb000, 0x7ffff6e1efff),
    (S, 0x7ffff6ddb000, 0x7ffff6e27fff),
    (C, 0x7ffff6ddb000, 0x7ffff6e27fff),
    (S, 0x7ffff6ddb000, 0x7ffff6e30fff),
    (C, 0x7ffff6ddb000, 0x7ffff6e30fff),
    (S, 0x7ffff6ddb000, 0x7ffff6e3bfff),
    (C, 0x7ffff6ddb000, 0x7ffff6e3bfff),
    (S, 0x7ffff6ddb000, 0x7ffff6e47fff),
    (S, 0x7ffff6cdb000, 0x7ffff6ddafff),
    (C, 0x7ffff6ddb000, 0x7ffff6e47fff),
    (S, 0x7ffff6c60000, 0x7ffff6cdafff),
    (C, 0x7ffff6c60000, 0x7ffff6cdafff),
    (S, 0x7ffff6bd6000, 0x7ffff6c5ffff),
    (C, 0x7ffff6bd6000, 0x7ffff6c5ffff),
    (S, 0x7ffff6bd6000, 0x7ffff6c70fff),
    (C, 0x7ffff6bd6000, 0x7ffff6c70fff),
    (S, 0x7ffff6bd6000, 0x7ffff6c83fff),
    (S, 0x7ffff6ad6000, 0x7ffff6bd5fff),
    (C, 0x7ffff6bd6000, 0x7ffff6c83fff),
    (S, 0x7ffff6bd6000, 0x7ffff6c99fff),
    (S, 0x7ffff6e0a000, 0x7ffff6e4dfff),
    (C, 0x7ffff6cdb000, 0x7ffff6ddafff),
    (C, 0x7ffff6e4e000, 0x7ffff6f4dfff),
    (C, 0x7ffff6bd6000, 0x7ffff6c99fff),
    (S, 0xc1e000, 0xc5cfff),
    (S, 0xc5d000, 0xcd3fff),
    (S, 0x7ffff6e4e000, 0x7ffff6f4dfff),
    (S, 0x7ffff6d0a000, 0x7ffff6e09fff),
    (S, 0xcd4000, 0xd24fff),
    (C, 0x7ffff6e4e000, 0x7ffff6f4dfff),
    (C, 0x7ffff6ad6000, 0x7ffff6bd5fff),
    (S, 0x7ffff6e4e000, 0x7ffff6f4dfff),
    (S, 0x7ffff6c0a000, 0x7ffff6d09fff),
    (S, 0xd25000, 0xd68fff),
    (C, 0x7ffff6e4e000, 0x7ffff6f4dfff),
    (C, 0x7ffff6d0a000, 0x7ffff6e09fff),
    (S, 0x7ffff6e4e000, 0x7ffff6f4dfff),
    (S, 0x7ffff6d0a000, 0x7ffff6e09fff),
    (S, 0xd69000, 0xdacfff),
    (C, 0x7ffff6e4e000, 0x7ffff6f4dfff),
    (C, 0x7ffff6c0a000, 0x7ffff6d09fff),
    (S, 0x7ffff6e4e000, 0x7ffff6f4dfff),
    (S, 0x7ffff6c0a000, 0x7ffff6d09fff),
    (S, 0xdad000, 0xdf0fff),
    (C, 0x7ffff6e4e000, 0x7ffff6f4dfff),
    (C, 0x7ffff6d0a000, 0x7ffff6e09fff),
    (S, 0x7ffff6e4e000, 0x7ffff6f4dfff),
    (S, 0x7ffff6d0a000, 0x7ffff6e09fff),
    (S, 0xdf1000, 0xe34fff),
    (C, 0x7ffff6e4e000, 0x7ffff6f4dfff),
    (C, 0x7ffff6c0a000, 0x7ffff6d09fff),
    (S, 0x7ffff6e4e000, 0x7ffff6f4dfff),
    (C, 0x7ffff6d0a000, 0x7ffff6e09fff),
    (S, 0x7ffff6c49000, 0x7ffff6e09fff),
    (C, 0xc1e000, 0xe34fff),
    (C, 0x7ffff6e0a000, 0x7ffff6e4dfff),
    (S, 0x7ffff6b49000, 0x7ffff6c48fff),
    (S, 0x7ffff6a49000, 0x7ffff6b48fff),
    (S, 0x7ffff6949000, 0x7ffff6a48fff),
    (S, 0x7ffff6849000, 0x7ffff6948fff),
    (S, 0x7ffff6749000, 0x7ffff6848fff),
    (S, 0x7ffff6649000, 0x7ffff6748fff),
    (S, 0xc1e000, 0xc5cfff),
    (S, 0x7ffff6549000, 0x7ffff6648fff),
    (S, 0x7ffff6449000, 0x7ffff6548fff),
    (S, 0x7ffff6349000, 0x7ffff6448fff),
    (S, 0xc5d000, 0xc7dfff),
    (S, 0xc7e000, 0xc9efff),
    (S, 0xc9f000, 0xcbffff),
    (S, 0xcc0000, 0xce0fff),
    (S, 0xce1000, 0xd01fff),
    (S, 0xd02000, 0xd22fff),
    (S, 0xd23000, 0xd43fff),
    (S, 0xd44000, 0xd64fff),
    (S, 0xd65000, 0xd85fff),
    (S, 0xd86000, 0xda6fff),
    (S, 0xda7000, 0xdc7fff),
    (S, 0xdc8000, 0xde8fff),
    (S, 0xde9000, 0xe09fff),
    (S, 0xe0a000, 0xe2afff),
    (S, 0xe2b000, 0xe4bfff),
    (S, 0xe4c000, 0xe6cfff),
    (S, 0xe6d000, 0xe8dfff),
    (S, 0xe8e000, 0xeaffff),
    (S, 0xeb0000, 0xed0fff),
    (S, 0xed1000, 0xef1fff),
    (S, 0xef2000, 0xf12fff),
    (S, 0xf13000, 0xf33fff),
    (S, 0xf34000, 0xf54fff),
    (S, 0xf55000, 0xf75fff),
    (S, 0xf76000, 0xf96fff),
    (S, 0xf97000, 0xfb7fff),
    (S, 0xfb8000, 0xfd8fff),
    (S, 0xfd9000, 0xff9fff),
    (S, 0xffa000, 0x101afff),
    (S, 0x101b000, 0x103bfff),
    (S, 0x103c000, 0x105cfff),
    (S, 0x105d000, 0x107dfff),
    (S, 0x107e000, 0x109efff),
    (S, 0x109f000, 0x10c0fff),
    (S, 0x10c1000, 0x10e1fff),
    (S, 0x10e2000, 0x1102fff),
    (S, 0x1103000, 0x1123fff),
    (S, 0x1124000, 0x1144fff),
    (S, 0x1145000, 0x1165fff),
    (S, 0x1166000, 0x1186fff),
    (S, 0x1187000, 0x11a7fff),
    (S, 0x11a8000, 0x11c8fff),
    (S, 0x11c9000, 0x11e9fff),
    (S, 0x11ea000, 0x120afff),
    (S, 0x120b000, 0x122bfff),
    (S, 0x122c000, 0x124cfff),
    (S, 0x124d000, 0x126efff),
    (S, 0x126f000, 0x128ffff),
    (S, 0x1290000, 0x12b3fff),
    (S, 0x12b4000, 0x12d5fff),
    (S, 0x12d6000, 0x12f6fff),
    (S, 0x12f7000, 0x1317fff),
    (S, 0x1318000, 0x1338fff),
    (S, 0x1339000, 0x1359fff),
    (S, 0x135a000, 0x137afff),
    (S, 0x137b000, 0x139bfff),
    (S, 0x139c000, 0x13bcfff),
    (S, 0x13bd000, 0x13ddfff),
    (S, 0x13de000, 0x13fefff),
    (S, 0x13ff000, 0x141ffff),
    (S, 0x1420000, 0x1440fff),
    (S, 0x1441000, 0x1461fff),
    (S, 0x1462000, 0x1482fff),
    (S, 0x1483000, 0x14a5fff),
    (S, 0x14a6000, 0x14c6fff),
    (S, 0x14c7000, 0x14e7fff),
    (S, 0x14e8000, 0x150afff),
    (S, 0x150b000, 0x152bfff),
    (S, 0x152c000, 0x154cfff),
    (S, 0x154d000, 0x156efff),
    (S, 0x156f000, 0x158ffff),
    (S, 0x1590000, 0x15b0fff),
    (S, 0x15b1000, 0x15d1fff),
    (S, 0x15d2000, 0x15f2fff),
    (S, 0x15f3000, 0x1613fff),
    (S, 0x1614000, 0x1634fff),
    (S, 0x1635000, 0x1657fff),
    (S, 0x1658000, 0x1678fff),
    (S, 0x1679000, 0x1699fff),
    (S, 0x169a000, 0x16bbfff),
    (S, 0x16bc000, 0x16dcfff),
    (S, 0x16dd000, 0x16fdfff),
    (S, 0x16fe000, 0x171efff),
    (S, 0x171f000, 0x173ffff),
    (S, 0x1740000, 0x1760fff),
    (S, 0x1761000, 0x1781fff),
    (S, 0x1782000, 0x17a2fff),
    (S, 0x17a3000, 0x17c3fff),
    (S, 0x17c4000, 0x17e4fff),
    (S, 0x17e5000, 0x1805fff),
    (S, 0x1806000, 0x1826fff),
    (S, 0x1827000, 0x1847fff),
    (S, 0x1848000, 0x186cfff),
    (S, 0x186d000, 0x188efff),
    (S, 0x188f000, 0x18affff),
    (S, 0x18b0000, 0x18d0fff),
    (S, 0x18d1000, 0x18f2fff),
    (S, 0x18f3000, 0x1913fff),
    (S, 0x1914000, 0x1934fff),
    (S, 0x1935000, 0x1955fff),
    (S, 0x1956000, 0x1976fff),
    (S, 0x1977000, 0x1997fff),
    (S, 0x1998000, 0x19b8fff),
    (S, 0x19b9000, 0x19d9fff),
    (S, 0x19da000, 0x19fafff),
    (S, 0x19fb000, 0x1a1bfff),
    (S, 0x1a1c000, 0x1a3cfff),
    (S, 0x1a3d000, 0x1a5dfff),
    (S, 0x1a5e000, 0x1a7ffff),
    (S, 0x1a80000, 0x1aa0fff),
    (S, 0x1aa1000, 0x1ac1fff),
    (S, 0x1ac2000, 0x1ae2fff),
    (S, 0x1ae3000, 0x1b03fff),
    (S, 0x1b04000, 0x1b24fff),
    (S, 0x1b25000, 0x1b45fff),
    (S, 0x1b46000, 0x1b66fff),
    (S, 0x1b67000, 0x1b88fff),
    (S, 0x1b89000, 0x1ba9fff),
    (S, 0x1baa000, 0x1bcafff),
    (S, 0x1bcb000, 0x1bebfff),
    (S, 0x1bec000, 0x1c0cfff),
    (S, 0x1c0d000, 0x1c2efff),
    (S, 0x1c2f000, 0x1c4ffff),
    (S, 0x1c50000, 0x1c70fff),
    (S, 0x1c71000, 0x1c91fff),
    (S, 0x1c92000, 0x1cb2fff),
    (S, 0x1cb3000, 0x1cd3fff),
    (S, 0x1cd4000, 0x1cf4fff),
    (S, 0x1cf5000, 0x1d15fff),
    (S, 0x1d16000, 0x1d36fff),
    (S, 0x1d37000, 0x1d57fff),
    (S, 0x1d58000, 0x1d78fff),
    (S, 0x1d79000, 0x1d99fff),
    (S, 0x1d9a000, 0x1dbafff),
    (S, 0x1dbb000, 0x1ddbfff),
    (S, 0x1ddc000, 0x1dfcfff),
    (S, 0x1dfd000, 0x1e1dfff),
    (S, 0x1e1e000, 0x1e3efff),
    (S, 0x1e3f000, 0x1e5ffff),
    (S, 0x1e60000, 0x1e80fff),
    (S, 0x1e81000, 0x1ea2fff),
    (S, 0x1ea3000, 0x1ec3fff),
    (S, 0x1ec4000, 0x1ee4fff),
    (S, 0x1ee5000, 0x1f05fff),
    (S, 0x1f06000, 0x1f26fff),
    (S, 0x1f27000, 0x1f47fff),
    (S, 0x1f48000, 0x1f68fff),
    (S, 0x1f69000, 0x1f89fff),
    (S, 0x1f8a000, 0x1faafff),
    (S, 0x1fab000, 0x1fcbfff),
    (S, 0x1fcc000, 0x1fecfff),
    (S, 0x1fed000, 0x200dfff),
    (S, 0x200e000, 0x202efff),
    (S, 0x202f000, 0x204ffff),
    (S, 0x2050000, 0x2070fff),
    (S, 0x2071000, 0x2091fff),
    (S, 0x2092000, 0x20b2fff),
    (S, 0x20b3000, 0x20d3fff),
    (S, 0x20d4000, 0x20f4fff),
    (S, 0x20f5000, 0x2115fff),
    (S, 0x2116000, 0x2136fff),
    (S, 0x2137000, 0x2157fff),
    (S, 0x2158000, 0x2178fff),
    (S, 0x2179000, 0x2199fff),
    (S, 0x219a000, 0x21bafff),
    (S, 0x21bb000, 0x21dbfff),
    (S, 0x21dc000, 0x2200fff),
    (S, 0x2201000, 0x2221fff),
    (S, 0x2222000, 0x2242fff),
    (S, 0x2243000, 0x2263fff),
    (S, 0x2264000, 0x2284fff),
    (S, 0x2285000, 0x22a5fff),
    (S, 0x22a6000, 0x22c6fff),
    (S, 0x22c7000, 0x22e7fff),
    (S, 0x22e8000, 0x2308fff),
    (S, 0x2309000, 0x2329fff),
    (S, 0x232a000, 0x234afff),
    (S, 0x234b000, 0x236bfff),
    (S, 0x236c000, 0x238cfff),
    (S, 0x238d000, 0x23adfff),
    (S, 0x23ae000, 0x23cefff),
    (S, 0x23cf000, 0x23effff),
    (S, 0x23f0000, 0x2410fff),
    (S, 0x2411000, 0x2431fff),
    (S, 0x2432000, 0x2452fff),
    (S, 0x2453000, 0x2473fff),
    (S, 0x2474000, 0x2494fff),
    (S, 0x2495000, 0x24b5fff),
    (S, 0x24b6000, 0x24d6fff),
    (S, 0x24d7000, 0x24f7fff),
    (S, 0x24f8000, 0x2518fff),
    (S, 0x2519000, 0x2539fff),
    (S, 0x253a000, 0x255afff),
    (S, 0x255b000, 0x257bfff),
    (S, 0x257c000, 0x259cfff),
    (S, 0x259d000, 0x25bdfff),
    (S, 0x25be000, 0x25defff),
    (S, 0x25df000, 0x25fffff),
    (S, 0x2600000, 0x2620fff),
    (S, 0x2621000, 0x2641fff),
    (S, 0x2642000, 0x2662fff),
    (S, 0x2663000, 0x2683fff),
    (S, 0x2684000, 0x26a4fff),
    (S, 0x26a5000, 0x26c5fff),
    (S, 0x26c6000, 0x26e6fff),
    (S, 0x26e7000, 0x2707fff),
    (S, 0x2708000, 0x2728fff),
    (S, 0x2729000, 0x2749fff),
    (S, 0x274a000, 0x276afff),
    (S, 0x276b000, 0x278bfff),
    (S, 0x278c000, 0x27adfff),
    (S, 0x27ae000, 0x27cefff),
    (S, 0x27cf000, 0x27effff),
    (S, 0x27f0000, 0x2810fff),
    (S, 0x2811000, 0x2831fff),
    (S, 0x2832000, 0x2852fff),
    (S, 0x2853000, 0x2873fff),
    (S, 0x2874000, 0x2894fff),
    (S, 0x2895000, 0x28b5fff),
    (S, 0x28b6000, 0x28d6fff),
    (S, 0x28d7000, 0x28f7fff),
    (S, 0x28f8000, 0x2918fff),
    (S, 0x2919000, 0x2939fff),
    (S, 0x293a000, 0x295efff),
    (S, 0x295f000, 0x297ffff),
    (S, 0x2980000, 0x29a0fff),
    (S, 0x29a1000, 0x29c1fff),
    (S, 0x29c2000, 0x29e3fff),
    (S, 0x29e4000, 0x2a04fff),
    (S, 0x2a05000, 0x2a25fff),
    (S, 0x2a26000, 0x2a46fff),
    (S, 0x2a47000, 0x2a67fff),
    (S, 0x2a68000, 0x2a88fff),
    (S, 0x2a89000, 0x2aa9fff),
    (S, 0x2aaa000, 0x2acafff),
    (S, 0x2acb000, 0x2aebfff),
    (S, 0x2aec000, 0x2b0cfff),
    (S, 0x2b0d000, 0x2b2dfff),
    (S, 0x2b2e000, 0x2b4efff),
    (S, 0x2b4f000, 0x2b6ffff),
    (S, 0x2b70000, 0x2b90fff),
    (S, 0x2b91000, 0x2bb1fff),
    (S, 0x2bb2000, 0x2bd2fff),
    (S, 0x2bd3000, 0x2bf3fff),
    (S, 0x2bf4000, 0x2c14fff),
    (S, 0x2c15000, 0x2c35fff),
    (S, 0x2c36000, 0x2c56fff),
    (S, 0x2c57000, 0x2c77fff),
    (S, 0x2c78000, 0x2c98fff),
    (S, 0x2c99000, 0x2cb9fff),
    (S, 0x2cba000, 0x2cdafff),
    (S, 0x2cdb000, 0x2cfbfff),
    (S, 0x2cfc000, 0x2d20fff),
    (S, 0x2d21000, 0x2d41fff),
    (S, 0x2d42000, 0x2d62fff),
    (S, 0x2d63000, 0x2d84fff),
    (S, 0x2d85000, 0x2da5fff),
    (S, 0x2da6000, 0x2dc6fff),
    (S, 0x2dc7000, 0x2de7fff),
    (S, 0x2de8000, 0x2e08fff),
    (S, 0x2e09000, 0x2e29fff),
    (S, 0x2e2a000, 0x2e4afff),
    (S, 0x2e4b000, 0x2e6bfff),
    (S, 0x2e6c000, 0x2e8cfff),
    (S, 0x2e8d000, 0x2eadfff),
    (S, 0x2eae000, 0x2ee6fff),
    (S, 0x2ee7000, 0x2f07fff),
    (S, 0x2f08000, 0x2f2cfff),
    (S, 0x2f2d000, 0x2f4dfff),
    (S, 0x2f4e000, 0x2f6efff),
    (S, 0x2f6f000, 0x2f8ffff),
    (S, 0x2f90000, 0x2fb0fff),
    (S, 0x2fb1000, 0x2fd1fff),
    (S, 0x2fd2000, 0x2ff2fff),
    (S, 0x2ff3000, 0x3013fff),
    (S, 0x3014000, 0x3034fff),
    (S, 0x3035000, 0x3057fff),
    (S, 0x3058000, 0x3078fff),
    (S, 0x3079000, 0x3099fff),
    (S, 0x309a000, 0x30bafff),
    (S, 0x30bb000, 0x30dbfff),
    (S, 0x30dc000, 0x30fcfff),
    (S, 0x30fd000, 0x3120fff),
    (S, 0x3121000, 0x3141fff),
    (S, 0x3142000, 0x3162fff),
    (S, 0x3163000, 0x3183fff),
    (S, 0x3184000, 0x31a4fff),
    (S, 0x31a5000, 0x31c5fff),
    (S, 0x31c6000, 0x31e6fff),
    (S, 0x31e7000, 0x3207fff),
    (S, 0x3208000, 0x3228fff),
    (S, 0x3229000, 0x3249fff),
    (S, 0x324a000, 0x326afff),
    (S, 0x326b000, 0x328bfff),
    (S, 0x328c000, 0x32acfff),
    (S, 0x32ad000, 0x32cdfff),
    (S, 0x32ce000, 0x32eefff),
    (S, 0x32ef000, 0x330ffff),
    (S, 0x3310000, 0x3330fff),
    (S, 0x3331000, 0x3351fff),
    (S, 0x3352000, 0x3372fff),
    (S, 0x3373000, 0x3393fff),
    (S, 0x3394000, 0x33b4fff),
    (S, 0x33b5000, 0x33d5fff),
    (S, 0x33d6000, 0x33f6fff),
    (S, 0x33f7000, 0x341afff),
    (S, 0x341b000, 0x343bfff),
    (S, 0x343c000, 0x345cfff),
    (S, 0x345d000, 0x347dfff),
    (S, 0x347e000, 0x349efff),
    (S, 0x349f000, 0x34bffff),
    (S, 0x34c0000, 0x34e2fff),
    (S, 0x34e3000, 0x3503fff),
    (S, 0x3504000, 0x3525fff),
    (S, 0x3526000, 0x3546fff),
    (S, 0x3547000, 0x3567fff),
    (S, 0x3568000, 0x3588fff),
    (S, 0x3589000, 0x35a9fff),
    (S, 0x35aa000, 0x35cafff),
    (S, 0x35cb000, 0x35ebfff),
    (S, 0x35ec000, 0x360cfff),
    (S, 0x360d000, 0x362dfff),
    (S, 0x362e000, 0x364efff),
    (S, 0x364f000, 0x366ffff),
    (S, 0x3670000, 0x3690fff),
    (S, 0x3691000, 0x36b1fff),
    (S, 0x36b2000, 0x36d2fff),
    (S, 0x36d3000, 0x36f3fff),
    (S, 0x36f4000, 0x3714fff),
    (S, 0x3715000, 0x3735fff),
    (S, 0x3736000, 0x3756fff),
    (S, 0x3757000, 0x3777fff),
    (S, 0x3778000, 0x3798fff),
    (S, 0x3799000, 0x37b9fff),
    (S, 0x37ba000, 0x37dcfff),
    (S, 0x37dd000, 0x37fdfff),
    (S, 0x37fe000, 0x381efff),
    (S, 0x381f000, 0x383ffff),
    (S, 0x3840000, 0x3860fff),
    (S, 0x3861000, 0x3881fff),
    (S, 0x3882000, 0x38a4fff),
    (S, 0x38a5000, 0x38c5fff),
    (S, 0x38c6000, 0x38e6fff),
    (S, 0x38e7000, 0x3907fff),
    (S, 0x3908000, 0x3928fff),
    (S, 0x3929000, 0x3949fff),
    (S, 0x394a000, 0x396afff),
    (S, 0x396b000, 0x398cfff),
    (S, 0x398d000, 0x39adfff),
    (S, 0x39ae000, 0x39cefff),
    (S, 0x39cf000, 0x39effff),
    (S, 0x39f0000, 0x3a10fff),
    (S, 0x3a11000, 0x3a31fff),
    (S, 0x3a32000, 0x3a52fff),
    (S, 0x3a53000, 0x3a73fff),
    (S, 0x3a74000, 0x3a94fff),
    (S, 0x3a95000, 0x3ab6fff),
    (S, 0x3ab7000, 0x3ad7fff),
    (S, 0x3ad8000, 0x3af8fff),
    (S, 0x3af9000, 0x3b19fff),
    (S, 0x3b1a000, 0x3b3afff),
    (S, 0x3b3b000, 0x3b5bfff),
    (S, 0x3b5c000, 0x3b7cfff),
    (S, 0x3b7d000, 0x3b9efff),
    (S, 0x3b9f000, 0x3bbffff),
    (S, 0x3bc0000, 0x3be0fff),
    (S, 0x3be1000, 0x3c01fff),
    (S, 0x3c02000, 0x3c23fff),
    (S, 0x3c24000, 0x3c44fff),
    (S, 0x3c45000, 0x3c66fff),
    (S, 0x3c67000, 0x3c87fff),
    (S, 0x3c88000, 0x3ca8fff),
    (S, 0x3ca9000, 0x3cc9fff),
    (S, 0x3cca000, 0x3ceafff),
    (S, 0x3ceb000, 0x3d0bfff),
    (S, 0x3d0c000, 0x3d2cfff),
    (S, 0x3d2d000, 0x3d4dfff),
    (S, 0x3d4e000, 0x3d6efff),
    (S, 0x3d6f000, 0x3d8ffff),
    (S, 0x3d90000, 0x3db0fff),
    (S, 0x3db1000, 0x3dd1fff),
    (S, 0x3dd2000, 0x3df2fff),
    (S, 0x3df3000, 0x3e13fff),
    (S, 0x3e14000, 0x3e34fff),
    (S, 0x3e35000, 0x3e55fff),
    (S, 0x3e56000, 0x3e76fff),
    (S, 0x3e77000, 0x3e97fff),
    (S, 0x3e98000, 0x3eb8fff),
    (S, 0x3eb9000, 0x3ed9fff),
    (S, 0x3eda000, 0x3efafff),
    (S, 0x3efb000, 0x3f1bfff),
    (S, 0x3f1c000, 0x3f3cfff),
    (S, 0x3f3d000, 0x3f60fff),
    (S, 0x3f61000, 0x3f81fff),
    (S, 0x3f82000, 0x3fa2fff),
    (S, 0x3fa3000, 0x3fc3fff),
    (S, 0x3fc4000, 0x3fe4fff),
    (S, 0x3fe5000, 0x4005fff),
    (S, 0x4006000, 0x4029fff),
    (S, 0x402a000, 0x404afff),
    (S, 0x404b000, 0x406bfff),
    (S, 0x406c000, 0x408cfff),
    (S, 0x408d000, 0x40adfff),
    (S, 0x40ae000, 0x40cefff),
    (S, 0x40cf000, 0x40effff),
    (S, 0x40f0000, 0x4110fff),
    (S, 0x4111000, 0x4131fff),
    (S, 0x4132000, 0x4152fff),
    (S, 0x4153000, 0x4173fff),
    (S, 0x4174000, 0x4194fff),
    (S, 0x4195000, 0x41b5fff),
    (S, 0x41b6000, 0x41d6fff),
    (S, 0x41d7000, 0x41f7fff),
    (S, 0x41f8000, 0x4218fff),
    (S, 0x4219000, 0x4239fff),
    (S, 0x423a000, 0x425afff),
    (S, 0x425b000, 0x427bfff),
    (S, 0x427c000, 0x429cfff),
    (S, 0x429d000, 0x42bdfff),
    (S, 0x42be000, 0x42defff),
    (S, 0x42df000, 0x42fffff),
    (S, 0x4300000, 0x4322fff),
    (S, 0x4323000, 0x4343fff),
    (S, 0x4344000, 0x4364fff),
    (S, 0x4365000, 0x4385fff),
    (S, 0x4386000, 0x43a6fff),
    (S, 0x43a7000, 0x43c7fff),
    (S, 0x43c8000, 0x43ebfff),
    (S, 0x43ec000, 0x440cfff),
    (S, 0x440d000, 0x442dfff),
    (S, 0x442e000, 0x444efff),
    (S, 0x444f000, 0x446ffff),
    (S, 0x4470000, 0x4490fff),
    (S, 0x4491000, 0x44b1fff),
    (S, 0x44b2000, 0x44d2fff),
    (S, 0x44d3000, 0x44f3fff),
    (S, 0x44f4000, 0x4514fff),
    (S, 0x4515000, 0x4535fff),
    (S, 0x4536000, 0x4556fff),
    (S, 0x4557000, 0x4577fff),
    (S, 0x4578000, 0x4598fff),
    (S, 0x4599000, 0x45b9fff),
    (S, 0x45ba000, 0x45dafff),
    (S, 0x45db000, 0x45fbfff),
    (S, 0x45fc000, 0x461cfff),
    (S, 0x461d000, 0x463dfff),
    (S, 0x463e000, 0x465efff),
    (S, 0x465f000, 0x4680fff),
    (S, 0x4681000, 0x46a1fff),
    (S, 0x46a2000, 0x46c2fff),
    (S, 0x46c3000, 0x46e4fff),
    (S, 0x46e5000, 0x4705fff),
    (S, 0x4706000, 0x4727fff),
    (S, 0x4728000, 0x4748fff),
    (S, 0x4749000, 0x4769fff),
    (S, 0x476a000, 0x478afff),
    (S, 0x478b000, 0x47adfff),
    (S, 0x47ae000, 0x47cefff),
    (S, 0x47cf000, 0x47effff),
    (S, 0x47f0000, 0x4810fff),
    (S, 0x4811000, 0x4832fff),
    (S, 0x4833000, 0x4853fff),
    (S, 0x4854000, 0x4874fff),
    (S, 0x4875000, 0x4895fff),
    (S, 0x4896000, 0x48b6fff),
    (S, 0x48b7000, 0x48d7fff),
    (S, 0x48d8000, 0x48f8fff),
    (S, 0x48f9000, 0x4919fff),
    (S, 0x491a000, 0x493afff),
    (S, 0x493b000, 0x495bfff),
    (S, 0x495c000, 0x497cfff),
    (S, 0x497d000, 0x499dfff),
    (S, 0x499e000, 0x49befff),
    (S, 0x49bf000, 0x49dffff),
    (S, 0x49e0000, 0x4a00fff),
    (S, 0x4a01000, 0x4a21fff),
    (S, 0x4a22000, 0x4a42fff),
    (S, 0x4a43000, 0x4a63fff),
    (S, 0x4a64000, 0x4a84fff),
    (S, 0x4a85000, 0x4aa6fff),
    (S, 0x4aa7000, 0x4ac7fff),
    (S, 0x4ac8000, 0x4ae8fff),
    (S, 0x4ae9000, 0x4b09fff),
    (S, 0x4b0a000, 0x4b2afff),
    (S, 0x4b2b000, 0x4b4bfff),
    (S, 0x4b4c000, 0x4b6ffff),
    (S, 0x4b70000, 0x4b90fff),
    (S, 0x4b91000, 0x4bb1fff),
    (S, 0x4bb2000, 0x4bd2fff),
    (S, 0x4bd3000, 0x4bf3fff),
    (S, 0x4bf4000, 0x4c14fff),
    (S, 0x4c15000, 0x4c35fff),
    (S, 0x4c36000, 0x4c56fff),
    (S, 0x4c57000, 0x4c77fff),
    (S, 0x4c78000, 0x4c98fff),
    (S, 0x4c99000, 0x4cb9fff),
    (S, 0x4cba000, 0x4cdafff),
    (S, 0x4cdb000, 0x4cfbfff),
    (S, 0x4cfc000, 0x4d1cfff),
    (S, 0x4d1d000, 0x4d3dfff),
    (S, 0x4d3e000, 0x4d5efff),
    (S, 0x4d5f000, 0x4d7ffff),
    (S, 0x4d80000, 0x4da0fff),
    (S, 0x4da1000, 0x4dc1fff),
    (S, 0x4dc2000, 0x4de2fff),
    (S, 0x4de3000, 0x4e03fff),
    (S, 0x4e04000, 0x4e24fff),
    (S, 0x4e25000, 0x4e45fff),
    (S, 0x4e46000, 0x4e68fff),
    (S, 0x4e69000, 0x4e89fff),
    (S, 0x4e8a000, 0x4eaafff),
    (S, 0x4eab000, 0x4ecbfff),
    (S, 0x4ecc000, 0x4eecfff),
    (S, 0x4eed000, 0x4f0dfff),
    (S, 0x4f0e000, 0x4f31fff),
    (S, 0x4f32000, 0x4f52fff),
    (S, 0x4f53000, 0x4f73fff),
    (S, 0x4f74000, 0x4f94fff),
    (S, 0x4f95000, 0x4fb5fff),
    (S, 0x4fb6000, 0x4fd6fff),
    (S, 0x4fd7000, 0x4ff7fff),
    (S, 0x4ff8000, 0x5018fff),
    (S, 0x5019000, 0x5039fff),
    (S, 0x503a000, 0x505afff),
    (S, 0x505b000, 0x507bfff),
    (S, 0x507c000, 0x509cfff),
    (S, 0x509d000, 0x50bdfff),
    (S, 0x50be000, 0x50defff),
    (S, 0x50df000, 0x50fffff),
    (S, 0x5100000, 0x5120fff),
    (S, 0x5121000, 0x5160fff),
    (S, 0x5161000, 0x5181fff),
    (S, 0x5182000, 0x51a2fff),
    (S, 0x51a3000, 0x51c3fff),
    (S, 0x51c4000, 0x51e4fff),
    (S, 0x51e5000, 0x5205fff),
    (S, 0x5206000, 0x5226fff),
    (S, 0x5227000, 0x5247fff),
    (S, 0x5248000, 0x5268fff),
    (S, 0x5269000, 0x5289fff),
    (S, 0x528a000, 0x52aafff),
    (S, 0x52ab000, 0x52cbfff),
    (S, 0x52cc000, 0x52ecfff),
    (S, 0x52ed000, 0x530dfff),
    (S, 0x530e000, 0x532efff),
    (S, 0x532f000, 0x534ffff),
    (S, 0x5350000, 0x5370fff),
    (S, 0x5371000, 0x5391fff),
    (S, 0x5392000, 0x53b2fff),
    (S, 0x53b3000, 0x53d3fff),
    (S, 0x53d4000, 0x53f4fff),
    (S, 0x53f5000, 0x5415fff),
    (S, 0x5416000, 0x5436fff),
    (S, 0x5437000, 0x5457fff),
    (S, 0x5458000, 0x5478fff),
    (S, 0x5479000, 0x5499fff),
    (S, 0x549a000, 0x54bafff),
    (S, 0x54bb000, 0x54dbfff),
    (S, 0x54dc000, 0x54fcfff),
    (S, 0x54fd000, 0x551efff),
    (S, 0x551f000, 0x553ffff),
    (S, 0x5540000, 0x5560fff),
    (S, 0x5561000, 0x5581fff),
    (S, 0x5582000, 0x55a2fff),
    (S, 0x55a3000, 0x55c3fff),
    (S, 0x55c4000, 0x55e7fff),
    (S, 0x55e8000, 0x5608fff),
    (S, 0x5609000, 0x562bfff),
    (S, 0x562c000, 0x564cfff),
    (S, 0x564d000, 0x566dfff),
    (S, 0x566e000, 0x568efff),
    (S, 0x568f000, 0x56affff),
    (S, 0x56b0000, 0x56d0fff),
    (S, 0x56d1000, 0x56f1fff),
    (S, 0x56f2000, 0x5712fff),
    (S, 0x5713000, 0x5736fff),
    (S, 0x5737000, 0x5757fff),
    (S, 0x5758000, 0x5778fff),
    (S, 0x5779000, 0x5799fff),
    (S, 0x579a000, 0x57bafff),
    (S, 0x57bb000, 0x57dbfff),
    (S, 0x57dc000, 0x57fcfff),
    (S, 0x57fd000, 0x581dfff),
    (S, 0x581e000, 0x583efff),
    (S, 0x583f000, 0x5860fff),
    (S, 0x5861000, 0x5881fff),
    (S, 0x5882000, 0x58a2fff),
    (S, 0x58a3000, 0x58c3fff),
    (S, 0x58c4000, 0x58e4fff),
    (S, 0x58e5000, 0x5905fff),
    (S, 0x5906000, 0x5926fff),
    (S, 0x5927000, 0x5947fff),
    (S, 0x5948000, 0x596bfff),
    (S, 0x596c000, 0x598dfff),
    (S, 0x598e000, 0x59aefff),
    (S, 0x59af000, 0x59cffff),
    (S, 0x59d0000, 0x59f0fff),
    (S, 0x59f1000, 0x5a11fff),
    (S, 0x5a12000, 0x5a32fff),
    (S, 0x5a33000, 0x5a53fff),
    (S, 0x5a54000, 0x5a74fff),
    (S, 0x5a75000, 0x5a95fff),
    (S, 0x5a96000, 0x5ab6fff),
    (S, 0x5ab7000, 0x5ad7fff),
    (S, 0x5ad8000, 0x5af8fff),
    (S, 0x5af9000, 0x5b19fff),
    (S, 0x5b1a000, 0x5b3afff),
    (S, 0x5b3b000, 0x5b5bfff),
    (S, 0x5b5c000, 0x5b7cfff),
    (S, 0x5b7d000, 0x5b9dfff),
    (S, 0x5b9e000, 0x5bbefff),
    (S, 0x5bbf000, 0x5be0fff),
    (S, 0x5be1000, 0x5c01fff),
    (S, 0x5c02000, 0x5c22fff),
    (S, 0x5c23000, 0x5c43fff),
    (S, 0x5c44000, 0x5c64fff),
    (S, 0x5c65000, 0x5c85fff),
    (S, 0x5c86000, 0x5ca6fff),
    (S, 0x5ca7000, 0x5cc7fff),
    (S, 0x5cc8000, 0x5ce9fff),
    (S, 0x5cea000, 0x5d0afff),
    (S, 0x5d0b000, 0x5d2bfff),
    (S, 0x5d2c000, 0x5d4cfff),
    (S, 0x5d4d000, 0x5d6dfff),
    (S, 0x5d6e000, 0x5d8efff),
    (S, 0x5d8f000, 0x5daffff),
    (S, 0x5db0000, 0x5dd0fff),
    (S, 0x5dd1000, 0x5df1fff),
    (S, 0x5df2000, 0x5e12fff),
    (S, 0x5e13000, 0x5e33fff),
    (S, 0x5e34000, 0x5e54fff),
    (S, 0x5e55000, 0x5e75fff),
    (S, 0x5e76000, 0x5e97fff),
    (S, 0x5e98000, 0x5eb9fff),
    (S, 0x5eba000, 0x5edafff),
    (S, 0x5edb000, 0x5efbfff),
    (S, 0x5efc000, 0x5f1cfff),
    (S, 0x5f1d000, 0x5f3dfff),
    (S, 0x5f3e000, 0x5f5efff),
    (S, 0x5f5f000, 0x5f7ffff),
    (S, 0x5f80000, 0x5fa0fff),
    (S, 0x5fa1000, 0x5fc1fff),
    (S, 0x5fc2000, 0x5fe2fff),
    (S, 0x5fe3000, 0x6003fff),
    (S, 0x6004000, 0x6024fff),
    (S, 0x6025000, 0x6045fff),
    (S, 0x6046000, 0x6066fff),
    (S, 0x6067000, 0x6087fff),
    (C, 0x7ffff714e000, 0x7ffff724dfff),
    (C, 0x7ffff724e000, 0x7ffff734dfff),
    (C, 0x7ffff734e000, 0x7ffff744dfff),
    (C, 0x7ffff744e000, 0x7ffff754dfff),
    (C, 0x7ffff754e000, 0x7ffff764dfff),
    (C, 0x7ffff764e000, 0x7ffff774dfff),
    (C, 0x7ffff6549000, 0x7ffff6648fff),
    (C, 0x7ffff6649000, 0x7ffff6748fff),
    (C, 0x7ffff6749000, 0x7ffff6848fff),
    (C, 0x7ffff6849000, 0x7ffff6948fff),
    (C, 0x7ffff6949000, 0x7ffff6a48fff),
    (C, 0x7ffff6a49000, 0x7ffff6b48fff),
    (C, 0x7ffff6b49000, 0x7ffff6c48fff),
    (C, 0x7ffff6e4e000, 0x7ffff6f4dfff),
    (C, 0x7ffff6c49000, 0x7ffff6e09fff),
    (S, 0x7ffff674d000, 0x7ffff6f4dfff),
    (C, 0x7ffff674d000, 0x7ffff6f4dfff),
    (S, 0x7ffff78af000, 0x7ffff78b5fff),
    (S, 0x6088000, 0x6494fff),
    (S, 0x6495000, 0x6c94fff),
    (C, 0x7ffff78af000, 0x7ffff78b5fff),
    (C, 0x7ffff6349000, 0x7ffff6448fff),
    (C, 0x7ffff6449000, 0x7ffff6548fff),
    (C, 0x5161000, 0x6c94fff),
    (C, 0xbf4000, 0x5160fff),
    (C, 0x7ffff6f4e000, 0x7ffff704dfff),
    (C, 0x7ffff7aec000, 0x7ffff7aeffff),
];
