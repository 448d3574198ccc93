//! The kernel runner: an op script performed with real system calls in a reserved window of
//! this process, reported in the output format from `/proc/self/smaps`.
//!
//! The runner needs Linux on x86_64 (faults are taken on a known instruction and recovered
//! from in a signal handler); elsewhere [`run`] returns [`KernelError::Unsupported`].
//!
//! While the window is open nothing may allocate: the allocator's own mappings could land in
//! the window and show up as VMAs, so the results and the smaps buffer are allocated before
//! and everything is parsed after the window is closed. Call [`run`] from a process in which
//! no other thread allocates meanwhile (the `maple-mm kernel` binary is one).
//!
//! ```
//! use maple_mm::{kernel, script};
//!
//! let script = script::parse("window 8\nmmap 0 2 rw anon_private\nmmap 2 2 rw anon_private\n").unwrap();
//! match kernel::run(&script) {
//!     Ok(outcome) => assert_eq!(outcome.to_string(), "op 1 ok @0\nop 2 ok @2\nvma 0 4 rw-p - anon rd,wr,mr,mw,me,ac\n"),
//!     Err(error) => println!("no kernel runner here: {error}"),
//! }
//! ```

use std::fmt;

use crate::script::{Advice, Backing, LimitError, Op, OpLine, OpResult, Outcome, Perms, Script, VmaLine};

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod linux;

/// The page size the op scripts assume.
#[cfg_attr(not(all(target_os = "linux", target_arch = "x86_64")), allow(dead_code))]
const PAGE: u64 = 4096;

/// The first smaps buffer size; it doubles (and the script is run again) until smaps fits.
#[cfg_attr(not(all(target_os = "linux", target_arch = "x86_64")), allow(dead_code))]
const SMAPS_FIRST_CAPACITY: usize = 1 << 20;

/// The largest smaps buffer tried.
#[cfg_attr(not(all(target_os = "linux", target_arch = "x86_64")), allow(dead_code))]
const SMAPS_MAX_CAPACITY: usize = 1 << 28;

/// madvise advice numbers the runner refuses to pass to the kernel: MADV_HWPOISON and
/// MADV_SOFT_OFFLINE, which would poison or offline real pages (the runner usually runs as root).
///
/// ```
/// use maple_mm::kernel::{run, KernelError, REFUSED_ADVICE};
///
/// assert_eq!(REFUSED_ADVICE, [100, 101]);
/// let script = maple_mm::script::parse("window 4\nmadvise 0 1 101\n").unwrap();
/// assert!(matches!(run(&script), Err(KernelError::RefusedAdvice { op: 1, advice: 101 }) | Err(KernelError::Unsupported(_))));
/// ```
pub const REFUSED_ADVICE: [i32; 2] = [100, 101];

/// Why the kernel runner could not run a script.
///
/// ```
/// use maple_mm::kernel::KernelError;
///
/// let error = KernelError::RefusedAdvice { op: 3, advice: 100 };
/// assert_eq!(error.to_string(), "op 3: madvise advice 100 is refused (it poisons or offlines real pages)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelError {
    /// Not Linux on x86_64, or the page size is not 4 KiB.
    Unsupported(String),
    /// A system call that prepares or tears down the window failed.
    Setup {
        /// What was being done.
        what: &'static str,
        /// The errno's name.
        errno: String,
    },
    /// The script asks for a madvise advice in [`REFUSED_ADVICE`].
    RefusedAdvice {
        /// The op number, counting from 1.
        op: usize,
        /// The advice number.
        advice: i32,
    },
    /// A number of the script is past its limit ([`Script::check`]); the engine refuses the
    /// script with the same error.
    Limit(LimitError),
    /// `/proc/self/smaps` could not be read or understood.
    Smaps(String),
    /// The child process that ran the script failed (it died, or its report was garbled).
    Child(String),
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KernelError::Unsupported(why) => write!(f, "the kernel runner is not supported here: {why}"),
            KernelError::Setup { what, errno } => write!(f, "{what} failed: {errno}"),
            KernelError::RefusedAdvice { op, advice } => {
                write!(f, "op {op}: madvise advice {advice} is refused (it poisons or offlines real pages)")
            }
            KernelError::Limit(error) => write!(f, "{error}"),
            KernelError::Smaps(why) => write!(f, "/proc/self/smaps: {why}"),
            KernelError::Child(why) => write!(f, "the runner's child process: {why}"),
        }
    }
}

impl std::error::Error for KernelError {}

/// Performs `script` with real system calls in a fresh window of a child process (forked for
/// the script, so nothing a script leaves behind, such as sealed areas that cannot be
/// unmapped, accumulates in the caller) and reports what each op did and the VMAs of the
/// window afterwards.
///
/// ```
/// let script = maple_mm::script::parse("window 4\ntouch 0\n").unwrap();
/// if let Ok(outcome) = maple_mm::kernel::run(&script) {
///     assert_eq!(outcome.to_string(), "op 1 segv @0\n");
/// }
/// ```
pub fn run(script: &Script) -> Result<Outcome, KernelError> {
    script.check().map_err(KernelError::Limit)?;
    check_advice(script)?;
    run_in_child(script)
}

/// [`run`] without the child process: the script runs in a window of this very process.
/// Cheaper (no fork), but whatever the script cannot undo stays in this process (sealed
/// areas cannot be unmapped), and no other thread of the process may allocate meanwhile.
/// For measuring the system calls themselves; use [`run`] otherwise.
///
/// ```
/// let script = maple_mm::script::parse("window 4\nmmap 0 1 r anon_private\n").unwrap();
/// if let Ok(outcome) = maple_mm::kernel::run_in_place(&script) {
///     assert_eq!(outcome.vmas.len(), 1);
/// }
/// ```
pub fn run_in_place(script: &Script) -> Result<Outcome, KernelError> {
    script.check().map_err(KernelError::Limit)?;
    check_advice(script)?;
    run_checked(script)
}

fn check_advice(script: &Script) -> Result<(), KernelError> {
    for (index, op) in script.ops.iter().enumerate() {
        if let Op::Madvise { advice: Advice::Number(advice), .. } = op {
            if REFUSED_ADVICE.contains(advice) && !script.op_leaves_window(index) {
                return Err(KernelError::RefusedAdvice { op: index + 1, advice: *advice });
            }
        }
    }
    Ok(())
}

/// Runs the script in a forked child, which sends back the rendered outcome (or the error)
/// through a pipe; the caller's address space is untouched.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn run_in_child(script: &Script) -> Result<Outcome, KernelError> {
    let report = linux::in_child(|| match run_checked(script) {
        Ok(outcome) => format!("ok\n{outcome}"),
        Err(error) => format!("error\n{error}"),
    })?;
    match report.split_once('\n') {
        Some(("ok", outcome)) => crate::script::parse_outcome(outcome).map_err(|e| KernelError::Child(e.to_string())),
        Some(("error", message)) => Err(KernelError::Child(message.to_string())),
        _ => Err(KernelError::Child(format!("an unreadable report: {report:?}"))),
    }
}

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
fn run_in_child(script: &Script) -> Result<Outcome, KernelError> {
    run_checked(script)
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn run_checked(script: &Script) -> Result<Outcome, KernelError> {
    let mut capacity = SMAPS_FIRST_CAPACITY;
    loop {
        let capture = linux::perform(script, capacity)?;
        if !capture.smaps_overflow {
            return capture.outcome(script.window);
        }
        if capacity >= SMAPS_MAX_CAPACITY {
            return Err(KernelError::Smaps(format!("larger than {capacity} bytes")));
        }
        capacity *= 2;
    }
}

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
fn run_checked(_script: &Script) -> Result<Outcome, KernelError> {
    Err(KernelError::Unsupported(format!(
        "it needs Linux on x86_64, this is {} on {}",
        std::env::consts::OS,
        std::env::consts::ARCH
    )))
}

/// The name of a Linux errno value, such as `ENOMEM` for 12.
///
/// ```
/// use maple_mm::kernel::errno_name;
///
/// assert_eq!(errno_name(12), Some("ENOMEM"));
/// assert_eq!(errno_name(1), Some("EPERM"));
/// assert_eq!(errno_name(9999), None);
/// ```
pub fn errno_name(errno: i32) -> Option<&'static str> {
    Some(match errno {
        1 => "EPERM",
        2 => "ENOENT",
        3 => "ESRCH",
        4 => "EINTR",
        5 => "EIO",
        6 => "ENXIO",
        7 => "E2BIG",
        8 => "ENOEXEC",
        9 => "EBADF",
        10 => "ECHILD",
        11 => "EAGAIN",
        12 => "ENOMEM",
        13 => "EACCES",
        14 => "EFAULT",
        15 => "ENOTBLK",
        16 => "EBUSY",
        17 => "EEXIST",
        18 => "EXDEV",
        19 => "ENODEV",
        20 => "ENOTDIR",
        21 => "EISDIR",
        22 => "EINVAL",
        23 => "ENFILE",
        24 => "EMFILE",
        25 => "ENOTTY",
        26 => "ETXTBSY",
        27 => "EFBIG",
        28 => "ENOSPC",
        29 => "ESPIPE",
        30 => "EROFS",
        31 => "EMLINK",
        32 => "EPIPE",
        33 => "EDOM",
        34 => "ERANGE",
        35 => "EDEADLK",
        36 => "ENAMETOOLONG",
        37 => "ENOLCK",
        38 => "ENOSYS",
        39 => "ENOTEMPTY",
        40 => "ELOOP",
        61 => "ENODATA",
        62 => "ETIME",
        75 => "EOVERFLOW",
        84 => "EILSEQ",
        95 => "EOPNOTSUPP",
        110 => "ETIMEDOUT",
        125 => "ECANCELED",
        133 => "EHWPOISON",
        _ => return None,
    })
}

/// The errno's name, or `E<number>` for one not in [`errno_name`]'s table.
#[cfg_attr(not(all(target_os = "linux", target_arch = "x86_64")), allow(dead_code))]
fn errno_text(errno: i32) -> String {
    errno_name(errno).map_or_else(|| format!("E{errno}"), str::to_string)
}

/// What one op did, as recorded while the window is open (no allocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(all(target_os = "linux", target_arch = "x86_64")), allow(dead_code))]
enum Raw {
    /// Not performed (only before the op's turn).
    NotRun,
    /// Succeeded.
    Ok,
    /// Succeeded at this address (mmap, mremap).
    OkAt(u64),
    /// Failed with this errno.
    Err(i32),
    /// SIGSEGV at this address.
    Segv(u64),
    /// SIGBUS at this address.
    Sigbus(u64),
    /// Out of the window, not performed.
    Skip,
    /// An mremap moved the area out of the window to this address (it was unmapped there).
    MovedOut(u64),
}

/// The pseudo-errno reported (as `err MOVED-OUT-OF-WINDOW`) for an mremap with `maymove` that
/// the kernel moved out of the window; the runner unmaps the area there at once. Only the
/// kernel's layout of the whole process decides where such a move lands, so an engine that
/// models just the window cannot predict it (`maple-mm fuzz` never generates one).
///
/// ```
/// use maple_mm::script::OpResult;
///
/// let line = format!("err {}", maple_mm::kernel::MOVED_OUT);
/// assert!(matches!(line.parse::<OpResult>(), Ok(OpResult::Err(_))));
/// ```
pub const MOVED_OUT: &str = "MOVED-OUT-OF-WINDOW";

/// What a run captured: the op results, the window base, smaps, and the files' inodes.
#[cfg_attr(not(all(target_os = "linux", target_arch = "x86_64")), allow(dead_code))]
struct Capture {
    /// The address of window page 0.
    base: u64,
    /// One result per op.
    results: Vec<Raw>,
    /// The text of `/proc/self/smaps` read while the window was open.
    smaps: Vec<u8>,
    /// Whether smaps filled the whole buffer (so it may have been cut).
    smaps_overflow: bool,
    /// (inode, file id) of every script file.
    inodes: Vec<(u64, u32)>,
}

#[cfg_attr(not(all(target_os = "linux", target_arch = "x86_64")), allow(dead_code))]
impl Capture {
    /// The page of `address` relative to the base (wrapping for addresses below it).
    fn page(&self, address: u64) -> u64 {
        address.wrapping_sub(self.base) / PAGE
    }

    /// The outcome: op lines from the results, VMA lines from smaps.
    fn outcome(&self, window: u64) -> Result<Outcome, KernelError> {
        let ops = self
            .results
            .iter()
            .enumerate()
            .map(|(index, raw)| {
                let result = match *raw {
                    Raw::NotRun => OpResult::Err("NOT-RUN".to_string()),
                    Raw::Ok => OpResult::Ok,
                    Raw::OkAt(address) => OpResult::OkAt(self.page(address)),
                    Raw::Err(errno) => OpResult::Err(errno_text(errno)),
                    Raw::Segv(address) => OpResult::Segv(self.page(address)),
                    Raw::Sigbus(address) => OpResult::Sigbus(self.page(address)),
                    Raw::Skip => OpResult::SkipOutOfWindow,
                    Raw::MovedOut(_) => OpResult::Err(MOVED_OUT.to_string()),
                };
                OpLine { n: index + 1, result }
            })
            .collect();
        let text = std::str::from_utf8(&self.smaps).map_err(|error| KernelError::Smaps(error.to_string()))?;
        let areas = parse_smaps(text).map_err(KernelError::Smaps)?;
        Ok(Outcome { ops, vmas: window_vmas(&areas, self.base, window, &self.inodes) })
    }
}

/// One area of `/proc/self/smaps`: its header line and its `VmFlags`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(not(all(target_os = "linux", target_arch = "x86_64")), allow(dead_code))]
struct SmapsArea {
    start: u64,
    end: u64,
    perms: Perms,
    /// The file offset in bytes (0 for private anonymous areas).
    offset: u64,
    /// The inode (0 for private anonymous areas).
    inode: u64,
    vmflags: Vec<String>,
}

/// Parses the text of `/proc/<pid>/smaps` into its areas, in order.
#[cfg_attr(not(all(target_os = "linux", target_arch = "x86_64")), allow(dead_code))]
fn parse_smaps(text: &str) -> Result<Vec<SmapsArea>, String> {
    let mut areas: Vec<SmapsArea> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let bad = || format!("line {}: cannot read `{line}`", index + 1);
        let first = line.split_whitespace().next().unwrap_or_default();
        if let Some((start, end)) = first.split_once('-') {
            let mut words = line.split_whitespace().skip(1);
            let hex = |word: Option<&str>| word.and_then(|word| u64::from_str_radix(word, 16).ok());
            let start = hex(Some(start)).ok_or_else(bad)?;
            let end = hex(Some(end)).ok_or_else(bad)?;
            let perms = words.next().and_then(|word| word.parse().ok()).ok_or_else(bad)?;
            let offset = hex(words.next()).ok_or_else(bad)?;
            let _device = words.next().ok_or_else(bad)?;
            let inode = words.next().and_then(|word| word.parse().ok()).ok_or_else(bad)?;
            areas.push(SmapsArea { start, end, perms, offset, inode, vmflags: Vec::new() });
        } else if let Some(flags) = line.strip_prefix("VmFlags:") {
            let area = areas.last_mut().ok_or_else(bad)?;
            area.vmflags = flags.split_whitespace().map(str::to_string).collect();
        }
    }
    Ok(areas)
}

/// The VMA lines of the areas inside the window of `window` pages at `base`: pages relative to
/// the base, file areas named by script file id through `inodes`, other shared areas numbered
/// as `shanon:<k>` in order of first appearance from 0.
#[cfg_attr(not(all(target_os = "linux", target_arch = "x86_64")), allow(dead_code))]
fn window_vmas(areas: &[SmapsArea], base: u64, window: u64, inodes: &[(u64, u32)]) -> Vec<VmaLine> {
    let top = base + window * PAGE;
    let mut shared_anon: Vec<u64> = Vec::new();
    let mut lines = Vec::new();
    for area in areas.iter().filter(|area| area.start >= base && area.end <= top && area.start < area.end) {
        let file = inodes.iter().find(|(inode, _)| *inode == area.inode).map(|&(_, id)| id);
        let (backing, pgoff) = match (file, area.inode) {
            (Some(id), _) => (Backing::File(id), Some(area.offset / PAGE)),
            (None, 0) => (Backing::Anon, None),
            (None, inode) => {
                let k = shared_anon.iter().position(|&seen| seen == inode).unwrap_or_else(|| {
                    shared_anon.push(inode);
                    shared_anon.len() - 1
                });
                (Backing::SharedAnon(k as u32), Some(area.offset / PAGE))
            }
        };
        lines.push(VmaLine {
            start: (area.start - base) / PAGE,
            end: (area.end - base) / PAGE,
            perms: area.perms,
            pgoff,
            backing,
            vmflags: area.vmflags.clone(),
        });
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMAPS: &str = "\
00400000-00401000 r-xp 00000000 08:01 1234                               /usr/bin/true
Size:                  4 kB
VmFlags: rd ex mr mw me 
7f0000001000-7f0000003000 rw-p 00000000 00:00 0 
Size:                  8 kB
VmFlags: rd wr mr mw me ac 
7f0000003000-7f0000004000 rw-s 00002000 00:01 77                         /dev/zero (deleted)
VmFlags: rd wr sh mr mw me ms 
7f0000004000-7f0000005000 r--s 00003000 00:01 55                         /memfd:maple-mm-file (deleted)
VmFlags: rd mr me ms 
7f0000005000-7f0000006000 rw-s 00000000 00:01 78                         /dev/zero (deleted)
VmFlags: rd wr sh mr mw me ms 
7f0000006000-7f0000007000 r--s 00001000 00:01 77                         /dev/zero (deleted)
VmFlags: 
";

    #[test]
    fn smaps_areas_become_window_vma_lines() {
        let areas = parse_smaps(SMAPS).unwrap();
        assert_eq!(areas.len(), 6);
        assert_eq!(areas[0].vmflags, ["rd", "ex", "mr", "mw", "me"]);
        let lines = window_vmas(&areas, 0x7f0000001000, 8, &[(55, 3)]);
        let text: Vec<String> = lines.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "vma 0 2 rw-p - anon rd,wr,mr,mw,me,ac",
                "vma 2 3 rw-s 2 shanon:0 rd,wr,sh,mr,mw,me,ms",
                "vma 3 4 r--s 3 file:3 rd,mr,me,ms",
                "vma 4 5 rw-s 0 shanon:1 rd,wr,sh,mr,mw,me,ms",
                "vma 5 6 r--s 1 shanon:0 -",
            ]
        );
    }

    #[test]
    fn results_become_op_lines() {
        let capture = Capture {
            base: 0x10000,
            results: vec![Raw::OkAt(0x12000), Raw::Err(12), Raw::Segv(0x13000), Raw::Skip, Raw::MovedOut(0)],
            smaps: Vec::new(),
            smaps_overflow: false,
            inodes: Vec::new(),
        };
        let outcome = capture.outcome(16).unwrap();
        assert_eq!(
            outcome.to_string(),
            format!("op 1 ok @2\nop 2 err ENOMEM\nop 3 segv @3\nop 4 skip out-of-window\nop 5 err {MOVED_OUT}\n")
        );
    }
}
