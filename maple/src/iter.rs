//! Iterators over a view: values in a window, or every range in a window.

use crate::cursor::Cursor;
use crate::{Entry, Range, View};

/// A double-ended walk over the ranges meeting a window, empty ones included.
///
/// The front and back each keep a cursor and shrink the part of the window left to visit,
/// so the two ends never yield the same range.
struct Walk<'a, T> {
    view: &'a View<'a, T>,
    front: Option<Cursor<'a, T>>,
    back: Option<Cursor<'a, T>>,
    /// The part of the window not yet yielded: `[lo, hi]`, or nothing once `done`.
    lo: u64,
    hi: u64,
    done: bool,
}

impl<'a, T> Walk<'a, T> {
    fn new(view: &'a View<'a, T>, window: Range) -> Self {
        Walk { view, front: None, back: None, lo: window.first, hi: window.last, done: false }
    }

    /// The next range from the front: the next one, or with `values_only` the next holding
    /// a value (found through the leaves' occupied bits, without visiting the empty ones).
    #[inline]
    fn next_front(&mut self, values_only: bool) -> Option<Entry<'a, T>> {
        if self.done {
            return None;
        }
        let Some(cursor) = open(&mut self.front, self.view, self.lo) else {
            // A tree without nodes is one empty range.
            self.done = true;
            return (!values_only).then_some(Entry { range: Range::ALL, value: None });
        };
        if values_only && !cursor.seek_value(true) {
            self.done = true;
            return None;
        }
        let entry = cursor.entry();
        if entry.range.first > self.hi {
            self.done = true;
            return None;
        }
        if entry.range.last >= self.hi {
            self.done = true;
        } else {
            self.lo = entry.range.last + 1;
            cursor.step_forward();
        }
        Some(entry)
    }

    /// The next range from the back, as [`next_front`](Self::next_front).
    #[inline]
    fn next_back(&mut self, values_only: bool) -> Option<Entry<'a, T>> {
        if self.done {
            return None;
        }
        let Some(cursor) = open(&mut self.back, self.view, self.hi) else {
            // A tree without nodes is one empty range.
            self.done = true;
            return (!values_only).then_some(Entry { range: Range::ALL, value: None });
        };
        if values_only && !cursor.seek_value(false) {
            self.done = true;
            return None;
        }
        let entry = cursor.entry();
        if entry.range.last < self.lo {
            self.done = true;
            return None;
        }
        if entry.range.first <= self.lo {
            self.done = true;
        } else {
            self.hi = entry.range.first - 1;
            cursor.step_back();
        }
        Some(entry)
    }
}

/// The cursor in `slot`, first placed at `index`; `None` for a tree with no nodes.
fn open<'c, 'a, T>(
    slot: &'c mut Option<Cursor<'a, T>>,
    view: &'a View<'a, T>,
    index: u64,
) -> Option<&'c mut Cursor<'a, T>> {
    if slot.is_none() {
        *slot = Some(view.cursor(index)?);
    }
    slot.as_mut()
}

/// The values whose ranges meet a window, with their ranges: [`View::iter`], [`View::range`].
///
/// Double-ended: the two ends never yield the same range.
///
/// ```
/// let mut tree = maple::Tree::new();
/// for i in 0..4u64 {
///     tree.store(i * 10, i * 10 + 5, i).unwrap();
/// }
/// let snap = tree.snapshot();
/// let mut iter = snap.iter();
/// assert_eq!(iter.next().map(|(_, v)| *v), Some(0));
/// assert_eq!(iter.next_back().map(|(_, v)| *v), Some(3));
/// assert_eq!(iter.map(|(_, v)| *v).collect::<Vec<_>>(), [1, 2]);
/// ```
pub struct Iter<'a, T> {
    walk: Walk<'a, T>,
}

impl<'a, T> Iter<'a, T> {
    pub(crate) fn new(view: &'a View<'a, T>, window: Range) -> Self {
        Iter { walk: Walk::new(view, window) }
    }
}

impl<'a, T> Iterator for Iter<'a, T> {
    type Item = (Range, &'a T);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let entry = self.walk.next_front(true)?;
        entry.value.map(|value| (entry.range, value))
    }
}

impl<T> DoubleEndedIterator for Iter<'_, T> {
    #[inline]
    fn next_back(&mut self) -> Option<Self::Item> {
        let entry = self.walk.next_back(true)?;
        entry.value.map(|value| (entry.range, value))
    }
}

impl<T> core::iter::FusedIterator for Iter<'_, T> {}

/// Every range meeting a window, empty ones included: [`View::ranges`].
///
/// ```
/// let mut tree = maple::Tree::new();
/// tree.store(10, 19, 'a').unwrap();
/// let snap = tree.snapshot();
/// let window = maple::Range::new(0, 15).unwrap();
/// let seen: Vec<_> = snap.ranges(window).map(|e| (e.range.first, e.value.copied())).collect();
/// assert_eq!(seen, [(0, None), (10, Some('a'))]);
/// ```
pub struct Ranges<'a, T> {
    walk: Walk<'a, T>,
}

impl<'a, T> Ranges<'a, T> {
    pub(crate) fn new(view: &'a View<'a, T>, window: Range) -> Self {
        Ranges { walk: Walk::new(view, window) }
    }
}

impl<'a, T> Iterator for Ranges<'a, T> {
    type Item = Entry<'a, T>;

    fn next(&mut self) -> Option<Self::Item> {
        self.walk.next_front(false)
    }
}

impl<T> DoubleEndedIterator for Ranges<'_, T> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.walk.next_back(false)
    }
}

impl<T> core::iter::FusedIterator for Ranges<'_, T> {}
