//! The output format both runners print: one line per op, then one line per VMA of the
//! window.

use std::fmt;

use super::parse::{number, ErrorKind};
use super::Script;

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

#[cfg(test)]
mod tests {
    use super::super::{parse, parse_outcome};

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
}
