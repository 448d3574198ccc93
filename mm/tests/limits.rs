//! Resource limits at run time (`setrlimit`, `getrlimit`), `RLIMIT_DATA` as Linux enforces
//! it, and the layout that the stack limit gives. Every refusal is checked to leave the areas
//! as they were.

use mm::{
    Access, Errno, HardLimits, Layout, Limits, MapFlags, Mm, MremapFlags, Prot, Resource, Rlimit, Signal, RLIM_INFINITY,
};
use vma::PAGE_SIZE;

const P: u64 = PAGE_SIZE;
const MIB: u64 = 1 << 20;
const BASE: u64 = 0x1000_0000;
const RW: Prot = Prot::READ.union(Prot::WRITE);
const ANON_FIXED: MapFlags = MapFlags::PRIVATE.union(MapFlags::ANONYMOUS).union(MapFlags::FIXED);
const SHARED_FIXED: MapFlags = MapFlags::SHARED.union(MapFlags::ANONYMOUS).union(MapFlags::FIXED);

fn with_limits(limits: Limits) -> Mm {
    Mm::with_layout(Layout::default(), limits)
}

/// One area's start, end, pgoff, flags, whether it has an anon_vma, and identity.
type AreaState = (u64, u64, u64, u64, bool, u64);

/// Everything observable about the areas: the maps text and each area's fields.
fn state(mm: &Mm) -> (String, Vec<AreaState>) {
    let snap = mm.snapshot();
    let areas = snap.vmas().map(|v| (v.start, v.end, v.pgoff, v.flags.bits(), v.anon.is_some(), v.id().get()));
    (mm.maps(), areas.collect())
}

/// Runs `call`, which must fail with `errno`, and checks that nothing changed.
#[track_caller]
fn refused<T: std::fmt::Debug>(mm: &Mm, errno: Errno, call: impl FnOnce(&Mm) -> Result<T, Errno>) {
    let before = state(mm);
    let limits = mm.limits();
    assert_eq!(call(mm).unwrap_err(), errno);
    assert_eq!(state(mm), before, "a refused call changed the areas");
    assert_eq!(mm.limits(), limits, "a refused call changed the limits");
}

#[test]
fn setrlimit_checks_as_do_prlimit() {
    let root = Mm::new();
    refused(&root, Errno::EINVAL, |mm| mm.setrlimit(Resource::Data, Rlimit { cur: 2 * P, max: P }));
    // CAP_SYS_RESOURCE (the default) may raise a hard limit.
    let memlock = Rlimit { cur: 32 * MIB, max: 32 * MIB };
    root.setrlimit(Resource::Memlock, memlock).unwrap();
    assert_eq!(root.getrlimit(Resource::Memlock), memlock);
    assert_eq!(root.limits().memlock, 32 * MIB);

    let user = with_limits(Limits { sys_resource: false, ..Limits::default() });
    let raised = Rlimit { cur: 8 * MIB, max: 16 * MIB };
    refused(&user, Errno::EPERM, |mm| mm.setrlimit(Resource::Memlock, raised));
    // Lowering a hard limit needs no capability, raising it back does.
    user.setrlimit(Resource::Stack, Rlimit { cur: MIB, max: 64 * MIB }).unwrap();
    refused(&user, Errno::EPERM, |mm| mm.setrlimit(Resource::Stack, Rlimit { cur: MIB, max: 128 * MIB }));
    // The soft limit may rise up to the hard one.
    user.setrlimit(Resource::Stack, Rlimit { cur: 64 * MIB, max: 64 * MIB }).unwrap();
    assert_eq!(user.getrlimit(Resource::Stack), Rlimit { cur: 64 * MIB, max: 64 * MIB });
    // The resources are apart.
    assert_eq!(user.getrlimit(Resource::AddressSpace), Rlimit::UNLIMITED);
}

#[test]
fn a_soft_limit_above_its_hard_limit_at_creation_raises_the_hard_limit() {
    let mm = with_limits(Limits { memlock: 16 * MIB, ..Limits::default() });
    assert_eq!(mm.getrlimit(Resource::Memlock), Rlimit { cur: 16 * MIB, max: 16 * MIB });
    assert_eq!(mm.limits().hard, HardLimits { memlock: 16 * MIB, ..HardLimits::default() });
}

#[test]
fn rlimit_data_refuses_private_writable_mappings_only() {
    let mm = with_limits(Limits { data: 4 * P, ..Limits::default() });
    mm.mmap(BASE, 3 * P, RW, ANON_FIXED, None, 0).unwrap();
    refused(&mm, Errno::ENOMEM, |mm| mm.mmap(BASE + 8 * P, 2 * P, RW, ANON_FIXED, None, 0));
    refused(&mm, Errno::ENOMEM, |mm| mm.mmap(0, 2 * P, RW, ANON_FIXED.without(MapFlags::FIXED), None, 0));
    // Not data: read-only, shared, or a stack (VM_STACK is VM_GROWSDOWN on x86_64).
    mm.mmap(BASE + 8 * P, 8 * P, Prot::READ, ANON_FIXED, None, 0).unwrap();
    mm.mmap(BASE + 16 * P, 8 * P, RW, SHARED_FIXED, None, 0).unwrap();
    mm.mmap(BASE + 32 * P, 8 * P, RW, ANON_FIXED | MapFlags::GROWSDOWN, None, 0).unwrap();
    // The pages a fixed mapping replaces are subtracted: 3 data pages, 4 new over them.
    mm.mmap(BASE, 4 * P, RW, ANON_FIXED, None, 0).unwrap();
    refused(&mm, Errno::ENOMEM, |mm| mm.mmap(BASE + 48 * P, P, RW, ANON_FIXED, None, 0));
}

#[test]
fn a_zero_data_limit_allows_up_to_the_hard_limit() {
    // may_expand_vm's allowance for Valgrind, which sets the soft limit to 0.
    let hard = HardLimits { data: 2 * P, ..HardLimits::default() };
    let mm = with_limits(Limits { data: 0, hard, ..Limits::default() });
    mm.mmap(BASE, 2 * P, RW, ANON_FIXED, None, 0).unwrap();
    refused(&mm, Errno::ENOMEM, |mm| mm.mmap(BASE + 4 * P, P, RW, ANON_FIXED, None, 0));
    let strict = with_limits(Limits { data: 0, hard: HardLimits { data: 0, ..hard }, ..Limits::default() });
    refused(&strict, Errno::ENOMEM, |mm| mm.mmap(BASE, P, RW, ANON_FIXED, None, 0));
}

#[test]
fn brk_checks_the_heap_size_against_rlimit_data() {
    let mm = with_limits(Limits { data: 4 * P, ..Limits::default() });
    let start = mm.brk(0);
    assert_eq!(mm.brk(start + 4 * P), start + 4 * P);
    let before = state(&mm);
    assert_eq!(mm.brk(start + 4 * P + 1), start + 4 * P);
    assert_eq!(state(&mm), before);
    // check_data_rlimit looks at the new break, also when the heap shrinks.
    mm.setrlimit(Resource::Data, Rlimit { cur: 2 * P, max: RLIM_INFINITY }).unwrap();
    assert_eq!(mm.brk(start + 3 * P), start + 4 * P);
    assert_eq!(state(&mm), before);
    assert_eq!(mm.brk(start + 2 * P), start + 2 * P);
}

#[test]
fn brk_counts_the_other_data_mappings() {
    let mm = with_limits(Limits { data: 4 * P, ..Limits::default() });
    mm.mmap(BASE, 3 * P, RW, ANON_FIXED, None, 0).unwrap();
    let start = mm.brk(0);
    let before = state(&mm);
    // The heap's 2 pages pass check_data_rlimit; with the 3 mapped ones they pass the limit.
    assert_eq!(mm.brk(start + 2 * P), start);
    assert_eq!(state(&mm), before);
    assert_eq!(mm.brk(start + P), start + P);
}

#[test]
fn mprotect_to_writable_counts_against_rlimit_data() {
    let mm = with_limits(Limits { data: 2 * P, ..Limits::default() });
    mm.mmap(BASE, 4 * P, Prot::READ, ANON_FIXED, None, 0).unwrap();
    refused(&mm, Errno::ENOMEM, |mm| mm.mprotect(BASE, 4 * P, RW));
    mm.mprotect(BASE, 2 * P, RW).unwrap();
    // Already data before and after: the limit refuses both, so the change goes through.
    mm.mprotect(BASE, 2 * P, RW | Prot::EXEC).unwrap();
    refused(&mm, Errno::ENOMEM, |mm| mm.mprotect(BASE + 2 * P, P, RW));
    // Shared memory is not data.
    mm.mmap(BASE + 8 * P, 4 * P, Prot::READ, SHARED_FIXED, None, 0).unwrap();
    mm.mprotect(BASE + 8 * P, 4 * P, RW).unwrap();
}

#[test]
fn mremap_growth_and_dontunmap_count_against_rlimit_data() {
    let mm = with_limits(Limits { data: 5 * P, ..Limits::default() });
    mm.mmap(BASE, 2 * P, RW, ANON_FIXED, None, 0).unwrap();
    refused(&mm, Errno::ENOMEM, |mm| mm.mremap(BASE, 2 * P, 6 * P, MremapFlags::NONE, 0));
    assert_eq!(mm.mremap(BASE, 2 * P, 3 * P, MremapFlags::NONE, 0), Ok(BASE));
    // A don't-unmap move keeps the source: its pages would count twice.
    let dontunmap = MremapFlags::MAYMOVE | MremapFlags::DONTUNMAP;
    refused(&mm, Errno::ENOMEM, |mm| mm.mremap(BASE, 3 * P, 3 * P, dontunmap, 0));
    // A read-only area grows past the data limit.
    mm.mmap(BASE + 16 * P, P, Prot::READ, ANON_FIXED, None, 0).unwrap();
    assert_eq!(mm.mremap(BASE + 16 * P, P, 8 * P, MremapFlags::NONE, 0), Ok(BASE + 16 * P));
}

#[test]
fn the_stack_limit_set_at_run_time_bounds_stack_growth() {
    let mm = Mm::new();
    let top = BASE + 64 * P;
    mm.mmap(top - 4 * P, 4 * P, RW, ANON_FIXED | MapFlags::GROWSDOWN, None, 0).unwrap();
    let layout = *mm.layout();
    mm.setrlimit(Resource::Stack, Rlimit { cur: 5 * P, max: RLIM_INFINITY }).unwrap();
    assert_eq!(mm.fault(top - 5 * P, Access::Write).map(drop), Ok(()));
    assert_eq!(mm.fault(top - 6 * P, Access::Write).map(drop), Err(Signal::Segv));
    assert_eq!(mm.snapshot().find(top - P).unwrap().start, top - 5 * P);
    mm.setrlimit(Resource::Stack, Rlimit { cur: 8 * MIB, max: RLIM_INFINITY }).unwrap();
    assert_eq!(mm.fault(top - 6 * P, Access::Write).map(drop), Ok(()));
    assert_eq!(mm.snapshot().find(top - P).unwrap().start, top - 6 * P);
    // As in Linux, the layout was fixed when the space was made.
    assert_eq!(*mm.layout(), layout);
}

#[test]
fn address_space_and_memlock_limits_set_at_run_time_apply_at_once() {
    let mm = with_limits(Limits { ipc_lock: false, ..Limits::default() });
    mm.mmap(BASE, 4 * P, RW, ANON_FIXED, None, 0).unwrap();
    mm.setrlimit(Resource::AddressSpace, Rlimit { cur: 5 * P, max: RLIM_INFINITY }).unwrap();
    mm.mmap(BASE + 8 * P, P, Prot::READ, ANON_FIXED, None, 0).unwrap();
    refused(&mm, Errno::ENOMEM, |mm| mm.mmap(BASE + 16 * P, P, Prot::READ, ANON_FIXED, None, 0));

    mm.setrlimit(Resource::Memlock, Rlimit { cur: P, max: 8 * MIB }).unwrap();
    refused(&mm, Errno::ENOMEM, |mm| mm.mlock(BASE, 2 * P));
    mm.mlock(BASE, P).unwrap();
}

#[test]
fn mmap_base_follows_the_stack_limit_as_measured_on_linux() {
    // `setarch x86_64 -R cat /proc/self/maps` under `ulimit -s KIB` on Linux 6.18 x86_64: ld.so
    // is the first mapping the kernel places, directly below mmap_base, so the end of its last
    // segment is mmap_base.
    let measured =
        [(8192, 0x7fff_f7ff_f000), (65536, 0x7fff_f7ff_f000), (131_072, 0x7fff_f7ef_f000), (200_000, 0x7fff_f3ba_f000)];
    for (kib, mmap_base) in measured {
        let layout = Layout::for_stack_limit(kib * 1024);
        assert_eq!(layout.mmap_base, mmap_base, "ulimit -s {kib}");
        assert!(layout.top_down);
    }
    // `ulimit -s unlimited`: still top-down, 5/6 of the task size below its top.
    let unlimited = Layout::for_stack_limit(RLIM_INFINITY);
    assert_eq!(unlimited.mmap_base, 0x1555_5555_6000);
    assert!(unlimited.top_down);
}

#[test]
fn mmap_base_is_rounded_up_to_a_page() {
    let task_size = Layout::default().task_size;
    let room = 200 * MIB + MIB; // the stack limit and the guard gap
    assert_eq!(Layout::for_stack_limit(200 * MIB).mmap_base, task_size - room);
    assert_eq!(Layout::for_stack_limit(200 * MIB + 1).mmap_base, task_size - room);
    assert_eq!(Layout::for_stack_limit(200 * MIB + P).mmap_base, task_size - room - P);
}

#[test]
fn the_default_layout_is_linuxs_for_the_default_stack_limit() {
    assert_eq!(Layout::default(), Layout::for_stack_limit(Limits::default().stack));
    let layout = Layout::for_stack_limit(200_000 * 1024);
    let mm = Mm::with_layout(layout, Limits { stack: 200_000 * 1024, ..Limits::default() });
    assert_eq!(mm.mmap(0, P, Prot::READ, MapFlags::PRIVATE | MapFlags::ANONYMOUS, None, 0), Ok(0x7fff_f3ba_e000));
}

#[test]
fn debug_shows_the_layout_limits_heap_and_areas() {
    let mm = with_limits(Limits { data: 64 * P, ..Limits::default() });
    let start = mm.brk(0);
    mm.brk(start + P);
    mm.mmap(BASE, 2 * P, RW, ANON_FIXED, None, 0).unwrap();
    let shown = format!("{mm:#?}");
    for want in [
        "mmap_base: 0x7ffff7fff000,",
        "data: 262144,",
        "address_space: unlimited,",
        "start_brk: 0x555556000000,",
        "brk: 0x555556001000,",
        "map_count: 2,",
        "        10000000-10002000 rw-p 00000000 00:00 0,",
        "        555556000000-555556001000 rw-p 00000000 00:00 0                          [heap],",
    ] {
        assert!(shown.contains(want), "{want:?} is not in\n{shown}");
    }
    assert!(format!("{:?}", mm.snapshot()).starts_with("MmSnapshot { map_count: 2, areas: [10000000-10002000 rw-p"));
}
