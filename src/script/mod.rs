//! Op scripts: the address-space trace format and its output format (docs/opscript.md).
//!
//! A script is one op per line; `#` starts a comment; blank lines are ignored. Addresses and
//! lengths are in pages relative to the window base. [`parse`] reads a script into a typed
//! [`Script`]; [`parse_outcome`] reads the output format (op results and VMA lines) into a typed
//! [`Outcome`].
//!
//! ```
//! use maple_mm::script::{parse, Op};
//!
//! let script = parse("window 16\nmmap 0 4 rw anon_private\nfork\n").unwrap();
//! assert_eq!(script.window, 16);
//! assert_eq!(script.ops.len(), 2);
//! assert_eq!(script.ops[1], Op::Fork);
//! ```

mod diff;
mod output;
mod parse;
mod words;

pub use diff::{agreement, diff_outcomes};
pub use output::{Backing, OpLine, OpResult, Outcome, Perms, VmaLine};
pub use parse::{parse, parse_outcome, ErrorKind, ParseError};
pub use words::{Advice, Kind, Mods, Prot};

use std::collections::BTreeMap;
use std::fmt;

/// The window size in pages when a script has no `window` line.
///
/// ```
/// assert_eq!(maple_mm::script::DEFAULT_WINDOW, 256);
/// assert_eq!(maple_mm::script::parse("fork").unwrap().window, 256);
/// ```
pub const DEFAULT_WINDOW: u64 = 256;

/// The largest window, in pages (4 GiB). Both runners place the window in a whole address
/// space, and a script may populate, lock or touch every page of it: the kernel runner then
/// backs it with real memory, so the window must fit in a test machine's memory.
///
/// ```
/// use maple_mm::script::{parse, MAX_WINDOW};
///
/// assert!(parse(&format!("window {MAX_WINDOW}")).is_ok());
/// let error = parse(&format!("window {}", MAX_WINDOW + 1)).unwrap_err();
/// assert_eq!(error.to_string(), "line 1: window size 1048577 is above the limit 1048576 (4 GiB)");
/// ```
pub const MAX_WINDOW: u64 = 1 << 20;

/// The largest file, in pages: Linux's largest file size (`MAX_LFS_FILESIZE`, 2^63 - 1
/// bytes) in whole pages. A mapping whose file range ends past it fails with EOVERFLOW.
///
/// ```
/// assert_eq!(maple_mm::script::MAX_FILE_PAGES, (1 << 51) - 1);
/// ```
pub const MAX_FILE_PAGES: u64 = (i64::MAX as u64) >> 12;

/// The largest mmap file offset, in pages: the offset is passed to mmap in bytes, which must
/// fit in 64 bits.
///
/// ```
/// use maple_mm::script::{parse, MAX_PGOFF};
///
/// assert!(parse(&format!("mmap 0 1 r file_private:1:{MAX_PGOFF}")).is_ok());
/// assert!(parse(&format!("mmap 0 1 r file_private:1:{}", MAX_PGOFF + 1)).is_err());
/// ```
pub const MAX_PGOFF: u64 = u64::MAX >> 12;

/// A number above its limit: which number, its value and the limit.
///
/// ```
/// use maple_mm::script::{LimitError, MAX_WINDOW};
///
/// let error = LimitError::check("window size", 1 << 30, MAX_WINDOW).unwrap_err();
/// assert_eq!(error.to_string(), "window size 1073741824 is above the limit 1048576 (4 GiB)");
/// assert_eq!(LimitError::check("window size", 8, MAX_WINDOW), Ok(8));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitError {
    /// What the number is, as the script format names it.
    pub what: &'static str,
    /// The value given.
    pub value: u64,
    /// The largest value allowed.
    pub limit: u64,
}

impl LimitError {
    /// `value` if it is at most `limit`, else the error.
    ///
    /// ```
    /// use maple_mm::script::LimitError;
    ///
    /// assert!(LimitError::check("file size", 3, 2).is_err());
    /// ```
    pub fn check(what: &'static str, value: u64, limit: u64) -> Result<u64, LimitError> {
        if value <= limit {
            Ok(value)
        } else {
            Err(LimitError { what, value, limit })
        }
    }
}

impl fmt::Display for LimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} is above the limit {}", self.what, self.value, self.limit)?;
        if self.limit == MAX_WINDOW {
            f.write_str(" (4 GiB)")?;
        }
        Ok(())
    }
}

impl std::error::Error for LimitError {}

/// A parsed op script.
///
/// ```
/// let script = maple_mm::script::parse("window 32\nfile 1 2\nmunmap 0 4\n").unwrap();
/// assert_eq!(script.window, 32);
/// assert_eq!(script.files.get(&1), Some(&2));
/// assert_eq!(script.ops.len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// Window size in pages ([`DEFAULT_WINDOW`] unless the script sets it).
    pub window: u64,
    /// Declared file sizes in pages, by file id. Files not listed are big enough for every
    /// mapping.
    pub files: BTreeMap<u32, u64>,
    /// The ops, in order; `ops[i]` is reported as `op <i + 1>`. Annotations are not ops.
    pub ops: Vec<Op>,
    /// The text of each whole-line comment, with the number of ops before it: what `explain`
    /// prints between the ops, and [`Display`](fmt::Display) writes back.
    pub notes: Vec<(usize, String)>,
}

/// One op of a script.
///
/// ```
/// use maple_mm::script::{parse, Op};
///
/// let script = parse("mlock 2 3").unwrap();
/// assert_eq!(script.ops[0], Op::Mlock { page: 2, npages: 3 });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `mmap <page> <npages> <prot> <kind> [mods...]`, always MAP_FIXED at the page.
    Mmap {
        /// First page.
        page: u64,
        /// Length in pages.
        npages: u64,
        /// Protection.
        prot: Prot,
        /// What is mapped.
        kind: Kind,
        /// Extra flags.
        mods: Mods,
    },
    /// `munmap <page> <npages>`.
    Munmap {
        /// First page.
        page: u64,
        /// Length in pages.
        npages: u64,
    },
    /// `mprotect <page> <npages> <prot>`.
    Mprotect {
        /// First page.
        page: u64,
        /// Length in pages.
        npages: u64,
        /// New protection.
        prot: Prot,
    },
    /// `madvise <page> <npages> <advice>`.
    Madvise {
        /// First page.
        page: u64,
        /// Length in pages.
        npages: u64,
        /// The advice.
        advice: Advice,
    },
    /// `mlock <page> <npages>`.
    Mlock {
        /// First page.
        page: u64,
        /// Length in pages.
        npages: u64,
    },
    /// `mlock_onfault <page> <npages>` (mlock2 with MLOCK_ONFAULT).
    MlockOnfault {
        /// First page.
        page: u64,
        /// Length in pages.
        npages: u64,
    },
    /// `munlock <page> <npages>`.
    Munlock {
        /// First page.
        page: u64,
        /// Length in pages.
        npages: u64,
    },
    /// `mseal <page> <npages>`.
    Mseal {
        /// First page.
        page: u64,
        /// Length in pages.
        npages: u64,
    },
    /// `mremap <oldpage> <oldnpages> <newnpages> [maymove] [fixed <newpage>] [dontunmap]`.
    Mremap {
        /// First page of the old range.
        old_page: u64,
        /// Length of the old range in pages.
        old_npages: u64,
        /// New length in pages.
        new_npages: u64,
        /// MREMAP_MAYMOVE.
        maymove: bool,
        /// MREMAP_FIXED with its target page.
        fixed: Option<u64>,
        /// MREMAP_DONTUNMAP.
        dontunmap: bool,
    },
    /// `touch <page> [npages]`: write one byte per page.
    Touch {
        /// First page.
        page: u64,
        /// Number of pages (1 when not given).
        npages: u64,
    },
    /// `read <page> [npages]`: read one byte per page.
    Read {
        /// First page.
        page: u64,
        /// Number of pages (1 when not given).
        npages: u64,
    },
    /// `mlockall <flag>...`: mlockall with the flags named (`current`, `future`, `onfault`).
    Mlockall {
        /// MCL_CURRENT.
        current: bool,
        /// MCL_FUTURE.
        future: bool,
        /// MCL_ONFAULT.
        onfault: bool,
    },
    /// `munlockall`.
    Munlockall,
    /// `fork`: fork; the child exits at once.
    Fork,
}

/// Whether an mremap op passes MREMAP_MAYMOVE: when it says `maymove`, and also with `fixed`
/// or `dontunmap`, which the kernel accepts only with MAYMOVE (the recorded answers show a
/// `fixed` move without `maymove` succeeding). Both runners follow this rule.
///
/// ```
/// assert!(maple_mm::script::mremap_maymove(false, Some(4), false));
/// assert!(!maple_mm::script::mremap_maymove(false, None, false));
/// ```
pub fn mremap_maymove(maymove: bool, fixed: Option<u64>, dontunmap: bool) -> bool {
    maymove || fixed.is_some() || dontunmap
}

impl fmt::Display for Op {
    /// Renders the op as a script line (without a newline); [`parse`] reads it back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Mmap { page, npages, prot, kind, mods } => {
                write!(f, "mmap {page} {npages} {prot} {kind}")?;
                for word in mods.words() {
                    write!(f, " {word}")?;
                }
                Ok(())
            }
            Op::Munmap { page, npages } => write!(f, "munmap {page} {npages}"),
            Op::Mprotect { page, npages, prot } => write!(f, "mprotect {page} {npages} {prot}"),
            Op::Madvise { page, npages, advice } => write!(f, "madvise {page} {npages} {advice}"),
            Op::Mlock { page, npages } => write!(f, "mlock {page} {npages}"),
            Op::MlockOnfault { page, npages } => write!(f, "mlock_onfault {page} {npages}"),
            Op::Munlock { page, npages } => write!(f, "munlock {page} {npages}"),
            Op::Mseal { page, npages } => write!(f, "mseal {page} {npages}"),
            Op::Mremap { old_page, old_npages, new_npages, maymove, fixed, dontunmap } => {
                write!(f, "mremap {old_page} {old_npages} {new_npages}")?;
                if *maymove {
                    f.write_str(" maymove")?;
                }
                if let Some(target) = fixed {
                    write!(f, " fixed {target}")?;
                }
                if *dontunmap {
                    f.write_str(" dontunmap")?;
                }
                Ok(())
            }
            Op::Touch { page, npages } | Op::Read { page, npages } => {
                let name = if matches!(self, Op::Touch { .. }) { "touch" } else { "read" };
                write!(f, "{name} {page}")?;
                if *npages != 1 {
                    write!(f, " {npages}")?;
                }
                Ok(())
            }
            Op::Mlockall { current, future, onfault } => {
                f.write_str("mlockall")?;
                for (on, word) in [(current, "current"), (future, "future"), (onfault, "onfault")] {
                    if *on {
                        write!(f, " {word}")?;
                    }
                }
                Ok(())
            }
            Op::Munlockall => f.write_str("munlockall"),
            Op::Fork => f.write_str("fork"),
        }
    }
}

impl fmt::Display for Script {
    /// Renders the script as text that [`parse`] reads back to an equal script: the `window`
    /// line, the `file` lines, then one op per line with the whole-line comments between.
    ///
    /// ```
    /// use maple_mm::script::parse;
    ///
    /// let script = parse("window 8\nfile 2 3\nmmap 0 2 rw file_shared:2:0 ro\n# then\ntouch 1\n").unwrap();
    /// let text = script.to_string();
    /// assert_eq!(text, "window 8\nfile 2 3\nmmap 0 2 rw file_shared:2:0 ro\n# then\ntouch 1\n");
    /// assert_eq!(parse(&text).unwrap(), script);
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "window {}", self.window)?;
        for (id, pages) in &self.files {
            writeln!(f, "file {id} {pages}")?;
        }
        for index in 0..=self.ops.len() {
            for text in self.notes_before(index) {
                writeln!(f, "# {text}")?;
            }
            if let Some(op) = self.ops.get(index) {
                writeln!(f, "{op}")?;
            }
        }
        Ok(())
    }
}

/// Whether the pages `[page, page + npages)` leave the window `[0, window)`.
fn leaves(page: u64, npages: u64, window: u64) -> bool {
    match page.checked_add(npages) {
        Some(end) => end > window,
        None => true,
    }
}

impl Op {
    /// Whether the op must be reported as `skip out-of-window` in a window of `window` pages:
    /// its range, or for mremap its resulting range (at the `fixed` target, else in place),
    /// leaves `[0, window)`. An empty range at the window's end does not leave it. The ops
    /// without a range (`fork`, `mlockall`, `munlockall`) never do.
    ///
    /// ```
    /// use maple_mm::script::parse;
    ///
    /// let script = parse("window 16\nmunmap 12 4\nmunmap 12 5\nmremap 0 4 20\nmremap 0 4 4 fixed 14\nfork").unwrap();
    /// let skipped: Vec<bool> = script.ops.iter().map(|op| op.leaves_window(script.window)).collect();
    /// assert_eq!(skipped, [false, true, true, true, false]);
    /// ```
    pub fn leaves_window(&self, window: u64) -> bool {
        match *self {
            Op::Mmap { page, npages, .. }
            | Op::Munmap { page, npages }
            | Op::Mprotect { page, npages, .. }
            | Op::Madvise { page, npages, .. }
            | Op::Mlock { page, npages }
            | Op::MlockOnfault { page, npages }
            | Op::Munlock { page, npages }
            | Op::Mseal { page, npages }
            | Op::Touch { page, npages }
            | Op::Read { page, npages } => leaves(page, npages, window),
            Op::Mremap { old_page, old_npages, new_npages, fixed, .. } => {
                leaves(old_page, old_npages, window) || leaves(fixed.unwrap_or(old_page), new_npages, window)
            }
            Op::Mlockall { .. } | Op::Munlockall | Op::Fork => false,
        }
    }
}

impl Script {
    /// The whole-line comments that come right before op `index` (0-based; `ops.len()` for
    /// those after the last op).
    ///
    /// ```
    /// let script = maple_mm::script::parse("# a\nfork\n# b\n# c\n").unwrap();
    /// assert_eq!(script.notes_before(0).collect::<Vec<_>>(), ["a"]);
    /// assert_eq!(script.notes_before(1).collect::<Vec<_>>(), ["b", "c"]);
    /// ```
    pub fn notes_before(&self, index: usize) -> impl Iterator<Item = &str> {
        // The parser adds notes in order, so they are sorted by position.
        let first = self.notes.partition_point(|(before, _)| *before < index);
        self.notes[first..].iter().take_while(move |(before, _)| *before == index).map(|(_, text)| text.as_str())
    }

    /// Checks the script's numbers against their limits, as [`parse`] does line by line: the
    /// window ([`MAX_WINDOW`]), file sizes ([`MAX_FILE_PAGES`]) and file offsets
    /// ([`MAX_PGOFF`]). Both runners call it first, so a script built in code gets the same
    /// answer from each.
    ///
    /// ```
    /// let mut script = maple_mm::script::parse("mmap 0 4 rw anon_private").unwrap();
    /// assert!(script.check().is_ok());
    /// script.window = u64::MAX;
    /// assert_eq!(script.check().unwrap_err().what, "window size");
    /// ```
    pub fn check(&self) -> Result<(), LimitError> {
        LimitError::check("window size", self.window, MAX_WINDOW)?;
        for &pages in self.files.values() {
            LimitError::check("file size", pages, MAX_FILE_PAGES)?;
        }
        for op in &self.ops {
            if let Op::Mmap { kind: Kind::FilePrivate { pgoff, .. } | Kind::FileShared { pgoff, .. }, .. } = op {
                LimitError::check("file offset", *pgoff, MAX_PGOFF)?;
            }
        }
        Ok(())
    }

    /// Whether op `index` (0-based) is out of the window and reported as `skip out-of-window`;
    /// see [`Op::leaves_window`].
    ///
    /// ```
    /// let script = maple_mm::script::parse("window 8\ntouch 7\ntouch 8\n").unwrap();
    /// assert!(!script.op_leaves_window(0));
    /// assert!(script.op_leaves_window(1));
    /// ```
    pub fn op_leaves_window(&self, index: usize) -> bool {
        self.ops[index].leaves_window(self.window)
    }

    /// The size of file `id` in pages: its `file` line, else big enough for every mapping:
    /// the largest `pgoff + npages` over the script's mmaps of that file, plus the window size
    /// (so that mremap growth stays inside the file too), at most [`MAX_FILE_PAGES`] (a
    /// mapping past that fails with EOVERFLOW and needs no file).
    ///
    /// ```
    /// let script = maple_mm::script::parse("window 16\nfile 2 3\nmmap 0 4 r file_private:1:10\n").unwrap();
    /// assert_eq!(script.file_pages(1), 10 + 4 + 16);
    /// assert_eq!(script.file_pages(2), 3);
    /// assert_eq!(script.file_pages(9), 16);
    /// let far = maple_mm::script::parse("mmap 0 4 r file_private:1:4503599627370495").unwrap();
    /// assert_eq!(far.file_pages(1), maple_mm::script::MAX_FILE_PAGES);
    /// ```
    pub fn file_pages(&self, id: u32) -> u64 {
        if let Some(&pages) = self.files.get(&id) {
            return pages;
        }
        let mapped = self
            .ops
            .iter()
            .filter_map(|op| match *op {
                Op::Mmap {
                    npages, kind: Kind::FilePrivate { file, pgoff } | Kind::FileShared { file, pgoff }, ..
                } if file == id => Some(pgoff.saturating_add(npages)),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        mapped.saturating_add(self.window).min(MAX_FILE_PAGES)
    }

    /// Every file id the script declares or maps, in increasing order.
    ///
    /// ```
    /// let script = maple_mm::script::parse("file 3 1\nmmap 0 1 r file_shared:1:0\n").unwrap();
    /// assert_eq!(script.file_ids(), [1, 3]);
    /// ```
    pub fn file_ids(&self) -> Vec<u32> {
        let mut ids: Vec<u32> = self.files.keys().copied().collect();
        for op in &self.ops {
            if let Op::Mmap { kind: Kind::FilePrivate { file, .. } | Kind::FileShared { file, .. }, .. } = op {
                ids.push(*file);
            }
        }
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}
