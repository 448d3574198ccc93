//! Real programs: strace logs read into typed events, and `/proc/PID/maps` and `smaps` files
//! read into areas (docs/traces.md).
//!
//! The input is what `strace -f -y -e trace=%memory,%process -o FILE PROGRAM` writes (the pid
//! prefix may also be strace's terminal form `[pid N]`, and timestamps of `-t`, `-tt`, `-ttt`
//! are skipped). [`parse`] turns a log into a [`Trace`]: one [`Event`] per call or task end,
//! in the order the calls took effect, each with the line it came from. An interrupted call
//! (`<unfinished ...>`, then `<... name resumed>`) becomes one event. A line that cannot be
//! read is an error naming its line; nothing is skipped silently.
//!
//! ```
//! use maple_mm::trace::{parse, Action, MemoryCall, Ret};
//!
//! let log = "\
//! 7 brk(NULL)                         = 0xaca000
//! 7 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7ffff7fc0000
//! 7 exit_group(0)                     = ?
//! 7 +++ exited with 0 +++
//! ";
//! let trace = parse(log).unwrap();
//! assert_eq!(trace.events.len(), 4);
//! let Action::Memory { call: MemoryCall::Mmap { len, .. }, ret } = &trace.events[1].action else { panic!() };
//! assert_eq!((*len, ret), (8192, &Ret::Value(0x7fff_f7fc_0000)));
//! ```

mod args;
mod calls;
mod line;
mod maps;

pub use args::{fd, field, flags, number, split_args};
pub use calls::result;
pub use maps::{parse_maps, AreaName, MapsArea, MapsError};

use std::collections::HashMap;
use std::fmt;

use line::Body;

/// A log read into events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    /// The events in the order they took effect (see [`parse`]).
    pub events: Vec<Event>,
}

/// One call or task end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The 1-based line the call starts on (its name and first arguments).
    pub line: usize,
    /// The task (thread or process) that made the call; `None` for lines strace printed
    /// without a pid (the first process, when it was the only one).
    pub pid: Option<u32>,
    /// What happened.
    pub action: Action,
}

/// What an event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A call of the memory class.
    Memory {
        /// The call and its arguments.
        call: MemoryCall,
        /// Its result.
        ret: Ret,
    },
    /// A call that makes, replaces or ends tasks.
    Process {
        /// The call and its arguments.
        call: ProcessCall,
        /// Its result.
        ret: Ret,
    },
    /// Any other call (`wait4`, `kill`, ...): it changes no address space.
    Other {
        /// The call's name.
        name: String,
        /// Its result.
        ret: Ret,
    },
    /// The task ended (`+++ exited with N +++`, `+++ killed by SIG... +++`).
    Ended,
}

/// A memory call's arguments, as the program passed them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)] // the fields are the system calls' arguments, under their man-page names
pub enum MemoryCall {
    Mmap { addr: u64, len: u64, prot: Flags, flags: Flags, fd: Fd, offset: u64 },
    Munmap { addr: u64, len: u64 },
    Mprotect { addr: u64, len: u64, prot: Flags },
    PkeyMprotect { addr: u64, len: u64, prot: Flags, pkey: i64 },
    Brk { addr: u64 },
    Mremap { addr: u64, old_len: u64, new_len: u64, flags: Flags, new_addr: Option<u64> },
    Madvise { addr: u64, len: u64, advice: Flags },
    Mlock { addr: u64, len: u64 },
    Mlock2 { addr: u64, len: u64, flags: Flags },
    Munlock { addr: u64, len: u64 },
    Mlockall { flags: Flags },
    Munlockall,
    Msync { addr: u64, len: u64, flags: Flags },
    Mincore { addr: u64, len: u64 },
    Mseal { addr: u64, len: u64, flags: Flags },
}

/// A process-class call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcessCall {
    /// `clone` or `clone3`, with the flags it was given (`CLONE_VM`: a thread sharing the
    /// address space; otherwise a copy of it).
    Clone {
        /// The clone flags, the exit signal among them.
        flags: Flags,
    },
    /// `fork`.
    Fork,
    /// `vfork`: the child borrows the parent's address space until it execs or exits.
    Vfork,
    /// `execve`: a new program replaces the address space.
    Execve {
        /// The program's path.
        path: String,
    },
    /// `exit`: the task ends.
    Exit {
        /// The exit code.
        code: i64,
    },
    /// `exit_group`: every task of the process ends.
    ExitGroup {
        /// The exit code.
        code: i64,
    },
}

/// A call's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ret {
    /// A value: 0, an address, a pid.
    Value(u64),
    /// `-1` and the errno's name (`ENOMEM`).
    Error(String),
    /// `?`: the call did not return (exit), or never finished in the log.
    Unknown,
}

/// A flag argument: its names, and the bits printed as numbers.
///
/// ```
/// let set = maple_mm::trace::flags("PROT_READ|PROT_EXEC").unwrap();
/// assert!(set.has("PROT_EXEC"));
/// assert!(!set.has("PROT_WRITE"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags {
    /// The names, in the order printed.
    pub names: Vec<String>,
    /// The bits printed as numbers (or 0).
    pub bits: u64,
}

impl Flags {
    /// Whether the set names `name`.
    ///
    /// ```
    /// assert!(maple_mm::trace::flags("MAP_SHARED").unwrap().has("MAP_SHARED"));
    /// ```
    pub fn has(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }
}

/// A file descriptor argument, with its path when strace printed one (`-y`).
///
/// ```
/// let fd = maple_mm::trace::fd("3</etc/ld.so.cache>").unwrap();
/// assert_eq!(fd.number, 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fd {
    /// The descriptor (`-1`: none).
    pub number: i64,
    /// The file's path.
    pub path: Option<String>,
}

/// What is wrong with a line (see [`TraceError`]).
///
/// ```
/// use maple_mm::trace::{parse, ErrorKind};
///
/// let error = parse("7 munmap(0x1000) = 0").unwrap_err();
/// assert_eq!(error.kind, ErrorKind::MissingArgument("munmap".into(), 2));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The line is none of strace's forms.
    UnrecognisedLine(String),
    /// A pid prefix that is not a number.
    BadPid(String),
    /// Arguments with unbalanced quotes or brackets, or no `= result`.
    BadArguments(String),
    /// Where a number was expected.
    BadNumber(String),
    /// A flag set with a part that is neither a name nor a number.
    BadFlags(String),
    /// A file descriptor that is not `N` or `N</path>`.
    BadFd(String),
    /// A result that is not a number, `-1 ERRNO` or `?`.
    BadResult(String),
    /// A call with fewer arguments than it takes: the call and the missing argument's
    /// 1-based position.
    MissingArgument(String, usize),
    /// A call that changes an address space in a way the engine does not model.
    UnmodelledCall(String),
    /// `<... name resumed>` with no unfinished `name` call of that task before it.
    ResumedWithoutStart(String),
    /// A task started a call while another of its calls was unfinished.
    StartedTwice(String),
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::UnrecognisedLine(text) => write!(f, "not an strace line: `{text}`"),
            ErrorKind::BadPid(text) => write!(f, "bad pid prefix in `{text}`"),
            ErrorKind::BadArguments(text) => write!(f, "cannot split the arguments `{text}`"),
            ErrorKind::BadNumber(word) => write!(f, "bad number `{word}`"),
            ErrorKind::BadFlags(word) => write!(f, "bad flags `{word}`"),
            ErrorKind::BadFd(word) => write!(f, "bad file descriptor `{word}`"),
            ErrorKind::BadResult(text) => write!(f, "bad result `{text}`"),
            ErrorKind::MissingArgument(call, n) => write!(f, "{call}: argument {n} is missing"),
            ErrorKind::UnmodelledCall(call) => {
                write!(f, "{call} changes the address space in a way the engine does not model")
            }
            ErrorKind::ResumedWithoutStart(call) => write!(f, "{call} resumed, but this task never started it"),
            ErrorKind::StartedTwice(call) => {
                write!(f, "{call} started while another call of this task was unfinished")
            }
        }
    }
}

/// A line of a log that cannot be read: its 1-based number and what is wrong.
///
/// ```
/// let error = maple_mm::trace::parse("1 brk(NULL) = 0x1000\nhello").unwrap_err();
/// assert_eq!(error.to_string(), "line 2: not an strace line: `hello`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceError {
    /// The 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub kind: ErrorKind,
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.kind)
    }
}

impl std::error::Error for TraceError {}

/// A call a task started and has not finished yet.
struct Unfinished {
    line: usize,
    name: String,
    args: String,
}

/// Reads an strace log.
///
/// Order: a call takes effect when it returns, so events are ordered by the line of their
/// result (the `resumed` line of an interrupted call), except calls that make a task
/// (`clone`, `clone3`, `fork`, `vfork`): the child is a copy of the parent as of the call and
/// may run (and appear in the log) before the parent's call returns, so those are placed at
/// the line they start on. A call still unfinished at the end of the log (its task was killed
/// or the log stops) is kept at its start with an unknown result.
///
/// ```
/// use maple_mm::trace::{parse, Action, ProcessCall};
///
/// let log = "\
/// 5 clone(child_stack=NULL, flags=CLONE_CHILD_SETTID|SIGCHLD <unfinished ...>
/// 6 munmap(0x7f0000000000, 4096) = 0
/// 5 <... clone resumed>, child_tidptr=0x7f) = 6
/// ";
/// let events = parse(log).unwrap().events;
/// assert!(matches!(events[0].action, Action::Process { call: ProcessCall::Clone { .. }, .. }));
/// assert_eq!((events[0].line, events[1].pid), (1, Some(6)));
/// ```
pub fn parse(text: &str) -> Result<Trace, TraceError> {
    let mut placed: Vec<(usize, Event)> = Vec::new();
    let mut open: HashMap<Option<u32>, Unfinished> = HashMap::new();
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let at = |kind| TraceError { line: number, kind };
        if raw.trim().is_empty() {
            continue;
        }
        let (pid, body) = line::split(raw).map_err(at)?;
        let finished = match body {
            Body::Call { name, rest } => Some((number, name.to_string(), rest.to_string())),
            Body::Unfinished { name, args } => {
                let started = Unfinished { line: number, name: name.to_string(), args: args.to_string() };
                if let Some(earlier) = open.insert(pid, started) {
                    return Err(at(ErrorKind::StartedTwice(earlier.name)));
                }
                None
            }
            Body::Resumed { name, rest } => {
                let start = open.remove(&pid).filter(|start| start.name == name);
                let start = start.ok_or_else(|| at(ErrorKind::ResumedWithoutStart(name.to_string())))?;
                Some((start.line, start.name, format!("{}{rest}", start.args)))
            }
            Body::Ended => {
                placed.push((number, Event { line: number, pid, action: Action::Ended }));
                None
            }
            Body::Signal | Body::Note => None,
        };
        if let Some((line, name, rest)) = finished {
            let event = finish(line, pid, &name, &rest).map_err(|kind| TraceError { line, kind })?;
            let place = if makes_task(&event.action) { line } else { number };
            placed.push((place, event));
        }
    }
    // In the order they started, so that the first bad one is the error, whatever the map's order.
    let mut never_finished: Vec<(Option<u32>, Unfinished)> = open.into_iter().collect();
    never_finished.sort_by_key(|(_, start)| start.line);
    for (pid, start) in never_finished {
        let action = calls::action(&start.name, start.args.trim_end().trim_end_matches(','), Ret::Unknown)
            .map_err(|kind| TraceError { line: start.line, kind })?;
        placed.push((start.line, Event { line: start.line, pid, action }));
    }
    placed.sort_by_key(|(place, event)| (*place, event.line));
    Ok(Trace { events: placed.into_iter().map(|(_, event)| event).collect() })
}

/// The event of a whole call: `rest` is everything after the opening parenthesis.
fn finish(line: usize, pid: Option<u32>, name: &str, rest: &str) -> Result<Event, ErrorKind> {
    let (args, result) = calls::split_result(rest)?;
    let action = calls::action(name, args, calls::result(result)?)?;
    Ok(Event { line, pid, action })
}

fn makes_task(action: &Action) -> bool {
    matches!(action, Action::Process { call: ProcessCall::Clone { .. } | ProcessCall::Fork | ProcessCall::Vfork, .. })
}
