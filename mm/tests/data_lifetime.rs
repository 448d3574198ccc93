//! A runtime's per-area value is dropped once no area holds it and no reader can see it: not
//! while a snapshot that shows it is alive, and soon after the last one is gone.
//!
//! The only test in its binary: no other thread pins the epoch, so flushing this thread's
//! garbage is bounded.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use mm::{MapFlags, MapRequest, Mm, Prot};
use vma::{AreaData, AreaValue};

struct Counted(Arc<AtomicUsize>);
impl AreaValue for Counted {}
impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn the_value_lives_while_an_area_or_a_reader_holds_it() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let mm = Mm::new();
    let flags = MapFlags::PRIVATE | MapFlags::ANONYMOUS;
    let request = MapRequest::new(8 * 4096, Prot::READ, flags).data(AreaData::new(Counted(dropped.clone())));
    let addr = mm.map(request).unwrap();
    mm.mprotect(addr + 4096, 4096, Prot::NONE).unwrap(); // three areas share the value
    mm.munmap(addr, 4 * 4096).unwrap();
    let reader = mm.snapshot();
    mm.munmap(addr, 8 * 4096).unwrap();
    for _ in 0..64 {
        crossbeam_epoch::pin().flush();
    }
    assert_eq!(dropped.load(Ordering::SeqCst), 0, "the reader's snapshot still shows an area with it");
    assert!(reader.find(addr + 5 * 4096).unwrap().data::<Counted>().is_some());
    drop(reader);
    // Freed two epochs after the last retirement: flushing advances the epoch when no other
    // thread is pinned, so a few rounds suffice; the bound only keeps a bug from hanging.
    let mut rounds = 0;
    while dropped.load(Ordering::SeqCst) == 0 && rounds < 10_000 {
        crossbeam_epoch::pin().flush();
        rounds += 1;
    }
    assert_eq!(dropped.load(Ordering::SeqCst), 1, "dropped exactly once, after {rounds} flushes");
}
