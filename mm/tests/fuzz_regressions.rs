//! Regressions found by the `mm_calls` fuzz target (fuzz/): each test is a minimised input,
//! replayed as plain calls.

use mm::{Access, Advice, Errno, Layout, Limits, MapFlags, Mm, MremapFlags, Prot, Signal};
use vma::PAGE_SIZE;

const P: u64 = PAGE_SIZE;

/// brk past the task size was taken: the heap became an area ending far above the user
/// address space. Linux's check_brk_limits asks get_unmapped_area for the new part as a
/// fixed range, which refuses it (ENOMEM), so brk returns the old break.
#[test]
fn brk_past_the_task_size_is_refused() {
    let mm = Mm::new();
    let start = mm.brk(0);
    let task_size = mm.layout().task_size;
    for asked in [0x7d40_ffff_ffff_ffff, task_size + 1, task_size + P, u64::MAX - P] {
        assert_eq!(mm.brk(asked), start, "brk({asked:#x})");
        assert_eq!(mm.snapshot().map_count(), 0);
    }
    // Up to the task size exactly is a valid fixed range (nothing is in the way).
    assert_eq!(mm.brk(task_size), task_size);
    let heap = mm.snapshot().find(start).cloned().unwrap();
    assert_eq!((heap.start, heap.end), (start, task_size));
    assert_eq!(mm.validate(), Ok(()));
}

fn anon_fixed() -> MapFlags {
    MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::FIXED
}

/// A shrinking mremap whose old length reaches past `u64::MAX` (page-aligned without
/// wrapping) overflowed `addr + old_len`. The kernel unmaps the tail with do_vmi_munmap,
/// whose checks refuse a tail past the task size: EINVAL, nothing changed. The same holds for
/// a shrinking move to a fixed address.
#[test]
fn mremap_shrink_with_a_huge_old_length_is_einval() {
    let mm = Mm::new();
    let base = 0x10_0000_0000;
    mm.mmap(base, 8 * P, Prot::READ, anon_fixed(), None, 0).unwrap();
    let before: Vec<_> = mm.snapshot().vmas().map(|v| (v.start, v.end, v.id())).collect();
    for old_len in [u64::MAX - 15774, u64::MAX - (P - 1), mm.layout().task_size] {
        assert_eq!(mm.mremap(base, old_len, 2 * P, MremapFlags::NONE, 0), Err(Errno::EINVAL), "old_len {old_len:#x}");
        let after: Vec<_> = mm.snapshot().vmas().map(|v| (v.start, v.end, v.id())).collect();
        assert_eq!(after, before);
    }
    let fixed = MremapFlags::MAYMOVE | MremapFlags::FIXED;
    assert_eq!(mm.mremap(base, u64::MAX - 15774, 2 * P, fixed, base - 0x100_0000), Err(Errno::EINVAL));
    assert_eq!(mm.validate(), Ok(()));
    // A tail that stays below the task size is still unmapped, even past the area.
    assert_eq!(mm.mremap(base, 16 * P, 2 * P, MremapFlags::NONE, 0), Ok(base));
    let area = mm.snapshot().find(base).cloned().unwrap();
    assert_eq!((area.start, area.end), (base, base + 2 * P));
}

/// A same-size fixed move from an address whose range wraps past `u64::MAX` overflowed
/// `addr + old_len`. The kernel's sum wraps and its walk over `[addr, end)` meets no area:
/// EFAULT.
#[test]
fn mremap_move_of_a_wrapping_range_is_efault() {
    let mm = Mm::new();
    mm.mmap(0x10_0000_0000, P, Prot::READ, anon_fixed(), None, 0).unwrap();
    let fixed = MremapFlags::MAYMOVE | MremapFlags::FIXED;
    for (addr, len) in [(u64::MAX - (P - 1), P), (u64::MAX - (P - 1), 2 * P), (u64::MAX - 7 * P - (P - 1), 16 * P)] {
        assert_eq!(mm.mremap(addr, len, len, fixed, 0x20_0000_0000), Err(Errno::EFAULT), "addr {addr:#x}");
    }
    assert_eq!(mm.snapshot().map_count(), 1);
}

/// MAP_FIXED_NOREPLACE at an unaligned address was rounded down like a hint and mapped.
/// do_mmap turns NOREPLACE into MAP_FIXED before it rounds hints, so the address stays
/// unaligned and get_unmapped_area refuses it: EINVAL. (Below `mmap_min_addr` it is not
/// raised either: EPERM.)
#[test]
fn fixed_noreplace_at_an_unaligned_address_is_einval() {
    let mm = Mm::new();
    let anon = MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::FIXED_NOREPLACE;
    assert_eq!(mm.mmap(0x10_0005_6153, P, Prot::READ, anon, None, 0), Err(Errno::EINVAL));
    assert_eq!(mm.mmap(P, P, Prot::READ, anon, None, 0), Err(Errno::EPERM));
    assert_eq!(mm.snapshot().map_count(), 0);
    assert_eq!(mm.mmap(0x10_0005_6000, P, Prot::READ, anon, None, 0), Ok(0x10_0005_6000));
}

/// mlock of a length close to 2^64 without CAP_IPC_LOCK overflowed the lock-limit check,
/// which multiplied the pages back to bytes. The kernel compares pages with the limit in
/// pages: ENOMEM, nothing locked.
#[test]
fn mlock_of_a_huge_length_over_the_lock_limit_is_enomem() {
    let limits = Limits { ipc_lock: false, ..Limits::default() };
    let mm = Mm::with_layout(Layout::default(), limits);
    let base = 0x10_0000_0000;
    mm.mmap(base, 4 * P, Prot::READ, anon_fixed(), None, 0).unwrap();
    mm.mlock(base, 2 * P).unwrap();
    assert_eq!(mm.mlock(base + 4 * P, u64::MAX - 50372), Err(Errno::ENOMEM));
    assert_eq!(mm.mlock(base, u64::MAX - 2 * P), Err(Errno::ENOMEM));
    let locked: Vec<_> =
        mm.snapshot().vmas().map(|v| (v.start, v.end, v.flags.contains(vma::VmFlags::LOCKED))).collect();
    assert_eq!(locked, [(base, base + 2 * P, true), (base + 2 * P, base + 4 * P, false)]);
}

/// fork copied guard markers one page at a time (a maple transaction per page), so a fork
/// after MADV_GUARD_INSTALL over a large area took time in proportion to its pages: the
/// fuzz target's 19 forks of a 93 MiB heap ran for seconds, and one fork of the 256 GiB
/// area here for many minutes. The markers now go over as ranges.
#[test]
fn fork_copies_guard_markers_by_range() {
    let mm = Mm::new();
    let base = 0x100_0000_0000;
    let len = 1 << 38; // 2^26 pages
    let rw = Prot::READ | Prot::WRITE;
    mm.mmap(base, len, rw, anon_fixed(), None, 0).unwrap();
    mm.madvise(base, len, Advice::GuardInstall).unwrap();
    mm.madvise(base + 4 * P, 2 * P, Advice::GuardRemove).unwrap();
    let child = mm.fork().unwrap();
    let child = child.fork().unwrap();
    for (addr, guarded) in [(base, true), (base + 3 * P, true), (base + 4 * P, false), (base + 5 * P, false)] {
        let expected = if guarded { Err(Signal::Segv) } else { Ok(()) };
        assert_eq!(child.fault(addr, Access::Read).map(drop), expected, "page {addr:#x}");
    }
    assert_eq!(child.fault(base + len - P, Access::Write).map(drop), Err(Signal::Segv));
}
