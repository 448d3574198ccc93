//! Op scripts: the address-space trace format of `opscript.md`, and its output format.
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

use std::collections::BTreeMap;
use std::fmt;
use std::str::SplitWhitespace;

/// The window size in pages when a script has no `window` line.
///
/// ```
/// assert_eq!(maple_mm::script::DEFAULT_WINDOW, 256);
/// assert_eq!(maple_mm::script::parse("fork").unwrap().window, 256);
/// ```
pub const DEFAULT_WINDOW: u64 = 256;

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
    /// `fork`: fork; the child exits at once.
    Fork,
}

/// A protection: `none` or letters from `r`, `w`, `x`.
///
/// ```
/// use maple_mm::script::Prot;
///
/// assert_eq!("rx".parse::<Prot>(), Ok(Prot { read: true, write: false, exec: true }));
/// assert_eq!("none".parse::<Prot>(), Ok(Prot::default()));
/// assert!("q".parse::<Prot>().is_err());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Prot {
    /// PROT_READ.
    pub read: bool,
    /// PROT_WRITE.
    pub write: bool,
    /// PROT_EXEC.
    pub exec: bool,
}

impl std::str::FromStr for Prot {
    type Err = ErrorKind;

    fn from_str(text: &str) -> Result<Self, ErrorKind> {
        if text == "none" {
            return Ok(Prot::default());
        }
        let bad = || ErrorKind::BadProt(text.to_string());
        if text.is_empty() {
            return Err(bad());
        }
        let mut prot = Prot::default();
        for letter in text.chars() {
            let flag = match letter {
                'r' => &mut prot.read,
                'w' => &mut prot.write,
                'x' => &mut prot.exec,
                _ => return Err(bad()),
            };
            if *flag {
                return Err(bad());
            }
            *flag = true;
        }
        Ok(prot)
    }
}

/// What an mmap maps.
///
/// ```
/// use maple_mm::script::Kind;
///
/// assert_eq!("anon_shared".parse::<Kind>(), Ok(Kind::AnonShared));
/// assert_eq!("file_private:1:4".parse::<Kind>(), Ok(Kind::FilePrivate { file: 1, pgoff: 4 }));
/// assert!("file_private:1".parse::<Kind>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `anon_private`.
    AnonPrivate,
    /// `anon_shared`.
    AnonShared,
    /// `file_private:<id>:<pgoff>`.
    FilePrivate {
        /// File id.
        file: u32,
        /// File offset in pages.
        pgoff: u64,
    },
    /// `file_shared:<id>:<pgoff>`.
    FileShared {
        /// File id.
        file: u32,
        /// File offset in pages.
        pgoff: u64,
    },
}

impl std::str::FromStr for Kind {
    type Err = ErrorKind;

    fn from_str(text: &str) -> Result<Self, ErrorKind> {
        let bad = || ErrorKind::BadKind(text.to_string());
        match text {
            "anon_private" => return Ok(Kind::AnonPrivate),
            "anon_shared" => return Ok(Kind::AnonShared),
            _ => {}
        }
        let parts: Vec<&str> = text.split(':').collect();
        let [name, file, pgoff] = parts[..] else { return Err(bad()) };
        let file = number(file)?;
        let pgoff = number(pgoff)?;
        match name {
            "file_private" => Ok(Kind::FilePrivate { file, pgoff }),
            "file_shared" => Ok(Kind::FileShared { file, pgoff }),
            _ => Err(bad()),
        }
    }
}

/// The modifiers of an mmap: `noreserve populate locked growsdown stack noreplace ro`.
///
/// ```
/// use maple_mm::script::{parse, Op};
///
/// let script = parse("mmap 0 4 rw file_shared:1:0 ro noreplace").unwrap();
/// let Op::Mmap { mods, .. } = &script.ops[0] else { panic!() };
/// assert!(mods.ro && mods.noreplace && !mods.locked);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Mods {
    /// MAP_NORESERVE.
    pub noreserve: bool,
    /// MAP_POPULATE.
    pub populate: bool,
    /// MAP_LOCKED.
    pub locked: bool,
    /// MAP_GROWSDOWN.
    pub growsdown: bool,
    /// MAP_STACK.
    pub stack: bool,
    /// MAP_FIXED_NOREPLACE instead of MAP_FIXED.
    pub noreplace: bool,
    /// The file is opened read-only.
    pub ro: bool,
}

impl Mods {
    /// Sets the modifier named `word`.
    ///
    /// ```
    /// let mut mods = maple_mm::script::Mods::default();
    /// mods.set("stack").unwrap();
    /// assert!(mods.stack);
    /// assert!(mods.set("huge").is_err());
    /// ```
    pub fn set(&mut self, word: &str) -> Result<(), ErrorKind> {
        let flag = match word {
            "noreserve" => &mut self.noreserve,
            "populate" => &mut self.populate,
            "locked" => &mut self.locked,
            "growsdown" => &mut self.growsdown,
            "stack" => &mut self.stack,
            "noreplace" => &mut self.noreplace,
            "ro" => &mut self.ro,
            _ => return Err(ErrorKind::BadModifier(word.to_string())),
        };
        *flag = true;
        Ok(())
    }
}

/// A madvise advice: one of the named ones, or a raw number.
///
/// ```
/// use maple_mm::script::Advice;
///
/// assert_eq!("guard_install".parse::<Advice>(), Ok(Advice::GuardInstall));
/// assert_eq!("99".parse::<Advice>(), Ok(Advice::Number(99)));
/// assert!("nonsense".parse::<Advice>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Advice {
    /// MADV_NORMAL.
    Normal,
    /// MADV_RANDOM.
    Random,
    /// MADV_SEQUENTIAL.
    Sequential,
    /// MADV_WILLNEED.
    Willneed,
    /// MADV_DONTNEED.
    Dontneed,
    /// MADV_FREE.
    Free,
    /// MADV_REMOVE.
    Remove,
    /// MADV_DONTFORK.
    Dontfork,
    /// MADV_DOFORK.
    Dofork,
    /// MADV_MERGEABLE.
    Mergeable,
    /// MADV_UNMERGEABLE.
    Unmergeable,
    /// MADV_HUGEPAGE.
    Hugepage,
    /// MADV_NOHUGEPAGE.
    Nohugepage,
    /// MADV_DONTDUMP.
    Dontdump,
    /// MADV_DODUMP.
    Dodump,
    /// MADV_WIPEONFORK.
    Wipeonfork,
    /// MADV_KEEPONFORK.
    Keeponfork,
    /// MADV_COLD.
    Cold,
    /// MADV_PAGEOUT.
    Pageout,
    /// MADV_POPULATE_READ.
    PopulateRead,
    /// MADV_POPULATE_WRITE.
    PopulateWrite,
    /// MADV_DONTNEED_LOCKED.
    DontneedLocked,
    /// MADV_COLLAPSE.
    Collapse,
    /// MADV_GUARD_INSTALL.
    GuardInstall,
    /// MADV_GUARD_REMOVE.
    GuardRemove,
    /// A raw advice number, passed through as is.
    Number(i32),
}

impl Advice {
    /// Every named advice with its script name, in the order of `opscript.md`.
    ///
    /// ```
    /// use maple_mm::script::Advice;
    ///
    /// assert_eq!(Advice::NAMED.len(), 25);
    /// assert_eq!(Advice::NAMED[0], ("normal", Advice::Normal));
    /// ```
    pub const NAMED: [(&'static str, Advice); 25] = [
        ("normal", Advice::Normal),
        ("random", Advice::Random),
        ("sequential", Advice::Sequential),
        ("willneed", Advice::Willneed),
        ("dontneed", Advice::Dontneed),
        ("free", Advice::Free),
        ("remove", Advice::Remove),
        ("dontfork", Advice::Dontfork),
        ("dofork", Advice::Dofork),
        ("mergeable", Advice::Mergeable),
        ("unmergeable", Advice::Unmergeable),
        ("hugepage", Advice::Hugepage),
        ("nohugepage", Advice::Nohugepage),
        ("dontdump", Advice::Dontdump),
        ("dodump", Advice::Dodump),
        ("wipeonfork", Advice::Wipeonfork),
        ("keeponfork", Advice::Keeponfork),
        ("cold", Advice::Cold),
        ("pageout", Advice::Pageout),
        ("populate_read", Advice::PopulateRead),
        ("populate_write", Advice::PopulateWrite),
        ("dontneed_locked", Advice::DontneedLocked),
        ("collapse", Advice::Collapse),
        ("guard_install", Advice::GuardInstall),
        ("guard_remove", Advice::GuardRemove),
    ];

    /// The `MADV_*` number (Linux uapi); a raw number as given.
    ///
    /// ```
    /// use maple_mm::script::Advice;
    ///
    /// assert_eq!(Advice::GuardInstall.number(), 102);
    /// assert_eq!(Advice::Number(7).number(), 7);
    /// ```
    pub fn number(self) -> i32 {
        match self {
            Advice::Normal => 0,
            Advice::Random => 1,
            Advice::Sequential => 2,
            Advice::Willneed => 3,
            Advice::Dontneed => 4,
            Advice::Free => 8,
            Advice::Remove => 9,
            Advice::Dontfork => 10,
            Advice::Dofork => 11,
            Advice::Mergeable => 12,
            Advice::Unmergeable => 13,
            Advice::Hugepage => 14,
            Advice::Nohugepage => 15,
            Advice::Dontdump => 16,
            Advice::Dodump => 17,
            Advice::Wipeonfork => 18,
            Advice::Keeponfork => 19,
            Advice::Cold => 20,
            Advice::Pageout => 21,
            Advice::PopulateRead => 22,
            Advice::PopulateWrite => 23,
            Advice::DontneedLocked => 24,
            Advice::Collapse => 25,
            Advice::GuardInstall => 102,
            Advice::GuardRemove => 103,
            Advice::Number(number) => number,
        }
    }
}

impl std::str::FromStr for Advice {
    type Err = ErrorKind;

    fn from_str(text: &str) -> Result<Self, ErrorKind> {
        if let Some(&(_, advice)) = Advice::NAMED.iter().find(|(name, _)| *name == text) {
            return Ok(advice);
        }
        text.parse().map(Advice::Number).map_err(|_| ErrorKind::BadAdvice(text.to_string()))
    }
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

/// What went wrong on a line (see [`ParseError`]).
///
/// ```
/// use maple_mm::script::{parse, ErrorKind};
///
/// let error = parse("frobnicate 1 2").unwrap_err();
/// assert_eq!(error.kind, ErrorKind::UnknownOp("frobnicate".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The first word of a script line is not an op.
    UnknownOp(String),
    /// An argument is missing; the text names it.
    MissingArgument(&'static str),
    /// A word where a number was expected.
    BadNumber(String),
    /// A protection other than `none` or letters from `rwx`.
    BadProt(String),
    /// An mmap kind that is not one of the four.
    BadKind(String),
    /// An unknown mmap or mremap modifier.
    BadModifier(String),
    /// An unknown madvise advice.
    BadAdvice(String),
    /// A word after the last argument.
    ExtraArgument(String),
    /// `window` after an op, or twice.
    MisplacedWindow,
    /// A second `file` line for the same id.
    DuplicateFile(u32),
    /// An output line that starts with neither `op` nor `vma`.
    UnknownLine(String),
    /// An op result that is not one of the output format's.
    BadResult(String),
    /// A `vma` perms field that is not as in `/proc/self/maps`.
    BadPerms(String),
    /// A `vma` backing field that is not `anon`, `file:<id>` or `shanon:<k>`.
    BadBacking(String),
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::UnknownOp(word) => write!(f, "unknown op `{word}`"),
            ErrorKind::MissingArgument(what) => write!(f, "missing argument: {what}"),
            ErrorKind::BadNumber(word) => write!(f, "bad number `{word}`"),
            ErrorKind::BadProt(word) => write!(f, "bad prot `{word}` (expected `none` or letters from rwx)"),
            ErrorKind::BadKind(word) => write!(
                f,
                "bad mapping kind `{word}` (expected anon_private, anon_shared, \
                 file_private:<id>:<pgoff> or file_shared:<id>:<pgoff>)"
            ),
            ErrorKind::BadModifier(word) => write!(f, "unknown modifier `{word}`"),
            ErrorKind::BadAdvice(word) => write!(f, "unknown advice `{word}`"),
            ErrorKind::ExtraArgument(word) => write!(f, "unexpected argument `{word}`"),
            ErrorKind::MisplacedWindow => write!(f, "`window` must come once, before every op"),
            ErrorKind::DuplicateFile(id) => write!(f, "file {id} declared twice"),
            ErrorKind::UnknownLine(word) => write!(f, "unknown output line `{word}` (expected `op` or `vma`)"),
            ErrorKind::BadResult(text) => write!(f, "bad op result `{text}`"),
            ErrorKind::BadPerms(word) => write!(f, "bad perms `{word}`"),
            ErrorKind::BadBacking(word) => write!(f, "bad backing `{word}`"),
        }
    }
}

/// A parse error: the 1-based line number and what went wrong.
///
/// ```
/// let error = maple_mm::script::parse("window 8\nmunmap 0 x").unwrap_err();
/// assert_eq!(error.line, 2);
/// assert_eq!(error.to_string(), "line 2: bad number `x`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The 1-based line number.
    pub line: usize,
    /// What went wrong.
    pub kind: ErrorKind,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.kind)
    }
}

impl std::error::Error for ParseError {}

/// Parses a decimal number.
fn number<T: std::str::FromStr>(word: &str) -> Result<T, ErrorKind> {
    word.parse().map_err(|_| ErrorKind::BadNumber(word.to_string()))
}

/// The words of one line after its first, consumed argument by argument.
struct Args<'a> {
    words: SplitWhitespace<'a>,
}

impl<'a> Args<'a> {
    /// The next word, or a missing-argument error naming `what`.
    fn word(&mut self, what: &'static str) -> Result<&'a str, ErrorKind> {
        self.words.next().ok_or(ErrorKind::MissingArgument(what))
    }

    /// The next word as a number.
    fn number<T: std::str::FromStr>(&mut self, what: &'static str) -> Result<T, ErrorKind> {
        number(self.word(what)?)
    }

    /// The next word parsed with `FromStr`.
    fn parsed<T: std::str::FromStr<Err = ErrorKind>>(&mut self, what: &'static str) -> Result<T, ErrorKind> {
        self.word(what)?.parse()
    }

    /// The next word as a number, or `default` when the line has ended.
    fn number_or<T: std::str::FromStr>(&mut self, default: T) -> Result<T, ErrorKind> {
        self.words.next().map_or(Ok(default), number)
    }

    /// Checks that no word is left.
    fn finish(mut self) -> Result<(), ErrorKind> {
        match self.words.next() {
            Some(word) => Err(ErrorKind::ExtraArgument(word.to_string())),
            None => Ok(()),
        }
    }
}

/// One meaningful script line.
enum Line {
    Window(u64),
    File(u32, u64),
    Op(Op),
    Annotation,
}

/// Parses an op script.
///
/// ```
/// use maple_mm::script::{parse, Op};
///
/// let script = parse("# comment\nwindow 8\ntouch 3\nexpect 0 8 rw-p anon\n").unwrap();
/// assert_eq!(script.ops, vec![Op::Touch { page: 3, npages: 1 }]);
/// assert_eq!(parse("mmap 0 4 rw").unwrap_err().line, 1);
/// ```
pub fn parse(text: &str) -> Result<Script, ParseError> {
    let mut script = Script { window: DEFAULT_WINDOW, files: BTreeMap::new(), ops: Vec::new() };
    let mut window_set = false;
    for (index, raw) in text.lines().enumerate() {
        let at = |kind| ParseError { line: index + 1, kind };
        let content = raw.split('#').next().unwrap_or_default();
        let mut words = content.split_whitespace();
        let Some(first) = words.next() else { continue };
        match parse_line(first, Args { words }).map_err(at)? {
            Line::Window(pages) if !window_set && script.ops.is_empty() => {
                script.window = pages;
                window_set = true;
            }
            Line::Window(_) => return Err(at(ErrorKind::MisplacedWindow)),
            Line::File(id, pages) => {
                if script.files.insert(id, pages).is_some() {
                    return Err(at(ErrorKind::DuplicateFile(id)));
                }
            }
            Line::Op(op) => script.ops.push(op),
            Line::Annotation => {}
        }
    }
    Ok(script)
}

/// Parses one non-blank script line whose first word is `first`.
fn parse_line(first: &str, mut args: Args<'_>) -> Result<Line, ErrorKind> {
    let line = match first {
        "window" => Line::Window(args.number("window size")?),
        "file" => Line::File(args.number("file id")?, args.number("file size")?),
        "expect" | "expect_op" | "expect_empty" => return Ok(Line::Annotation),
        _ => Line::Op(parse_op(first, &mut args)?),
    };
    args.finish()?;
    Ok(line)
}

/// Parses the arguments of op `name`.
fn parse_op(name: &str, args: &mut Args<'_>) -> Result<Op, ErrorKind> {
    Ok(match name {
        "mmap" => parse_mmap(args)?,
        "munmap" => Op::Munmap { page: args.number("page")?, npages: args.number("npages")? },
        "mprotect" => {
            Op::Mprotect { page: args.number("page")?, npages: args.number("npages")?, prot: args.parsed("prot")? }
        }
        "madvise" => {
            Op::Madvise { page: args.number("page")?, npages: args.number("npages")?, advice: args.parsed("advice")? }
        }
        "mlock" => Op::Mlock { page: args.number("page")?, npages: args.number("npages")? },
        "mlock_onfault" => Op::MlockOnfault { page: args.number("page")?, npages: args.number("npages")? },
        "munlock" => Op::Munlock { page: args.number("page")?, npages: args.number("npages")? },
        "mseal" => Op::Mseal { page: args.number("page")?, npages: args.number("npages")? },
        "mremap" => parse_mremap(args)?,
        "touch" => Op::Touch { page: args.number("page")?, npages: args.number_or(1)? },
        "read" => Op::Read { page: args.number("page")?, npages: args.number_or(1)? },
        "fork" => Op::Fork,
        _ => return Err(ErrorKind::UnknownOp(name.to_string())),
    })
}

/// Parses `mmap <page> <npages> <prot> <kind> [mods...]` after the op name.
fn parse_mmap(args: &mut Args<'_>) -> Result<Op, ErrorKind> {
    let page = args.number("page")?;
    let npages = args.number("npages")?;
    let prot = args.parsed("prot")?;
    let kind = args.parsed("kind")?;
    let mut mods = Mods::default();
    for word in args.words.by_ref() {
        mods.set(word)?;
    }
    Ok(Op::Mmap { page, npages, prot, kind, mods })
}

/// Parses `mremap <oldpage> <oldnpages> <newnpages> [maymove] [fixed <newpage>] [dontunmap]`
/// after the op name.
fn parse_mremap(args: &mut Args<'_>) -> Result<Op, ErrorKind> {
    let old_page = args.number("old page")?;
    let old_npages = args.number("old npages")?;
    let new_npages = args.number("new npages")?;
    let (mut maymove, mut fixed, mut dontunmap) = (false, None, false);
    while let Some(word) = args.words.next() {
        match word {
            "maymove" => maymove = true,
            "fixed" => fixed = Some(args.number("fixed target page")?),
            "dontunmap" => dontunmap = true,
            _ => return Err(ErrorKind::BadModifier(word.to_string())),
        }
    }
    Ok(Op::Mremap { old_page, old_npages, new_npages, maymove, fixed, dontunmap })
}

/// Parsed output of a run: the op result lines and the VMA lines, each in order.
///
/// ```
/// let outcome = maple_mm::script::parse_outcome("op 1 ok @0\nvma 0 4 rw-p - anon rd,wr\n").unwrap();
/// assert_eq!(outcome.ops.len(), 1);
/// assert_eq!(outcome.vmas.len(), 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The `op` lines.
    pub ops: Vec<OpLine>,
    /// The `vma` lines.
    pub vmas: Vec<VmaLine>,
}

/// An `op <n> <result>` line.
///
/// ```
/// use maple_mm::script::{parse_outcome, OpLine, OpResult};
///
/// let outcome = parse_outcome("op 3 err ENOMEM\t# munmap 0 4").unwrap();
/// assert_eq!(outcome.ops[0], OpLine { n: 3, result: OpResult::Err("ENOMEM".into()) });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpLine {
    /// The op number, counting from 1.
    pub n: usize,
    /// What the op did.
    pub result: OpResult,
}

/// The result of one op.
///
/// ```
/// use maple_mm::script::OpResult;
///
/// assert_eq!("ok @4".parse::<OpResult>(), Ok(OpResult::OkAt(4)));
/// assert_eq!("skip out-of-window".parse::<OpResult>(), Ok(OpResult::SkipOutOfWindow));
/// assert!("fine".parse::<OpResult>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpResult {
    /// `ok`.
    Ok,
    /// `ok @<page>`: where an mmap or mremap landed.
    OkAt(u64),
    /// `err <ERRNO>`, the errno's name such as `ENOMEM`.
    Err(String),
    /// `segv @<page>`.
    Segv(u64),
    /// `sigbus @<page>`.
    Sigbus(u64),
    /// `skip out-of-window`.
    SkipOutOfWindow,
}

impl std::str::FromStr for OpResult {
    type Err = ErrorKind;

    fn from_str(text: &str) -> Result<Self, ErrorKind> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let page = |word: &str| match word.strip_prefix('@') {
            Some(digits) => number(digits),
            None => Err(ErrorKind::BadResult(text.to_string())),
        };
        match words[..] {
            ["ok"] => Ok(OpResult::Ok),
            ["ok", at] => page(at).map(OpResult::OkAt),
            ["err", errno] => Ok(OpResult::Err(errno.to_string())),
            ["segv", at] => page(at).map(OpResult::Segv),
            ["sigbus", at] => page(at).map(OpResult::Sigbus),
            ["skip", "out-of-window"] => Ok(OpResult::SkipOutOfWindow),
            _ => Err(ErrorKind::BadResult(text.to_string())),
        }
    }
}

/// A `vma <start> <end> <perms> <pgoff> <backing> <vmflags>` line.
///
/// ```
/// use maple_mm::script::{parse_outcome, Backing};
///
/// let outcome = parse_outcome("vma 0 4 r--s 2 file:1 rd,mr,me").unwrap();
/// let vma = &outcome.vmas[0];
/// assert_eq!((vma.start, vma.end, vma.pgoff), (0, 4, Some(2)));
/// assert!(vma.perms.shared && !vma.perms.write);
/// assert_eq!(vma.backing, Backing::File(1));
/// assert_eq!(vma.vmflags, ["rd", "mr", "me"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmaLine {
    /// First page, relative to the window base.
    pub start: u64,
    /// End page, exclusive.
    pub end: u64,
    /// Permissions as in `/proc/self/maps`.
    pub perms: Perms,
    /// File page offset; `None` (`-`) for private anonymous areas.
    pub pgoff: Option<u64>,
    /// What backs the area.
    pub backing: Backing,
    /// The smaps `VmFlags` mnemonics in the kernel's order; empty for `-`.
    pub vmflags: Vec<String>,
}

/// The perms field of a VMA line, as in `/proc/self/maps` (`rw-p`, `r-xs`, ...).
///
/// ```
/// use maple_mm::script::Perms;
///
/// let perms: Perms = "rw-s".parse().unwrap();
/// assert!(perms.read && perms.write && !perms.exec && perms.shared);
/// assert!("rw-".parse::<Perms>().is_err());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Perms {
    /// `r`.
    pub read: bool,
    /// `w`.
    pub write: bool,
    /// `x`.
    pub exec: bool,
    /// `s` (may-share) rather than `p`.
    pub shared: bool,
}

impl std::str::FromStr for Perms {
    type Err = ErrorKind;

    fn from_str(text: &str) -> Result<Self, ErrorKind> {
        let flag = |got: u8, yes: u8, no: u8| match got {
            _ if got == yes => Ok(true),
            _ if got == no => Ok(false),
            _ => Err(ErrorKind::BadPerms(text.to_string())),
        };
        let &[r, w, x, s] = text.as_bytes() else { return Err(ErrorKind::BadPerms(text.to_string())) };
        Ok(Perms {
            read: flag(r, b'r', b'-')?,
            write: flag(w, b'w', b'-')?,
            exec: flag(x, b'x', b'-')?,
            shared: flag(s, b's', b'p')?,
        })
    }
}

/// The backing field of a VMA line.
///
/// ```
/// use maple_mm::script::Backing;
///
/// assert_eq!("anon".parse::<Backing>(), Ok(Backing::Anon));
/// assert_eq!("shanon:2".parse::<Backing>(), Ok(Backing::SharedAnon(2)));
/// assert!("heap".parse::<Backing>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backing {
    /// `anon`: private anonymous memory.
    Anon,
    /// `file:<id>`.
    File(u32),
    /// `shanon:<k>`: the k-th distinct shared-anonymous object in the output.
    SharedAnon(u32),
}

impl std::str::FromStr for Backing {
    type Err = ErrorKind;

    fn from_str(text: &str) -> Result<Self, ErrorKind> {
        match text.split_once(':') {
            None if text == "anon" => Ok(Backing::Anon),
            Some(("file", id)) => number(id).map(Backing::File),
            Some(("shanon", k)) => number(k).map(Backing::SharedAnon),
            _ => Err(ErrorKind::BadBacking(text.to_string())),
        }
    }
}

/// Parses the output format; everything from a tab on is ignored, as are blank lines.
///
/// ```
/// use maple_mm::script::{parse_outcome, OpResult};
///
/// let outcome = parse_outcome("op 1 segv @3\t# touch 3\nop 2 ok\n").unwrap();
/// assert_eq!(outcome.ops[0].result, OpResult::Segv(3));
/// assert_eq!(parse_outcome("op 1 ok\nvma 0 x rw-p - anon -").unwrap_err().line, 2);
/// ```
pub fn parse_outcome(text: &str) -> Result<Outcome, ParseError> {
    let mut outcome = Outcome::default();
    for (index, raw) in text.lines().enumerate() {
        let at = |kind| ParseError { line: index + 1, kind };
        let content = raw.split('\t').next().unwrap_or_default().trim();
        match content.split_once(' ').unwrap_or((content, "")) {
            ("", _) => {}
            ("op", rest) => outcome.ops.push(parse_op_line(rest).map_err(at)?),
            ("vma", rest) => outcome.vmas.push(parse_vma_line(rest).map_err(at)?),
            (word, _) => return Err(at(ErrorKind::UnknownLine(word.to_string()))),
        }
    }
    Ok(outcome)
}

/// Parses `<n> <result>`, the rest of an `op` line.
fn parse_op_line(rest: &str) -> Result<OpLine, ErrorKind> {
    let rest = rest.trim_start();
    let (n, result) = rest.split_once(' ').ok_or(ErrorKind::MissingArgument("op result"))?;
    Ok(OpLine { n: number(n)?, result: result.parse()? })
}

/// Parses `<start> <end> <perms> <pgoff> <backing> <vmflags>`, the rest of a `vma` line.
fn parse_vma_line(rest: &str) -> Result<VmaLine, ErrorKind> {
    let mut args = Args { words: rest.split_whitespace() };
    let start = args.number("start")?;
    let end = args.number("end")?;
    let perms = args.parsed("perms")?;
    let pgoff = match args.word("pgoff")? {
        "-" => None,
        word => Some(number(word)?),
    };
    let backing = args.parsed("backing")?;
    let vmflags = match args.word("vmflags")? {
        "-" => Vec::new(),
        word => word.split(',').map(str::to_string).collect(),
    };
    args.finish()?;
    Ok(VmaLine { start, end, perms, pgoff, backing, vmflags })
}

// ---------------------------------------------------------------------------------------------
// Rendering: the output format, and ops back into script text.
// ---------------------------------------------------------------------------------------------

impl fmt::Display for Prot {
    /// Renders `none` or the letters in `rwx` order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Prot::default() {
            return f.write_str("none");
        }
        for (set, letter) in [(self.read, "r"), (self.write, "w"), (self.exec, "x")] {
            if set {
                f.write_str(letter)?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::AnonPrivate => f.write_str("anon_private"),
            Kind::AnonShared => f.write_str("anon_shared"),
            Kind::FilePrivate { file, pgoff } => write!(f, "file_private:{file}:{pgoff}"),
            Kind::FileShared { file, pgoff } => write!(f, "file_shared:{file}:{pgoff}"),
        }
    }
}

impl Mods {
    /// The modifier words that are set, in the order of `opscript.md`.
    ///
    /// ```
    /// let mods = maple_mm::script::Mods { ro: true, noreserve: true, ..Default::default() };
    /// assert_eq!(mods.words().collect::<Vec<_>>(), ["noreserve", "ro"]);
    /// ```
    pub fn words(&self) -> impl Iterator<Item = &'static str> {
        [
            (self.noreserve, "noreserve"),
            (self.populate, "populate"),
            (self.locked, "locked"),
            (self.growsdown, "growsdown"),
            (self.stack, "stack"),
            (self.noreplace, "noreplace"),
            (self.ro, "ro"),
        ]
        .into_iter()
        .filter_map(|(set, word)| set.then_some(word))
    }
}

impl fmt::Display for Advice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Advice::Number(number) = self {
            return write!(f, "{number}");
        }
        let name = Advice::NAMED.iter().find(|(_, advice)| advice == self).map_or("?", |(name, _)| name);
        f.write_str(name)
    }
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
            Op::Fork => f.write_str("fork"),
        }
    }
}

impl fmt::Display for Script {
    /// Renders the script as text that [`parse`] reads back to an equal script: the `window`
    /// line, the `file` lines, then one op per line.
    ///
    /// ```
    /// use maple_mm::script::parse;
    ///
    /// let script = parse("window 8\nfile 2 3\nmmap 0 2 rw file_shared:2:0 ro\ntouch 1\n").unwrap();
    /// let text = script.to_string();
    /// assert_eq!(text, "window 8\nfile 2 3\nmmap 0 2 rw file_shared:2:0 ro\ntouch 1\n");
    /// assert_eq!(parse(&text).unwrap(), script);
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "window {}", self.window)?;
        for (id, pages) in &self.files {
            writeln!(f, "file {id} {pages}")?;
        }
        for op in &self.ops {
            writeln!(f, "{op}")?;
        }
        Ok(())
    }
}

impl fmt::Display for OpResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpResult::Ok => f.write_str("ok"),
            OpResult::OkAt(page) => write!(f, "ok @{page}"),
            OpResult::Err(errno) => write!(f, "err {errno}"),
            OpResult::Segv(page) => write!(f, "segv @{page}"),
            OpResult::Sigbus(page) => write!(f, "sigbus @{page}"),
            OpResult::SkipOutOfWindow => f.write_str("skip out-of-window"),
        }
    }
}

impl fmt::Display for OpLine {
    /// Renders `op <n> <result>`.
    ///
    /// ```
    /// use maple_mm::script::{OpLine, OpResult};
    ///
    /// assert_eq!(OpLine { n: 2, result: OpResult::Segv(7) }.to_string(), "op 2 segv @7");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "op {} {}", self.n, self.result)
    }
}

impl fmt::Display for Perms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let letter = |set: bool, yes: char, no: char| if set { yes } else { no };
        write!(
            f,
            "{}{}{}{}",
            letter(self.read, 'r', '-'),
            letter(self.write, 'w', '-'),
            letter(self.exec, 'x', '-'),
            letter(self.shared, 's', 'p')
        )
    }
}

impl fmt::Display for Backing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Backing::Anon => f.write_str("anon"),
            Backing::File(id) => write!(f, "file:{id}"),
            Backing::SharedAnon(k) => write!(f, "shanon:{k}"),
        }
    }
}

impl fmt::Display for VmaLine {
    /// Renders `vma <start> <end> <perms> <pgoff> <backing> <vmflags>`, with `-` for a missing
    /// pgoff and for empty vmflags.
    ///
    /// ```
    /// let outcome = maple_mm::script::parse_outcome("vma 0 4 ---p - anon -").unwrap();
    /// assert_eq!(outcome.vmas[0].to_string(), "vma 0 4 ---p - anon -");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "vma {} {} {} ", self.start, self.end, self.perms)?;
        match self.pgoff {
            Some(pgoff) => write!(f, "{pgoff}")?,
            None => f.write_str("-")?,
        }
        write!(f, " {} ", self.backing)?;
        if self.vmflags.is_empty() {
            f.write_str("-")
        } else {
            f.write_str(&self.vmflags.join(","))
        }
    }
}

impl fmt::Display for Outcome {
    /// Renders the output format: the op lines, then the VMA lines, each ending in a newline.
    ///
    /// ```
    /// use maple_mm::script::parse_outcome;
    ///
    /// let text = "op 1 ok @0\nop 2 err ENOMEM\nvma 0 4 rw-p - anon rd,wr,mr,mw,me,ac\n";
    /// assert_eq!(parse_outcome(text).unwrap().to_string(), text);
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.ops {
            writeln!(f, "{line}")?;
        }
        for vma in &self.vmas {
            writeln!(f, "{vma}")?;
        }
        Ok(())
    }
}

impl Outcome {
    /// Renders the output format like [`Display`](fmt::Display), and with `echo` each op line
    /// carries a tab and `# <op text>` as the recorded scenario outputs do.
    ///
    /// ```
    /// use maple_mm::script::{parse, parse_outcome};
    ///
    /// let script = parse("munmap 0 4").unwrap();
    /// let outcome = parse_outcome("op 1 ok").unwrap();
    /// assert_eq!(outcome.render(Some(&script)), "op 1 ok\t# munmap 0 4\n");
    /// assert_eq!(outcome.render(None), "op 1 ok\n");
    /// ```
    pub fn render(&self, echo: Option<&Script>) -> String {
        let Some(script) = echo else { return self.to_string() };
        let mut text = String::new();
        for line in &self.ops {
            text.push_str(&line.to_string());
            if let Some(op) = line.n.checked_sub(1).and_then(|index| script.ops.get(index)) {
                text.push_str(&format!("\t# {op}"));
            }
            text.push('\n');
        }
        for vma in &self.vmas {
            text.push_str(&format!("{vma}\n"));
        }
        text
    }
}

// ---------------------------------------------------------------------------------------------
// Rules both runners share: the window check and file sizes.
// ---------------------------------------------------------------------------------------------

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
    /// leaves `[0, window)`. An empty range at the window's end does not leave it. `fork`
    /// never does.
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
            Op::Fork => false,
        }
    }
}

impl Script {
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
    /// (so that mremap growth stays inside the file too).
    ///
    /// ```
    /// let script = maple_mm::script::parse("window 16\nfile 2 3\nmmap 0 4 r file_private:1:10\n").unwrap();
    /// assert_eq!(script.file_pages(1), 10 + 4 + 16);
    /// assert_eq!(script.file_pages(2), 3);
    /// assert_eq!(script.file_pages(9), 16);
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
        mapped.saturating_add(self.window)
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

// ---------------------------------------------------------------------------------------------
// Comparing two outcomes.
// ---------------------------------------------------------------------------------------------

/// Lines of context around each change in [`diff_outcomes`].
const DIFF_CONTEXT: usize = 3;

/// Compares two outcomes line by line; `None` when they are equal, else a unified-style diff
/// (`-` lines only in `left`, `+` lines only in `right`, up to three lines of context, hunks
/// introduced by `@@ -<left line> +<right line> @@`).
///
/// ```
/// use maple_mm::script::{diff_outcomes, parse_outcome};
///
/// let kernel = parse_outcome("op 1 ok @0\nvma 0 8 rw-p - anon rd,wr\n").unwrap();
/// let engine = parse_outcome("op 1 ok @0\nvma 0 4 rw-p - anon rd,wr\nvma 4 8 rw-p - anon rd,wr\n").unwrap();
/// assert_eq!(diff_outcomes(&kernel, &kernel, "kernel", "engine"), None);
/// let diff = diff_outcomes(&kernel, &engine, "kernel", "engine").unwrap();
/// assert!(diff.starts_with("--- kernel\n+++ engine\n"));
/// assert!(diff.contains("\n-vma 0 8 rw-p - anon rd,wr\n+vma 0 4 rw-p - anon rd,wr\n+vma 4 8 rw-p - anon rd,wr\n"));
/// ```
pub fn diff_outcomes(left: &Outcome, right: &Outcome, left_name: &str, right_name: &str) -> Option<String> {
    if left == right {
        return None;
    }
    let left_text = left.to_string();
    let right_text = right.to_string();
    let a: Vec<&str> = left_text.lines().collect();
    let b: Vec<&str> = right_text.lines().collect();
    Some(format!("--- {left_name}\n+++ {right_name}\n{}", unified(&a, &b)))
}

/// One line of an edit script.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Edit {
    Same,
    Removed,
    Added,
}

/// A unified-style diff of `a` against `b` (longest common subsequence, then hunks).
fn unified(a: &[&str], b: &[&str]) -> String {
    // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    // The edit script: (kind, line in a, line in b, text).
    let mut edits = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            edits.push((Edit::Same, i, j, a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            edits.push((Edit::Removed, i, j, a[i]));
            i += 1;
        } else {
            edits.push((Edit::Added, i, j, b[j]));
            j += 1;
        }
    }
    let changed: Vec<usize> = (0..edits.len()).filter(|&k| edits[k].0 != Edit::Same).collect();
    let mut text = String::new();
    let mut k = 0;
    while k < changed.len() {
        let start = changed[k].saturating_sub(DIFF_CONTEXT);
        let mut end = changed[k];
        while k < changed.len() && changed[k] <= end + 2 * DIFF_CONTEXT + 1 {
            end = changed[k];
            k += 1;
        }
        let end = (end + DIFF_CONTEXT + 1).min(edits.len());
        let (_, first_a, first_b, _) = edits[start];
        text.push_str(&format!("@@ -{} +{} @@\n", first_a + 1, first_b + 1));
        for &(kind, _, _, line) in &edits[start..end] {
            let mark = match kind {
                Edit::Same => ' ',
                Edit::Removed => '-',
                Edit::Added => '+',
            };
            text.push(mark);
            text.push_str(line);
            text.push('\n');
        }
    }
    text
}

#[cfg(test)]
mod render_tests {
    use super::*;

    /// Every recorded output renders back to its own text (less the echoes).
    #[test]
    fn recorded_outputs_render_back() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kernel-cases");
        for dir in ["scenarios", "fuzz"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|ext| ext == "out") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    let plain: String =
                        text.lines().map(|line| format!("{}\n", line.split('\t').next().unwrap())).collect();
                    assert_eq!(parse_outcome(&text).unwrap().to_string(), plain, "{}", path.display());
                }
                if path.extension().is_some_and(|ext| ext == "ops") {
                    let script = parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
                    assert_eq!(parse(&script.to_string()).unwrap(), script, "{}", path.display());
                }
            }
        }
    }

    #[test]
    fn diff_hunks_keep_three_lines_of_context() {
        let left: Vec<String> = (0..20).map(|n| format!("op {n} ok")).collect();
        let mut right = left.clone();
        right[2] = "op 2 err ENOMEM".to_string();
        right[15] = "op 15 err EPERM".to_string();
        let a: Vec<&str> = left.iter().map(String::as_str).collect();
        let b: Vec<&str> = right.iter().map(String::as_str).collect();
        let diff = unified(&a, &b);
        let expected = "\
@@ -1 +1 @@
 op 0 ok
 op 1 ok
-op 2 ok
+op 2 err ENOMEM
 op 3 ok
 op 4 ok
 op 5 ok
@@ -13 +13 @@
 op 12 ok
 op 13 ok
 op 14 ok
-op 15 ok
+op 15 err EPERM
 op 16 ok
 op 17 ok
 op 18 ok
";
        assert_eq!(diff, expected);
        assert_eq!(unified(&a, &a), "");
    }
}
