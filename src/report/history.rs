//! What a report draws: an address space's areas at the start and after each op (an op script's
//! op, or a real program's memory call), with each op's explanation and share of the merge
//! story.

use std::sync::Arc;

use mm::Mm;
use vma::Vma;

use crate::count;
use crate::engine::WINDOW_BASE;
use crate::explain::{explain_each, Summary};
use crate::replay::{self, shown, smaps, Faults, Initial, LayoutDiff, Replay, Shown};
use crate::script::{agreement, diff_outcomes, Backing, LimitError, OpLine, Outcome, Script, VmaLine};
use crate::trace::{parse_maps, MapsArea, Trace};

/// One area at one moment: as `/proc/PID/smaps` shows it, and the engine's area itself (for
/// the merge rules between touching areas, and to tell an anon_vma change).
///
/// ```
/// use maple_mm::{report::History, script::parse};
/// let history = History::of_script("", &parse("window 8\nmmap 2 2 r anon_private\n").unwrap(), None).unwrap();
/// let area = &history.last()[0];
/// assert_eq!(area.shown.perms(), "r--p");
/// assert_eq!(area.vma.end - area.vma.start, 2 * 4096);
/// ```
#[derive(Clone, Debug)]
pub struct Area {
    /// The maps line and `VmFlags`.
    pub shown: MapsArea,
    /// The engine's area.
    pub vma: Arc<Vma>,
}

/// One op and the areas after it.
///
/// ```
/// use maple_mm::{report::History, script::parse};
/// let script = parse("window 8\nmmap 0 2 rw anon_private\nmprotect 0 1 r\n").unwrap();
/// let step = &History::of_script("", &script, None).unwrap().steps[1];
/// assert_eq!(step.label, "mprotect 0 1 r = ok");
/// assert_eq!((step.areas.len(), step.tally.splits), (2, 1));
/// assert!(step.text.contains("+ [1,2) rw-p new"));
/// ```
#[derive(Clone, Debug)]
pub struct Step {
    /// The op as the input gave it, with what the engine answered (`line 12: mmap(...) =
    /// 0x7f...`, `mmap 0 4 rw anon_private = ok @0`).
    pub label: String,
    /// For a real program's call, whether the engine answered as Linux did.
    pub agrees: Option<bool>,
    /// What the op did to the areas, as `explain` tells it (for an op script, after the
    /// script's comments before the op).
    pub text: String,
    /// The op's share of the merge story.
    pub tally: Summary,
    /// The areas after the op, in address order.
    pub areas: Vec<Area>,
}

/// An address space's history, as a report draws it.
///
/// ```
/// use maple_mm::{report::History, script::parse};
/// let script = parse("window 8\nmmap 0 2 rw anon_private\nmunmap 0 2\n").unwrap();
/// let history = History::of_script("map and unmap", &script, None).unwrap();
/// assert_eq!((history.steps[0].areas.len(), history.last().len()), (1, 0));
/// assert_eq!(history.summary.unmapped, 1);
/// ```
pub struct History {
    /// What the report is of (the input's name).
    pub title: String,
    /// The areas before the first op.
    pub initial: Vec<Area>,
    /// Each op.
    pub steps: Vec<Step>,
    /// The merge story in all.
    pub summary: Summary,
    /// For an op script: the address of window page 0 (addresses are shown as pages).
    pub window: Option<u64>,
    /// The input's own verdict (a replay's report: results and layout compared with
    /// Linux's), shown as it is.
    pub verdict: String,
    /// Where the engine's final layout differs from Linux's, when that was given (a replay's
    /// real final layout, an op script's kernel run).
    pub differences: Option<Differences>,
}

/// Where the engine's final layout differs from Linux's.
///
/// ```
/// use maple_mm::{report::History, script::{parse, parse_outcome}};
/// let script = parse("window 8\nmmap 0 2 rw anon_private\n").unwrap();
/// // What a kernel that answered differently would have printed.
/// let kernel = parse_outcome("op 1 ok @0\nvma 0 2 rw-p - anon rd,wr,mr,mw,me\n").unwrap();
/// let history = History::of_script("", &script, Some(&kernel)).unwrap();
/// let differences = history.differences.unwrap();
/// assert_eq!((differences.engine_only, differences.real_only.len()), (vec![0], 1));
/// assert_eq!(differences.lines, ["the kernel has vma 0 2 rw-p - anon rd,wr,mr,mw,me", "the engine has vma 0 2 rw-p - anon rd,wr,mr,mw,me,ac"]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Differences {
    /// How many areas Linux's layout has.
    pub expected: usize,
    /// The engine's final areas (indices into [`History::last`]) that Linux's layout lacks.
    pub engine_only: Vec<usize>,
    /// Linux's areas that the engine's layout lacks.
    pub real_only: Vec<Shown>,
    /// One line per differing area: Linux's first, then the engine's.
    pub lines: Vec<String>,
}

impl Differences {
    /// Whether the layouts are the same.
    pub fn is_empty(&self) -> bool {
        self.engine_only.is_empty() && self.real_only.is_empty()
    }

    /// A replay's differences (`diff`) located among the engine's final areas `last`.
    fn of_replay(diff: &LayoutDiff, last: &[Area]) -> Differences {
        let with_flags = diff.engine.iter().any(|area| area.vm_flags.is_some());
        // Compared as `replay::compare` compares: with VmFlags only when both sides have them.
        let extra = |area: &Area| {
            shown(std::slice::from_ref(&area.shown)).into_iter().next().is_some_and(|mut as_shown| {
                as_shown.vm_flags = as_shown.vm_flags.filter(|_| with_flags);
                diff.extra.contains(&as_shown)
            })
        };
        let sides = [("Linux has", &diff.missing), ("the engine has", &diff.extra)];
        Differences {
            expected: diff.expected,
            engine_only: (0..last.len()).filter(|&index| extra(&last[index])).collect(),
            real_only: diff.missing.clone(),
            lines: sides
                .iter()
                .flat_map(|(who, areas)| areas.iter().map(move |area| format!("{who} {area}")))
                .collect(),
        }
    }

    /// An op script's differences: the kernel's final areas against the engine's (`engine`,
    /// in the order of [`History::last`]).
    fn of_script(kernel: &[VmaLine], engine: &[VmaLine]) -> Differences {
        let real_only: Vec<&VmaLine> = kernel.iter().filter(|area| !engine.contains(area)).collect();
        let engine_only: Vec<usize> = (0..engine.len()).filter(|&index| !kernel.contains(&engine[index])).collect();
        let lines = real_only
            .iter()
            .map(|area| format!("the kernel has {area}"))
            .chain(engine_only.iter().map(|&index| format!("the engine has {}", engine[index])))
            .collect();
        Differences {
            expected: kernel.len(),
            engine_only,
            real_only: real_only.into_iter().map(window_shown).collect(),
            lines,
        }
    }
}

/// A window's area as the map draws Linux's areas: addresses, perms, byte offset, the backing
/// as its name.
fn window_shown(area: &VmaLine) -> Shown {
    let page = |page: u64| WINDOW_BASE + page * vma::PAGE_SIZE;
    let name = match area.backing {
        Backing::Anon => String::new(),
        backing => backing.to_string(),
    };
    Shown {
        start: Some(page(area.start)),
        end: page(area.end),
        perms: area.perms.to_string(),
        offset: area.pgoff.map_or(0, |pgoff| pgoff * vma::PAGE_SIZE),
        name,
        vm_flags: Some(area.vmflags.join(" ")),
    }
}

impl History {
    /// The history of an op script run on the engine: the window's areas after each op. With
    /// `kernel`, the kernel's output for the script ([`crate::kernel::run`], or a recorded
    /// one), each op's result and the final areas are compared with it.
    ///
    /// ```
    /// use maple_mm::{report::History, script::parse};
    /// let script = parse("window 16\nmmap 0 4 rw anon_private\nmmap 4 4 rw anon_private\n").unwrap();
    /// let history = History::of_script("two maps", &script, None).unwrap();
    /// assert_eq!(history.steps.len(), 2);
    /// assert_eq!(history.steps[1].areas.len(), 1);
    /// assert_eq!(history.summary.joined_left, 1);
    /// ```
    pub fn of_script(title: &str, script: &Script, kernel: Option<&Outcome>) -> Result<History, LimitError> {
        let end = WINDOW_BASE + script.window * vma::PAGE_SIZE;
        let in_window =
            |mm: &Mm| areas(mm).into_iter().filter(|area| WINDOW_BASE <= area.vma.start && area.vma.end <= end);
        let mut steps = Vec::new();
        let mut summary = Summary::default();
        let mut results = Vec::new();
        let replay = explain_each(script, |told| {
            summary += told.tally;
            let label = format!("{} = {}", told.op, told.result);
            let areas = in_window(told.replay.mm()).collect();
            // The script's comments before the op, then what it did.
            let mut text: String = script.notes_before(told.index).map(|note| format!("# {note}\n")).collect();
            text.push_str(&told.text);
            let agrees = kernel.map(|kernel| kernel.ops.get(told.index).is_some_and(|line| line.result == told.result));
            results.push(OpLine { n: told.index + 1, result: told.result.clone() });
            steps.push(Step { label, agrees, text, tally: told.tally, areas });
        })?;
        let engine = Outcome { ops: results, vmas: replay.window_vmas() };
        let verdict = match kernel {
            Some(kernel) => compared(kernel, &engine),
            None => format!(
                "{}; {} in the window at the end\n",
                count(engine.ops.len(), "op"),
                count(engine.vmas.len(), "area")
            ),
        };
        Ok(History {
            title: title.to_string(),
            initial: Vec::new(),
            steps,
            summary,
            window: Some(WINDOW_BASE),
            verdict,
            differences: kernel.map(|kernel| Differences::of_script(&kernel.vmas, &engine.vmas)),
        })
    }

    /// The history of a real program's replay (see [`replay::explain_each`]): the main
    /// process's areas after each of its calls (its threads' included; calls in forked
    /// children change other address spaces and are not drawn). With `real_final`, the
    /// real final layout, the differences from it are kept. Returns the replay too.
    ///
    /// ```
    /// use maple_mm::{replay::{build, Faults}, report::History, trace::{parse, parse_maps}};
    /// let maps = parse_maps("00400000-00401000 r--p 00000000 fe:00 1 /bin/x\n").unwrap();
    /// let log = parse(
    ///     "1 execve(\"/bin/x\", [\"x\"], 0x7ffe /* 0 vars */) = 0\n\
    ///      1 mmap(0x10000000, 8192, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED, -1, 0) = 0x10000000\n\
    ///      2 mmap(0x20000000, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED, -1, 0) = 0x20000000\n",
    /// )
    /// .unwrap();
    /// let initial = build(&maps, 8 << 20, None).unwrap();
    /// let real = parse_maps("00400000-00401000 r--p 00000000 fe:00 1 /bin/x\n10000000-10002000 r--p 00000000 00:00 0\n").unwrap();
    /// let (history, replay) = History::of_replay("x", &log, (initial, Faults::WriteNew), Some(&real));
    /// // Task 2 was never created by the log, so its call is not replayed; the main one is.
    /// assert_eq!((history.steps.len(), replay.skipped.len()), (1, 1));
    /// assert_eq!(history.last().len(), 2);
    /// assert!(history.differences.unwrap().is_empty());
    /// ```
    pub fn of_replay(
        title: &str,
        trace: &Trace,
        (initial, faults): (Initial, Faults),
        real_final: Option<&[MapsArea]>,
    ) -> (History, Replay) {
        let first = areas(&initial.mm);
        let mut steps = Vec::new();
        let mut summary = Summary::default();
        let done = replay::explain_each(trace, initial, faults, |told| {
            if !told.main {
                return;
            }
            summary += told.tally;
            let (label, agrees) = (replay::call_line(told.call), Some(told.call.agrees()));
            steps.push(Step { label, agrees, text: told.text, tally: told.tally, areas: areas(told.mm) });
        });
        let layout = real_final.map(|real| replay::compare_final(&done, real));
        let last = steps.last().map_or(&first, |step: &Step| &step.areas);
        let differences = layout.as_ref().map(|diff| Differences::of_replay(diff, last));
        let history = History {
            title: title.to_string(),
            initial: first,
            steps,
            summary,
            window: None,
            verdict: replay::render(&done, layout.as_ref()),
            differences,
        };
        (history, done)
    }

    /// The areas at the end (after the last op, or at the start if there is none).
    ///
    /// ```
    /// use maple_mm::{report::History, script::parse};
    /// let history = History::of_script("", &parse("window 8\n").unwrap(), None).unwrap();
    /// assert!(history.steps.is_empty() && history.last().is_empty());
    /// ```
    pub fn last(&self) -> &[Area] {
        self.steps.last().map_or(&self.initial, |step| &step.areas)
    }
}

/// Why two touching areas are apart: the merge rule against them ([`vma::merge_blocker`]),
/// or, for compatible ones, that no op merged them.
///
/// ```
/// use std::sync::Arc;
/// use maple_mm::{report::{apart_rule, History}, script::parse};
/// let script = parse("window 8\nmmap 0 2 rw anon_private\nmmap 2 2 r anon_private\n").unwrap();
/// let history = History::of_script("", &script, None).unwrap();
/// let areas = history.last();
/// assert_eq!(apart_rule(&areas[0], &areas[1]), "flags differ: only left has wr,ac");
/// ```
pub fn apart_rule(left: &Area, right: &Area) -> String {
    match vma::merge_blocker(&left.vma, &right.vma) {
        Some(blocker) => blocker.to_string(),
        None => "compatible: no op merged them (only a range an op maps or changes is merged)".to_string(),
    }
}

/// An op script's verdict against the kernel's output, as `maple-mm diff` gives it.
fn compared(kernel: &Outcome, engine: &Outcome) -> String {
    diff_outcomes(kernel, engine, "kernel", "engine").unwrap_or_else(|| format!("{}\n", agreement(engine)))
}

/// The areas of `mm` as smaps shows them, each with the engine's area.
fn areas(mm: &Mm) -> Vec<Area> {
    let shown = parse_maps(&smaps(mm)).expect("the engine's smaps output reads back");
    let vmas = mm.snapshot().vmas().cloned().collect::<Vec<_>>();
    shown.into_iter().zip(vmas).map(|(shown, vma)| Area { shown, vma }).collect()
}
