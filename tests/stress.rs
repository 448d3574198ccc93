//! Stress test of the reader contract (docs/concurrency.md, section 1): one writer replays random op
//! scripts while reader threads take lock-free snapshots of the same address space and check
//! every one of them.
//!
//! What a reader checks on each snapshot (see [`check_snapshot`]):
//! - the areas are non-empty, page aligned, sorted and non-overlapping;
//! - the window's two fences are in place (the writer skips ops that leave the window) and
//!   everything else lies between them, except for an area the engine's mremap moved out
//!   of the window and has not yet unmapped (a reader may see that; the writer, checking
//!   between ops, may not);
//! - each area's fields agree with each other (the `VM_MAY*` bits every mapping gets, access
//!   bits only where the matching `VM_MAY*` bit allows them, anon_vma chains of at least one,
//!   and never on a shared area, file offsets that fit in a file, lock-on-fault only with
//!   locked, ids unique within the snapshot);
//! - `map_count`, `vmas_in`, `find` and `find_vma` agree with iteration, at every area's
//!   edges and on every page of the window;
//! - the snapshot is stable: iterated again after the lookups (and, now and then, after a
//!   pause in which the writer moves on) it gives the same areas, with the same fields.
//!
//! Readers also take read faults (the fault path's lock-free lookup) on the window and on the
//! fences. The writer runs the same check on its own snapshot after every op, which tells a
//! sequential bug (the writer's check fails too) from a concurrent one (only readers fail).
//!
//! The run lasts `MAPLE_STRESS_SECS` seconds (default 10, fractions allowed);
//! `MAPLE_STRESS_SEED` fixes the first script's seed (default: from the clock, printed).
//! `scripts/stress-valgrind.sh` runs this test under valgrind memcheck with a short bound.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use maple_mm::engine::{Replay, WINDOW_BASE};
use maple_mm::gen::{random_script, GenConfig, Rng};
use maple_mm::script::{self, OpResult};
use mm::{Access, MmSnapshot, Signal};
use vma::{VmFlags, Vma, PAGE_SIZE};

/// Reader threads beside the one writer: with the writer, more threads than the two cores CI
/// has, so readers are also preempted in the middle of a check.
const READERS: u64 = 3;

/// The name `Replay` gives the file of its two window fences.
const FENCE_FILE: &str = "window-fence";

/// One in this many reader snapshots is held across a pause, so that the writer commits
/// while the snapshot is pinned and the stability check compares across real changes.
const HOLD_ONE_IN: u64 = 8;

/// Largest file page offset an area may reach: a 64-bit byte offset of a 4 KiB page.
const MAX_PGOFF: u64 = u64::MAX >> 12;

/// The script being replayed, as readers see it. Readers hold an `Arc` of it, so the address
/// space outlives the writer's move to the next script for as long as a reader uses it.
struct Current {
    replay: Replay,
    window: u64,
    seed: u64,
    /// Ops of the script performed or skipped so far (for failure reports).
    applied: AtomicU64,
}

/// What the writer and the readers share.
struct Shared {
    /// The script readers should read; replaced (not changed) by the writer for each script.
    /// The lock guards only the hand-over of the `Arc`, never a snapshot or a check.
    slot: Mutex<Option<Arc<Current>>>,
    stop: AtomicBool,
    /// Ops performed over the whole run: readers compare it before and after holding a
    /// snapshot to know whether the writer moved on meanwhile.
    ops: AtomicU64,
    /// Snapshots the readers have checked so far: the writer runs past its deadline until
    /// there is at least one, so a starved run (valgrind serialises threads) still checks
    /// something. This handshake cannot hang: a reader loops until it is stopped, and one that
    /// fails or panics stops every thread.
    checked: AtomicU64,
    failures: Mutex<Vec<String>>,
}

impl Shared {
    /// Records a failure and stops every thread: the first report is the useful one, and the
    /// others would repeat it.
    fn fail(&self, message: String) {
        self.failures.lock().unwrap().push(message);
        self.stop.store(true, Ordering::SeqCst);
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// Stops every thread when dropped, also by a panic: without it a panicking writer would
/// leave the readers looping and the scope waiting for them forever.
struct StopOnDrop<'a>(&'a Shared);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.stop.store(true, Ordering::SeqCst);
    }
}

/// Where the writer is (script seed, op number), said on stderr if the thread panics (in the
/// engine or in a check): the panic message alone would not say how to replay the failure.
struct PanicNote(std::cell::Cell<(u64, usize)>);

impl Drop for PanicNote {
    fn drop(&mut self) {
        if thread::panicking() {
            let (seed, op) = self.0.get();
            let note = format!("stress: the writer panicked in script seed {seed} at op {op}\n");
            let _ = std::io::stderr().write_all(note.as_bytes());
        }
    }
}

#[derive(Default, Debug)]
struct WriterStats {
    scripts: u64,
    ops: u64,
    ok: u64,
    errors: u64,
    signals: u64,
    skipped: u64,
    checks: u64,
}

#[derive(Default, Debug)]
struct ReaderStats {
    snapshots: u64,
    vmas: u64,
    lookups: u64,
    /// Snapshots held while the writer performed at least one op, and still unchanged.
    stable_across_writes: u64,
    faults_ok: u64,
    faults_segv: u64,
    faults_bus: u64,
    /// Areas seen outside the window: an mremap's move out of it, before the engine unmaps
    /// the moved area again.
    outside: u64,
}

impl ReaderStats {
    fn add(&mut self, other: &ReaderStats) {
        self.snapshots += other.snapshots;
        self.vmas += other.vmas;
        self.lookups += other.lookups;
        self.stable_across_writes += other.stable_across_writes;
        self.faults_ok += other.faults_ok;
        self.faults_segv += other.faults_segv;
        self.faults_bus += other.faults_bus;
        self.outside += other.outside;
    }
}

/// Everything a reader may compare between two passes over one snapshot: the area's
/// identity (its address, as the tree holds one `Arc` per version) and its fields.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
struct Fingerprint {
    ptr: usize,
    id: u64,
    start: u64,
    end: u64,
    pgoff: u64,
    flags: u64,
    file: Option<u64>,
    anon: Option<(u64, usize)>,
}

impl Fingerprint {
    fn of(vma: &Arc<Vma>) -> Fingerprint {
        Fingerprint {
            ptr: Arc::as_ptr(vma) as usize,
            id: vma.id().get(),
            start: vma.start,
            end: vma.end,
            pgoff: vma.pgoff,
            flags: vma.flags.bits(),
            file: vma.file.as_ref().map(|file| file.id()),
            anon: vma.anon.as_ref().map(|anon| (anon.anon_vma.id(), anon.chain_len)),
        }
    }
}

fn page_addr(page: i64) -> u64 {
    WINDOW_BASE.wrapping_add_signed(page * PAGE_SIZE as i64)
}

fn describe(vmas: &[&Arc<Vma>]) -> String {
    let mut text = String::new();
    for vma in vmas {
        let page = |addr: u64| (addr as i64 - WINDOW_BASE as i64) / PAGE_SIZE as i64;
        let mnemonics: Vec<&str> = vma.flags.mnemonics().collect();
        text.push_str(&format!(
            "  [{}, {}) pgoff {} file {:?} anon {:?} id {} flags {}\n",
            page(vma.start),
            page(vma.end),
            vma.pgoff,
            vma.file.as_ref().map(|file| file.name().to_string()),
            vma.anon.as_ref().map(|anon| (anon.anon_vma.id(), anon.chain_len)),
            vma.id().get(),
            mnemonics.join(" ")
        ));
    }
    text
}

/// The fields of one area that must agree with each other whatever ops made it.
fn check_fields(vma: &Vma) -> Result<(), String> {
    let flags = vma.flags;
    // mmap gives every area VM_MAYREAD and VM_MAYEXEC (only a read-only shared file mapping
    // loses VM_MAYWRITE), and mprotect refuses an access bit whose VM_MAY* bit is clear.
    if !flags.contains(VmFlags::MAYREAD | VmFlags::MAYEXEC) {
        return Err("VM_MAYREAD or VM_MAYEXEC missing".into());
    }
    for (bit, may, name) in [
        (VmFlags::READ, VmFlags::MAYREAD, "read"),
        (VmFlags::WRITE, VmFlags::MAYWRITE, "write"),
        (VmFlags::EXEC, VmFlags::MAYEXEC, "exec"),
        (VmFlags::SHARED, VmFlags::MAYSHARE, "shared"),
    ] {
        if flags.contains(bit) && !flags.contains(may) {
            return Err(format!("{name} without its VM_MAY* bit"));
        }
    }
    if flags.contains(VmFlags::LOCKONFAULT) && !flags.contains(VmFlags::LOCKED) {
        return Err("VM_LOCKONFAULT without VM_LOCKED".into());
    }
    // Shared anonymous memory is a shmem file: a shared area always has a file.
    if flags.contains(VmFlags::MAYSHARE) && vma.file.is_none() {
        return Err("a shared area without a file".into());
    }
    if let Some(anon) = &vma.anon {
        if anon.chain_len == 0 {
            return Err("an anon_vma chain of length 0".into());
        }
        if flags.contains(VmFlags::MAYSHARE) {
            return Err("an anon_vma on a shared area".into());
        }
    }
    if !matches!(vma.pgoff.checked_add(vma.pages()), Some(end) if end <= MAX_PGOFF) {
        return Err(format!("pgoff {} + {} pages leaves the file offset space", vma.pgoff, vma.pages()));
    }
    Ok(())
}

/// What one snapshot check saw.
struct Checked {
    /// The areas, for the stability check.
    prints: Vec<Fingerprint>,
    /// Areas outside the window (allowed only when not `strict`).
    outside: u64,
}

/// The area lists and lookups of one snapshot of a [`Replay`] of a `window`-page script,
/// counting lookups. `strict`: the snapshot was taken between two ops, when every area but
/// the fences lies inside the window.
fn check_snapshot(
    snap: &MmSnapshot<'_>,
    window: u64,
    strict: bool,
    rng: &mut Rng,
    lookups: &mut u64,
) -> Result<Checked, String> {
    let vmas: Vec<&Arc<Vma>> = snap.vmas().collect();
    let fail = |what: String| Err(format!("{what}\nareas (pages relative to the window):\n{}", describe(&vmas)));

    let window_end = page_addr(window as i64);
    let is_fence = |vma: &Vma| vma.file.as_ref().is_some_and(|file| file.name() == FENCE_FILE);
    let mut ids = Vec::with_capacity(vmas.len());
    let (mut lower, mut upper, mut outside) = (None, None, 0);
    for (index, vma) in vmas.iter().enumerate() {
        if vma.start >= vma.end || vma.start % PAGE_SIZE != 0 || vma.end % PAGE_SIZE != 0 {
            return fail(format!("area {index} is empty or not page aligned"));
        }
        if index > 0 && vmas[index - 1].end > vma.start {
            return fail(format!("areas {} and {index} overlap or are out of order", index - 1));
        }
        if let Err(what) = check_fields(vma) {
            return fail(format!("area {index}: {what}"));
        }
        if vma.start == page_addr(-1) && vma.end == WINDOW_BASE && is_fence(vma) {
            lower = Some(index);
        } else if vma.start == window_end && vma.end == window_end + PAGE_SIZE && is_fence(vma) {
            upper = Some(index);
        } else if is_fence(vma) {
            return fail(format!("area {index} is a fence out of place"));
        } else if vma.start < WINDOW_BASE || vma.end > window_end {
            outside += 1;
        }
        ids.push(vma.id().get());
    }
    let (Some(lower), Some(upper)) = (lower, upper) else {
        return fail("a window fence is missing".into());
    };
    // Only the writer's view between ops is strict: a reader may catch the engine between
    // an mremap that moved an area out of the window and its unmap of it (two commits).
    if strict && outside > 0 {
        return fail(format!("{outside} areas outside the window between two ops"));
    }
    ids.sort_unstable();
    if ids.windows(2).any(|pair| pair[0] == pair[1]) {
        return fail("two areas share an id".into());
    }

    if snap.map_count() != vmas.len() {
        return fail(format!("map_count {} but {} areas iterated", snap.map_count(), vmas.len()));
    }
    // Sorted and non-overlapping, with the fences in place: what lies between them is the
    // window's content, and `vmas_in` must list exactly that.
    let inner = &vmas[lower + 1..upper];
    let listed: Vec<&Arc<Vma>> = snap.vmas_in(WINDOW_BASE, window_end).collect();
    if listed.len() != inner.len() || listed.iter().zip(inner).any(|(a, b)| !Arc::ptr_eq(a, b)) {
        return fail(format!("vmas_in(window) lists {} areas, iteration {}", listed.len(), inner.len()));
    }

    // Lookups: every area's edges and the addresses around them, and one random address on
    // every page of the window and the fences. The expected answers come from the iterated
    // list, which is sorted (checked above), by binary search.
    let mut addrs = Vec::with_capacity(4 * vmas.len() + window as usize + 2);
    for vma in &vmas {
        addrs.extend([vma.start - 1, vma.start, vma.end - 1, vma.end]);
    }
    for page in -1..=window as i64 {
        addrs.push(page_addr(page) + rng.below(PAGE_SIZE));
    }
    for addr in addrs {
        let next = vmas.partition_point(|vma| vma.end <= addr);
        let expected_vma = vmas.get(next).copied();
        let expected_find = expected_vma.filter(|vma| vma.start <= addr);
        let same = |got: Option<&Arc<Vma>>, want: Option<&Arc<Vma>>| match (got, want) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        let found = snap.find(addr);
        if !same(found, expected_find) {
            return fail(format!("find({addr:#x}) gave {:?}", found.map(|v| (v.start, v.end))));
        }
        let found_vma = snap.find_vma(addr);
        if !same(found_vma, expected_vma) {
            return fail(format!("find_vma({addr:#x}) gave {:?}", found_vma.map(|v| (v.start, v.end))));
        }
        *lookups += 2;
    }
    Ok(Checked { prints: vmas.iter().map(|vma| Fingerprint::of(vma)).collect(), outside })
}

/// The second pass over a snapshot: the same areas, with the same fields, and `find` still
/// returns them.
fn check_stable(snap: &MmSnapshot<'_>, first: &[Fingerprint]) -> Result<(), String> {
    let again: Vec<Fingerprint> = snap.vmas().map(Fingerprint::of).collect();
    if again != first {
        return Err(format!("the snapshot changed between two passes:\nfirst  {first:?}\nsecond {again:?}"));
    }
    for print in first {
        let found = snap.find(print.start).map(Fingerprint::of);
        if found != Some(*print) {
            return Err(format!("find({:#x}) changed between two passes: {found:?}, was {print:?}", print.start));
        }
    }
    if snap.map_count() != first.len() {
        return Err("map_count changed between two passes".into());
    }
    Ok(())
}

fn writer(shared: &Shared, first_seed: u64, deadline: Instant) -> WriterStats {
    let _stop = StopOnDrop(shared);
    let note = PanicNote(std::cell::Cell::new((first_seed, 0)));
    let mut stats = WriterStats::default();
    let config = GenConfig::default();
    let mut rng = Rng::new(first_seed ^ 0x5752_4954_4552);
    let running = || Instant::now() < deadline || shared.checked.load(Ordering::Relaxed) == 0;
    while !shared.stopped() && running() {
        let seed = first_seed.wrapping_add(stats.scripts);
        note.0.set((seed, 0));
        let text = random_script(seed, &config);
        let script = script::parse(&text).unwrap_or_else(|e| panic!("generated script {seed}: {e}\n{text}"));
        let current = Arc::new(Current {
            replay: Replay::new(&script).unwrap(),
            window: script.window,
            seed,
            applied: AtomicU64::new(0),
        });
        *shared.slot.lock().unwrap() = Some(current.clone());
        stats.scripts += 1;
        for (index, op) in script.ops.iter().enumerate() {
            if shared.stopped() || !running() {
                break;
            }
            note.0.set((seed, index + 1));
            // Out-of-window ops could unmap a fence, which the readers rely on; `engine::run`
            // skips them the same way.
            if script.op_leaves_window(index) {
                stats.skipped += 1;
            } else {
                match current.replay.apply(op) {
                    OpResult::Ok | OpResult::OkAt(_) => stats.ok += 1,
                    OpResult::Err(_) => stats.errors += 1,
                    OpResult::Segv(_) | OpResult::Sigbus(_) => stats.signals += 1,
                    OpResult::SkipOutOfWindow => stats.skipped += 1,
                }
                stats.ops += 1;
                shared.ops.fetch_add(1, Ordering::Release);
            }
            current.applied.store(index as u64 + 1, Ordering::Release);
            let snap = current.replay.mm().snapshot();
            let mut lookups = 0;
            if let Err(what) = check_snapshot(&snap, current.window, true, &mut rng, &mut lookups) {
                shared.fail(format!("writer (sequential): script seed {seed}, after op {} `{op}`: {what}", index + 1));
                return stats;
            }
            stats.checks += 1;
        }
    }
    stats
}

fn reader(shared: &Shared, seed: u64) -> ReaderStats {
    let _stop = StopOnDrop(shared);
    let mut stats = ReaderStats::default();
    let mut rng = Rng::new(seed);
    while !shared.stopped() {
        let Some(current) = shared.slot.lock().unwrap().clone() else {
            thread::yield_now();
            continue;
        };
        let mm = current.replay.mm();
        let applied_before = current.applied.load(Ordering::Acquire);
        let ops_before = shared.ops.load(Ordering::Acquire);
        let snap = mm.snapshot();
        let report = |what: String| {
            format!(
                "reader: script seed {} (window {}), snapshot taken after op {applied_before} and before op {} \
                 was done: {what}",
                current.seed,
                current.window,
                current.applied.load(Ordering::Acquire) + 1
            )
        };
        let first = match check_snapshot(&snap, current.window, false, &mut rng, &mut stats.lookups) {
            Ok(checked) => {
                stats.outside += checked.outside;
                checked.prints
            }
            Err(what) => {
                shared.fail(report(what));
                break;
            }
        };
        stats.snapshots += 1;
        shared.checked.fetch_add(1, Ordering::Relaxed);
        stats.vmas += first.len() as u64;

        // Faults while the snapshot is pinned: a random page of the window (any answer is
        // right, as the writer may change the page meanwhile) and a fence (PROT_NONE, present
        // all along: always SIGSEGV, decided on the lock-free path).
        let page = rng.below(current.window) as i64;
        match mm.fault(page_addr(page) + rng.below(PAGE_SIZE), Access::Read) {
            Ok(_) => stats.faults_ok += 1,
            Err(Signal::Segv) => stats.faults_segv += 1,
            Err(Signal::Bus) => stats.faults_bus += 1,
        }
        let fence = if rng.chance(50) { page_addr(-1) } else { page_addr(current.window as i64) };
        if mm.fault(fence, Access::Read).map(drop) != Err(Signal::Segv) {
            shared.fail(report(format!("a read fault on the fence at {fence:#x} did not give SIGSEGV")));
            break;
        }
        stats.faults_segv += 1;

        if rng.below(HOLD_ONE_IN) == 0 {
            thread::sleep(Duration::from_micros(200));
        }
        if let Err(what) = check_stable(&snap, &first) {
            shared.fail(report(what));
            break;
        }
        if shared.ops.load(Ordering::Acquire) > ops_before {
            stats.stable_across_writes += 1;
        }
    }
    stats
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(text) => text.parse().unwrap_or_else(|_| panic!("{name}={text}: not a valid value")),
        Err(_) => default,
    }
}

#[test]
fn readers_see_only_whole_consistent_snapshots() {
    let secs: f64 = env_or("MAPLE_STRESS_SECS", 10.0);
    let clock_seed = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    let first_seed: u64 = env_or("MAPLE_STRESS_SEED", clock_seed % 1_000_000_000);
    let shared = Shared {
        slot: Mutex::new(None),
        stop: AtomicBool::new(false),
        ops: AtomicU64::new(0),
        checked: AtomicU64::new(0),
        failures: Mutex::default(),
    };
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(secs);

    let (writer_stats, reader_stats) = thread::scope(|scope| {
        let readers: Vec<_> = (0..READERS)
            .map(|n| {
                let shared = &shared;
                scope.spawn(move || reader(shared, first_seed ^ (n + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)))
            })
            .collect();
        let writer_stats = writer(&shared, first_seed, deadline);
        let mut reader_stats = ReaderStats::default();
        for handle in readers {
            reader_stats.add(&handle.join().expect("a reader panicked"));
        }
        (writer_stats, reader_stats)
    });
    let elapsed = started.elapsed().as_secs_f64();

    // Written to the process's stderr directly (not through `eprintln!`, which the test
    // harness captures), so that every run's log shows how much was checked.
    let summary = format!(
        "stress: {elapsed:.1} s, first seed {first_seed}: {} scripts, {} ops ({} ok, {} errors, {} signals, {} \
         skipped out of window), {} writer checks; {READERS} readers: {} snapshots checked ({} areas, {} lookups), \
         {} held across writer ops, {} areas seen outside the window, faults {} ok / {} segv / {} bus\n",
        writer_stats.scripts,
        writer_stats.ops,
        writer_stats.ok,
        writer_stats.errors,
        writer_stats.signals,
        writer_stats.skipped,
        writer_stats.checks,
        reader_stats.snapshots,
        reader_stats.vmas,
        reader_stats.lookups,
        reader_stats.stable_across_writes,
        reader_stats.outside,
        reader_stats.faults_ok,
        reader_stats.faults_segv,
        reader_stats.faults_bus,
    );
    std::io::stderr().write_all(summary.as_bytes()).unwrap();

    let failures = shared.failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // A stress run that checked nothing proves nothing.
    assert!(writer_stats.ops > 0 && writer_stats.checks > 0, "the writer performed no ops");
    assert!(reader_stats.snapshots > 0 && reader_stats.lookups > 0, "no reader snapshot was checked");
}

/// The checks can fail: each rejects a layout or an area that breaks its rule (a checker that
/// accepts everything would make the stress test pass for nothing).
#[test]
fn the_checks_reject_broken_areas_and_layouts() {
    use mm::{MapFlags, Prot};
    use vma::{AnonRef, File};

    let may = VmFlags::MAYREAD | VmFlags::MAYWRITE | VmFlags::MAYEXEC;
    let area = |flags: VmFlags| Vma::new(WINDOW_BASE, WINDOW_BASE + PAGE_SIZE, 0, flags);
    assert!(check_fields(&area(may | VmFlags::READ | VmFlags::WRITE)).is_ok());
    assert!(check_fields(&area(VmFlags::READ | VmFlags::MAYREAD)).is_err(), "no VM_MAYEXEC");
    assert!(check_fields(&area(VmFlags::MAYREAD | VmFlags::MAYEXEC | VmFlags::WRITE)).is_err(), "no VM_MAYWRITE");
    assert!(check_fields(&area(may | VmFlags::LOCKONFAULT)).is_err(), "lock-on-fault unlocked");
    assert!(check_fields(&area(may | VmFlags::MAYSHARE)).is_err(), "shared without a file");
    let shared = area(may | VmFlags::MAYSHARE).with_file(File::new("f"));
    assert!(check_fields(&shared).is_ok());
    assert!(check_fields(&shared.with_anon(AnonRef::new())).is_err(), "anon_vma on a shared area");
    let chain0 = AnonRef { chain_len: 0, ..AnonRef::new() };
    assert!(check_fields(&area(may).with_anon(chain0)).is_err(), "empty chain");
    let mut far = area(may);
    far.pgoff = MAX_PGOFF;
    assert!(check_fields(&far).is_err(), "pgoff past the offset space");

    let script = script::parse("window 16\nmmap 0 4 rw anon_private\n").unwrap();
    let replay = Replay::new(&script).unwrap();
    let (mut rng, mut lookups) = (Rng::new(1), 0);
    replay.apply(&script.ops[0]);
    assert!(check_snapshot(&replay.mm().snapshot(), 16, true, &mut rng, &mut lookups).is_ok());
    assert!(lookups > 0);
    assert!(check_snapshot(&replay.mm().snapshot(), 8, false, &mut rng, &mut lookups).is_err(), "wrong fences");
    let anon_fixed = MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::FIXED;
    replay.mm().mmap(WINDOW_BASE - 4 * PAGE_SIZE, PAGE_SIZE, Prot::READ, anon_fixed, None, 0).unwrap();
    let outside = check_snapshot(&replay.mm().snapshot(), 16, false, &mut rng, &mut lookups).unwrap().outside;
    assert_eq!(outside, 1, "an area outside the window, seen by a reader");
    assert!(check_snapshot(&replay.mm().snapshot(), 16, true, &mut rng, &mut lookups).is_err(), "the writer's view");
    let unfenced = mm::Mm::new();
    assert!(check_snapshot(&unfenced.snapshot(), 16, false, &mut rng, &mut lookups).is_err(), "no fences");
}
