//! What the operations do when they succeed, beyond what the kernel cases show: placement by
//! get_unmapped_area, the heap, fork, names, maps output, population and faults.

use mm::{Access, Advice, Layout, Limits, MapFlags, Mm, MremapFlags, OpenFile, Prot, Signal};
use vma::{File, VmFlags, PAGE_SIZE};

const P: u64 = PAGE_SIZE;
const RW: Prot = Prot::from_bits(3);

fn anon() -> MapFlags {
    MapFlags::PRIVATE | MapFlags::ANONYMOUS
}

#[test]
fn top_down_placement_fills_down_from_mmap_base() {
    let mm = Mm::new();
    let base = mm.layout().mmap_base;
    let a = mm.mmap(0, 4 * P, Prot::READ, anon(), None, 0).unwrap();
    assert_eq!(a, base - 4 * P);
    let b = mm.mmap(0, 2 * P, RW, anon(), None, 0).unwrap();
    assert_eq!(b, a - 2 * P);
    // A hole that fits is reused: the highest one first.
    mm.munmap(a, P).unwrap();
    assert_eq!(mm.mmap(0, P, Prot::READ, anon(), None, 0).unwrap(), a);
}

#[test]
fn bottom_up_placement_fills_up_from_a_third_of_the_task() {
    let layout = Layout { top_down: false, ..Layout::default() };
    let mm = Mm::with_layout(layout, Limits::default());
    let a = mm.mmap(0, 4 * P, Prot::READ, anon(), None, 0).unwrap();
    assert_eq!(a, layout.unmapped_base());
    let b = mm.mmap(0, P, Prot::READ, anon(), None, 0).unwrap();
    assert_eq!(b, a + 4 * P);
}

#[test]
fn a_free_hint_is_taken_and_a_busy_one_is_not() {
    let mm = Mm::new();
    let hint = 0x5000_0000;
    assert_eq!(mm.mmap(hint, 2 * P, RW, anon(), None, 0).unwrap(), hint);
    let moved = mm.mmap(hint + P, P, RW, anon(), None, 0).unwrap();
    assert_ne!(moved, hint + P);
    // An unaligned hint is rounded down to its page.
    assert_eq!(mm.mmap(hint + 10 * P + 7, P, RW, anon(), None, 0).unwrap(), hint + 10 * P);
}

#[test]
fn huge_page_multiples_are_aligned() {
    let mm = Mm::new();
    mm.mmap(0, 3 * P, RW, anon(), None, 0).unwrap();
    let huge = 2 << 20;
    let a = mm.mmap(0, 2 * huge, RW, anon(), None, 0).unwrap();
    assert_eq!(a % huge, 0);
}

#[test]
fn placement_keeps_the_stack_guard_gap() {
    let layout = Layout::default();
    let mm = Mm::new();
    let stack_top = layout.mmap_base;
    let fixed = anon() | MapFlags::FIXED;
    mm.mmap(stack_top - 4 * P, 4 * P, RW, fixed | MapFlags::GROWSDOWN, None, 0).unwrap();
    let a = mm.mmap(0, P, RW, anon(), None, 0).unwrap();
    assert!(a + P <= stack_top - 4 * P - layout.stack_guard_gap, "{a:#x} is inside the guard gap");
}

#[test]
fn the_heap_grows_in_one_area_and_shrinks() {
    let mm = Mm::new();
    let start = mm.brk(0);
    assert_eq!(mm.brk(start + P), start + P);
    assert_eq!(mm.brk(start + 5 * P + 1), start + 5 * P + 1);
    let snap = mm.snapshot();
    let heap = snap.find(start).unwrap();
    assert_eq!((heap.start, heap.end), (start, start + 6 * P));
    assert!(heap.flags.contains(VmFlags::ACCOUNT | VmFlags::READ | VmFlags::WRITE));
    drop(snap);
    assert_eq!(mm.brk(start + 2 * P), start + 2 * P);
    assert_eq!(mm.snapshot().find(start).unwrap().end, start + 2 * P);
    assert!(mm.maps().contains("[heap]"));
}

#[test]
fn the_heap_never_grows_into_the_area_below_its_start() {
    let mm = Mm::new();
    let start = mm.brk(0);
    // The executable's bss, right below the heap, is compatible but stays apart.
    let bss = mm.mmap(start - P, P, RW, anon() | MapFlags::FIXED, None, 0).unwrap();
    assert_eq!(mm.brk(start + 2 * P), start + 2 * P);
    let snap = mm.snapshot();
    assert_eq!(snap.find(bss).unwrap().end, start);
    assert_eq!(snap.find(start).unwrap().start, start);
}

#[test]
fn fork_copies_what_linux_copies() {
    let mm = Mm::new();
    let fixed = anon() | MapFlags::FIXED;
    let base = 0x4000_0000;
    for i in 0..4 {
        mm.mmap(base + 8 * i * P, 4 * P, RW, fixed, None, 0).unwrap();
        mm.fault(base + 8 * i * P, Access::Write).unwrap();
    }
    mm.madvise(base, 4 * P, Advice::DontFork).unwrap();
    mm.madvise(base + 8 * P, 4 * P, Advice::WipeOnFork).unwrap();
    mm.mlock(base + 16 * P, 4 * P).unwrap();
    mm.madvise(base + 24 * P, P, Advice::GuardInstall).unwrap();
    let child = mm.fork().unwrap();
    let snap = child.snapshot();
    assert!(snap.find(base).is_none(), "don't-copy areas stay behind");
    assert!(snap.find(base + 8 * P).unwrap().anon.is_none(), "wipe-on-fork starts clean");
    assert!(!snap.find(base + 16 * P).unwrap().flags.contains(VmFlags::LOCKED), "locks are not inherited");
    let copy = snap.find(base + 24 * P).unwrap();
    assert_eq!(copy.anon.as_ref().unwrap().chain_len, 2);
    assert_eq!(child.fault(base + 24 * P, Access::Read).map(drop), Err(Signal::Segv), "guard markers are copied");
    // Two children's copies never share an anon_vma, so a new neighbour cannot borrow one.
    let parent = mm.snapshot();
    assert!(!copy.anon.as_ref().unwrap().same(parent.find(base + 24 * P).unwrap().anon.as_ref().unwrap()));
}

#[test]
fn names_split_and_merge() {
    let mm = Mm::new();
    let a = mm.mmap(0, 4 * P, RW, anon(), None, 0).unwrap();
    mm.set_anon_name(a, 2 * P, Some("heap")).unwrap();
    assert_eq!(mm.snapshot().map_count(), 2);
    mm.set_anon_name(a + 2 * P, 2 * P, Some("heap")).unwrap();
    assert_eq!(mm.snapshot().map_count(), 1);
    let file = OpenFile::read_write(File::with_pages("f", 4));
    let f = mm.mmap(0, P, Prot::READ, MapFlags::PRIVATE, Some(&file), 0).unwrap();
    assert_eq!(mm.set_anon_name(f, P, Some("x")), Err(mm::Errno::EBADF));
}

#[test]
fn maps_renders_like_proc() {
    let mm = Mm::new();
    let fixed = MapFlags::FIXED;
    let file = OpenFile::read_write(File::with_pages("/usr/lib/libdemo.so", 16));
    mm.mmap(0x40_0000, 2 * P, Prot::READ | Prot::EXEC, MapFlags::PRIVATE | fixed, Some(&file), P).unwrap();
    mm.mmap(0x40_2000, P, RW, MapFlags::SHARED | MapFlags::ANONYMOUS | fixed, None, 0).unwrap();
    let maps = mm.maps();
    let lines: Vec<&str> = maps.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].starts_with("00400000-00402000 r-xp 00001000 00:00 "), "{}", lines[0]);
    assert!(lines[0].ends_with(" /usr/lib/libdemo.so"));
    assert_eq!(lines[0].find('/'), Some(73), "names start at column 73");
    assert!(lines[1].starts_with("00402000-00403000 rw-s 00000000 00:01 "));
    assert!(lines[1].ends_with("/dev/zero (deleted)"));
    let snap = mm.snapshot();
    assert_eq!(mm::vm_flags_line(snap.find(0x40_2000).unwrap()), "VmFlags: rd wr sh mr mw me ms \n");
}

#[test]
fn populate_and_lock_allocate_anon_vmas_for_private_writable_memory() {
    let mm = Mm::new();
    let a = mm.mmap(0, 4 * P, RW, anon() | MapFlags::POPULATE, None, 0).unwrap();
    assert!(mm.snapshot().find(a).unwrap().anon.is_some());
    let b = mm.mmap(0, 4 * P, Prot::READ, anon() | MapFlags::POPULATE, None, 0).unwrap();
    assert!(mm.snapshot().find(b).unwrap().anon.is_none(), "read population maps the zero page");
    let c = mm.mmap(0, 4 * P, RW, anon(), None, 0).unwrap();
    mm.mlock2(c, 4 * P, mm::MlockFlags::ONFAULT).unwrap();
    assert!(mm.snapshot().find(c).unwrap().anon.is_none(), "lock-on-fault populates nothing");
    mm.madvise(c, P, Advice::PopulateWrite).unwrap();
    assert!(mm.snapshot().find(c).unwrap().anon.is_some());
}

#[test]
fn faults_grow_stacks_and_stop_at_the_guard_gap() {
    let mm = Mm::new();
    let fixed = anon() | MapFlags::FIXED;
    let top = 0x7000_0000;
    mm.mmap(top - 4 * P, 4 * P, RW, fixed | MapFlags::GROWSDOWN, None, 0).unwrap();
    mm.fault(top - 10 * P, Access::Write).unwrap();
    let stack = mm.snapshot().find(top - 10 * P).cloned().unwrap();
    assert_eq!(stack.start, top - 10 * P);
    assert!(stack.anon.is_some());
    // An accessible area 100 pages below: growing closer than 256 pages is refused.
    mm.mmap(top - 110 * P, P, Prot::READ, fixed, None, 0).unwrap();
    assert_eq!(mm.fault(top - 20 * P, Access::Write).map(drop), Err(Signal::Segv));
    // An inaccessible one does not count.
    mm.mprotect(top - 110 * P, P, Prot::NONE).unwrap();
    mm.fault(top - 20 * P, Access::Read).unwrap();
}

#[test]
fn mremap_moves_keep_or_reset_the_offset() {
    let mm = Mm::new();
    let fixed = anon() | MapFlags::FIXED;
    let base = 0x2000_0000;
    mm.mmap(base, 4 * P, RW, fixed, None, 0).unwrap();
    let moved = MremapFlags::MAYMOVE | MremapFlags::FIXED;
    mm.mremap(base, 4 * P, 4 * P, moved, base + 100 * P).unwrap();
    assert_eq!(mm.snapshot().find(base + 100 * P).unwrap().pgoff, (base + 100 * P) / P, "unfaulted: new offset");
    mm.fault(base + 100 * P, Access::Write).unwrap();
    mm.mremap(base + 100 * P, 4 * P, 4 * P, moved, base + 200 * P).unwrap();
    assert_eq!(mm.snapshot().find(base + 200 * P).unwrap().pgoff, (base + 100 * P) / P, "faulted: keeps it");
    // MAYMOVE growth past a neighbour moves the area.
    mm.mmap(base + 204 * P, P, Prot::READ, fixed, None, 0).unwrap();
    let to = mm.mremap(base + 200 * P, 4 * P, 8 * P, MremapFlags::MAYMOVE, 0).unwrap();
    assert_ne!(to, base + 200 * P);
    assert_eq!(mm.snapshot().find(to).unwrap().end, to + 8 * P);
    assert!(mm.snapshot().find(base + 200 * P).is_none());
}

#[test]
fn installed_areas_stay_as_given_and_are_named_as_linux_names_them() {
    use vma::{VmOps, Vma};
    let top = 0x7fff_ffff_f000;
    let layout = mm::Layout { start_stack: top - 0x100, ..Default::default() };
    let mm = Mm::with_layout(layout, Default::default());
    let rw = VmFlags::READ | VmFlags::WRITE | VmFlags::MAYREAD | VmFlags::MAYWRITE | VmFlags::MAYEXEC;
    let stack = rw | VmFlags::GROWSDOWN | VmFlags::ACCOUNT;
    mm.install(Vma::new(top - 0x21000, top, (top - 0x21000) >> 12, stack)).unwrap();
    let special = VmFlags::READ | VmFlags::MAYREAD | VmFlags::IO | VmFlags::PFNMAP | VmFlags::DONTEXPAND;
    let vvar = VmOps::new().with_name("[vvar]");
    mm.install(Vma::new(0x7fff_f7fc_2000, 0x7fff_f7fc_6000, 0, special).with_ops(vvar)).unwrap();
    // Two installed neighbours with the same flags stay two areas: nothing merges.
    mm.install(Vma::new(0x1000_0000, 0x1000_1000, 0x1_0000, rw)).unwrap();
    mm.install(Vma::new(0x1000_1000, 0x1000_2000, 0x1_0001, rw)).unwrap();
    let maps = mm.maps();
    let names: Vec<&str> = maps.lines().map(|line| line.split_whitespace().nth(5).unwrap_or("")).collect();
    assert_eq!(names, ["", "", "[vvar]", "[stack]"], "{maps}");
    assert_eq!(mm.snapshot().map_count(), 4);
    // An area that ends where the heap starts (the bss) is not the heap, as in Linux.
    let start_brk = mm.layout().brk_start;
    mm.install(Vma::new(start_brk - 0x2000, start_brk, (start_brk - 0x2000) >> 12, rw)).unwrap();
    assert!(!mm.maps().contains("[heap]"));
    mm.brk(start_brk + 0x1000);
    assert_eq!(mm.maps().matches("[heap]").count(), 1);
    let maps = mm.maps();
    // A fork keeps the names (the special mapping's ops, the layout's stack).
    let child = mm.fork().unwrap();
    assert_eq!(child.maps(), maps);
}

#[test]
fn mlockall_locks_what_is_mapped_now_and_what_comes_later() {
    use mm::MlockallFlags as Mcl;
    let page = vma::PAGE_SIZE;
    let locked =
        |mm: &Mm, addr: u64| mm.snapshot().find(addr).unwrap().flags & (VmFlags::LOCKED | VmFlags::LOCKONFAULT);
    let anon = MapFlags::PRIVATE | MapFlags::ANONYMOUS;
    let rw = Prot::READ | Prot::WRITE;
    let mm = Mm::new();
    let a = mm.mmap(0, 2 * page, rw, anon, None, 0).unwrap();
    mm.mlockall(Mcl::CURRENT).unwrap();
    assert_eq!(locked(&mm, a), VmFlags::LOCKED);
    // Populated: the write faults gave the private writable area its anon_vma.
    assert!(mm.snapshot().find(a).unwrap().anon.is_some());
    // CURRENT alone leaves later mappings unlocked.
    let b = mm.mmap(0, page, Prot::READ, anon, None, 0).unwrap();
    assert_eq!(locked(&mm, b), VmFlags::EMPTY);
    // FUTURE alone changes no area that exists, and locks every new one (mmap and brk).
    mm.mlockall(Mcl::FUTURE).unwrap();
    assert_eq!((locked(&mm, a), locked(&mm, b)), (VmFlags::LOCKED, VmFlags::EMPTY));
    let c = mm.mmap(0, page, rw, anon, None, 0).unwrap();
    assert_eq!(locked(&mm, c), VmFlags::LOCKED);
    assert!(mm.snapshot().find(c).unwrap().anon.is_some());
    let start_brk = mm.brk(0);
    assert_eq!(mm.brk(start_brk + page), start_brk + page);
    assert_eq!(locked(&mm, start_brk), VmFlags::LOCKED);
    // A forked child locks nothing in the future, and its copies are unlocked.
    let child = mm.fork().unwrap();
    assert_eq!(locked(&child, a), VmFlags::EMPTY);
    let d = child.mmap(0, page, rw, anon, None, 0).unwrap();
    assert_eq!(locked(&child, d), VmFlags::EMPTY);
    // CURRENT | ONFAULT: every area locks on fault; nothing later is locked (no FUTURE).
    mm.mlockall(Mcl::CURRENT | Mcl::ONFAULT).unwrap();
    assert!(mm.snapshot().vmas().all(|v| v.flags.contains(VmFlags::LOCKED | VmFlags::LOCKONFAULT)));
    let e = mm.mmap(0, page, rw, anon, None, 0).unwrap();
    assert_eq!(locked(&mm, e), VmFlags::EMPTY);
    // munlockall: nothing locked, now or later.
    mm.mlockall(Mcl::FUTURE).unwrap();
    mm.munlockall().unwrap();
    assert!(mm.snapshot().vmas().all(|v| !v.flags.intersects(VmFlags::LOCKED | VmFlags::LOCKONFAULT)));
    let f = mm.mmap(0, page, rw, anon, None, 0).unwrap();
    assert_eq!(locked(&mm, f), VmFlags::EMPTY);
}
