//! Every operation's error paths: the errno Linux gives, and the address space unchanged
//! (a snapshot of every area's fields before and after the call compares equal), except
//! where Linux itself is not atomic (mprotect, mlock and madvise over a hole), whose partial
//! effect is checked exactly.

use mm::{Access, Advice, Errno, Limits, MapFlags, MlockFlags, Mm, MremapFlags, MsealFlags, OpenFile, Prot, Signal};
use vma::{File, VmFlags, PAGE_SIZE};

const P: u64 = PAGE_SIZE;
const BASE: u64 = 0x1000_0000;
const RW: Prot = Prot::from_bits(3);

/// Everything observable about one area.
type AreaState = (u64, u64, u64, u64, Option<(u64, usize)>, Option<u64>, u64);

fn state(mm: &Mm) -> Vec<AreaState> {
    mm.snapshot()
        .vmas()
        .map(|v| {
            let anon = v.anon.as_ref().map(|a| (a.anon_vma.id(), a.chain_len));
            (v.start, v.end, v.pgoff, v.flags.bits(), anon, v.file.as_ref().map(|f| f.id()), v.id().get())
        })
        .collect()
}

/// Runs `call`, which must fail with `errno`, and checks that nothing changed.
#[track_caller]
fn refused<T: std::fmt::Debug>(mm: &Mm, errno: Errno, call: impl FnOnce(&Mm) -> Result<T, Errno>) {
    let before = state(mm);
    let maps = mm.maps();
    assert_eq!(call(mm).unwrap_err(), errno);
    assert_eq!(state(mm), before, "a refused call changed the areas");
    assert_eq!(mm.maps(), maps);
}

fn anon_fixed() -> MapFlags {
    MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::FIXED
}

/// An address space with `[BASE, BASE + 4P)` rw, a hole, and `[BASE + 8P, BASE + 12P)` r.
fn two_areas() -> Mm {
    let mm = Mm::new();
    mm.mmap(BASE, 4 * P, RW, anon_fixed(), None, 0).unwrap();
    mm.mmap(BASE + 8 * P, 4 * P, Prot::READ, anon_fixed(), None, 0).unwrap();
    mm
}

fn page(mm: &Mm, addr: u64) -> VmFlags {
    mm.snapshot().find(addr).unwrap().flags
}

#[test]
fn mmap_rejects_bad_arguments() {
    let mm = two_areas();
    let file = OpenFile::read_write(File::with_pages("f", 16));
    refused(&mm, Errno::EINVAL, |mm| mm.mmap(BASE + 20 * P, 0, RW, anon_fixed(), None, 0));
    refused(&mm, Errno::EINVAL, |mm| mm.mmap(BASE + 20 * P + 1, P, RW, anon_fixed(), None, 0));
    refused(&mm, Errno::EINVAL, |mm| mm.mmap(BASE + 20 * P, P, RW, anon_fixed(), Some(&file), 1));
    refused(&mm, Errno::ENOMEM, |mm| mm.mmap(BASE, u64::MAX - 10, RW, anon_fixed(), None, 0));
    refused(&mm, Errno::ENOMEM, |mm| mm.mmap(mm.layout().task_size, P, RW, anon_fixed(), None, 0));
    refused(&mm, Errno::EPERM, |mm| mm.mmap(0x1000, P, RW, anon_fixed(), None, 0));
    // No type, or both types' bits wrong for an anonymous mapping.
    let untyped = MapFlags::ANONYMOUS | MapFlags::FIXED;
    refused(&mm, Errno::EINVAL, |mm| mm.mmap(BASE + 20 * P, P, RW, untyped, None, 0));
    let validate = MapFlags::SHARED_VALIDATE | MapFlags::ANONYMOUS | MapFlags::FIXED;
    refused(&mm, Errno::EINVAL, |mm| mm.mmap(BASE + 20 * P, P, RW, validate, None, 0));
    // Shared anonymous memory cannot grow down.
    let shared_down = MapFlags::SHARED | MapFlags::ANONYMOUS | MapFlags::FIXED | MapFlags::GROWSDOWN;
    refused(&mm, Errno::EINVAL, |mm| mm.mmap(BASE + 20 * P, P, RW, shared_down, None, 0));
    // A file mapping needs its file.
    let file_fixed = MapFlags::PRIVATE | MapFlags::FIXED;
    refused(&mm, Errno::EBADF, |mm| mm.mmap(BASE + 20 * P, P, RW, file_fixed, None, 0));
    // MAP_FIXED_NOREPLACE over a mapping.
    let noreplace = MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::FIXED_NOREPLACE;
    refused(&mm, Errno::EEXIST, |mm| mm.mmap(BASE + 3 * P, 2 * P, RW, noreplace, None, 0));
    // pgoff + pages overflows.
    refused(&mm, Errno::EOVERFLOW, |mm| mm.mmap(BASE + 20 * P, P, RW, file_fixed, Some(&file), !(P - 1)));
}

#[test]
fn mmap_checks_the_file_mode() {
    let mm = two_areas();
    let object = File::with_pages("f", 16);
    let read_only = OpenFile::read_only(object.clone());
    let write_only = OpenFile { readable: false, ..OpenFile::read_write(object) };
    let shared = MapFlags::SHARED | MapFlags::FIXED;
    let private = MapFlags::PRIVATE | MapFlags::FIXED;
    refused(&mm, Errno::EACCES, |mm| mm.mmap(BASE + 20 * P, P, RW, shared, Some(&read_only), 0));
    refused(&mm, Errno::EACCES, |mm| mm.mmap(BASE + 20 * P, P, Prot::READ, private, Some(&write_only), 0));
    refused(&mm, Errno::EINVAL, |mm| {
        mm.mmap(BASE + 20 * P, P, Prot::READ, private | MapFlags::GROWSDOWN, Some(&read_only), 0)
    });
    // Read-only shared: no VM_SHARED, no VM_MAYWRITE, only may-share.
    mm.mmap(BASE + 20 * P, P, Prot::READ, shared, Some(&read_only), 0).unwrap();
    let flags = page(&mm, BASE + 20 * P);
    assert!(flags.contains(VmFlags::MAYSHARE) && !flags.intersects(VmFlags::SHARED | VmFlags::MAYWRITE));
}

#[test]
fn mmap_over_a_sealed_area_is_refused() {
    let mm = two_areas();
    mm.mseal(BASE + 8 * P, 4 * P, MsealFlags::NONE).unwrap();
    refused(&mm, Errno::EPERM, |mm| mm.mmap(BASE + 8 * P, P, RW, anon_fixed(), None, 0));
}

#[test]
fn map_count_limit() {
    let limits = Limits { max_map_count: 3, ..Limits::default() };
    let mm = Mm::with_layout(mm::Layout::default(), limits);
    for i in 0..3 {
        mm.mmap(BASE + 2 * i * P, P, RW, anon_fixed(), None, 0).unwrap();
    }
    // Linux lets the count pass the limit by one (the check is `map_count > max`).
    mm.mmap(BASE + 10 * P, 4 * P, Prot::READ, anon_fixed(), None, 0).unwrap();
    refused(&mm, Errno::ENOMEM, |mm| mm.mmap(BASE + 20 * P, P, Prot::READ, anon_fixed(), None, 0));
    let mm = Mm::with_layout(mm::Layout::default(), limits);
    mm.mmap(BASE, 8 * P, RW, anon_fixed(), None, 0).unwrap();
    mm.mmap(BASE + 10 * P, P, RW, anon_fixed(), None, 0).unwrap();
    mm.mmap(BASE + 12 * P, P, RW, anon_fixed(), None, 0).unwrap();
    // Splitting the first area in three would pass the limit.
    refused(&mm, Errno::ENOMEM, |mm| mm.munmap(BASE + 2 * P, P));
    refused(&mm, Errno::EAGAIN, |mm| mm.madvise(BASE + 2 * P, P, Advice::DontFork));
    refused(&mm, Errno::ENOMEM, |mm| mm.mprotect(BASE + 2 * P, P, Prot::READ));
    refused(&mm, Errno::ENOMEM, |mm| mm.mremap(BASE, P, P, MremapFlags::MAYMOVE | MremapFlags::FIXED, BASE + 20 * P));
}

#[test]
fn munmap_rejects_bad_arguments() {
    let mm = two_areas();
    refused(&mm, Errno::EINVAL, |mm| mm.munmap(BASE + 1, P));
    refused(&mm, Errno::EINVAL, |mm| mm.munmap(BASE, 0));
    refused(&mm, Errno::EINVAL, |mm| mm.munmap(BASE, u64::MAX - BASE));
    refused(&mm, Errno::EINVAL, |mm| mm.munmap(mm.layout().task_size + P, P));
    mm.mseal(BASE, 2 * P, MsealFlags::NONE).unwrap();
    refused(&mm, Errno::EPERM, |mm| mm.munmap(BASE, 12 * P));
    // A hole is fine.
    let before = state(&mm);
    mm.munmap(BASE + 5 * P, 2 * P).unwrap();
    assert_eq!(state(&mm), before);
}

#[test]
fn mprotect_errors_and_its_partial_effect() {
    let mm = two_areas();
    refused(&mm, Errno::EINVAL, |mm| mm.mprotect(BASE + 1, P, Prot::READ));
    refused(&mm, Errno::EINVAL, |mm| mm.mprotect(BASE, P, Prot::from_bits(0x40)));
    refused(&mm, Errno::EINVAL, |mm| mm.mprotect(BASE, P, Prot::READ | Prot::GROWSDOWN));
    refused(&mm, Errno::ENOMEM, |mm| mm.mprotect(BASE + 4 * P, P, Prot::READ));
    refused(&mm, Errno::ENOMEM, |mm| mm.mprotect(BASE, u64::MAX - P, Prot::READ));
    // A zero length does nothing, even unmapped.
    mm.mprotect(BASE + 5 * P, 0, Prot::READ).unwrap();
    // Over the hole: the first area is changed, then ENOMEM (scenario 28).
    assert_eq!(mm.mprotect(BASE, 12 * P, Prot::READ), Err(Errno::ENOMEM));
    assert!(!page(&mm, BASE).contains(VmFlags::WRITE));
    // More access than the mapping may have.
    let file = OpenFile::read_only(File::with_pages("f", 4));
    mm.mmap(BASE + 20 * P, P, Prot::READ, MapFlags::SHARED | MapFlags::FIXED, Some(&file), 0).unwrap();
    refused(&mm, Errno::EACCES, |mm| mm.mprotect(BASE + 20 * P, P, RW));
    mm.mseal(BASE + 8 * P, 4 * P, MsealFlags::NONE).unwrap();
    refused(&mm, Errno::EPERM, |mm| mm.mprotect(BASE + 8 * P, P, RW));
}

#[test]
fn madvise_errors_and_its_partial_effect() {
    let mm = two_areas();
    refused(&mm, Errno::EINVAL, |mm| mm.madvise(BASE + 1, P, Advice::DontFork));
    refused(&mm, Errno::EINVAL, |mm| mm.madvise(BASE, u64::MAX, Advice::DontFork));
    refused(&mm, Errno::ENOMEM, |mm| mm.madvise(BASE + 4 * P, P, Advice::DontFork));
    refused(&mm, Errno::ENOMEM, |mm| mm.madvise(BASE + 20 * P, P, Advice::Normal));
    refused(&mm, Errno::EINVAL, |mm| mm.madvise(BASE, P, Advice::Remove));
    refused(&mm, Errno::EINVAL, |mm| mm.madvise(BASE, P, Advice::Collapse));
    refused(&mm, Errno::EINVAL, |mm| mm.madvise(BASE + 8 * P, P, Advice::PopulateWrite));
    refused(&mm, Errno::ENOMEM, |mm| mm.madvise(BASE + 3 * P, 2 * P, Advice::PopulateRead));
    let shared = MapFlags::SHARED | MapFlags::ANONYMOUS | MapFlags::FIXED;
    mm.mmap(BASE + 20 * P, P, RW, shared, None, 0).unwrap();
    refused(&mm, Errno::EINVAL, |mm| mm.madvise(BASE + 20 * P, P, Advice::WipeOnFork));
    refused(&mm, Errno::EINVAL, |mm| mm.madvise(BASE + 20 * P, P, Advice::Free));
    // Flag advice over a hole: every mapped part changes, then ENOMEM.
    assert_eq!(mm.madvise(BASE, 12 * P, Advice::DontFork), Err(Errno::ENOMEM));
    assert!(page(&mm, BASE).contains(VmFlags::DONTCOPY) && page(&mm, BASE + 8 * P).contains(VmFlags::DONTCOPY));
    // Locked memory refuses dontneed and guards.
    mm.mlock(BASE, 4 * P).unwrap();
    refused(&mm, Errno::EINVAL, |mm| mm.madvise(BASE, P, Advice::DontNeed));
    refused(&mm, Errno::EINVAL, |mm| mm.madvise(BASE, P, Advice::GuardInstall));
    refused(&mm, Errno::EINVAL, |mm| mm.madvise(BASE, P, Advice::PageOut));
    // Sealed read-only anonymous memory refuses discarding advice.
    mm.mseal(BASE + 8 * P, 4 * P, MsealFlags::NONE).unwrap();
    refused(&mm, Errno::EPERM, |mm| mm.madvise(BASE + 8 * P, P, Advice::DontNeed));
}

#[test]
fn mlock_errors() {
    let mm = two_areas();
    refused(&mm, Errno::ENOMEM, |mm| mm.mlock(BASE + 4 * P, P));
    refused(&mm, Errno::EINVAL, |mm| mm.mlock2(BASE, P, MlockFlags::from_bits(2)));
    refused(&mm, Errno::EINVAL, |mm| mm.mlock(BASE, u64::MAX - BASE));
    refused(&mm, Errno::ENOMEM, |mm| mm.munlock(BASE + 4 * P, P));
    // Over the hole: the first area is locked, then ENOMEM.
    assert_eq!(mm.mlock(BASE, 12 * P), Err(Errno::ENOMEM));
    assert!(page(&mm, BASE).contains(VmFlags::LOCKED) && !page(&mm, BASE + 8 * P).contains(VmFlags::LOCKED));
    // Without CAP_IPC_LOCK and with a zero limit, mlock is not permitted.
    let limits = Limits { memlock: 0, ipc_lock: false, ..Limits::default() };
    let mm = Mm::with_layout(mm::Layout::default(), limits);
    mm.mmap(BASE, P, RW, anon_fixed(), None, 0).unwrap();
    refused(&mm, Errno::EPERM, |mm| mm.mlock(BASE, P));
    let limits = Limits { memlock: P, ipc_lock: false, ..Limits::default() };
    let mm = Mm::with_layout(mm::Layout::default(), limits);
    mm.mmap(BASE, 4 * P, RW, anon_fixed(), None, 0).unwrap();
    refused(&mm, Errno::ENOMEM, |mm| mm.mlock(BASE, 2 * P));
    refused(&mm, Errno::EAGAIN, |mm| mm.mmap(BASE + 8 * P, 2 * P, RW, anon_fixed() | MapFlags::LOCKED, None, 0));
}

#[test]
fn mseal_errors() {
    let mm = two_areas();
    refused(&mm, Errno::EINVAL, |mm| mm.mseal(BASE, P, MsealFlags::from_bits(1)));
    // `unsigned long` flags: a bit past 32 is refused too, not truncated away.
    refused(&mm, Errno::EINVAL, |mm| mm.mseal(BASE, P, MsealFlags::from_bits(1 << 40)));
    refused(&mm, Errno::EINVAL, |mm| mm.mseal(BASE + 1, P, MsealFlags::NONE));
    refused(&mm, Errno::EINVAL, |mm| mm.mseal(BASE, u64::MAX, MsealFlags::NONE));
    // A hole anywhere: nothing is sealed.
    refused(&mm, Errno::ENOMEM, |mm| mm.mseal(BASE, 12 * P, MsealFlags::NONE));
}

#[test]
fn mremap_errors() {
    let mm = two_areas();
    let moved = MremapFlags::MAYMOVE | MremapFlags::FIXED;
    refused(&mm, Errno::EINVAL, |mm| mm.mremap(BASE, P, P, MremapFlags::from_bits(8), 0));
    refused(&mm, Errno::EINVAL, |mm| mm.mremap(BASE + 1, P, P, MremapFlags::NONE, 0));
    refused(&mm, Errno::EINVAL, |mm| mm.mremap(BASE, P, 0, MremapFlags::NONE, 0));
    refused(&mm, Errno::EINVAL, |mm| mm.mremap(BASE, P, P, MremapFlags::FIXED, BASE + 20 * P));
    refused(&mm, Errno::EINVAL, |mm| mm.mremap(BASE, P, P, moved, BASE + 20 * P + 1));
    refused(&mm, Errno::EINVAL, |mm| mm.mremap(BASE, 2 * P, 2 * P, moved, BASE + P));
    refused(&mm, Errno::EINVAL, |mm| {
        mm.mremap(BASE, P, 2 * P, MremapFlags::MAYMOVE | MremapFlags::DONTUNMAP, BASE + 20 * P)
    });
    refused(&mm, Errno::EFAULT, |mm| mm.mremap(BASE + 4 * P, P, 2 * P, MremapFlags::NONE, 0));
    // Growing across the end of the area, or into the area after it without MAYMOVE.
    refused(&mm, Errno::EFAULT, |mm| mm.mremap(BASE, 6 * P, 8 * P, MremapFlags::MAYMOVE, 0));
    mm.mmap(BASE + 4 * P, P, Prot::READ, anon_fixed(), None, 0).unwrap();
    refused(&mm, Errno::ENOMEM, |mm| mm.mremap(BASE, 4 * P, 6 * P, MremapFlags::NONE, 0));
    // A move over a hole at its start.
    refused(&mm, Errno::EFAULT, |mm| mm.mremap(BASE + 5 * P, 3 * P, 3 * P, moved, BASE + 20 * P));
    // Private memory cannot be "duplicated" with old_len 0.
    refused(&mm, Errno::EINVAL, |mm| mm.mremap(BASE, 0, P, MremapFlags::MAYMOVE, 0));
    mm.mseal(BASE + 8 * P, 4 * P, MsealFlags::NONE).unwrap();
    refused(&mm, Errno::EPERM, |mm| mm.mremap(BASE + 8 * P, 4 * P, 2 * P, MremapFlags::NONE, 0));
    refused(&mm, Errno::EPERM, |mm| mm.mremap(BASE + 8 * P, 4 * P, 4 * P, moved, BASE + 20 * P));
}

#[test]
fn faults_signal_without_changing_anything() {
    let mm = two_areas();
    let before = state(&mm);
    assert_eq!(mm.fault(BASE + 5 * P, Access::Read).map(drop), Err(Signal::Segv));
    assert_eq!(mm.fault(BASE + 8 * P, Access::Write).map(drop), Err(Signal::Segv));
    assert_eq!(mm.fault(BASE + 8 * P, Access::Read).map(drop), Ok(()));
    assert_eq!(state(&mm), before, "a read fault allocates nothing");
    // Past the end of a file: SIGBUS.
    let file = OpenFile::read_write(File::with_pages("f", 1));
    mm.mmap(BASE + 20 * P, 2 * P, Prot::READ, MapFlags::SHARED | MapFlags::FIXED, Some(&file), 0).unwrap();
    assert_eq!(mm.fault(BASE + 21 * P, Access::Read).map(drop), Err(Signal::Bus));
    // A guard page.
    mm.madvise(BASE, P, Advice::GuardInstall).unwrap();
    assert_eq!(mm.fault(BASE, Access::Write).map(drop), Err(Signal::Segv));
    assert_eq!(mm.fault(BASE + P, Access::Write).map(drop), Ok(()));
}

#[test]
fn brk_refusals_leave_the_heap() {
    let mm = Mm::new();
    let start = mm.brk(0);
    assert_eq!(mm.brk(start + 3 * P), start + 3 * P);
    let before = state(&mm);
    assert_eq!(mm.brk(start - P), start + 3 * P);
    // Growing into a mapping above is refused.
    mm.mmap(start + 5 * P, P, RW, anon_fixed(), None, 0).unwrap();
    let with_neighbour = state(&mm);
    assert_eq!(mm.brk(start + 5 * P), start + 3 * P);
    assert_eq!(state(&mm), with_neighbour);
    assert_eq!(before.len() + 1, with_neighbour.len());
}

#[test]
fn fork_does_not_change_the_parent() {
    let mm = two_areas();
    mm.fault(BASE, Access::Write).unwrap();
    mm.madvise(BASE + 8 * P, 4 * P, Advice::DontFork).unwrap();
    let before = state(&mm);
    let child = mm.fork().unwrap();
    assert_eq!(state(&mm), before);
    assert_eq!(child.snapshot().map_count(), 1);
}

#[test]
fn install_refuses_bad_ranges_and_overlaps() {
    use vma::Vma;
    let mm = Mm::new();
    mm.install(Vma::new(BASE, BASE + 4 * P, 0, VmFlags::READ)).unwrap();
    let task_size = mm.layout().task_size;
    for (start, end) in [(BASE + 8 * P + 1, BASE + 9 * P), (BASE + 8 * P, BASE + 8 * P), (task_size, task_size + P)] {
        refused(&mm, Errno::EINVAL, |mm| mm.install(Vma::new(start, end, 0, VmFlags::READ)));
    }
    refused(&mm, Errno::EEXIST, |mm| mm.install(Vma::new(BASE + 3 * P, BASE + 5 * P, 0, VmFlags::READ)));
    refused(&mm, Errno::EEXIST, |mm| mm.install(Vma::new(BASE - P, BASE + P, 0, VmFlags::READ)));
    let limited = Mm::with_layout(Default::default(), Limits { max_map_count: 1, ..Default::default() });
    limited.install(Vma::new(BASE, BASE + P, 0, VmFlags::READ)).unwrap();
    refused(&limited, Errno::ENOMEM, |mm| mm.install(Vma::new(BASE + 2 * P, BASE + 3 * P, 0, VmFlags::READ)));
}

#[test]
fn mlockall_refusals_change_nothing() {
    use mm::MlockallFlags as Mcl;
    let mm = Mm::new();
    mm.mmap(BASE, 2 * P, RW, anon_fixed(), None, 0).unwrap();
    for flags in [Mcl::NONE, Mcl::ONFAULT, Mcl::from_bits(8), Mcl::CURRENT | Mcl::from_bits(8)] {
        refused(&mm, Errno::EINVAL, |mm| mm.mlockall(flags));
    }
    let no_allowance = Limits { memlock: 0, ipc_lock: false, ..Limits::default() };
    let mm = Mm::with_layout(Default::default(), no_allowance);
    mm.mmap(BASE, 2 * P, RW, anon_fixed(), None, 0).unwrap();
    refused(&mm, Errno::EPERM, |mm| mm.mlockall(Mcl::CURRENT));
    // One page of allowance, two mapped: CURRENT is refused, FUTURE alone is not checked.
    let one_page = Limits { memlock: P, ipc_lock: false, ..Limits::default() };
    let mm = Mm::with_layout(Default::default(), one_page);
    mm.mmap(BASE, 2 * P, RW, anon_fixed(), None, 0).unwrap();
    refused(&mm, Errno::ENOMEM, |mm| mm.mlockall(Mcl::CURRENT | Mcl::FUTURE));
    assert_eq!(mm.mlockall(Mcl::FUTURE), Ok(()));
    // And a mapping that would pass the allowance is then refused, as a locked one.
    assert_eq!(mm.mmap(BASE + 4 * P, 2 * P, RW, anon_fixed(), None, 0), Err(Errno::EAGAIN));
}
