//! What a report draws: an address space's areas at the start and after each op (an op script's
//! op, or a real program's memory call), with each op's explanation and share of the merge
//! story.

use std::sync::Arc;

use mm::Mm;
use vma::Vma;

use crate::engine::WINDOW_BASE;
use crate::explain::{explain_each, Summary};
use crate::replay::{self, smaps, Faults, Initial, LayoutDiff, Replay};
use crate::script::{LimitError, Script};
use crate::trace::{parse_maps, MapsArea, Trace};

/// One area at one moment: as `/proc/PID/smaps` shows it, and the engine's area itself (for
/// the merge rules between touching areas, and to tell an anon_vma change).
///
/// ```
/// use maple_mm::{report::History, script::parse};
/// let history = History::of_script("", &parse("window 8\nmmap 2 2 r anon_private\n").unwrap()).unwrap();
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
/// let step = &History::of_script("", &script).unwrap().steps[1];
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
/// let history = History::of_script("map and unmap", &script).unwrap();
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
    /// For a replay given the real final layout: where the engine's differs.
    pub differences: Option<LayoutDiff>,
}

impl History {
    /// The history of an op script run on the engine: the window's areas after each op.
    ///
    /// ```
    /// use maple_mm::{report::History, script::parse};
    /// let script = parse("window 16\nmmap 0 4 rw anon_private\nmmap 4 4 rw anon_private\n").unwrap();
    /// let history = History::of_script("two maps", &script).unwrap();
    /// assert_eq!(history.steps.len(), 2);
    /// assert_eq!(history.steps[1].areas.len(), 1);
    /// assert_eq!(history.summary.joined_left, 1);
    /// ```
    pub fn of_script(title: &str, script: &Script) -> Result<History, LimitError> {
        let end = WINDOW_BASE + script.window * vma::PAGE_SIZE;
        let in_window =
            |mm: &Mm| areas(mm).into_iter().filter(|area| WINDOW_BASE <= area.vma.start && area.vma.end <= end);
        let mut steps = Vec::new();
        let mut summary = Summary::default();
        explain_each(script, |told| {
            summary += told.tally;
            let label = format!("{} = {}", told.op, told.result);
            let areas = in_window(told.replay.mm()).collect();
            // The script's comments before the op, then what it did.
            let mut text: String = script.notes_before(told.index).map(|note| format!("# {note}\n")).collect();
            text.push_str(&told.text);
            steps.push(Step { label, agrees: None, text, tally: told.tally, areas });
        })?;
        let areas = steps.last().map_or(0, |step| step.areas.len());
        let verdict = format!("{}; {} in the window at the end\n", count(steps.len(), "op"), count(areas, "area"));
        Ok(History {
            title: title.to_string(),
            initial: Vec::new(),
            steps,
            summary,
            window: Some(WINDOW_BASE),
            verdict,
            differences: None,
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
        let differences = real_final.map(|real| replay::compare_final(&done, real));
        let history = History {
            title: title.to_string(),
            initial: first,
            steps,
            summary,
            window: None,
            verdict: replay::render(&done, differences.as_ref()),
            differences,
        };
        (history, done)
    }

    /// The areas at the end (after the last op, or at the start if there is none).
    ///
    /// ```
    /// use maple_mm::{report::History, script::parse};
    /// let history = History::of_script("", &parse("window 8\n").unwrap()).unwrap();
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
/// let history = History::of_script("", &script).unwrap();
/// let areas = history.last();
/// assert_eq!(apart_rule(&areas[0], &areas[1]), "flags differ: only left has wr,ac");
/// ```
pub fn apart_rule(left: &Area, right: &Area) -> String {
    match vma::merge_blocker(&left.vma, &right.vma) {
        Some(blocker) => blocker.to_string(),
        None => "compatible: no op merged them (only a range an op maps or changes is merged)".to_string(),
    }
}

/// `1 area`, `2 areas`.
pub(super) fn count(how_many: usize, thing: &str) -> String {
    format!("{how_many} {thing}{}", if how_many == 1 { "" } else { "s" })
}

/// The areas of `mm` as smaps shows them, each with the engine's area.
fn areas(mm: &Mm) -> Vec<Area> {
    let shown = parse_maps(&smaps(mm)).expect("the engine's smaps output reads back");
    let vmas = mm.snapshot().vmas().cloned().collect::<Vec<_>>();
    shown.into_iter().zip(vmas).map(|(shown, vma)| Area { shown, vma }).collect()
}
