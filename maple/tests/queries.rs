//! Edge cases of every query: the empty tree, one value over the whole index space, the two
//! ends of the space, windows that cut values, double-ended walks meeting in the middle,
//! empty ranges in walks, `find` with its limit, gap-search errors, bulk building, cloning,
//! and the `Debug` picture of the nodes.
//!
//! Expectations are written out by hand here, or computed by plain loops over the list of
//! ranges a test stored; the trees are validated along the way.

#![cfg(not(loom))]

use maple::{Entry, Error, Range, Tree};

#[allow(dead_code)]
mod common;

use common::{content, r, size, valid};

const MAX: u64 = u64::MAX;

/// A value found, with its range.
type Found = (u64, u64, char);
/// A range's first and last index.
type Pair = (u64, u64);

/// An entry as plain data.
fn e<T: Copy>(entry: Entry<'_, T>) -> (u64, u64, Option<T>) {
    (entry.range.first, entry.range.last, entry.value.copied())
}

/// A value with its range as plain data.
fn v<T: Copy>(found: Option<(Range, &T)>) -> Option<(u64, u64, T)> {
    found.map(|(range, value)| (range.first, range.last, *value))
}

/// Every range, empty ones included, of the sorted disjoint `values`.
fn with_empties(values: &[(u64, u64, u32)]) -> Vec<(u64, u64, Option<u32>)> {
    let mut out = Vec::new();
    let mut next = Some(0u64);
    for &(f, l, x) in values {
        let start = next.unwrap();
        if f > start {
            out.push((start, f - 1, None));
        }
        out.push((f, l, Some(x)));
        next = l.checked_add(1);
    }
    if let Some(start) = next {
        out.push((start, MAX, None));
    }
    out
}

#[test]
fn the_empty_tree_answers_every_query() {
    let tree = Tree::<u32>::new();
    let snap = tree.snapshot();
    assert!(snap.is_empty());
    assert_eq!(valid(&snap), maple::Shape::default());
    for i in [0, 1, 12345, MAX - 1, MAX] {
        assert_eq!(e(snap.load(i)), (0, MAX, None));
        assert_eq!(snap.get(i), None);
        assert_eq!(snap.next(i), None);
        assert_eq!(snap.prev(i), None);
        assert_eq!(snap.next_range(i).map(e), None, "one range: nothing after it");
        assert_eq!(snap.prev_range(i).map(e), None);
        assert_eq!(snap.find(i, MAX), None);
    }
    assert_eq!(snap.find(0, MAX), None);
    assert_eq!(snap.iter().next(), None);
    assert_eq!(snap.iter().next_back(), None);
    assert_eq!(snap.range(r(5, 10)).count(), 0);
    assert_eq!(snap.range(r(5, 10)).rev().count(), 0);
    // The one empty range covers every window.
    assert_eq!(content(&snap), [(0, MAX, None)]);
    assert_eq!(snap.ranges(r(7, 9)).map(e).collect::<Vec<_>>(), [(0, MAX, None)]);
    assert_eq!(snap.ranges(r(7, 9)).rev().map(e).collect::<Vec<_>>(), [(0, MAX, None)]);
    assert_eq!(snap.lowest_gap(r(7, 9), 3), Ok(r(7, 9)));
    assert_eq!(snap.highest_gap(r(7, 100), 3), Ok(r(98, 100)));
    assert_eq!(snap.lowest_gap(r(7, 9), 4), Err(Error::NoSpace));
    assert_eq!(snap.lowest_gap(Range::ALL, 0), Err(Error::ZeroSize));
    assert_eq!(snap.highest_gap(Range::ALL, 0), Err(Error::ZeroSize));
    assert!(format!("{tree:?}").contains("(empty)"));
}

#[test]
fn one_value_over_the_whole_space() {
    let mut tree = Tree::new();
    tree.store(0, MAX, 'w').unwrap();
    {
        let snap = tree.snapshot();
        let shape = valid(&snap);
        assert_eq!((shape.height, shape.values, shape.empty_ranges), (1, 1, 0));
        assert!(!snap.is_empty());
        for i in [0, 1, 1 << 40, MAX] {
            assert_eq!(e(snap.load(i)), (0, MAX, Some('w')));
            assert_eq!(snap.get(i), Some(&'w'));
            assert_eq!(snap.next(i), None);
            assert_eq!(snap.prev(i), None);
            assert_eq!(snap.next_range(i).map(e), None);
            assert_eq!(snap.prev_range(i).map(e), None);
            assert_eq!(v(snap.find(i, i)), Some((0, MAX, 'w')));
        }
        assert_eq!(snap.iter().map(|(range, _)| range).collect::<Vec<_>>(), [Range::ALL]);
        assert_eq!(snap.iter().rev().count(), 1);
        assert_eq!(content(&snap), [(0, MAX, Some('w'))]);
        assert_eq!(snap.range(r(MAX, MAX)).count(), 1);
        assert_eq!(snap.lowest_gap(Range::ALL, 1), Err(Error::NoSpace));
        assert_eq!(snap.highest_gap(r(5, 5), 1), Err(Error::NoSpace));
        assert_eq!(snap.lowest_gap(Range::ALL, 0), Err(Error::ZeroSize));
    }
    assert!(matches!(tree.insert(MAX, MAX, 'x'), Err(Error::Occupied(range)) if range == Range::ALL));
    assert_eq!(tree.erase(123), Ok(Some(Range::ALL)));
    assert!(tree.snapshot().is_empty());
    assert_eq!(tree.erase(123), Ok(None));
}

#[test]
fn next_and_prev_at_both_ends_of_the_space() {
    let mut tree = Tree::new();
    tree.store(0, 0, 1u32).unwrap();
    tree.store(100, 199, 2).unwrap();
    tree.store(MAX, MAX, 3).unwrap();
    let snap = tree.snapshot();
    valid(&snap);
    assert_eq!(v(snap.next(0)), Some((100, 199, 2)));
    assert_eq!(snap.prev(0), None);
    assert_eq!(v(snap.prev(MAX)), Some((100, 199, 2)));
    assert_eq!(snap.next(MAX), None);
    // From the empty ranges next to the ends.
    assert_eq!(v(snap.next(1)), Some((100, 199, 2)));
    assert_eq!(v(snap.prev(1)), Some((0, 0, 1)));
    assert_eq!(v(snap.next(MAX - 1)), Some((MAX, MAX, 3)));
    assert_eq!(v(snap.prev(MAX - 1)), Some((100, 199, 2)));
    assert_eq!(v(snap.next(150)), Some((MAX, MAX, 3)));
    assert_eq!(v(snap.prev(150)), Some((0, 0, 1)));
    // Whole ranges either side, empty or not.
    assert_eq!(snap.prev_range(0).map(e), None);
    assert_eq!(snap.next_range(0).map(e), Some((1, 99, None)));
    assert_eq!(snap.next_range(50).map(e), Some((100, 199, Some(2))));
    assert_eq!(snap.prev_range(50).map(e), Some((0, 0, Some(1))));
    assert_eq!(snap.next_range(MAX).map(e), None);
    assert_eq!(snap.prev_range(MAX).map(e), Some((200, MAX - 1, None)));
    assert_eq!(snap.next_range(MAX - 1).map(e), Some((MAX, MAX, Some(3))));
    assert_eq!(e(snap.load(MAX - 1)), (200, MAX - 1, None));
    assert_eq!(v(snap.find(MAX, MAX)), Some((MAX, MAX, 3)));
    assert_eq!(v(snap.find(1, MAX)), Some((100, 199, 2)));
    assert_eq!(v(snap.find(200, MAX)), Some((MAX, MAX, 3)));
    assert_eq!(snap.find(200, MAX - 1), None);

    // Without values at the ends, the ends are empty ranges.
    drop(snap);
    tree.clear(0, 0).unwrap();
    tree.clear(MAX, MAX).unwrap();
    let snap = tree.snapshot();
    valid(&snap);
    assert_eq!(e(snap.load(0)), (0, 99, None));
    assert_eq!(e(snap.load(MAX)), (200, MAX, None));
    assert_eq!(snap.prev(0), None);
    assert_eq!(v(snap.next(0)), Some((100, 199, 2)));
    assert_eq!(v(snap.prev(MAX)), Some((100, 199, 2)));
    assert_eq!(snap.next(150), None);
    assert_eq!(snap.prev(150), None);
    assert_eq!(snap.next_range(MAX).map(e), None);
    assert_eq!(snap.prev_range(0).map(e), None);
}

#[test]
fn stepping_range_by_range_visits_every_range_both_ways() {
    // Values of assorted widths with holes, some adjacent, across several leaves.
    let mut values = Vec::new();
    let mut at = 5u64;
    for i in 0..size(300, 40) as u32 {
        let len = 1 + u64::from(i % 7) * 3;
        values.push((at, at + len - 1, i));
        at += len + u64::from(i % 3 == 0) * (1 + u64::from(i % 5));
    }
    let tree = Tree::from_sorted(values.iter().map(|&(f, l, x)| (r(f, l), x))).unwrap();
    let snap = tree.snapshot();
    valid(&snap);
    let expected = with_empties(&values);
    assert_eq!(content(&snap), expected);

    let mut forward = vec![e(snap.load(0))];
    while let Some(next) = snap.next_range(forward.last().unwrap().1) {
        forward.push(e(next));
    }
    assert_eq!(forward, expected);
    let mut backward = vec![e(snap.load(MAX))];
    while let Some(prev) = snap.prev_range(backward.last().unwrap().0) {
        backward.push(e(prev));
    }
    backward.reverse();
    assert_eq!(backward, expected);
    // next/prev from each range's both ends skip empty ranges.
    let vals: Vec<(u64, u64, u32)> = values.clone();
    for (k, &(f, l, _)) in vals.iter().enumerate() {
        assert_eq!(v(snap.next(f)), vals.get(k + 1).copied());
        assert_eq!(v(snap.next(l)), vals.get(k + 1).copied());
        assert_eq!(v(snap.prev(f)), k.checked_sub(1).map(|j| vals[j]));
        assert_eq!(v(snap.prev(l)), k.checked_sub(1).map(|j| vals[j]));
    }
}

#[test]
fn range_windows_cut_values_but_yield_them_whole() {
    let mut tree = Tree::new();
    tree.store(10, 19, 'a').unwrap();
    tree.store(30, 39, 'b').unwrap();
    tree.store(40, 49, 'c').unwrap();
    let snap = tree.snapshot();
    let window = |first, last| -> Vec<(u64, u64, char)> {
        snap.range(r(first, last)).map(|(range, x)| (range.first, range.last, *x)).collect()
    };
    let back = |first, last| -> Vec<(u64, u64, char)> {
        let mut out: Vec<_> =
            snap.range(r(first, last)).rev().map(|(range, x)| (range.first, range.last, *x)).collect();
        out.reverse();
        out
    };
    let cases: [(u64, u64, &[Found]); 12] = [
        (15, 32, &[(10, 19, 'a'), (30, 39, 'b')]),
        (19, 30, &[(10, 19, 'a'), (30, 39, 'b')]),
        (20, 29, &[]),
        (0, 9, &[]),
        (0, 10, &[(10, 19, 'a')]),
        (12, 12, &[(10, 19, 'a')]),
        (39, 40, &[(30, 39, 'b'), (40, 49, 'c')]),
        (35, 45, &[(30, 39, 'b'), (40, 49, 'c')]),
        (49, MAX, &[(40, 49, 'c')]),
        (50, MAX, &[]),
        (0, MAX, &[(10, 19, 'a'), (30, 39, 'b'), (40, 49, 'c')]),
        (MAX, MAX, &[]),
    ];
    for (first, last, want) in cases {
        assert_eq!(window(first, last), want, "range({first}, {last})");
        assert_eq!(back(first, last), want, "range({first}, {last}).rev()");
    }
    // ranges() yields the empty ranges too, whole, even where the window cuts them.
    let got: Vec<_> = snap.ranges(r(25, 44)).map(e).collect();
    assert_eq!(got, [(20, 29, None), (30, 39, Some('b')), (40, 49, Some('c'))]);
    let got: Vec<_> = snap.ranges(r(55, 60)).map(e).collect();
    assert_eq!(got, [(50, MAX, None)]);
    let got: Vec<_> = snap.ranges(r(0, 0)).rev().map(e).collect();
    assert_eq!(got, [(0, 9, None)]);
    let got: Vec<_> = snap.ranges(Range::ALL).map(e).collect();
    assert_eq!(
        got,
        [(0, 9, None), (10, 19, Some('a')), (20, 29, None), (30, 39, Some('b')), (40, 49, Some('c')), (50, MAX, None)]
    );
}

#[test]
fn both_ends_of_a_walk_meet_in_the_middle() {
    // (Under Miri not 3, 15, 40 and 500: the 500 alone would take a minute there.)
    let counts = [0u32, 1, 2, 3, 15, 16, 17, 40, 500];
    for &n in if cfg!(miri) { &[0, 1, 2, 16, 17][..] } else { &counts[..] } {
        let values: Vec<(u64, u64, u32)> = (0..n).map(|i| (u64::from(i) * 4 + 1, u64::from(i) * 4 + 2, i)).collect();
        let mut tree = Tree::new();
        for &(f, l, x) in &values {
            tree.insert(f, l, x).unwrap();
        }
        let snap = tree.snapshot();
        valid(&snap);
        for (window, want) in [
            (Range::ALL, values.clone()),
            (r(6, 1000), values.iter().copied().filter(|&(f, l, _)| l >= 6 && f <= 1000).collect()),
        ] {
            // Alternate ends, then switch patterns: front, back, back, front, ...
            for pattern in [[true, false], [false, true], [true, true], [false, false]] {
                let mut walk = snap.range(window);
                let (mut front, mut back) = (Vec::new(), Vec::new());
                for step in 0.. {
                    let forward = pattern[step % 2] ^ (step % 3 == 2);
                    let next = if forward { walk.next() } else { walk.next_back() };
                    match next {
                        Some((range, x)) if forward => front.push((range.first, range.last, *x)),
                        Some((range, x)) => back.push((range.first, range.last, *x)),
                        None => break,
                    }
                }
                assert_eq!(walk.next(), None, "fused");
                assert_eq!(walk.next_back(), None, "fused");
                back.reverse();
                front.extend(back);
                assert_eq!(front, want, "n={n}, {window}, {pattern:?}");
            }
            // The same for ranges(), empty ranges included.
            let all: Vec<_> = snap.ranges(window).map(e).collect();
            let mut walk = snap.ranges(window);
            let (mut front, mut back) = (Vec::new(), Vec::new());
            while let Some(x) = walk.next() {
                front.push(e(x));
                match walk.next_back() {
                    Some(x) => back.push(e(x)),
                    None => break,
                }
            }
            back.reverse();
            front.extend(back);
            assert_eq!(front, all, "n={n}, ranges({window})");
            let mut rev: Vec<_> = snap.ranges(window).rev().map(e).collect();
            rev.reverse();
            assert_eq!(rev, all);
        }
        assert_eq!(content(&snap), with_empties(&values));
    }
}

#[test]
fn find_respects_its_limit() {
    let mut tree = Tree::new();
    tree.store(100, 199, 1u32).unwrap();
    tree.store(300, 300, 2).unwrap();
    let snap = tree.snapshot();
    // index > limit finds nothing, even over a value.
    assert_eq!(snap.find(150, 149), None);
    assert_eq!(snap.find(MAX, 0), None);
    assert_eq!(snap.find(301, 300), None);
    assert_eq!(v(snap.find(150, 150)), Some((100, 199, 1)), "a value holding index");
    assert_eq!(v(snap.find(0, 100)), Some((100, 199, 1)), "a value starting at limit");
    assert_eq!(snap.find(0, 99), None);
    assert_eq!(v(snap.find(199, 199)), Some((100, 199, 1)));
    assert_eq!(snap.find(200, 299), None);
    assert_eq!(v(snap.find(200, 300)), Some((300, 300, 2)));
    assert_eq!(snap.find(301, MAX), None);
    assert_eq!(v(snap.find(0, MAX)), Some((100, 199, 1)));
}

#[test]
fn gap_search_errors() {
    let values = (0..200u64).map(|i| (r(i * 10, i * 10 + 7), i));
    // The same content built by bulk loading under Miri, where 200 writes take half a minute.
    let tree = if cfg!(miri) {
        Tree::from_sorted(values).unwrap()
    } else {
        let mut tree = Tree::new();
        for (range, i) in values {
            tree.store(range.first, range.last, i).unwrap();
        }
        tree
    };
    let snap = tree.snapshot();
    valid(&snap);
    for within in [Range::ALL, r(0, 0), r(5, 1000)] {
        assert_eq!(snap.lowest_gap(within, 0), Err(Error::ZeroSize));
        assert_eq!(snap.highest_gap(within, 0), Err(Error::ZeroSize));
    }
    // Windows of two between the values: three does not fit below 2000.
    assert_eq!(snap.lowest_gap(r(0, 1999), 3), Err(Error::NoSpace));
    assert_eq!(snap.highest_gap(r(0, 1999), 3), Err(Error::NoSpace));
    assert_eq!(snap.lowest_gap(r(0, 1999), 2), Ok(r(8, 9)));
    assert_eq!(snap.highest_gap(r(0, 1999), 2), Ok(r(1998, 1999)));
    assert_eq!(snap.highest_gap(r(0, 1997), 2), Ok(r(1988, 1989)));
    assert_eq!(snap.lowest_gap(r(0, 1999), 3).unwrap_err().to_string(), "no empty window of that size");
    // Within a value there is no room; a window cutting a gap offers only its part.
    assert_eq!(snap.lowest_gap(r(10, 17), 1), Err(Error::NoSpace));
    assert_eq!(snap.lowest_gap(r(10, 18), 1), Ok(r(18, 18)));
    assert_eq!(snap.lowest_gap(r(10, 18), 2), Err(Error::NoSpace));
    assert_eq!(snap.highest_gap(r(9, 17), 1), Ok(r(9, 9)));
    // Larger than the window itself.
    assert_eq!(snap.lowest_gap(r(5000, 5009), 11), Err(Error::NoSpace));
    assert_eq!(snap.lowest_gap(r(5000, 5009), 10), Ok(r(5000, 5009)));
    assert_eq!(snap.highest_gap(Range::ALL, 1 << 40), Ok(r(MAX - (1 << 40) + 1, MAX)));
    // [1998, MAX] holds MAX - 1997 indexes.
    assert_eq!(snap.lowest_gap(Range::ALL, MAX - 1998), Ok(r(1998, MAX - 1)));
    assert_eq!(snap.highest_gap(Range::ALL, MAX - 1998), Ok(r(1999, MAX)));
    assert_eq!(snap.lowest_gap(Range::ALL, MAX - 1997), Ok(r(1998, MAX)));
    assert_eq!(snap.lowest_gap(Range::ALL, MAX - 1996), Err(Error::NoSpace));
}

#[test]
fn bulk_build_rejects_unsorted_input() {
    let bad: [(&[Pair], Pair); 5] = [
        (&[(0, 5), (5, 9)], (5, 9)),         // overlapping by one
        (&[(10, 20), (0, 5)], (0, 5)),       // out of order
        (&[(0, 5), (6, 9), (9, 9)], (9, 9)), // the third overlaps
        (&[(0, MAX), (0, 0)], (0, 0)),       // nothing after the whole space
        (&[(MAX, MAX), (MAX, MAX)], (MAX, MAX)),
    ];
    for (ranges, culprit) in bad {
        let input = ranges.iter().map(|&(f, l)| (r(f, l), 0u8));
        assert_eq!(Tree::from_sorted(input).err(), Some(Error::Unsorted(r(culprit.0, culprit.1))), "{ranges:?}");
    }
    // Adjacent ranges, a range ending at MAX and nothing at all are fine.
    let tree = Tree::from_sorted([(r(0, 4), 1), (r(5, 9), 2), (r(10, MAX), 3)]).unwrap();
    assert_eq!(content(&tree.snapshot()), [(0, 4, Some(1)), (5, 9, Some(2)), (10, MAX, Some(3))]);
    valid(&tree.snapshot());
    let tree = Tree::<u8>::from_sorted([]).unwrap();
    assert!(tree.snapshot().is_empty());
    valid(&tree.snapshot());
    let tree = Tree::from_sorted([(r(MAX, MAX), 7)]).unwrap();
    assert_eq!(content(&tree.snapshot()), [(0, MAX - 1, None), (MAX, MAX, Some(7))]);
    valid(&tree.snapshot());
}

#[test]
fn a_bulk_built_tree_equals_one_built_by_inserts() {
    let counts = [1u64, 2, 15, 16, 17, 31, 32, 33, 100, 161, 1000, 5000];
    // Under Miri one value, one leaf and a bit, and two levels.
    let counts = if cfg!(miri) { &[1, 17, 40][..] } else { &counts[..] };
    for &n in counts {
        // Alternating adjacent and spaced ranges.
        let values: Vec<(u64, u64, u32)> =
            (0..n).map(|i| (i * 8, i * 8 + if i % 2 == 0 { 7 } else { 3 }, i as u32)).collect();
        let bulk = Tree::from_sorted(values.iter().map(|&(f, l, x)| (r(f, l), x))).unwrap();
        let mut inserted = Tree::new();
        for &(f, l, x) in values.iter().rev() {
            inserted.insert(f, l, x).unwrap();
        }
        let (a, b) = (bulk.snapshot(), inserted.snapshot());
        let (sa, sb) = (valid(&a), valid(&b));
        assert_eq!((sa.values, sa.empty_ranges), (sb.values, sb.empty_ranges), "n={n}");
        assert_eq!(content(&a), content(&b), "n={n}");
        assert_eq!(content(&a), with_empties(&values));
        for size in [1, 4, 5, 100] {
            let within = r(3, n * 8 + 50);
            assert_eq!(a.lowest_gap(within, size), b.lowest_gap(within, size), "n={n} size={size}");
            assert_eq!(a.highest_gap(within, size), b.highest_gap(within, size), "n={n} size={size}");
        }
        // Both keep working as trees.
        drop((a, b));
        let mut bulk = bulk;
        bulk.store(5, n * 4 + 5, 999).unwrap();
        inserted.store(5, n * 4 + 5, 999).unwrap();
        assert_eq!(content(&bulk.snapshot()), content(&inserted.snapshot()));
        valid(&bulk.snapshot());
    }
}

#[test]
fn a_clone_is_independent() {
    let n = size(700, 40);
    // With n = 700: a store over [0, 1000], and an erase of the value at 1500.
    let (cover, gone) = (n * 10 / 7, 3 * (n * 5 / 7));
    let mut tree = Tree::new();
    for i in 0..n {
        tree.store(i * 3, i * 3 + 1, i).unwrap();
    }
    let before = content(&tree.snapshot());
    let mut copy = tree.try_clone().unwrap();
    assert_eq!(content(&copy.snapshot()), before);
    assert_eq!(valid(&copy.snapshot()).values, n as usize);
    // Change the copy: the original stays.
    copy.store(0, cover, 9999).unwrap();
    copy.erase(gone).unwrap();
    assert_eq!(content(&tree.snapshot()), before);
    assert_eq!(copy.snapshot().get(cover / 2), Some(&9999));
    assert_eq!(copy.snapshot().get(gone), None);
    valid(&copy.snapshot());
    // Change the original: the copy stays.
    let copied = content(&copy.snapshot());
    tree.clear(0, MAX).unwrap();
    assert!(tree.snapshot().is_empty());
    assert_eq!(content(&copy.snapshot()), copied);
    // A clone takes committed state only, not an open transaction's.
    let tree = copy;
    let mut txn = tree.transaction();
    txn.store(1, 1, 1).unwrap();
    let clone = tree.try_clone().unwrap();
    assert_eq!(clone.snapshot().get(1), Some(&9999));
    txn.commit();
    assert_eq!(tree.snapshot().get(1), Some(&1));
    assert_eq!(clone.snapshot().get(1), Some(&9999));
    assert_eq!(content(&clone.clone().snapshot()), copied);
    // The empty tree clones to an empty tree.
    let empty = Tree::<u8>::new().try_clone().unwrap();
    assert!(empty.snapshot().is_empty());
}

#[test]
fn debug_output_shows_the_node_structure() {
    let mut tree = Tree::new();
    tree.store(10, 19, 7u32).unwrap();
    let text = format!("{tree:?}");
    assert!(text.contains("[0xa, 0x13] 7"), "{text}");
    assert!(text.contains("[0x0, 0x9] empty"), "{text}");
    assert!(text.contains("leaf [0x0, 0xffffffffffffffff] 3 slots"), "{text}");
    let n = size(300, 20);
    for i in 3..n {
        tree.store(i * 10, i * 10 + 5, i as u32).unwrap();
    }
    let snap = tree.snapshot();
    let shape = valid(&snap);
    let text = format!("{:?}", *snap);
    assert_eq!(text, format!("{tree:?}"));
    assert!(text.starts_with("branch [0x0, 0xffffffffffffffff]"), "{text}");
    assert_eq!(text.lines().filter(|l| l.trim_start().starts_with("leaf [")).count(), shape.leaves);
    assert_eq!(text.lines().filter(|l| l.trim_start().starts_with("branch [")).count(), shape.branches);
    // One line per range in the leaves, each value named.
    let slots = text.lines().filter(|l| l.trim_start().starts_with("[0x")).count();
    assert_eq!(slots, shape.values + shape.empty_ranges);
    assert!(text.contains(&format!("[{:#x}, {:#x}] {}", (n - 1) * 10, (n - 1) * 10 + 5, n - 1)));
    // Children are indented below their parent.
    assert!(text.lines().any(|l| l.starts_with("  branch [") || l.starts_with("  leaf [")));
    // A transaction's view prints its own state.
    let mut txn = tree.transaction();
    txn.clear(0, MAX).unwrap();
    assert!(format!("{:?}", *txn).contains("(empty)"));
}

#[test]
fn erase_empties_the_whole_range_and_empties_coalesce() {
    let mut tree = Tree::new();
    tree.store(0, 9, 'a').unwrap();
    tree.store(10, 19, 'b').unwrap();
    tree.store(20, 29, 'c').unwrap();
    tree.store(40, 49, 'd').unwrap();
    assert_eq!(tree.erase(15), Ok(Some(r(10, 19))));
    assert_eq!(e(tree.snapshot().load(12)), (10, 19, None));
    assert_eq!(tree.erase(25), Ok(Some(r(20, 29))));
    // [10, 19], [20, 29] and [30, 39] are one empty range now.
    assert_eq!(e(tree.snapshot().load(35)), (10, 39, None));
    assert_eq!(tree.erase(35), Ok(None));
    tree.clear(5, 44).unwrap();
    assert_eq!(content(&tree.snapshot()), [(0, 4, Some('a')), (5, 44, None), (45, 49, Some('d')), (50, MAX, None)]);
    valid(&tree.snapshot());
    // Storing a value in the middle of an empty range splits it.
    tree.store(20, 20, 'x').unwrap();
    assert_eq!(e(tree.snapshot().load(19)), (5, 19, None));
    assert_eq!(e(tree.snapshot().load(21)), (21, 44, None));
    // Clearing an empty range changes nothing.
    let before = content(&tree.snapshot());
    tree.clear(30, 40).unwrap();
    assert_eq!(content(&tree.snapshot()), before);
    valid(&tree.snapshot());
}

#[test]
fn a_transaction_reads_its_own_writes() {
    let tree = Tree::new();
    let mut txn = tree.transaction();
    txn.store(100, 199, 1u32).unwrap();
    txn.store(300, 399, 2).unwrap();
    assert_eq!(txn.get(150), Some(&1));
    assert_eq!(v(txn.next(150)), Some((300, 399, 2)));
    assert_eq!(v(txn.prev(350)), Some((100, 199, 1)));
    assert_eq!(txn.lowest_gap(r(100, 1000), 50), Ok(r(200, 249)));
    assert_eq!(txn.iter().count(), 2);
    valid(&txn);
    assert!(tree.snapshot().is_empty(), "not yet committed");
    txn.commit();
    let snap = tree.snapshot();
    assert_eq!(
        content(&snap),
        [(0, 99, None), (100, 199, Some(1)), (200, 299, None), (300, 399, Some(2)), (400, MAX, None)]
    );
}

#[test]
fn ranges_and_errors_display_readably() {
    assert_eq!(r(0x1000, 0x1fff).to_string(), "[0x1000, 0x1fff]");
    assert_eq!(Range::ALL.len(), MAX);
    assert_eq!(r(5, 5).len(), 1);
    assert!(r(0, 5).overlaps(&r(5, 9)));
    assert!(!r(0, 4).overlaps(&r(5, 9)));
    assert_eq!(Range::new(2, 1), None);
    assert_eq!(Error::InvalidRange { first: 2, last: 1 }.to_string(), "invalid range [0x2, 0x1]");
    assert!(Error::Occupied(r(1, 2)).to_string().contains("[0x1, 0x2]"));
    assert!(Error::Unsorted(r(1, 2)).to_string().contains("[0x1, 0x2]"));
    assert!(!Error::AllocFailed.to_string().is_empty());
    assert!(!Error::ZeroSize.to_string().is_empty());
}
