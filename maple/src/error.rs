//! The tree's typed errors.

use core::fmt;

use crate::Range;

/// Why a tree operation failed. A failed operation changes nothing.
///
/// ```
/// use maple::{Error, Range, Tree};
/// let mut tree = Tree::new();
/// tree.store(10, 19, 'a').unwrap();
/// assert_eq!(tree.store(5, 4, 'b'), Err(Error::InvalidRange { first: 5, last: 4 }));
/// assert_eq!(tree.insert(15, 25, 'b'), Err(Error::Occupied(Range::new(10, 19).unwrap())));
/// assert_eq!(tree.snapshot().lowest_gap(Range::new(10, 19).unwrap(), 1), Err(Error::NoSpace));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The range's first index is above its last.
    InvalidRange {
        /// The first index given.
        first: u64,
        /// The last index given.
        last: u64,
    },
    /// A gap search was asked for a window of zero indexes.
    ZeroSize,
    /// A gap search found no empty window of the size asked for.
    NoSpace,
    /// `insert` found a value somewhere in the range; the range given is the first occupied one.
    Occupied(Range),
    /// Bulk building was handed ranges that overlap or are out of order.
    Unsorted(Range),
    /// A node could not be allocated (the system allocator, or the test hook, refused).
    AllocFailed,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidRange { first, last } => {
                write!(f, "invalid range [{first:#x}, {last:#x}]")
            }
            Error::ZeroSize => f.write_str("a gap of zero indexes was asked for"),
            Error::NoSpace => f.write_str("no empty window of that size"),
            Error::Occupied(range) => write!(f, "range {range} is occupied"),
            Error::Unsorted(range) => write!(f, "range {range} overlaps or precedes the one before it"),
            Error::AllocFailed => f.write_str("node allocation failed"),
        }
    }
}

impl std::error::Error for Error {}
