//! The runner: replays op scripts on an engine with a [`HostMirror`] attached, checks the
//! host window after every op, and adds up what it checked and measured in [`Totals`].

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use maple_mm::engine::{Replay, WINDOW_BASE};
use maple_mm::gen::{random_script, GenConfig};
use maple_mm::script::parse;
use vma::Vma;

use super::host::PAGE_U64;
use super::mirror::{Calls, HostMirror};

/// What [`run`] checked and measured.
#[derive(Debug, Default)]
pub struct Totals {
    /// Scripts replayed.
    pub scripts: u64,
    /// Ops replayed (and checked after).
    pub ops: u64,
    /// Ops that leave the window (not performed, as in `maple-mm run`).
    pub skipped: u64,
    /// Pages compared, over all checks.
    pub pages: u64,
    /// Ops replayed, by kind (the op's first word).
    pub kinds: BTreeMap<String, u64>,
    /// Host calls made by the mirrors.
    pub calls: Calls,
    /// Time in `Replay::apply`: the engine and the mirror's notification handling.
    pub replay: Duration,
    /// Of which in the mirror's notification handling.
    pub mirror: Duration,
    /// Time comparing the windows.
    pub check: Duration,
}

impl Totals {
    /// Ops per second of the engine with the mirror attached (the checks not counted).
    pub fn ops_per_second(&self) -> f64 {
        self.ops as f64 / self.replay.as_secs_f64().max(1e-9)
    }
}

impl fmt::Display for Totals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let per_op = |time: Duration| time.as_secs_f64() * 1e6 / self.ops.max(1) as f64;
        writeln!(
            f,
            "host mirror: {} scripts, {} ops checked ({} out-of-window ops skipped), {} pages compared",
            self.scripts, self.ops, self.skipped, self.pages
        )?;
        let kinds: Vec<String> = self.kinds.iter().map(|(kind, n)| format!("{kind} {n}")).collect();
        writeln!(f, "  ops by kind: {}", kinds.join(", "))?;
        let c = &self.calls;
        writeln!(
            f,
            "  host calls: {} ({} mmap, {} hole mmap, {} mprotect, {} mremap ({} page by page), {} MADV_DONTNEED, \
             {} MADV_REMOVE, {} MADV_GUARD_INSTALL, {} MADV_GUARD_REMOVE)",
            c.total(),
            c.mmap,
            c.holes,
            c.mprotect,
            c.mremap,
            c.mremap_by_page,
            c.dontneed,
            c.remove,
            c.guard_install,
            c.guard_remove
        )?;
        write!(
            f,
            "  {:.0} ops/s with the mirror ({:.1} us/op: {:.1} us engine, {:.1} us mirror); checking {:.1} us/op",
            self.ops_per_second(),
            per_op(self.replay),
            per_op(self.replay.saturating_sub(self.mirror)),
            per_op(self.mirror),
            per_op(self.check)
        )
    }
}

/// Replays the generated scripts of seeds `seeds` with `config` ([`check_script`] each).
/// Stops at the first difference.
pub fn run(seeds: Range<u64>, config: &GenConfig) -> Result<Totals, String> {
    let mut totals = Totals::default();
    for seed in seeds {
        check_script(&format!("seed {seed}"), &random_script(seed, config), &mut totals)?;
    }
    Ok(totals)
}

/// Replays the op script `text` (called `name` in errors) on an engine with a
/// [`HostMirror`] attached, checks the host window against the engine's after every op, and
/// adds what it checked and measured to `totals`. An op that leaves the window is not
/// performed, as in `maple-mm run`. The error names the op, the difference and the script.
pub fn check_script(name: &str, text: &str, totals: &mut Totals) -> Result<(), String> {
    let script = parse(text).map_err(|e| format!("{name}: {e}"))?;
    let replay = Replay::new(&script).map_err(|e| format!("{name}: {e}"))?;
    let mm = replay.mm();
    let end = WINDOW_BASE + script.window * PAGE_U64;
    let areas: Vec<Arc<Vma>> = mm.snapshot().vmas_in(WINDOW_BASE, end).cloned().collect();
    let mirror = HostMirror::new(script.window, areas.into_iter()).map_err(|e| format!("{name}: {e}"))?;
    mm.observe(mirror.clone());
    let context = |n: usize, op: &dyn fmt::Display, error: String| {
        format!("{name}, op {n} (`{op}`): {error}\n--- the script ---\n{text}")
    };
    totals.pages += mirror.check(mm).map_err(|e| context(0, &"before the first", e))?;
    for (index, op) in script.ops.iter().enumerate() {
        if op.leaves_window(script.window) {
            totals.skipped += 1;
            continue;
        }
        let started = Instant::now();
        replay.apply(op);
        totals.replay += started.elapsed();
        let started = Instant::now();
        totals.pages += mirror.check(mm).map_err(|e| context(index + 1, op, e))?;
        totals.check += started.elapsed();
        totals.ops += 1;
        let kind = op.to_string().split_whitespace().next().unwrap_or_default().to_string();
        *totals.kinds.entry(kind).or_default() += 1;
    }
    let (calls, busy) = mirror.work();
    totals.calls.add(&calls);
    totals.mirror += busy;
    totals.scripts += 1;
    Ok(())
}
