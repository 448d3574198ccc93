//! When observers are told: `before` while readers still see the old state, `after` once
//! they see the new one, both under the writer lock, once per call.

use std::sync::{Arc, Mutex, OnceLock};

use mm::{Change, MapFlags, Mm, Move, MremapFlags, Observer, Prot};

const P: u64 = 4096;
const BASE: u64 = 0x20_0000_0000;

/// When a reader looked, and the bounds of the area it found at `BASE`.
type Sighting = (&'static str, Option<(u64, u64)>);

/// Records, at each notification, what a reader of the observed `Mm` sees at `BASE`.
#[derive(Default)]
struct Witness {
    mm: OnceLock<Arc<Mm>>,
    seen: Mutex<Vec<Sighting>>,
}

impl Witness {
    fn look(&self, when: &'static str) {
        let snap = self.mm.get().expect("set before any call").snapshot();
        let area = snap.find(BASE).map(|v| (v.start, v.end));
        self.seen.lock().unwrap().push((when, area));
    }
}

impl Observer for Witness {
    fn before(&self, _: &Change) {
        self.look("before");
    }
    fn after(&self, _: &Change) {
        self.look("after");
    }
}

#[test]
fn readers_see_the_old_state_before_and_the_new_one_after() {
    let mm = Arc::new(Mm::new());
    let witness = Arc::new(Witness::default());
    witness.mm.set(mm.clone()).ok();
    mm.observe(witness.clone());
    let anon = MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::FIXED;
    mm.mmap(BASE, 4 * P, Prot::READ, anon, None, 0).unwrap();
    mm.munmap(BASE + 2 * P, 2 * P).unwrap();
    assert_eq!(mm.mprotect(BASE + 8 * P, P, Prot::NONE), Err(mm::Errno::ENOMEM)); // nothing there: no change
    let seen = witness.seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            ("before", None),
            ("after", Some((BASE, BASE + 4 * P))),
            ("before", Some((BASE, BASE + 4 * P))),
            ("after", Some((BASE, BASE + 2 * P))),
        ]
    );
}

#[test]
fn a_move_reports_its_pages_the_unmapped_source_and_the_areas() {
    let mm = Mm::new();
    let log = Arc::new(mm::ChangeLog::default());
    let anon = MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::FIXED;
    mm.mmap(BASE, 4 * P, Prot::READ | Prot::WRITE, anon, None, 0).unwrap();
    mm.mmap(BASE + 16 * P, 2 * P, Prot::READ, anon, None, 0).unwrap();
    mm.observe(log.clone());
    let to = BASE + 16 * P; // over the second mapping, which goes
    let moved = MremapFlags::MAYMOVE | MremapFlags::FIXED;
    assert_eq!(mm.mremap(BASE, 4 * P, 4 * P, moved, to), Ok(to));
    let changes = log.take();
    assert_eq!(changes.len(), 1, "one call, one change");
    let change = &changes[0];
    assert_eq!(change.moved, [Move { from: BASE, to, len: 4 * P }]);
    assert_eq!(change.unmapped, [BASE..BASE + 4 * P, to..to + 4 * P]);
    let spans = |list: &[Arc<vma::Vma>]| list.iter().map(|v| (v.start, v.end)).collect::<Vec<_>>();
    assert_eq!(spans(&change.removed), [(BASE, BASE + 4 * P), (to, to + 2 * P)]);
    assert_eq!(spans(&change.added), [(to, to + 4 * P)]);
    assert_eq!(change.invalidated(), [BASE..BASE + 4 * P, to..to + 4 * P]);
}

#[test]
fn remove_punches_the_file_and_dontneed_does_not() {
    let mm = Mm::new();
    let file = mm::OpenFile::read_write(vma::File::with_pages("shared", 8));
    let shared = MapFlags::SHARED | MapFlags::FIXED;
    mm.mmap(BASE, 4 * P, Prot::READ | Prot::WRITE, shared, Some(&file), 0).unwrap();
    let log = Arc::new(mm::ChangeLog::default());
    mm.observe(log.clone());
    mm.madvise(BASE, 2 * P, mm::Advice::Remove).unwrap();
    mm.madvise(BASE + 2 * P, 2 * P, mm::Advice::DontNeed).unwrap();
    let changes = log.take();
    assert_eq!(changes[0].discarded.first(), Some(&(BASE..BASE + 2 * P)));
    assert_eq!(changes[0].punched, changes[0].discarded);
    assert_eq!(changes[1].discarded.first(), Some(&(BASE + 2 * P..BASE + 4 * P)));
    assert_eq!(changes.iter().map(|c| c.discarded.len()).sum::<usize>(), 2);
    assert!(changes[1].punched.is_empty());
}
