//! Read-only queries over one state of a tree.

use core::marker::PhantomData;

use crate::cursor::Cursor;
use crate::iter::{Iter, Ranges};
use crate::node::{NodePtr, NodeRef, Slots};
use crate::search::locate;
use crate::{Entry, Error, Range};

/// One state of a tree, to query.
///
/// A view is reached through a [`Snapshot`](crate::Snapshot) (a state that readers share; it
/// never changes while held) or a [`Transaction`](crate::Transaction) (the writer's own state,
/// with its uncommitted changes). Every answer a view gives comes from that one state, so a
/// walk over many ranges never mixes two versions of the tree.
///
/// ```
/// let tree = maple::Tree::new();
/// let mut txn = tree.transaction();
/// txn.store(10, 19, "a").unwrap();
/// txn.commit();
/// let snap = tree.snapshot();
/// assert_eq!(snap.get(15), Some(&"a"));
/// assert_eq!(snap.load(25).range, maple::Range::new(20, u64::MAX).unwrap());
/// ```
pub struct View<'a, T> {
    root: Option<NodePtr<T>>,
    _nodes: PhantomData<&'a T>,
}

impl<'a, T> View<'a, T> {
    /// # Safety
    /// Every node reachable from `root` stays alive and unchanged for `'a`.
    pub(crate) unsafe fn new(root: Option<NodePtr<T>>) -> Self {
        View { root, _nodes: PhantomData }
    }

    pub(crate) fn root(&self) -> Option<NodePtr<T>> {
        self.root
    }

    /// # Safety
    /// As for [`View::new`].
    pub(crate) unsafe fn set_root(&mut self, root: Option<NodePtr<T>>) {
        self.root = root;
    }

    /// The range holding `index`, empty or not, and its value.
    ///
    /// ```
    /// let mut tree = maple::Tree::new();
    /// tree.store(4, 7, 'x').unwrap();
    /// let snap = tree.snapshot();
    /// let entry = snap.load(5);
    /// assert_eq!((entry.range.first, entry.range.last, entry.value), (4, 7, Some(&'x')));
    /// assert_eq!(snap.load(8).value, None);
    /// ```
    #[inline]
    pub fn load(&self, index: u64) -> Entry<'_, T> {
        let Some(root) = self.root else {
            return Entry { range: Range::ALL, value: None };
        };
        // SAFETY: the view's creator keeps its nodes alive while the view is borrowed.
        let found = unsafe { locate(root, index) };
        let (leaf, slot) = (found.leaf, found.slot);
        let range = Range { first: leaf.first_of(slot, found.min), last: leaf.last_of(slot, found.max) };
        Entry { range, value: leaf.value(slot) }
    }

    /// The value stored at `index`, if any.
    ///
    /// ```
    /// let mut tree = maple::Tree::new();
    /// tree.store(4, 7, 'x').unwrap();
    /// assert_eq!(tree.snapshot().get(7), Some(&'x'));
    /// ```
    #[inline]
    pub fn get(&self, index: u64) -> Option<&T> {
        // SAFETY: as in `load`.
        let found = unsafe { locate(self.root?, index) };
        found.leaf.value(found.slot)
    }

    /// Whether the tree holds no values at all.
    ///
    /// ```
    /// assert!(maple::Tree::<u8>::new().snapshot().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.root.is_none()
    }

    /// The number of values: ranges holding a value (empty ranges are not counted). O(1):
    /// every branch keeps the count of its subtree, so this reads the root's, from the same
    /// state as every other answer of this view. Through a transaction it includes the
    /// transaction's uncommitted changes.
    ///
    /// ```
    /// let tree = maple::Tree::new();
    /// let mut txn = tree.transaction();
    /// for i in 0..100u64 {
    ///     txn.store(i * 10, i * 10 + 4, i).unwrap();
    /// }
    /// txn.clear(0, 99).unwrap(); // ten ranges go
    /// txn.store(200, 204, 0).unwrap(); // one is overwritten: still one range
    /// assert_eq!(txn.len(), 90); // the transaction's own state
    /// let before = tree.snapshot();
    /// txn.commit();
    /// assert_eq!((before.len(), tree.snapshot().len()), (0, 90));
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        // SAFETY: the view's creator keeps its nodes alive while the view is borrowed.
        self.root.map_or(0, |root| unsafe { root.count() } as usize)
    }

    /// The first value whose range meets `[index, limit]`, with its whole range.
    ///
    /// ```
    /// let mut tree = maple::Tree::new();
    /// tree.store(40, 49, 'b').unwrap();
    /// let snap = tree.snapshot();
    /// assert_eq!(snap.find(0, 45).map(|(r, v)| (r.first, *v)), Some((40, 'b')));
    /// assert_eq!(snap.find(0, 39), None);
    /// ```
    pub fn find(&self, index: u64, limit: u64) -> Option<(Range, &T)> {
        if index > limit {
            return None;
        }
        let entry = self.next_value_from(self.cursor(index)?)?;
        (entry.0.first <= limit).then_some(entry)
    }

    /// The first value after the range holding `index`.
    ///
    /// ```
    /// let mut tree = maple::Tree::new();
    /// tree.store(0, 9, 1).unwrap();
    /// tree.store(20, 29, 2).unwrap();
    /// assert_eq!(tree.snapshot().next(5).map(|(r, v)| (r.first, *v)), Some((20, 2)));
    /// ```
    pub fn next(&self, index: u64) -> Option<(Range, &T)> {
        let mut cursor = self.cursor(index)?;
        cursor.step_forward().then_some(())?;
        self.next_value_from(cursor)
    }

    /// The last value before the range holding `index`.
    ///
    /// ```
    /// let mut tree = maple::Tree::new();
    /// tree.store(0, 9, 1).unwrap();
    /// tree.store(20, 29, 2).unwrap();
    /// assert_eq!(tree.snapshot().prev(25).map(|(r, v)| (r.last, *v)), Some((9, 1)));
    /// ```
    pub fn prev(&self, index: u64) -> Option<(Range, &T)> {
        let mut cursor = self.cursor(index)?;
        cursor.step_back().then_some(())?;
        self.prev_value_from(cursor)
    }

    /// The range after the one holding `index`, empty or not; `None` past `u64::MAX`.
    ///
    /// ```
    /// let mut tree = maple::Tree::new();
    /// tree.store(0, 9, 1).unwrap();
    /// let snap = tree.snapshot();
    /// assert_eq!(snap.next_range(3).map(|e| (e.range.first, e.value)), Some((10, None)));
    /// ```
    pub fn next_range(&self, index: u64) -> Option<Entry<'_, T>> {
        let last = self.load(index).range.last;
        (last < u64::MAX).then(|| self.load(last + 1))
    }

    /// The range before the one holding `index`, empty or not; `None` below 0.
    ///
    /// ```
    /// let mut tree = maple::Tree::new();
    /// tree.store(10, 19, 1).unwrap();
    /// let snap = tree.snapshot();
    /// assert_eq!(snap.prev_range(15).map(|e| (e.range.last, e.value)), Some((9, None)));
    /// ```
    pub fn prev_range(&self, index: u64) -> Option<Entry<'_, T>> {
        let first = self.load(index).range.first;
        (first > 0).then(|| self.load(first - 1))
    }

    /// Every value, in index order, with its range.
    ///
    /// ```
    /// let mut tree = maple::Tree::new();
    /// tree.store(20, 29, 'b').unwrap();
    /// tree.store(0, 9, 'a').unwrap();
    /// let values: Vec<char> = tree.snapshot().iter().map(|(_, v)| *v).collect();
    /// assert_eq!(values, ['a', 'b']);
    /// ```
    pub fn iter(&self) -> Iter<'_, T> {
        Iter::new(self, Range::ALL)
    }

    /// The values whose ranges meet `window`, in index order (and in reverse with `.rev()`).
    ///
    /// ```
    /// let mut tree = maple::Tree::new();
    /// for i in 0..10u64 {
    ///     tree.store(i * 10, i * 10 + 4, i).unwrap();
    /// }
    /// let snap = tree.snapshot();
    /// let window = maple::Range::new(12, 41).unwrap();
    /// let back: Vec<u64> = snap.range(window).rev().map(|(_, v)| *v).collect();
    /// assert_eq!(back, [4, 3, 2, 1]);
    /// ```
    pub fn range(&self, window: Range) -> Iter<'_, T> {
        Iter::new(self, window)
    }

    /// Every range meeting `window`, empty ones included, in index order.
    ///
    /// ```
    /// let mut tree = maple::Tree::new();
    /// tree.store(10, 19, ()).unwrap();
    /// let all: Vec<_> = tree.snapshot().ranges(maple::Range::ALL).map(|e| e.range.first).collect();
    /// assert_eq!(all, [0, 10, 20]);
    /// ```
    pub fn ranges(&self, window: Range) -> Ranges<'_, T> {
        Ranges::new(self, window)
    }

    /// The lowest empty window of `size` indexes inside `within`.
    ///
    /// Runs in O(log n) by the largest-gap value each branch keeps per child: the search only
    /// enters children whose largest gap is big enough, and only the (at most two) children
    /// per level that straddle an end of `within` can turn out to have that gap outside it.
    /// This is how `get_unmapped_area` finds room bottom-up.
    ///
    /// ```
    /// let mut tree = maple::Tree::new();
    /// tree.store(0, 99, 'a').unwrap();
    /// tree.store(110, 199, 'b').unwrap();
    /// let snap = tree.snapshot();
    /// let within = maple::Range::new(0, 1000).unwrap();
    /// assert_eq!(snap.lowest_gap(within, 10).unwrap().first, 100);
    /// assert_eq!(snap.lowest_gap(within, 11).unwrap().first, 200);
    /// ```
    pub fn lowest_gap(&self, within: Range, size: u64) -> Result<Range, Error> {
        self.search_gap(within, size, Direction::Lowest)
    }

    /// The highest empty window of `size` indexes inside `within` (top-down allocation).
    ///
    /// ```
    /// let mut tree = maple::Tree::new();
    /// tree.store(900, 1000, 'a').unwrap();
    /// let snap = tree.snapshot();
    /// let found = snap.highest_gap(maple::Range::new(0, 1000).unwrap(), 100).unwrap();
    /// assert_eq!((found.first, found.last), (800, 899));
    /// ```
    pub fn highest_gap(&self, within: Range, size: u64) -> Result<Range, Error> {
        self.search_gap(within, size, Direction::Highest)
    }

    fn search_gap(&self, within: Range, size: u64, direction: Direction) -> Result<Range, Error> {
        if size == 0 {
            return Err(Error::ZeroSize);
        }
        let first = match self.root {
            None => (within.len() >= size).then(|| direction.place(within, size)),
            Some(root) => gap_below(root, Range::ALL, within, size, direction),
        };
        first.map(|first| Range { first, last: first + (size - 1) }).ok_or(Error::NoSpace)
    }

    pub(crate) fn cursor(&self, index: u64) -> Option<Cursor<'_, T>> {
        // SAFETY: the view's nodes outlive the borrow of the view.
        self.root.map(|root| unsafe { Cursor::seek(root, index) })
    }

    fn next_value_from<'v>(&'v self, mut cursor: Cursor<'v, T>) -> Option<(Range, &'v T)> {
        loop {
            let entry = cursor.entry();
            if let Some(value) = entry.value {
                return Some((entry.range, value));
            }
            if !cursor.step_forward() {
                return None;
            }
        }
    }

    fn prev_value_from<'v>(&'v self, mut cursor: Cursor<'v, T>) -> Option<(Range, &'v T)> {
        loop {
            let entry = cursor.entry();
            if let Some(value) = entry.value {
                return Some((entry.range, value));
            }
            if !cursor.step_back() {
                return None;
            }
        }
    }
}

impl<T: core::fmt::Debug> core::fmt::Debug for View<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        crate::debug::write_tree(f, self.root)
    }
}

/// Which end of the room a gap search prefers.
#[derive(Clone, Copy)]
enum Direction {
    Lowest,
    Highest,
}

impl Direction {
    /// Where a window of `size` goes inside the empty run `room` (which is large enough).
    fn place(self, room: Range, size: u64) -> u64 {
        match self {
            Direction::Lowest => room.first,
            Direction::Highest => room.last - (size - 1),
        }
    }
}

/// Searches the subtree of `node` (covering `bounds`) for an empty run of `size` inside `within`.
fn gap_below<T>(node: NodePtr<T>, bounds: Range, within: Range, size: u64, direction: Direction) -> Option<u64> {
    // SAFETY: only called on nodes of a live view.
    match unsafe { node.get::<'_>() } {
        NodeRef::Leaf(leaf) => slots_toward(
            leaf.slot_of(within.first.max(bounds.first)),
            leaf.slot_of(within.last.min(bounds.last)),
            direction,
        )
        .filter(|&slot| leaf.value(slot).is_none())
        .find_map(|slot| {
            let room = clip(leaf.first_of(slot, bounds.first), leaf.last_of(slot, bounds.last), within)?;
            (room.len() >= size).then(|| direction.place(room, size))
        }),
        NodeRef::Branch(branch) => slots_toward(
            branch.slot_of(within.first.max(bounds.first)),
            branch.slot_of(within.last.min(bounds.last)),
            direction,
        )
        .filter(|&slot| branch.gap(slot) >= size)
        .find_map(|slot| {
            let child = Range { first: branch.first_of(slot, bounds.first), last: branch.last_of(slot, bounds.last) };
            gap_below(branch.child(slot), child, within, size, direction)
        }),
    }
}

/// The slots `from ..= to` in the order the search visits them.
fn slots_toward(from: usize, to: usize, direction: Direction) -> impl Iterator<Item = usize> {
    let forward = matches!(direction, Direction::Lowest);
    (from..=to).map(move |i| if forward { i } else { to - (i - from) })
}

/// `[first, last]` cut down to `within`, if anything is left.
fn clip(first: u64, last: u64, within: Range) -> Option<Range> {
    Range::new(first.max(within.first), last.min(within.last))
}
