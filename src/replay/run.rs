//! The events of a log, task by task, on engine address spaces: threads share one, a fork
//! copies its parent's, an exec leaves the engine's knowledge.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use mm::Mm;
use vma::Vma;

use super::calls::{given_range, perform, FileTable};
use super::{smaps, Initial};
use crate::trace::{Action, Event, MemoryCall, ProcessCall, Ret, Trace};

/// One memory call replayed: where it came from, what Linux answered and what the engine did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replayed {
    /// The log line the call starts on.
    pub line: usize,
    /// The task that made it.
    pub pid: Option<u32>,
    /// The call.
    pub call: MemoryCall,
    /// The log's result.
    pub linux: Ret,
    /// The engine's result.
    pub engine: Ret,
}

impl Replayed {
    /// Whether the engine answered as Linux did. A call the log shows without a result
    /// (`?`, never finished) agrees with anything.
    pub fn agrees(&self) -> bool {
        self.linux == Ret::Unknown || self.linux == self.engine
    }
}

/// A memory call that was not replayed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The log line the call starts on.
    pub line: usize,
    /// The task that made it.
    pub pid: Option<u32>,
    /// Why.
    pub why: String,
}

/// What a replay did.
pub struct Replay {
    /// Every memory call replayed, in the order they took effect.
    pub calls: Vec<Replayed>,
    /// Every memory call not replayed.
    pub skipped: Vec<Skipped>,
    /// The main process's address space when it entered `exit_group` (or at the end of
    /// the log), and its maps then.
    pub main: Arc<Mm>,
    /// The main process's areas at its `exit_group` (or the end of the log), as
    /// `/proc/PID/smaps` shows them: each maps line and its `VmFlags` line.
    pub final_maps: String,
    /// The most areas the main process had at once.
    pub peak_areas: usize,
    /// Processes the log shows (the main one, and each fork or clone without `CLONE_VM`).
    pub processes: usize,
    /// Threads the log shows (clones with `CLONE_VM`, vforks), the main thread not counted.
    pub threads: usize,
}

/// An address space and the files its process has open; threads share one.
struct Space {
    mm: Arc<Mm>,
    files: FileTable,
}

/// What a task runs in.
#[derive(Clone)]
enum Task {
    /// A space the engine follows.
    Known(Rc<RefCell<Space>>),
    /// The task exec'd another program, whose layout the log does not give.
    Execd(String),
}

/// Which pages a replay takes the program to have written: faults are not in a log, yet they
/// give areas their anon_vmas, which decide some merges and whether read-only anonymous
/// memory stays charged (`VM_ACCOUNT`, `ac` in smaps).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Faults {
    /// The program writes the first page of every private writable range a call gives it (a
    /// new mapping, a mremap's new place or growth, brk's growth) right after the call: what
    /// loaders, allocators and runtimes do with memory they ask for. The default: every
    /// bundled program replays identically under it, `VmFlags` included (docs/traces.md).
    #[default]
    WriteNew,
    /// No page is written by the program: anon_vmas come only from the initial layout
    /// (smaps' anonymous pages) and from calls that populate memory themselves
    /// (`MAP_POPULATE`, `mlock`, `MADV_POPULATE_WRITE`).
    None,
}

/// What a watcher of a replay sees of each memory call performed (see [`run_watched`]).
///
/// ```
/// use maple_mm::{replay::{build, run_watched, Faults, Watched}, trace::{parse, parse_maps}};
/// let maps = parse_maps("00400000-00401000 r--p 00000000 fe:00 1 /bin/x\n").unwrap();
/// let log = parse(
///     "1 execve(\"/bin/x\", [\"x\"], 0x7ffe /* 0 vars */) = 0\n\
///      1 munmap(0x400000, 4096) = 0\n",
/// )
/// .unwrap();
/// let mut seen = Vec::new();
/// let mut watch = |watched: &Watched<'_>| seen.push((watched.before.len(), watched.after.len(), watched.main));
/// run_watched(&log, build(&maps, 8 << 20, None).unwrap(), Faults::None, Some(&mut watch));
/// assert_eq!(seen, [(1, 0, true)]);
/// ```
pub struct Watched<'a> {
    /// The call as replayed.
    pub call: &'a Replayed,
    /// The task's areas before the call.
    pub before: &'a [Arc<Vma>],
    /// The task's areas after it.
    pub after: &'a [Arc<Vma>],
    /// The task's address space, after the call.
    pub mm: &'a Mm,
    /// Whether the task is in the main process (its address space is the main one's).
    pub main: bool,
}

/// A watcher of a replay (see [`run_watched`]).
pub type Watch<'w> = &'w mut WatchFn<'w>;

/// A watcher's function (see [`Watch`]).
pub type WatchFn<'w> = dyn FnMut(&Watched<'_>) + 'w;

/// Replays `trace` from `initial`, the layout of the log's first task (the main process)
/// after its exec, with the fault model `faults`.
pub fn run(trace: &Trace, initial: Initial, faults: Faults) -> Replay {
    run_watched(trace, initial, faults, None)
}

/// [`run`], showing each performed call to `watch`.
pub fn run_watched(trace: &Trace, initial: Initial, faults: Faults, mut watch: Option<Watch<'_>>) -> Replay {
    let Initial { mm, .. } = initial;
    let main_pid = trace.events.first().and_then(|event| event.pid);
    let main = Rc::new(RefCell::new(Space { mm: Arc::new(mm), files: FileTable::default() }));
    let mut tasks: HashMap<Option<u32>, Task> = HashMap::from([(main_pid, Task::Known(main.clone()))]);
    let mut replay = Replay {
        calls: Vec::new(),
        skipped: Vec::new(),
        main: main.borrow().mm.clone(),
        final_maps: String::new(),
        peak_areas: main.borrow().mm.snapshot().map_count(),
        processes: 1,
        threads: 0,
    };
    let mut ended = false;
    for (index, event) in trace.events.iter().enumerate() {
        match &event.action {
            Action::Memory { call, ret } => {
                let task = tasks.get(&event.pid).cloned();
                let on = Place { task, main: &main };
                memory(&mut replay, on, event, (call, ret), faults, watch.as_deref_mut());
                let count = main.borrow().mm.snapshot().map_count();
                replay.peak_areas = replay.peak_areas.max(count);
            }
            Action::Process { call, ret } => {
                if event.pid == main_pid && matches!(call, ProcessCall::ExitGroup { .. }) && !ended {
                    replay.final_maps = smaps(&main.borrow().mm);
                    ended = true;
                }
                // The log's first event is the exec that made the initial layout.
                if index > 0 {
                    match process(&mut tasks, event, call, ret) {
                        Some(Made::Thread) => replay.threads += 1,
                        Some(Made::Process) => replay.processes += 1,
                        None => {}
                    }
                }
            }
            Action::Other { .. } | Action::Ended => {}
        }
    }
    if !ended {
        replay.final_maps = smaps(&main.borrow().mm);
    }
    replay
}

/// Where a call runs: its task, and the main process's space to tell whether it is that.
struct Place<'a> {
    task: Option<Task>,
    main: &'a Rc<RefCell<Space>>,
}

fn memory<'w>(
    replay: &mut Replay,
    Place { task, main }: Place<'_>,
    event: &Event,
    (call, ret): (&MemoryCall, &Ret),
    faults: Faults,
    watch: Option<&mut WatchFn<'w>>,
) {
    let skip = |why: String| Skipped { line: event.line, pid: event.pid, why };
    let space = match task {
        Some(Task::Known(space)) => space,
        Some(Task::Execd(path)) => {
            return replay.skipped.push(skip(format!("the task runs {path}, exec'd after the start")))
        }
        None => return replay.skipped.push(skip("a task the log never created".to_string())),
    };
    let in_main = Rc::ptr_eq(&space, main);
    let mut space = space.borrow_mut();
    let Space { mm, files } = &mut *space;
    let areas = |mm: &Mm| -> Vec<Arc<Vma>> { mm.snapshot().vmas().cloned().collect() };
    let before = watch.is_some().then(|| areas(mm));
    // The break before a brk call, for the part it adds (asked only of brk calls: asking is a
    // call on the address space).
    let brk_call = matches!(call, MemoryCall::Brk { .. });
    let brk_before = (faults == Faults::WriteNew && brk_call).then(|| mm.brk(0));
    let engine = match perform(mm, files, call) {
        Ok(engine) => engine,
        Err(not) => return replay.skipped.push(skip(not.to_string())),
    };
    if faults == Faults::WriteNew {
        write_new(mm, call, &engine, brk_before);
    }
    let replayed = Replayed { line: event.line, pid: event.pid, call: call.clone(), linux: ret.clone(), engine };
    if let (Some(watch), Some(before)) = (watch, before) {
        let after = areas(mm);
        watch(&Watched { call: &replayed, before: &before, after: &after, mm, main: in_main });
    }
    replay.calls.push(replayed);
}

/// The `WriteNew` model: the first page of what the call gave the program (a new range, or
/// what brk added above `brk_before`), if it is private and writable, is written.
fn write_new(mm: &Mm, call: &MemoryCall, engine: &Ret, brk_before: Option<u64>) {
    let grown_heap = match (engine, brk_before) {
        (Ret::Value(brk), Some(before)) if *brk > before => Some(before),
        _ => None,
    };
    let Some(addr) = given_range(call, engine).map(|(start, _)| start).or(grown_heap) else { return };
    let private_writable = mm
        .snapshot()
        .find(addr)
        .is_some_and(|area| area.flags.contains(vma::VmFlags::WRITE) && !area.flags.contains(vma::VmFlags::SHARED));
    if private_writable {
        let _ = mm.fault(addr, mm::Access::Write);
    }
}

/// What a process call made.
enum Made {
    Thread,
    Process,
}

fn process(tasks: &mut HashMap<Option<u32>, Task>, event: &Event, call: &ProcessCall, ret: &Ret) -> Option<Made> {
    let parent = tasks.get(&event.pid).cloned()?;
    let child = match ret {
        Ret::Value(pid) => u32::try_from(*pid).ok(),
        _ => None,
    };
    match call {
        ProcessCall::Clone { flags } if flags.has("CLONE_VM") => {
            tasks.insert(Some(child?), parent);
            Some(Made::Thread)
        }
        ProcessCall::Vfork => {
            tasks.insert(Some(child?), parent);
            Some(Made::Thread)
        }
        ProcessCall::Clone { .. } | ProcessCall::Fork => {
            let child = child?;
            let copy = match parent {
                Task::Known(space) => {
                    let space = space.borrow();
                    match space.mm.fork() {
                        Ok(mm) => {
                            Task::Known(Rc::new(RefCell::new(Space { mm: Arc::new(mm), files: space.files.clone() })))
                        }
                        Err(errno) => Task::Execd(format!("(a fork the engine refused: {errno:?})")),
                    }
                }
                execd => execd,
            };
            tasks.insert(Some(child), copy);
            Some(Made::Process)
        }
        ProcessCall::Execve { path } if *ret == Ret::Value(0) => {
            tasks.insert(event.pid, Task::Execd(path.clone()));
            None
        }
        ProcessCall::Execve { .. } | ProcessCall::Exit { .. } | ProcessCall::ExitGroup { .. } => None,
    }
}
