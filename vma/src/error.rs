//! The errors VMA operations return, with their Linux errno values.

use core::fmt;

/// Why a VMA operation failed. A failed operation leaves the tree as it was, except where
/// the operation's documentation says otherwise (`vma_modify`'s first split).
///
/// ```
/// use vma::VmaError;
/// assert_eq!(VmaError::NoMemory.errno(), 12);
/// assert_eq!(VmaError::SplitRefused(22).errno(), 22);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmaError {
    /// A node allocation failed (ENOMEM).
    NoMemory,
    /// The operation would raise the number of VMAs past the limit (ENOMEM).
    MapCount,
    /// The area's `may_split` hook refused the split; carries the errno it gave.
    SplitRefused(i32),
    /// The range, or an address, is not page aligned, is empty, or lies outside the VMA
    /// it must fall in (EINVAL).
    InvalidRange,
    /// Part of the range is already mapped (EEXIST).
    Occupied,
    /// The VMA handed in is not the current version in the tree (it was changed or removed
    /// since it was read) (EFAULT, a caller bug).
    Stale,
}

impl VmaError {
    /// The Linux errno this error stands for.
    ///
    /// ```
    /// assert_eq!(vma::VmaError::Occupied.errno(), 17);
    /// ```
    pub fn errno(self) -> i32 {
        match self {
            VmaError::NoMemory | VmaError::MapCount => 12,
            VmaError::SplitRefused(errno) => errno,
            VmaError::InvalidRange => 22,
            VmaError::Occupied => 17,
            VmaError::Stale => 14,
        }
    }
}

impl fmt::Display for VmaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VmaError::NoMemory => f.write_str("out of memory"),
            VmaError::MapCount => f.write_str("too many VMAs"),
            VmaError::SplitRefused(errno) => write!(f, "the area refused to split (errno {errno})"),
            VmaError::InvalidRange => f.write_str("invalid range"),
            VmaError::Occupied => f.write_str("range already mapped"),
            VmaError::Stale => f.write_str("the VMA is not the current version"),
        }
    }
}

impl std::error::Error for VmaError {}

impl From<maple::Error> for VmaError {
    /// Allocation failure becomes [`VmaError::NoMemory`], an occupied range
    /// [`VmaError::Occupied`], anything else [`VmaError::InvalidRange`].
    fn from(err: maple::Error) -> Self {
        match err {
            maple::Error::AllocFailed => VmaError::NoMemory,
            maple::Error::Occupied(_) => VmaError::Occupied,
            _ => VmaError::InvalidRange,
        }
    }
}
