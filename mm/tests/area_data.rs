//! Per-area data, hooks set through `Mm`, faults that answer, and guard markers carried by
//! the areas: what a runtime embedding `mm` relies on.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use mm::{Access, Advice, Backing, Errno, MapFlags, MapRequest, Mm, MremapFlags, OpenFile, Prot, Signal};
use vma::{AreaData, AreaValue, File, Fork, VmOps};

const P: u64 = 4096;
const BASE: u64 = 0x10_0000_0000;

fn rw() -> Prot {
    Prot::READ | Prot::WRITE
}

fn anon_fixed() -> MapFlags {
    MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::FIXED
}

/// A value with the default rules.
struct Tag(&'static str);
impl AreaValue for Tag {}

/// Host memory: merges when the host pages continue too; a fork's child gets a copy.
struct Host {
    base: u64,
}
impl AreaValue for Host {
    fn continues(&self, end_offset: u64, next: &Host, next_offset: u64) -> bool {
        self.base + end_offset * P == next.base + next_offset * P
    }
    fn on_fork(&self) -> Fork<Host> {
        Fork::Copy(Host { base: self.base + 0x1_0000_0000 })
    }
}

fn map(mm: &Mm, page: u64, pages: u64, data: Option<AreaData>) -> u64 {
    let mut request = MapRequest::new(pages * P, rw(), anon_fixed()).at(BASE + page * P);
    request.data = data;
    mm.map(request).unwrap()
}

/// (start page, end page, data offset at start) of every area.
fn layout(mm: &Mm) -> Vec<(u64, u64, Option<u64>)> {
    mm.snapshot().vmas().map(|v| ((v.start - BASE) / P, (v.end - BASE) / P, v.data_offset(v.start))).collect()
}

#[test]
fn every_piece_of_a_split_keeps_the_data_and_its_offset() {
    let mm = Mm::new();
    let data = AreaData::new(Tag("heap"));
    map(&mm, 0, 8, Some(data));
    mm.mprotect(BASE + 2 * P, 3 * P, Prot::READ).unwrap();
    assert_eq!(layout(&mm), [(0, 2, Some(0)), (2, 5, Some(2)), (5, 8, Some(5))]);
    let snap = mm.snapshot();
    let values: Vec<&Tag> = snap.vmas().map(|v| v.data::<Tag>().unwrap()).collect();
    assert!(values.iter().all(|t| std::ptr::eq(*t, values[0]) && t.0 == "heap"));
    drop(snap);
    // Back to read-write: same value, contiguous offsets, so the pieces merge again.
    mm.mprotect(BASE + 2 * P, 3 * P, rw()).unwrap();
    assert_eq!(layout(&mm), [(0, 8, Some(0))]);
}

#[test]
fn data_decides_whether_new_mappings_merge() {
    let mm = Mm::new();
    let data = AreaData::new(Tag("a"));
    map(&mm, 0, 4, Some(data.clone()));
    // The same value at the next offsets continues it.
    map(&mm, 4, 4, Some(data.clone().at_offset(4)));
    assert_eq!(layout(&mm), [(0, 8, Some(0))]);
    // The same value at other offsets, another value, or none at all: separate areas.
    map(&mm, 8, 2, Some(data.at_offset(0)));
    map(&mm, 10, 2, Some(AreaData::new(Tag("b"))));
    map(&mm, 12, 2, None);
    assert_eq!(layout(&mm), [(0, 8, Some(0)), (8, 10, Some(0)), (10, 12, Some(0)), (12, 14, None)]);
    mm.validate().unwrap();
}

#[test]
fn a_runtime_rule_merges_different_values_whose_pages_continue() {
    let mm = Mm::new();
    map(&mm, 0, 4, Some(AreaData::new(Host { base: 0x7000_0000 })));
    map(&mm, 4, 4, Some(AreaData::new(Host { base: 0x7000_4000 })));
    map(&mm, 8, 4, Some(AreaData::new(Host { base: 0x9000_0000 })));
    assert_eq!(layout(&mm), [(0, 8, Some(0)), (8, 12, Some(0))]);
    let snap = mm.snapshot();
    let merged = snap.find(BASE + 6 * P).unwrap();
    // The survivor keeps the left value; page 6 is host page 0x7000_6000 either way.
    assert_eq!(merged.data::<Host>().unwrap().base + merged.data_offset(BASE + 6 * P).unwrap() * P, 0x7000_6000);
}

#[test]
fn fork_applies_the_values_rule() {
    let mm = Mm::new();
    map(&mm, 0, 2, Some(AreaData::new(Host { base: 0x7000_0000 })));
    map(&mm, 4, 2, Some(AreaData::new(Tag("shared"))));
    let child = mm.fork().unwrap();
    let (parent, kid) = (mm.snapshot(), child.snapshot());
    assert_eq!(kid.find(BASE).unwrap().data::<Host>().unwrap().base, 0x1_7000_0000);
    let (a, b) = (parent.find(BASE + 4 * P).unwrap(), kid.find(BASE + 4 * P).unwrap());
    assert!(std::ptr::eq(a.data::<Tag>().unwrap(), b.data::<Tag>().unwrap()));
}

#[test]
fn mremap_keeps_the_data_offsets_of_moved_and_grown_pages() {
    let mm = Mm::new();
    map(&mm, 0, 4, Some(AreaData::new(Tag("m"))));
    mm.munmap(BASE + 4 * P, 64 * P).unwrap();
    // Grow in place: the new pages continue the offsets.
    assert_eq!(mm.mremap(BASE, 4 * P, 6 * P, MremapFlags::NONE, 0), Ok(BASE));
    assert_eq!(layout(&mm), [(0, 6, Some(0))]);
    // Move pages 2..6 (never faulted: the area takes a new pgoff) to page 20.
    let moved = MremapFlags::MAYMOVE | MremapFlags::FIXED;
    assert_eq!(mm.mremap(BASE + 2 * P, 4 * P, 4 * P, moved, BASE + 20 * P), Ok(BASE + 20 * P));
    assert_eq!(layout(&mm), [(0, 2, Some(0)), (20, 24, Some(2))]);
}

#[test]
fn faults_answer_with_the_area_its_data_and_the_backing() {
    let mm = Mm::new();
    let file = OpenFile::read_only(File::with_pages("lib.so", 16));
    let text = MapRequest::new(4 * P, Prot::READ | Prot::EXEC, MapFlags::PRIVATE | MapFlags::FIXED)
        .at(BASE)
        .file(&file, 3 * P)
        .data(AreaData::new(Tag("text")));
    mm.map(text).unwrap();
    let fault = mm.fault(BASE + 2 * P + 5, Access::Exec).unwrap();
    assert_eq!(fault.page, BASE + 2 * P);
    assert_eq!(fault.backing, Backing::File { file: file.file.clone(), pgoff: 5 });
    assert_eq!(fault.area.data::<Tag>().unwrap().0, "text");
    assert_eq!(fault.area.data_offset(fault.page), Some(2));
    assert!(fault.private && !fault.anon_vma_created && !fault.stack_grew);
    assert_eq!(mm.fault(BASE, Access::Write).unwrap_err(), Signal::Segv);

    let shared = MapFlags::SHARED | MapFlags::ANONYMOUS | MapFlags::FIXED;
    mm.mmap(BASE + 8 * P, 2 * P, rw(), shared, None, 0).unwrap();
    let fault = mm.fault(BASE + 9 * P, Access::Write).unwrap();
    assert!(!fault.private && !fault.anon_vma_created);
    assert!(matches!(fault.backing, Backing::File { pgoff: 1, .. }));
    assert_eq!(mm.fault(BASE + 8 * P, Access::Exec).unwrap_err(), Signal::Segv);
}

#[test]
fn a_fault_reports_a_stack_that_grew() {
    let mm = Mm::new();
    let stack = MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::FIXED | MapFlags::GROWSDOWN;
    mm.mmap(BASE + 100 * P, 4 * P, rw(), stack, None, 0).unwrap();
    let fault = mm.fault(BASE + 98 * P, Access::Write).unwrap();
    assert!(fault.stack_grew && fault.anon_vma_created);
    assert_eq!(fault.area.start, BASE + 98 * P);
    assert!(!mm.fault(BASE + 98 * P, Access::Read).unwrap().stack_grew);
}

#[test]
fn hooks_set_through_a_map_request_run() {
    let mm = Mm::new();
    let closed = Arc::new(AtomicUsize::new(0));
    let counter = closed.clone();
    let ops = VmOps::new()
        .with_close(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        })
        .with_may_split(|_, addr| if addr % (4 * P) == 0 { Ok(()) } else { Err(Errno::EINVAL.code()) })
        .with_mremap(|_, _| Err(Errno::EPERM.code()));
    let own = AreaData::new(Tag("device"));
    mm.map(MapRequest::new(8 * P, rw(), anon_fixed()).at(BASE).ops(ops).data(own)).unwrap();
    // A request with ops never merges into a neighbour, and its data keeps the next plain
    // mapping from merging into it (a close hook alone would not: Linux merges into such an
    // area, it only never deletes one).
    map(&mm, 8, 2, None);
    assert_eq!(mm.snapshot().map_count(), 2);
    assert_eq!(mm.mprotect(BASE + P, P, Prot::READ), Err(Errno::EINVAL));
    let moved = MremapFlags::MAYMOVE | MremapFlags::FIXED;
    let before = layout(&mm);
    assert_eq!(mm.mremap(BASE, 8 * P, 8 * P, moved, BASE + 64 * P), Err(Errno::EPERM));
    assert_eq!(layout(&mm), before, "a refused move changes nothing");
    mm.munmap(BASE, 4 * P).unwrap(); // a split at a 4-page boundary is fine; nothing closed yet
    assert_eq!(closed.load(Ordering::SeqCst), 0);
    mm.munmap(BASE, 8 * P).unwrap();
    assert_eq!(closed.load(Ordering::SeqCst), 1);
}

#[test]
fn snapshots_show_guard_markers_as_faults_do() {
    let mm = Mm::new();
    map(&mm, 0, 10, None);
    mm.madvise(BASE + 8 * P, P, Advice::GuardInstall).unwrap();
    let snap = mm.snapshot();
    assert!(!snap.allows(BASE + 8 * P, Access::Read) && snap.allows(BASE + 7 * P, Access::Write));
    assert_eq!(mm.fault(BASE + 8 * P, Access::Read).unwrap_err(), Signal::Segv);
    drop(snap);
    // Unmap the marked page's part, then grow the area back over it: the marker is gone.
    mm.munmap(BASE + 5 * P, 5 * P).unwrap();
    assert_eq!(mm.mremap(BASE, 5 * P, 10 * P, MremapFlags::NONE, 0), Ok(BASE));
    assert!(mm.snapshot().allows(BASE + 8 * P, Access::Read));
    assert!(mm.fault(BASE + 8 * P, Access::Read).is_ok());
}

#[test]
fn guard_markers_move_with_their_pages_and_vanish_with_a_fresh_mapping() {
    let mm = Mm::new();
    map(&mm, 0, 10, None);
    mm.madvise(BASE + 3 * P, P, Advice::GuardInstall).unwrap();
    let moved = MremapFlags::MAYMOVE | MremapFlags::FIXED;
    mm.mremap(BASE, 10 * P, 10 * P, moved, BASE + 40 * P).unwrap();
    let snap = mm.snapshot();
    assert!(!snap.allows(BASE + 43 * P, Access::Read) && snap.allows(BASE + 42 * P, Access::Read));
    drop(snap);
    // Unmap the marked page and map it anew (it merges with both sides): no marker.
    mm.munmap(BASE + 43 * P, P).unwrap();
    mm.mmap(BASE + 43 * P, P, rw(), anon_fixed(), None, 0).unwrap();
    assert!(mm.snapshot().allows(BASE + 43 * P, Access::Read));
    let child = mm.fork().unwrap();
    assert!(child.snapshot().allows(BASE + 43 * P, Access::Read));
}

/// Found by the differential fuzzer: a move that also grows must carry the markers of the
/// pages it moves only, not those of the source area's pages after them.
#[test]
fn a_growing_move_takes_only_the_markers_of_the_moved_pages() {
    let mm = Mm::new();
    map(&mm, 0, 8, None);
    mm.madvise(BASE + 2 * P, 3 * P, Advice::GuardInstall).unwrap(); // pages 2, 3, 4
    let moved = MremapFlags::MAYMOVE | MremapFlags::FIXED;
    // Page 1 moves (no marker), grown to 6 pages: none of the new pages is guarded.
    assert_eq!(mm.mremap(BASE + P, P, 6 * P, moved, BASE + 20 * P), Ok(BASE + 20 * P));
    let snap = mm.snapshot();
    assert!((20..26).all(|page| snap.allows(BASE + page * P, Access::Read)));
    assert!(!snap.allows(BASE + 3 * P, Access::Read), "the source keeps its own markers");
    drop(snap);
    // Page 2 (guarded) moves, grown to 3 pages: only its own page is guarded.
    assert_eq!(mm.mremap(BASE + 2 * P, P, 3 * P, moved, BASE + 40 * P), Ok(BASE + 40 * P));
    let snap = mm.snapshot();
    assert!(!snap.allows(BASE + 40 * P, Access::Read));
    assert!(snap.allows(BASE + 41 * P, Access::Read) && snap.allows(BASE + 42 * P, Access::Read));
}
