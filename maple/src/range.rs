//! Inclusive index ranges and the entries a lookup returns.

use core::fmt;

/// An inclusive range of indexes `[first, last]`, never empty.
///
/// ```
/// use maple::Range;
/// let r = Range::new(0x1000, 0x1fff).unwrap();
/// assert_eq!(r.len(), 0x1000);
/// assert!(r.contains(0x1234));
/// assert!(Range::new(5, 4).is_none());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Range {
    /// The first index in the range.
    pub first: u64,
    /// The last index in the range (inclusive).
    pub last: u64,
}

impl Range {
    /// The range `[first, last]`, or `None` when `first > last`.
    pub const fn new(first: u64, last: u64) -> Option<Range> {
        if first <= last {
            Some(Range { first, last })
        } else {
            None
        }
    }

    /// The whole index space `[0, u64::MAX]`.
    ///
    /// ```
    /// assert_eq!(maple::Range::ALL.first, 0);
    /// ```
    pub const ALL: Range = Range { first: 0, last: u64::MAX };

    /// The number of indexes in the range, saturating at `u64::MAX` for [`Range::ALL`].
    ///
    /// ```
    /// assert_eq!(maple::Range::new(3, 3).unwrap().len(), 1);
    /// ```
    #[allow(clippy::len_without_is_empty)] // a Range is never empty
    pub const fn len(&self) -> u64 {
        (self.last - self.first).saturating_add(1)
    }

    /// Whether `index` lies in the range.
    ///
    /// ```
    /// assert!(!maple::Range::new(3, 5).unwrap().contains(6));
    /// ```
    pub const fn contains(&self, index: u64) -> bool {
        self.first <= index && index <= self.last
    }

    /// Whether the two ranges share an index.
    ///
    /// ```
    /// use maple::Range;
    /// assert!(Range::new(0, 5).unwrap().overlaps(&Range::new(5, 9).unwrap()));
    /// ```
    pub const fn overlaps(&self, other: &Range) -> bool {
        self.first <= other.last && other.first <= self.last
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{:#x}, {:#x}]", self.first, self.last)
    }
}

/// The range holding an index, and its value (`None` for an empty range).
///
/// Returned by [`View::load`](crate::View::load) and the range-stepping lookups; the value
/// borrows from the snapshot or transaction it came from.
///
/// ```
/// let mut tree = maple::Tree::new();
/// tree.store(100, 199, "heap").unwrap();
/// let snap = tree.snapshot();
/// let hole = snap.load(50);
/// assert_eq!((hole.range.first, hole.range.last, hole.value), (0, 99, None));
/// ```
#[derive(Debug, PartialEq, Eq)]
pub struct Entry<'a, T> {
    /// The whole range, as stored: empty ranges are maximal (adjacent empties are one range).
    pub range: Range,
    /// The value stored over the range, if any.
    pub value: Option<&'a T>,
}

impl<T> Clone for Entry<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Entry<'_, T> {}
