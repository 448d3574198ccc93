//! The change notifications are complete and exact: a replica of the areas kept only from
//! them equals every snapshot, each call publishes at most once, and every page whose
//! translation changed lies in a range the call invalidated. Checked after every op of random
//! scripts from the generator (every op kind, faults and forks included).

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::{Arc, Mutex};

use maple_mm::engine::{Replay, WINDOW_BASE};
use maple_mm::gen::{random_script, GenConfig};
use maple_mm::script::{parse, Op};
use mm::{Change, Observer};
use vma::{VmFlags, Vma, PAGE_SIZE};

/// The areas as the notifications alone describe them, and the changes of the current op.
#[derive(Default)]
struct Replica {
    areas: Mutex<BTreeMap<u64, Arc<Vma>>>,
    changes: Mutex<Vec<Change>>,
    errors: Mutex<Vec<String>>,
}

impl Replica {
    fn seeded(areas: impl Iterator<Item = Arc<Vma>>) -> Replica {
        let replica = Replica::default();
        replica.areas.lock().unwrap().extend(areas.map(|v| (v.start, v)));
        replica
    }

    fn fail(&self, error: String) {
        self.errors.lock().unwrap().push(error);
    }
}

impl Observer for Replica {
    fn after(&self, change: &Change) {
        let mut areas = self.areas.lock().unwrap();
        for gone in &change.removed {
            match areas.remove(&gone.start) {
                Some(held) if Arc::ptr_eq(&held, gone) => {}
                _ => self.fail(format!("removed {:#x}-{:#x}, which the replica does not hold", gone.start, gone.end)),
            }
        }
        for new in &change.added {
            let overlaps = areas.range(..new.end).next_back().is_some_and(|(_, v)| v.end > new.start);
            if overlaps {
                self.fail(format!("added {:#x}-{:#x} over an area the replica holds", new.start, new.end));
            }
            areas.insert(new.start, new.clone());
        }
        self.changes.lock().unwrap().push(change.clone());
    }
}

/// What a runtime maps for one page.
#[derive(PartialEq, Eq, Debug)]
struct Translation {
    /// Access and sharing bits.
    bits: u64,
    /// File id and page offset.
    file: Option<(u64, u64)>,
    /// Offset into the runtime's data.
    data: Option<u64>,
}

/// The translation of the page at `addr`; `None` where nothing may be mapped (no area, or a
/// guard marker).
fn translation(areas: &[Arc<Vma>], addr: u64) -> Option<Translation> {
    let vma = areas.iter().find(|v| v.contains(addr) && !v.is_guard(addr))?;
    let bits = (vma.flags & (VmFlags::ACCESS | VmFlags::SHARED)).bits();
    let file = vma.file.as_ref().map(|f| (f.id(), vma.pgoff_at(addr)));
    Some(Translation { bits, file, data: vma.data_offset(addr) })
}

fn covered(ranges: &[Range<u64>], addr: u64) -> bool {
    ranges.iter().any(|r| r.contains(&addr))
}

/// Replays one script, checking the notifications after every op; returns the ops checked.
fn check_script(seed: u64, config: &GenConfig) -> usize {
    let text = random_script(seed, config);
    let script = parse(&text).expect("generated scripts parse");
    let replay = Replay::new(&script).expect("generated scripts are within limits");
    let mm = replay.mm();
    let replica = Arc::new(Replica::seeded(mm.snapshot().vmas().cloned()));
    mm.observe(replica.clone());
    let window_end = WINDOW_BASE + script.window * PAGE_SIZE;
    for (i, op) in script.ops.iter().enumerate() {
        let before: Vec<Arc<Vma>> = mm.snapshot().vmas().cloned().collect();
        replay.apply(op);
        let after: Vec<Arc<Vma>> = mm.snapshot().vmas().cloned().collect();
        let context = || format!("seed {seed}, op {} ({op:?})\n{text}", i + 1);
        let errors = std::mem::take(&mut *replica.errors.lock().unwrap());
        assert!(errors.is_empty(), "{}: {errors:?}", context());
        let changes = std::mem::take(&mut *replica.changes.lock().unwrap());
        // One publication per call; a touch or read op is one fault (one call) per page.
        let calls = match *op {
            Op::Touch { npages, .. } | Op::Read { npages, .. } => npages as usize,
            _ => 1,
        };
        assert!(changes.len() <= calls, "{}: published {} times", context(), changes.len());
        let held: Vec<Arc<Vma>> = replica.areas.lock().unwrap().values().cloned().collect();
        let same = held.len() == after.len() && held.iter().zip(&after).all(|(a, b)| Arc::ptr_eq(a, b));
        let show = |list: &[Arc<Vma>]| {
            list.iter().map(|v| format!("{:#x}-{:#x} {}", v.start, v.end, v.flags)).collect::<Vec<_>>()
        };
        assert!(
            same,
            "{}: the replica {:?} differs from the snapshot {:?} (changes {changes:?})",
            context(),
            show(&held),
            show(&after)
        );
        let invalidated: Vec<Range<u64>> = changes.iter().flat_map(Change::invalidated).collect();
        for addr in (WINDOW_BASE..window_end).step_by(PAGE_SIZE as usize) {
            // A page that had a translation and has another one now (or none) must have been
            // invalidated; one that had none needs nothing.
            let old = translation(&before, addr);
            let changed = old.is_some() && old != translation(&after, addr);
            assert!(
                !changed || covered(&invalidated, addr),
                "{}: page {:#x} changed its translation but was not invalidated ({invalidated:x?})",
                context(),
                addr
            );
        }
        if changes.is_empty() {
            let same = before.len() == after.len() && before.iter().zip(&after).all(|(a, b)| Arc::ptr_eq(a, b));
            assert!(same, "{}: the areas changed without a notification", context());
        }
    }
    script.ops.len()
}

#[test]
fn a_replica_kept_from_notifications_equals_every_snapshot() {
    let config = GenConfig { window_min: 16, window_max: 64, ops_min: 20, ops_max: 120 };
    let scripts = if cfg!(miri) { 2 } else { 600 };
    let ops: usize = (0..scripts).map(|seed| check_script(seed, &config)).sum();
    println!("notifications checked after each of {ops} ops of {scripts} scripts");
    assert!(ops > scripts as usize * 20);
}
