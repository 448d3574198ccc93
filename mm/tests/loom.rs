//! loom models of the reader contract at the level of system calls (docs/concurrency.md): a
//! reader racing one `Mm` call that changes several areas (an mprotect that splits two and
//! changes three, an munmap that trims two and removes one, an mremap that moves an area over
//! another) sees, through one snapshot, the state before the call or the state after it,
//! never one in between.
//!
//! Built only under `RUSTFLAGS="--cfg loom"` (see `scripts/loom.sh`). The expected states are
//! written out by hand from the calls' Linux semantics; nothing of them comes from the engine.
//! The areas map three different files, so no two of them ever merge.

#![cfg(loom)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use loom::thread;
use mm::{MapFlags, Mm, MremapFlags, OpenFile, Prot};
use vma::{File, VmFlags};

const P: u64 = 4096;
const BASE: u64 = 0x10_0000;

/// An area as a reader sees it: first page, end page, accessible (read) or not, file number.
type Seen = (u64, u64, bool, usize);

/// Three areas: file 0 at pages [1, 3), file 1 at [3, 5), file 2 at [5, 7), read-only.
fn three_areas() -> (Mm, Vec<OpenFile>) {
    let mm = Mm::new();
    let files: Vec<OpenFile> = (0..3).map(|i| OpenFile::read_only(File::with_pages(format!("f{i}"), 16))).collect();
    for (i, file) in files.iter().enumerate() {
        let page = 1 + 2 * i as u64;
        mm.mmap(BASE + page * P, 2 * P, Prot::READ, MapFlags::PRIVATE | MapFlags::FIXED, Some(file), 0).unwrap();
    }
    (mm, files)
}

/// What one snapshot shows.
fn seen(mm: &Mm, files: &[OpenFile]) -> Vec<Seen> {
    let snap = mm.snapshot();
    snap.vmas()
        .map(|v| {
            let file = v.file.as_ref().expect("every area maps a file");
            let number = files.iter().position(|f| Arc::ptr_eq(&f.file, file)).expect("one of the model's files");
            ((v.start - BASE) / P, (v.end - BASE) / P, v.flags.contains(VmFlags::READ), number)
        })
        .collect()
}

/// Runs `call` against two readers taking one snapshot each, in every interleaving; each
/// snapshot must show `before` or `after` exactly.
fn model(name: &'static str, call: fn(&Mm), before: Vec<Seen>, after: Vec<Seen>) {
    let counts = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
    let expected = Arc::new((before, after));
    {
        let (counts, expected) = (counts.clone(), expected.clone());
        loom::model(move || {
            let (mm, files) = three_areas();
            assert_eq!(seen(&mm, &files), expected.0, "{name}: the initial state");
            let shared = loom::sync::Arc::new((mm, files));
            let readers: Vec<_> = (0..2)
                .map(|_| {
                    let (shared, counts, expected) = (shared.clone(), counts.clone(), expected.clone());
                    thread::spawn(move || {
                        let (mm, files) = &*shared;
                        let state = seen(mm, files);
                        let which = [&expected.0, &expected.1].iter().position(|s| **s == state);
                        let which = which.unwrap_or_else(|| panic!("{name}: a reader saw half a call: {state:?}"));
                        counts[which].fetch_add(1, Ordering::Relaxed);
                    })
                })
                .collect();
            let writer = {
                let shared = shared.clone();
                thread::spawn(move || call(&shared.0))
            };
            writer.join().unwrap();
            for reader in readers {
                reader.join().unwrap();
            }
            assert_eq!(seen(&shared.0, &shared.1), expected.1, "{name}: the final state");
        });
    }
    let (old, new) = (counts[0].load(Ordering::Relaxed), counts[1].load(Ordering::Relaxed));
    println!("{name}: readers saw the state before {old} times and after {new} times");
    assert!(old > 0 && new > 0, "{name}: the exploration must include both outcomes");
}

/// mprotect over pages [2, 6): two splits and three changes, one publication.
///
/// ```text
///   [ f0:r ][ f1:r ][ f2:r ]   ->   [r][-][ f1:- ][-][r]
///   1      3       5       7         1  2  3      5  6  7
/// ```
#[test]
fn mprotect_of_three_areas_is_seen_whole() {
    model(
        "mprotect",
        |mm| mm.mprotect(BASE + 2 * P, 4 * P, Prot::NONE).unwrap(),
        vec![(1, 3, true, 0), (3, 5, true, 1), (5, 7, true, 2)],
        vec![(1, 2, true, 0), (2, 3, false, 0), (3, 5, false, 1), (5, 6, false, 2), (6, 7, true, 2)],
    );
}

/// munmap of pages [2, 6): two trims and a removal, one publication.
///
/// ```text
///   [ f0:r ][ f1:r ][ f2:r ]   ->   [r]            [r]
/// ```
#[test]
fn munmap_of_three_areas_is_seen_whole() {
    model(
        "munmap",
        |mm| mm.munmap(BASE + 2 * P, 4 * P).unwrap(),
        vec![(1, 3, true, 0), (3, 5, true, 1), (5, 7, true, 2)],
        vec![(1, 2, true, 0), (6, 7, true, 2)],
    );
}

/// mremap moving f0's area over f2's: the destination's unmap, the copy and the source's
/// unmap, one publication.
///
/// ```text
///   [ f0:r ][ f1:r ][ f2:r ]   ->           [ f1:r ][ f0:r ]
/// ```
#[test]
fn mremap_move_over_an_area_is_seen_whole() {
    model(
        "mremap",
        |mm| {
            let flags = MremapFlags::MAYMOVE | MremapFlags::FIXED;
            assert_eq!(mm.mremap(BASE + P, 2 * P, 2 * P, flags, BASE + 5 * P), Ok(BASE + 5 * P));
        },
        vec![(1, 3, true, 0), (3, 5, true, 1), (5, 7, true, 2)],
        vec![(3, 5, true, 1), (5, 7, true, 0)],
    );
}
