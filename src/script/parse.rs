//! Reading op scripts and the output format, with errors that name the line.

use std::collections::BTreeMap;
use std::fmt;
use std::str::SplitWhitespace;

use super::{LimitError, Mods, Op, OpLine, Outcome, Script, VmaLine, DEFAULT_WINDOW, MAX_FILE_PAGES, MAX_WINDOW};

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
    /// A number too large for its field (64 bits, or 32 for file ids and raw advice).
    NumberTooLarge(String),
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
    /// A number above its limit.
    TooLarge(LimitError),
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
            ErrorKind::NumberTooLarge(word) => write!(f, "number `{word}` is too large for its field"),
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
            ErrorKind::TooLarge(error) => write!(f, "{error}"),
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
pub(super) fn number<T: std::str::FromStr>(word: &str) -> Result<T, ErrorKind> {
    word.parse().map_err(|_| {
        if !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit()) {
            ErrorKind::NumberTooLarge(word.to_string())
        } else {
            ErrorKind::BadNumber(word.to_string())
        }
    })
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
    pub(super) fn number<T: std::str::FromStr>(&mut self, what: &'static str) -> Result<T, ErrorKind> {
        number(self.word(what)?)
    }

    /// The next word as a number of at most `limit`.
    fn limited(&mut self, what: &'static str, limit: u64) -> Result<u64, ErrorKind> {
        LimitError::check(what, self.number(what)?, limit).map_err(ErrorKind::TooLarge)
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
/// assert_eq!(script.notes, vec![(0, "comment".to_string())]);
/// assert_eq!(parse("mmap 0 4 rw").unwrap_err().line, 1);
/// ```
pub fn parse(text: &str) -> Result<Script, ParseError> {
    let mut script = Script { window: DEFAULT_WINDOW, files: BTreeMap::new(), ops: Vec::new(), notes: Vec::new() };
    let mut window_set = false;
    for (index, raw) in text.lines().enumerate() {
        let at = |kind| ParseError { line: index + 1, kind };
        let (content, comment) = raw.split_once('#').unwrap_or((raw, ""));
        let mut words = content.split_whitespace();
        let Some(first) = words.next() else {
            if !comment.trim().is_empty() {
                script.notes.push((script.ops.len(), comment.trim().to_string()));
            }
            continue;
        };
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
        "window" => Line::Window(args.limited("window size", MAX_WINDOW)?),
        "file" => Line::File(args.number("file id")?, args.limited("file size", MAX_FILE_PAGES)?),
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
        "mlockall" => parse_mlockall(args)?,
        "munlockall" => Op::Munlockall,
        "fork" => Op::Fork,
        _ => return Err(ErrorKind::UnknownOp(name.to_string())),
    })
}

/// Parses `mlockall <flag>...` after the op name: one or more of `current`, `future` and
/// `onfault`.
fn parse_mlockall(args: &mut Args<'_>) -> Result<Op, ErrorKind> {
    let (mut current, mut future, mut onfault) = (false, false, false);
    let mut any = false;
    for word in args.words.by_ref() {
        match word {
            "current" => current = true,
            "future" => future = true,
            "onfault" => onfault = true,
            _ => return Err(ErrorKind::BadModifier(word.to_string())),
        }
        any = true;
    }
    if !any {
        return Err(ErrorKind::MissingArgument("mlockall flags (current, future, onfault)"));
    }
    Ok(Op::Mlockall { current, future, onfault })
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
