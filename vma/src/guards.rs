//! Guard markers (MADV_GUARD_INSTALL): pages that fault with SIGSEGV although their area
//! allows the access. Linux keeps them in the page tables; here an area version carries them,
//! so a snapshot shows them together with the areas, and one commit publishes both.
//!
//! The markers are kept by file page offset (pgoff), not by address: the pgoff of a page
//! stays the same when its area is split, trimmed or merged (merges need contiguous pgoffs),
//! so the markers follow their pages without being rewritten. A set may hold offsets outside
//! its area after a trim; every query clips to the area, and every operation that grows an
//! area over new pages clips the sets it combines ([`GuardPages::union_within`]). A copy
//! (`copy_vma`) carries none: mremap sets the markers of the pages it moves on the copy.

use std::sync::Arc;

/// A set of guarded pages, by file page offset: sorted, disjoint, non-touching half-open
/// ranges.
///
/// ```
/// use vma::GuardPages;
/// let set = GuardPages::default().with(2..5, true).with(7..8, true).with(3..4, false);
/// assert_eq!(set.ranges(), &[(2, 3), (4, 5), (7, 8)]);
/// assert!(set.contains(7) && !set.contains(3));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GuardPages {
    ranges: Vec<(u64, u64)>,
}

impl GuardPages {
    /// The ranges `(first, end)` of guarded pgoffs, in order.
    ///
    /// ```
    /// assert!(vma::GuardPages::default().ranges().is_empty());
    /// ```
    pub fn ranges(&self) -> &[(u64, u64)] {
        &self.ranges
    }

    /// Whether no page is guarded.
    ///
    /// ```
    /// assert!(vma::GuardPages::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Whether page `pgoff` is guarded.
    ///
    /// ```
    /// assert!(vma::GuardPages::default().with(4..6, true).contains(5));
    /// ```
    pub fn contains(&self, pgoff: u64) -> bool {
        let i = self.ranges.partition_point(|&(_, end)| end <= pgoff);
        self.ranges.get(i).is_some_and(|&(first, _)| first <= pgoff)
    }

    /// The guarded parts of `within`, in order.
    ///
    /// ```
    /// let set = vma::GuardPages::default().with(0..4, true).with(9..12, true);
    /// assert_eq!(set.within(2..10).collect::<Vec<_>>(), [2..4, 9..10]);
    /// ```
    pub fn within(&self, within: core::ops::Range<u64>) -> impl Iterator<Item = core::ops::Range<u64>> + '_ {
        let i = self.ranges.partition_point(|&(_, end)| end <= within.start);
        self.ranges[i..]
            .iter()
            .take_while(move |&&(first, _)| first < within.end)
            .map(move |&(first, end)| first.max(within.start)..end.min(within.end))
    }

    /// This set with `pages` guarded (`on`) or not.
    ///
    /// ```
    /// let set = vma::GuardPages::default().with(0..10, true).with(0..10, false);
    /// assert!(set.is_empty());
    /// ```
    pub fn with(&self, pages: core::ops::Range<u64>, on: bool) -> GuardPages {
        let mut ranges = Vec::with_capacity(self.ranges.len() + 2);
        for &(first, end) in &self.ranges {
            // Keep what lies outside `pages`.
            if first < pages.start {
                ranges.push((first, end.min(pages.start)));
            }
            if end > pages.end {
                ranges.push((first.max(pages.end), end));
            }
        }
        if on && pages.start < pages.end {
            ranges.push((pages.start, pages.end));
        }
        GuardPages::joined(ranges)
    }

    /// The guarded pages of each `(set, within)` part, clipped to its `within`, as one set:
    /// the markers of areas that merge into one. `None` when nothing is guarded.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use vma::GuardPages;
    /// let left = Arc::new(GuardPages::default().with(1..2, true).with(8..9, true)); // 8 is stale
    /// let right = Arc::new(GuardPages::default().with(5..6, true));
    /// let merged = GuardPages::union_within([(Some(&left), 0..4), (Some(&right), 4..8)]).unwrap();
    /// assert_eq!(merged.ranges(), &[(1, 2), (5, 6)]);
    /// ```
    pub fn union_within<'a>(
        parts: impl IntoIterator<Item = (Option<&'a Arc<GuardPages>>, core::ops::Range<u64>)>,
    ) -> Option<Arc<GuardPages>> {
        let mut ranges = Vec::new();
        for (set, within) in parts {
            if let Some(set) = set {
                ranges.extend(set.within(within).map(|r| (r.start, r.end)));
            }
        }
        let set = GuardPages::joined(ranges);
        (!set.is_empty()).then(|| Arc::new(set))
    }

    /// The set of `ranges`, sorted, with touching and overlapping ranges joined.
    fn joined(mut ranges: Vec<(u64, u64)>) -> GuardPages {
        ranges.sort_unstable();
        let mut out: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
        for (first, end) in ranges.into_iter().filter(|&(first, end)| first < end) {
            match out.last_mut() {
                Some(last) if first <= last.1 => last.1 = last.1.max(end),
                _ => out.push((first, end)),
            }
        }
        GuardPages { ranges: out }
    }
}
