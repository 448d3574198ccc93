//! Shared fixtures for the maple benchmarks and the `bytes_per_range` example: a fixed-seed
//! PRNG, random address-space layouts, and builders for maple and its peers.

use std::collections::BTreeMap;

use maple::{Range, Tree};

/// One page.
pub const PAGE: u64 = 4096;
/// Largest range, in pages (sizes are uniform in `1..=MAX_PAGES`).
pub const MAX_PAGES: u64 = 64;
/// Largest gap between two ranges, in pages (gaps are uniform in `0..=MAX_GAP_PAGES`).
pub const MAX_GAP_PAGES: u64 = 64;
/// Where the first range may start (above a random gap): 4 GiB, like a user mapping base.
pub const BASE: u64 = 1 << 32;

/// The project's seeded generator (splitmix64), shared with the script generator.
pub use maple_mm::gen::Rng as SplitMix;

/// `n` disjoint ranges in increasing order, sizes 1-64 pages and gaps 0-64 pages, plus a
/// random order to insert them in. Range `i` carries the value `i`.
#[derive(Clone, Debug)]
pub struct Layout {
    /// Inclusive `(first, last)` of each range, sorted.
    pub ranges: Vec<(u64, u64)>,
    /// A permutation of `0..ranges.len()`: the order random-insert builds use.
    pub order: Vec<usize>,
}

impl Layout {
    pub fn random(n: usize, seed: u64) -> Layout {
        let mut rng = SplitMix::new(seed);
        let mut ranges = Vec::with_capacity(n);
        let mut next = BASE;
        for _ in 0..n {
            let first = next + rng.between(0, MAX_GAP_PAGES) * PAGE;
            let last = first + rng.between(1, MAX_PAGES) * PAGE - 1;
            ranges.push((first, last));
            next = last + 1;
        }
        let mut order: Vec<usize> = (0..n).collect();
        rng.shuffle(&mut order);
        Layout { ranges, order }
    }

    /// As [`Layout::random`], with the gap before the middle range widened by `pages`: with
    /// `pages > MAX_GAP_PAGES` that is the only hole of `pages` pages in the layout.
    pub fn with_hole(n: usize, seed: u64, pages: u64) -> Layout {
        let mut layout = Layout::random(n, seed);
        for range in &mut layout.ranges[n / 2..] {
            range.0 += pages * PAGE;
            range.1 += pages * PAGE;
        }
        layout
    }

    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// From the first index of the first range to the last index of the last.
    pub fn span(&self) -> Range {
        let first = self.ranges.first().map_or(0, |r| r.0);
        let last = self.ranges.last().map_or(0, |r| r.1);
        Range::new(first, last).expect("ranges are sorted")
    }

    /// `count` addresses drawn uniformly over the span (about half of them fall in a gap).
    pub fn addresses(&self, count: usize, seed: u64) -> Vec<u64> {
        let span = self.span();
        let mut rng = SplitMix::new(seed);
        (0..count).map(|_| rng.between(span.first, span.last)).collect()
    }

    /// `count` indexes of ranges, drawn uniformly among those that satisfy `keep`.
    pub fn picks(&self, count: usize, seed: u64, keep: impl Fn(u64, u64) -> bool) -> Vec<usize> {
        let eligible: Vec<usize> = (0..self.len()).filter(|&i| keep(self.ranges[i].0, self.ranges[i].1)).collect();
        assert!(!eligible.is_empty(), "no range qualifies");
        let mut rng = SplitMix::new(seed);
        (0..count).map(|_| eligible[rng.below(eligible.len() as u64) as usize]).collect()
    }

    /// The ranges with their values in increasing order, as `from_sorted` wants them.
    pub fn sorted(&self) -> impl Iterator<Item = (Range, u64)> + '_ {
        self.ranges.iter().enumerate().map(|(i, &(first, last))| (Range { first, last }, i as u64))
    }

    /// The ranges with their values in insertion order.
    pub fn shuffled(&self) -> impl Iterator<Item = (u64, u64, u64)> + '_ {
        self.order.iter().map(|&i| (self.ranges[i].0, self.ranges[i].1, i as u64))
    }
}

/// A maple tree built by `insert`s in random order through `&mut`.
pub fn maple_random(layout: &Layout) -> Tree<u64> {
    let mut tree = Tree::new();
    for (first, last, value) in layout.shuffled() {
        tree.insert(first, last, value).expect("layout ranges are disjoint");
    }
    tree
}

/// A maple tree bulk-built with `from_sorted`.
pub fn maple_sorted(layout: &Layout) -> Tree<u64> {
    Tree::from_sorted(layout.sorted()).expect("layout ranges are sorted")
}

/// The BTreeMap peer: range start -> (range end, value), built by inserts in random order.
pub fn btree_random(layout: &Layout) -> BTreeMap<u64, (u64, u64)> {
    let mut map = BTreeMap::new();
    for (first, last, value) in layout.shuffled() {
        map.insert(first, (last, value));
    }
    map
}

/// The BTreeMap peer bulk-built by `collect` from sorted input.
pub fn btree_collect(layout: &Layout) -> BTreeMap<u64, (u64, u64)> {
    layout.sorted().map(|(range, value)| (range.first, (range.last, value))).collect()
}

/// The range of the BTreeMap peer holding `addr`: predecessor query plus end check.
#[inline]
pub fn btree_lookup(map: &BTreeMap<u64, (u64, u64)>, addr: u64) -> Option<(u64, u64, &u64)> {
    match map.range(..=addr).next_back() {
        Some((&first, (last, value))) if addr <= *last => Some((first, *last, value)),
        _ => None,
    }
}

/// A rangemap peer (half-open ranges), built by inserts in random order. Values are distinct,
/// so adjacent ranges are never coalesced.
pub fn rangemap_random(layout: &Layout) -> rangemap::RangeMap<u64, u64> {
    let mut map = rangemap::RangeMap::new();
    for (first, last, value) in layout.shuffled() {
        map.insert(first..last + 1, value);
    }
    map
}

// Lookups shared by the benchmarks that compare peers.

/// The scc peer: keyed by range end, value (range start, value).
pub type SccIndex = scc::TreeIndex<u64, (u64, u64)>;

/// Key of the sentinel entry that keeps every scc range query at or above the smallest key.
///
/// scc 3.8.8's `TreeIndex::range(start..)` with `start` below the smallest key searches the
/// tree at length (measured at over a second per query at 10^5 keys), which a random address
/// below the first range's end would hit. The sentinel (key 0, start 1 > end 0) matches no
/// address and removes the cliff; the layout starts at 4 GiB, so key 0 is free.
pub const SCC_SENTINEL: u64 = 0;

pub fn scc_random(layout: &Layout) -> SccIndex {
    let index = SccIndex::new();
    index.insert_sync(SCC_SENTINEL, (1, u64::MAX)).expect("fresh key");
    for (first, last, value) in layout.shuffled() {
        index.insert_sync(last, (first, value)).expect("ends are distinct");
    }
    index
}

/// Folds one lookup answer into a checksum, so no lookup can be optimised away and every peer
/// can be checked to give the same answers.
#[inline(always)]
pub fn fold(acc: u64, found: Option<(u64, u64, u64)>) -> u64 {
    match found {
        Some((first, last, value)) => acc.wrapping_mul(31).wrapping_add(first ^ last.rotate_left(17) ^ value),
        None => acc.wrapping_mul(31).wrapping_add(1),
    }
}

#[inline]
pub fn maple_batch(view: &maple::View<'_, u64>, addrs: &[u64]) -> u64 {
    addrs.iter().fold(0, |acc, &addr| {
        let entry = view.load(addr);
        fold(acc, entry.value.map(|v| (entry.range.first, entry.range.last, *v)))
    })
}

#[inline]
pub fn btree_batch(map: &BTreeMap<u64, (u64, u64)>, addrs: &[u64]) -> u64 {
    addrs.iter().fold(0, |acc, &addr| fold(acc, btree_lookup(map, addr).map(|(f, l, v)| (f, l, *v))))
}

#[inline]
pub fn scc_batch(index: &SccIndex, addrs: &[u64]) -> u64 {
    let guard = scc::Guard::new();
    addrs.iter().fold(0, |acc, &addr| {
        let found = match index.range(addr.., &guard).next() {
            Some((&last, &(first, value))) if first <= addr => Some((first, last, value)),
            _ => None,
        };
        fold(acc, found)
    })
}
