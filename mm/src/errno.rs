//! Linux errno values, the error type of every address-space operation.

use core::fmt;

use vma::VmaError;

/// Why an address-space operation failed: the errno Linux returns in the same situation.
///
/// ```
/// use mm::Errno;
/// assert_eq!(Errno::ENOMEM.code(), 12);
/// assert_eq!(Errno::ENOMEM.name(), "ENOMEM");
/// assert_eq!(Errno::from_code(22), Some(Errno::EINVAL));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Errno {
    /// Operation not permitted (sealed areas, privileges).
    EPERM,
    /// Bad file descriptor (a file mapping without a file).
    EBADF,
    /// Resource temporarily unavailable (mlock limits, madvise out of resources).
    EAGAIN,
    /// Out of memory, or a range that is not (wholly) mapped.
    ENOMEM,
    /// Permission denied (protection beyond what the mapping may get).
    EACCES,
    /// Bad address (mremap across areas, population faults).
    EFAULT,
    /// The range is already mapped (MAP_FIXED_NOREPLACE).
    EEXIST,
    /// Invalid argument.
    EINVAL,
    /// Value too large (file offset overflow).
    EOVERFLOW,
    /// Operation not supported (unknown MAP_SHARED_VALIDATE flags).
    EOPNOTSUPP,
}

const TABLE: [(Errno, i32, &str, &str); 10] = [
    (Errno::EPERM, 1, "EPERM", "Operation not permitted"),
    (Errno::EBADF, 9, "EBADF", "Bad file descriptor"),
    (Errno::EAGAIN, 11, "EAGAIN", "Resource temporarily unavailable"),
    (Errno::ENOMEM, 12, "ENOMEM", "Cannot allocate memory"),
    (Errno::EACCES, 13, "EACCES", "Permission denied"),
    (Errno::EFAULT, 14, "EFAULT", "Bad address"),
    (Errno::EEXIST, 17, "EEXIST", "File exists"),
    (Errno::EINVAL, 22, "EINVAL", "Invalid argument"),
    (Errno::EOVERFLOW, 75, "EOVERFLOW", "Value too large for defined data type"),
    (Errno::EOPNOTSUPP, 95, "EOPNOTSUPP", "Operation not supported"),
];

impl Errno {
    fn row(self) -> &'static (Errno, i32, &'static str, &'static str) {
        TABLE.iter().find(|row| row.0 == self).expect("every errno has a row")
    }

    /// The errno number on Linux x86_64.
    ///
    /// ```
    /// assert_eq!(mm::Errno::EFAULT.code(), 14);
    /// ```
    pub fn code(self) -> i32 {
        self.row().1
    }

    /// The symbolic name, as `errno.h` spells it.
    ///
    /// ```
    /// assert_eq!(mm::Errno::EEXIST.name(), "EEXIST");
    /// ```
    pub fn name(self) -> &'static str {
        self.row().2
    }

    /// The errno with number `code`, if it is one this crate returns.
    ///
    /// ```
    /// assert_eq!(mm::Errno::from_code(1), Some(mm::Errno::EPERM));
    /// assert_eq!(mm::Errno::from_code(4), None);
    /// ```
    pub fn from_code(code: i32) -> Option<Errno> {
        TABLE.iter().find(|row| row.1 == code).map(|row| row.0)
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (_, code, name, text) = self.row();
        write!(f, "{name} ({code}): {text}")
    }
}

impl std::error::Error for Errno {}

impl From<VmaError> for Errno {
    /// Allocation failure and the map-count limit are ENOMEM, a refused split the errno
    /// the hook gave (EINVAL if unknown), an occupied range EEXIST, a stale VMA EFAULT.
    fn from(err: VmaError) -> Errno {
        match err {
            VmaError::NoMemory | VmaError::MapCount => Errno::ENOMEM,
            VmaError::SplitRefused(code) => Errno::from_code(code).unwrap_or(Errno::EINVAL),
            VmaError::InvalidRange => Errno::EINVAL,
            VmaError::Occupied => Errno::EEXIST,
            VmaError::Stale => Errno::EFAULT,
        }
    }
}

/// The signal a faulting access raises.
///
/// ```
/// assert_ne!(mm::Signal::Segv, mm::Signal::Bus);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Signal {
    /// SIGSEGV: no area, no permission, or a guard page.
    Segv,
    /// SIGBUS: a file page at or past the end of the file.
    Bus,
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Signal::Segv => "SIGSEGV",
            Signal::Bus => "SIGBUS",
        })
    }
}

impl std::error::Error for Signal {}
