//! Embedding `mm` in a runtime: a guest address space that one thread changes while another
//! reads it without locks, with Linux's answers to every call.
//!
//! ```sh
//! cargo run --release --example address_space
//! ```

use std::sync::atomic::{AtomicBool, Ordering};

use mm::{Access, Advice, Errno, MapFlags, Mm, MremapFlags, OpenFile, Prot, Signal};
use vma::File;

const PAGE: u64 = 4096;

fn main() -> Result<(), Errno> {
    let mm = Mm::new();
    let rw = Prot::READ | Prot::WRITE;
    let anon = MapFlags::PRIVATE | MapFlags::ANONYMOUS;

    // A "loader": a library's text and data from one file, then a heap.
    let lib = OpenFile::read_only(File::with_pages("/lib/libguest.so", 16));
    let text = mm.mmap(0, 16 * PAGE, Prot::READ | Prot::EXEC, MapFlags::PRIVATE, Some(&lib), 0)?;
    let data = mm.mmap(text + 12 * PAGE, 4 * PAGE, rw, MapFlags::PRIVATE | MapFlags::FIXED, Some(&lib), 12 * PAGE)?;
    let heap_start = mm.brk(0);
    mm.brk(heap_start + 64 * PAGE);

    // A reader thread that samples the layout while the main thread changes it: every
    // snapshot is one complete state, however many areas a call touched.
    let done = AtomicBool::new(false);
    let samples = std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let mut samples = 0u64;
            while !done.load(Ordering::Acquire) {
                let snap = mm.snapshot();
                let areas: Vec<_> = snap.vmas().collect();
                assert!(areas.windows(2).all(|w| w[0].end <= w[1].start), "a torn snapshot");
                samples += 1;
            }
            samples
        });
        let work = (|| {
            for round in 0..2000u64 {
                let buffer = mm.mmap(0, 8 * PAGE, rw, anon, None, 0)?;
                mm.fault(buffer, Access::Write).expect("writable");
                // [buffer, +2) rw | [+2, +3) r | [+3, +8) rw
                mm.mprotect(buffer + 2 * PAGE, PAGE, Prot::READ)?;
                if round % 2 == 0 {
                    // Grow the last part; it moves if it cannot grow in place.
                    let moved = mm.mremap(buffer + 3 * PAGE, 5 * PAGE, 10 * PAGE, MremapFlags::MAYMOVE, 0)?;
                    mm.munmap(moved, 10 * PAGE)?;
                }
                mm.munmap(buffer, 8 * PAGE)?;
            }
            Ok::<(), Errno>(())
        })();
        done.store(true, Ordering::Release);
        work.map(|()| reader.join().expect("the reader found no torn snapshot"))
    })?;

    // Linux's answers, errors included.
    mm.fault(data, Access::Write).expect("private data is writable");
    assert_eq!(mm.fault(text, Access::Write).map(drop), Err(Signal::Segv));
    assert_eq!(mm.mprotect(text, PAGE, rw | Prot::from_bits(0x40)), Err(Errno::EINVAL));
    mm.madvise(data, PAGE, Advice::GuardInstall)?;
    assert_eq!(mm.fault(data, Access::Read).map(drop), Err(Signal::Segv));
    let child = mm.fork()?;

    println!("{}", mm.maps());
    println!("{} snapshots read while 2000 rounds of mmap/fault/mprotect/mremap/munmap ran", samples);
    println!("the child has {} areas (the parent {})", child.snapshot().map_count(), mm.snapshot().map_count());
    Ok(())
}
