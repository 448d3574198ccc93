//! Each call that changes several areas publishes its whole effect at one instant: a reader
//! checking three adjacent areas that never merge (each has its own name) while a writer
//! changes all three back and forth never sees some changed and others not.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;

use mm::{Access, Advice, MapFlags, MlockFlags, Mm, Prot};
use vma::{VmFlags, PAGE_SIZE};

const RW: Prot = Prot::from_bits(Prot::READ.bits() | Prot::WRITE.bits());

/// Three adjacent 4-page areas at `base`, each with its own name and written: they touch
/// but never merge.
fn three_areas(mm: &Mm) -> u64 {
    let flags = MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::FIXED;
    let base = 0x1000_0000;
    mm.mmap(base, 12 * PAGE_SIZE, RW, flags, None, 0).unwrap();
    for (i, name) in ["a", "b", "c"].into_iter().enumerate() {
        let at = base + i as u64 * 4 * PAGE_SIZE;
        mm.set_anon_name(at, 4 * PAGE_SIZE, Some(name)).unwrap();
        mm.fault(at, Access::Write).unwrap();
    }
    assert_eq!(mm.snapshot().map_count(), 3);
    base
}

/// The flags of the three areas, if the snapshot shows exactly three, each whole.
fn flags_of(mm: &Mm, base: u64) -> Vec<VmFlags> {
    let snap = mm.snapshot();
    let areas: Vec<_> = snap.vmas().collect();
    assert_eq!(areas.len(), 3, "an area split or merged: {areas:?}");
    for (i, area) in areas.iter().enumerate() {
        assert_eq!((area.start, area.end), (base + i as u64 * 0x4000, base + (i as u64 + 1) * 0x4000));
    }
    areas.iter().map(|area| area.flags).collect()
}

/// Sets a flag when dropped, also by a panic, so the other thread never waits for it.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Runs `flip(mm, base, round)` for `rounds` rounds while a reader checks that the three
/// areas always agree on the flags in `watched`; returns how many snapshots the reader
/// checked. The writer starts only after the reader's first check, and after every round
/// waits for one more (a handshake that ends early only if the reader is gone).
fn readers_see_whole_calls(rounds: u64, watched: VmFlags, flip: impl Fn(&Mm, u64, u64)) -> u64 {
    let mm = Mm::new();
    let base = three_areas(&mm);
    let checks = AtomicU64::new(0);
    let (done, reader_gone) = (AtomicBool::new(false), AtomicBool::new(false));
    let wait_for_check = |seen: u64| {
        while checks.load(Ordering::Acquire) <= seen && !reader_gone.load(Ordering::Acquire) {
            thread::yield_now();
        }
    };
    thread::scope(|s| {
        let reader = s.spawn(|| {
            let _gone = SetOnDrop(&reader_gone);
            while !done.load(Ordering::Acquire) {
                let flags = flags_of(&mm, base);
                let seen: Vec<VmFlags> = flags.iter().map(|f| *f & watched).collect();
                assert!(seen.iter().all(|f| *f == seen[0]), "half of one call: {flags:?}");
                checks.fetch_add(1, Ordering::AcqRel);
            }
        });
        wait_for_check(0);
        for round in 0..rounds {
            let seen = checks.load(Ordering::Acquire);
            flip(&mm, base, round);
            wait_for_check(seen);
        }
        done.store(true, Ordering::Release);
        reader.join().expect("the reader saw half of a call");
    });
    checks.load(Ordering::Acquire)
}

const ROUNDS: u64 = if cfg!(miri) { 10 } else { 2000 };

#[test]
fn mprotect_over_three_areas_is_seen_whole() {
    let checks = readers_see_whole_calls(ROUNDS, VmFlags::WRITE, |mm, base, round| {
        let prot = if round % 2 == 0 { Prot::READ } else { RW };
        mm.mprotect(base, 12 * PAGE_SIZE, prot).unwrap();
    });
    assert!(checks > ROUNDS);
}

#[test]
fn madvise_over_three_areas_is_seen_whole() {
    let checks = readers_see_whole_calls(ROUNDS, VmFlags::DONTCOPY, |mm, base, round| {
        let advice = if round % 2 == 0 { Advice::DontFork } else { Advice::DoFork };
        mm.madvise(base, 12 * PAGE_SIZE, advice).unwrap();
    });
    assert!(checks > ROUNDS);
}

#[test]
fn mlock_over_three_areas_is_seen_whole() {
    let checks =
        readers_see_whole_calls(ROUNDS, VmFlags::LOCKED | VmFlags::LOCKONFAULT, |mm, base, round| match round % 2 {
            0 => mm.mlock2(base, 12 * PAGE_SIZE, MlockFlags::ONFAULT).unwrap(),
            _ => mm.munlock(base, 12 * PAGE_SIZE).unwrap(),
        });
    assert!(checks > ROUNDS);
}
