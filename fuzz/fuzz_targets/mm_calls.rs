//! `mm::Mm` calls with unconstrained arguments.
//!
//! The input (decoded with `arbitrary`) chooses the limits of a fresh address space, then a
//! sequence of calls: mmap (any address, length, prot bits, map flags, file and offset),
//! munmap, mprotect, madvise (any advice number), mlock, mlock2 (any flags), munlock, mseal
//! (any flags), mremap (any flags and new address), brk, fork (going on in the child or in
//! the parent), the anonymous-area name prctl, and read or write faults at any address.
//! Addresses are raw `u64`s or picked near what is there (an arena, existing areas, the
//! heap, the layout's edges) so that calls meet areas often.
//!
//! After every call:
//! - nothing panicked, and the result is `Ok` or an `Errno`;
//! - the VMA tree validates (`VmaTree::validate`: maple's invariants, each area stored over
//!   its own range, the map count) and the areas are sorted, non-overlapping, page aligned,
//!   non-empty, inside `[mmap_min_addr, task_size]`, with access bits their `VM_MAY*` bits
//!   allow; at most one area past `max_map_count`;
//! - after an error the layout (every field of every area, and the maps text) is unchanged,
//!   except for the (call, errno) pairs where docs/mm.md says Linux is not atomic either
//!   ([`partial_effect_allowed`]); there the change must still keep what is mapped and what
//!   backs each page (only flags, anon_vmas and boundaries may change);
//! - after a success, what the call promises holds over its range (mapped, unmapped,
//!   protection, lock and seal bits), and a fork's child has the parent's areas.
#![no_main]

use std::sync::Arc;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use mm::{Access, Errno, Layout, Limits, MapFlags, MlockFlags, Mm, MremapFlags, MsealFlags, OpenFile, Prot};
use vma::{File, VmFlags, Vma, PAGE_SIZE};

const P: u64 = PAGE_SIZE;
/// Pages of the arena that `Addr::Arena` addresses.
const ARENA: u64 = 0x10_0000_0000;

#[derive(Arbitrary, Debug)]
struct Input {
    setup: Setup,
    calls: Vec<Call>,
}

/// The limits and layout of the address space.
#[derive(Arbitrary, Debug)]
struct Setup {
    /// `None`: the default (65530); else 1..=64.
    max_map_count: Option<u8>,
    /// RLIMIT_MEMLOCK in pages (`None`: the default 8 MiB).
    memlock_pages: Option<u8>,
    /// CAP_IPC_LOCK (the default: true).
    no_ipc_lock: bool,
    /// Commit limit in pages (`None`: overcommit).
    commit_pages: Option<u16>,
    /// RLIMIT_AS in pages (`None`: unlimited).
    address_space_pages: Option<u16>,
    /// RLIMIT_STACK in pages (`None`: 8 MiB).
    stack_pages: Option<u8>,
    bottom_up: bool,
    /// RLIMIT_DATA in pages (`None`: unlimited).
    data_pages: Option<u16>,
}

impl Setup {
    fn mm(&self) -> Mm {
        let mut limits = Limits::default();
        if let Some(n) = self.max_map_count {
            limits.max_map_count = usize::from(n % 64) + 1;
        }
        if let Some(pages) = self.memlock_pages {
            limits.memlock = u64::from(pages) * P;
        }
        limits.ipc_lock = !self.no_ipc_lock;
        limits.commit_pages = self.commit_pages.map(u64::from);
        if let Some(pages) = self.address_space_pages {
            limits.address_space = u64::from(pages) * P;
        }
        if let Some(pages) = self.stack_pages {
            limits.stack = u64::from(pages) * P;
        }
        if let Some(pages) = self.data_pages {
            limits.data = u64::from(pages) * P;
        }
        let layout = Layout { top_down: !self.bottom_up, ..Layout::default() };
        Mm::with_layout(layout, limits)
    }
}

/// An address.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Addr {
    /// Page `n` of the arena.
    Arena(u8),
    /// Page `n` of the arena plus a byte offset (usually unaligned).
    ArenaByte(u8, u16),
    /// A spot in the `n`-th area (modulo the count; the arena when there is none).
    Area(u8, Spot),
    /// `n` pages above (or below, `neg`) the start of the heap.
    Heap(u8, bool),
    Special(Special),
    Raw(u64),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Spot {
    Start,
    End,
    Middle,
    AfterStart(u8),
    BeforeEnd(u8),
    BelowStart(u8),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Special {
    Zero,
    OnePage,
    MinAddr,
    BelowMinAddr,
    TaskSize,
    TaskSizeLessPage,
    MmapBase,
    UnmappedBase,
    Max,
    MaxPage,
}

/// A length in bytes.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Len {
    Pages(u8),
    Bytes(u16),
    /// `n` huge pages (2 MiB).
    Huge(u8),
    /// `u64::MAX - n`: overflows.
    NearMax(u16),
    /// To the end (or just past it) of the area at the call's address.
    ToAreaEnd(u8),
    Raw(u64),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum ProtArg {
    Bits { rwx: u8, sem: bool, growsdown: bool, growsup: bool },
    Raw(u32),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum MapType {
    Shared,
    Private,
    SharedValidate,
    None,
    Other(u8),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum FlagsArg {
    Known {
        map_type: MapType,
        fixed: bool,
        noreplace: bool,
        anonymous: bool,
        growsdown: bool,
        locked: bool,
        noreserve: bool,
        populate: bool,
        nonblock: bool,
        stack: bool,
        /// Raw bits ored in (usually none).
        extra: Option<u32>,
    },
    Raw(u32),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
struct FileArg {
    /// One of the files made at the start (modulo their number).
    which: u8,
    read_only: bool,
    /// Opened without read access (EACCES).
    write_only: bool,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum AdviceArg {
    /// One of the advice numbers Linux knows (modulo their number).
    Known(u8),
    Raw(i32),
}

/// The advice numbers Linux 6.18 knows (100 and 101 are memory-failure injection).
const ADVICE: [i32; 27] =
    [0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 100, 101, 102, 103];

fn advice_number(arg: AdviceArg) -> i32 {
    match arg {
        AdviceArg::Known(n) => ADVICE[usize::from(n) % ADVICE.len()],
        AdviceArg::Raw(raw) => raw,
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum RemapFlagsArg {
    Known { maymove: bool, fixed: bool, dontunmap: bool },
    Raw(u32),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum BrkArg {
    /// The current break plus (or minus) `n` pages, plus a byte offset.
    Delta {
        pages: i16,
        bytes: u16,
    },
    At(Addr),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum NameArg {
    Clear,
    Good(u8),
    /// Not a valid name (EINVAL).
    Bad(u8),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Call {
    Mmap { addr: Addr, len: Len, prot: ProtArg, flags: FlagsArg, file: Option<FileArg>, offset: Len },
    Munmap { addr: Addr, len: Len },
    Mprotect { addr: Addr, len: Len, prot: ProtArg },
    Madvise { addr: Addr, len: Len, advice: AdviceArg },
    Mlock { addr: Addr, len: Len },
    Mlock2 { addr: Addr, len: Len, onfault: bool, extra: Option<u32> },
    Munlock { addr: Addr, len: Len },
    Mseal { addr: Addr, len: Len, flags: Option<u64> },
    Mremap { addr: Addr, old_len: Len, new_len: Len, flags: RemapFlagsArg, new_addr: Addr },
    Brk(BrkArg),
    Fork { go_on_in_child: bool },
    Fault { addr: Addr, write: bool },
    SetAnonName { addr: Addr, len: Len, name: NameArg },
}

/// The address space under test and what the arguments are resolved against.
struct World {
    mm: Mm,
    files: Vec<Arc<File>>,
}

impl World {
    fn addr(&self, addr: Addr) -> u64 {
        let layout = self.mm.layout();
        match addr {
            Addr::Arena(n) => ARENA + u64::from(n) * P,
            Addr::ArenaByte(n, byte) => ARENA + u64::from(n) * P + u64::from(byte),
            Addr::Area(n, spot) => {
                let snap = self.mm.snapshot();
                let count = snap.map_count();
                if count == 0 {
                    return ARENA;
                }
                let vma = snap.vmas().nth(usize::from(n) % count).expect("n < count");
                match spot {
                    Spot::Start => vma.start,
                    Spot::End => vma.end,
                    Spot::Middle => vma.start + (vma.pages() / 2) * P,
                    Spot::AfterStart(k) => vma.start.wrapping_add(u64::from(k) * P),
                    Spot::BeforeEnd(k) => vma.end.wrapping_sub(u64::from(k) * P),
                    Spot::BelowStart(k) => vma.start.wrapping_sub(u64::from(k) * P),
                }
            }
            Addr::Heap(n, neg) => {
                let base = layout.brk_start;
                let delta = u64::from(n) * P;
                if neg {
                    base.wrapping_sub(delta)
                } else {
                    base.wrapping_add(delta)
                }
            }
            Addr::Special(special) => match special {
                Special::Zero => 0,
                Special::OnePage => P,
                Special::MinAddr => layout.mmap_min_addr,
                Special::BelowMinAddr => layout.mmap_min_addr - P,
                Special::TaskSize => layout.task_size,
                Special::TaskSizeLessPage => layout.task_size - P,
                Special::MmapBase => layout.mmap_base,
                Special::UnmappedBase => layout.unmapped_base(),
                Special::Max => u64::MAX,
                Special::MaxPage => u64::MAX - (P - 1),
            },
            Addr::Raw(raw) => raw,
        }
    }

    /// A length for a call at `at`.
    fn len(&self, len: Len, at: u64) -> u64 {
        match len {
            Len::Pages(n) => u64::from(n) * P,
            Len::Bytes(b) => u64::from(b),
            Len::Huge(n) => u64::from(n) * (2 << 20),
            Len::NearMax(n) => u64::MAX - u64::from(n),
            Len::ToAreaEnd(extra) => {
                let snap = self.mm.snapshot();
                let end = snap.find_vma(at).map_or(at, |v| v.end);
                end.wrapping_sub(at).wrapping_add(u64::from(extra) * P)
            }
            Len::Raw(raw) => raw,
        }
    }

    fn file(&self, arg: FileArg) -> OpenFile {
        let file = self.files[usize::from(arg.which) % self.files.len()].clone();
        let mut open = if arg.read_only { OpenFile::read_only(file) } else { OpenFile::read_write(file) };
        if arg.write_only {
            open.readable = false;
        }
        open
    }
}

fn prot(arg: ProtArg) -> Prot {
    match arg {
        ProtArg::Bits { rwx, sem, growsdown, growsup } => {
            let mut bits = u32::from(rwx & 7);
            for (on, bit) in [(sem, Prot::SEM), (growsdown, Prot::GROWSDOWN), (growsup, Prot::GROWSUP)] {
                if on {
                    bits |= bit.bits();
                }
            }
            Prot::from_bits(bits)
        }
        ProtArg::Raw(raw) => Prot::from_bits(raw),
    }
}

fn map_flags(arg: FlagsArg) -> MapFlags {
    match arg {
        FlagsArg::Known {
            map_type,
            fixed,
            noreplace,
            anonymous,
            growsdown,
            locked,
            noreserve,
            populate,
            nonblock,
            stack,
            extra,
        } => {
            let mut flags = match map_type {
                MapType::Shared => MapFlags::SHARED,
                MapType::Private => MapFlags::PRIVATE,
                MapType::SharedValidate => MapFlags::SHARED_VALIDATE,
                MapType::None => MapFlags::NONE,
                MapType::Other(bits) => MapFlags::from_bits(u32::from(bits & 0x0f)),
            };
            for (on, flag) in [
                (fixed, MapFlags::FIXED),
                (noreplace, MapFlags::FIXED_NOREPLACE),
                (anonymous, MapFlags::ANONYMOUS),
                (growsdown, MapFlags::GROWSDOWN),
                (locked, MapFlags::LOCKED),
                (noreserve, MapFlags::NORESERVE),
                (populate, MapFlags::POPULATE),
                (nonblock, MapFlags::NONBLOCK),
                (stack, MapFlags::STACK),
            ] {
                if on {
                    flags |= flag;
                }
            }
            flags | MapFlags::from_bits(extra.unwrap_or(0))
        }
        FlagsArg::Raw(raw) => MapFlags::from_bits(raw),
    }
}

fn remap_flags(arg: RemapFlagsArg) -> MremapFlags {
    match arg {
        RemapFlagsArg::Known { maymove, fixed, dontunmap } => {
            let mut flags = MremapFlags::NONE;
            for (on, flag) in
                [(maymove, MremapFlags::MAYMOVE), (fixed, MremapFlags::FIXED), (dontunmap, MremapFlags::DONTUNMAP)]
            {
                if on {
                    flags |= flag;
                }
            }
            flags
        }
        RemapFlagsArg::Raw(raw) => MremapFlags::from_bits(raw),
    }
}

fn name(arg: NameArg) -> Option<&'static str> {
    const GOOD: [&str; 3] = ["heap", "cache", "a b"];
    const BAD: [&str; 3] =
        ["a[1]", "$x", "this name is far too long for the kernel to take, which stops at eighty bytes!!"];
    match arg {
        NameArg::Clear => None,
        NameArg::Good(n) => Some(GOOD[usize::from(n) % GOOD.len()]),
        NameArg::Bad(n) => Some(BAD[usize::from(n) % BAD.len()]),
    }
}

// ---------------------------------------------------------------------------------------------
// The layout and its checks
// ---------------------------------------------------------------------------------------------

/// Everything observable about one area: its range, pgoff, flags, anon_vma (identity and
/// chain length), file identity, version identity, name, and the identities of its ops,
/// policy and userfaultfd context.
#[derive(Clone, Debug, PartialEq, Eq)]
struct AreaState {
    start: u64,
    end: u64,
    pgoff: u64,
    flags: u64,
    anon: Option<(u64, usize)>,
    file: Option<u64>,
    id: u64,
    name: Option<String>,
    others: (bool, bool, Option<u64>),
}

fn area_state(v: &Vma) -> AreaState {
    AreaState {
        start: v.start,
        end: v.end,
        pgoff: v.pgoff,
        flags: v.flags.bits(),
        anon: v.anon.as_ref().map(|a| (a.anon_vma.id(), a.chain_len)),
        file: v.file.as_ref().map(|f| f.id()),
        id: v.id().get(),
        name: v.anon_name.as_deref().map(str::to_string),
        others: (v.ops.is_some(), v.policy.is_some(), v.uffd.as_ref().map(|u| u.id())),
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct State {
    areas: Vec<AreaState>,
    maps: String,
}

fn state(mm: &Mm) -> State {
    State { areas: mm.snapshot().vmas().map(|v| area_state(v)).collect(), maps: mm.maps() }
}

/// The tree's invariants and the area invariants every state must keep.
fn check_invariants(mm: &Mm, what: &str) {
    if let Err(e) = mm.validate() {
        panic!("{what}: the VMA tree does not validate: {e}");
    }
    let layout = mm.layout();
    let snap = mm.snapshot();
    let mut last_end = 0;
    let mut count = 0;
    for v in snap.vmas() {
        count += 1;
        assert!(v.start < v.end, "{what}: empty area {:#x}-{:#x}", v.start, v.end);
        assert!(v.start % P == 0 && v.end % P == 0, "{what}: unaligned area {:#x}-{:#x}", v.start, v.end);
        assert!(v.start >= last_end, "{what}: area {:#x}-{:#x} overlaps or precedes the one before", v.start, v.end);
        assert!(
            v.start >= layout.mmap_min_addr && v.end <= layout.task_size,
            "{what}: area {:#x}-{:#x} outside the user address space",
            v.start,
            v.end
        );
        let may = VmFlags::from_bits((v.flags.bits() >> 4) & VmFlags::ACCESS.bits());
        assert!(
            (v.flags & VmFlags::ACCESS) - may == VmFlags::EMPTY,
            "{what}: area {:#x}-{:#x} has access bits its VM_MAY* bits do not allow: {:?}",
            v.start,
            v.end,
            v.flags
        );
        assert!(
            !v.flags.contains(VmFlags::SHARED) || v.flags.contains(VmFlags::MAYSHARE),
            "{what}: VM_SHARED without VM_MAYSHARE"
        );
        assert!(
            !v.flags.contains(VmFlags::LOCKONFAULT) || v.flags.contains(VmFlags::LOCKED),
            "{what}: VM_LOCKONFAULT without VM_LOCKED"
        );
        last_end = v.end;
    }
    assert_eq!(count, mm.snapshot().map_count(), "{what}: map count");
    assert!(count <= mm.limits().max_map_count + 1, "{what}: {count} areas, limit {}", mm.limits().max_map_count);
    // The maps text renders (and the snapshot's own view of it agrees with the count).
    assert_eq!(mm.maps().lines().count(), count, "{what}: maps lines");
}

/// Mapped pages as sorted, merged `[start, end)` runs.
fn coverage(areas: &[AreaState]) -> Vec<(u64, u64)> {
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for a in areas {
        match runs.last_mut() {
            Some(last) if last.1 == a.start => last.1 = a.end,
            _ => runs.push((a.start, a.end)),
        }
    }
    runs
}

/// `runs` without the ranges `cut` (both sorted or not; the result is sorted).
fn subtract(runs: &[(u64, u64)], cut: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut out = runs.to_vec();
    for &(cs, ce) in cut {
        out = out
            .into_iter()
            .flat_map(|(s, e)| {
                if ce <= s || e <= cs {
                    vec![(s, e)]
                } else {
                    [(s, cs.max(s)), (ce.min(e), e)].into_iter().filter(|(a, b)| a < b).collect()
                }
            })
            .collect();
    }
    out
}

/// Every run of `inner` lies inside a run of `outer`.
fn within(inner: &[(u64, u64)], outer: &[(u64, u64)]) -> bool {
    inner.iter().all(|&(s, e)| outer.iter().any(|&(os, oe)| os <= s && e <= oe))
}

/// The weaker check for a documented partial effect: outside `free` (where anything may
/// happen), the pages mapped before stay mapped (except in `may_vanish`, where the call
/// unmaps before it can fail), nothing new is mapped, and each page keeps what backs it (its
/// file, or none, and its file offset); flags, anon_vmas and boundaries may change.
fn same_pages_and_backing(
    before: &State,
    after: &State,
    may_vanish: &[(u64, u64)],
    free: &[(u64, u64)],
) -> Result<(), String> {
    let was = subtract(&coverage(&before.areas), free);
    let now = subtract(&coverage(&after.areas), free);
    if !within(&now, &was) {
        return Err("pages were mapped".into());
    }
    if !within(&subtract(&was, may_vanish), &now) {
        return Err("pages were unmapped".into());
    }
    for a in &after.areas {
        for b in before.areas.iter().filter(|b| b.start < a.end && a.start < b.end) {
            let (from, to) = (a.start.max(b.start), a.end.min(b.end));
            // The first page of the overlap outside `free`, if any.
            let Some(&(at, _)) = subtract(&[(from, to)], free).first() else { continue };
            let pgoff = |s: &AreaState| s.pgoff.wrapping_add((at - s.start) / P);
            if a.file != b.file || (a.file.is_some() && pgoff(a) != pgoff(b)) {
                return Err(format!("the backing of page {at:#x} changed"));
            }
        }
    }
    Ok(())
}

/// What a documented partial effect may have done.
enum Partial {
    /// Flags, anon_vmas and boundaries changed area by area; the pages mapped and what
    /// backs them stay.
    AreaByArea,
    /// Only the area holding `addr` split at `addr`.
    SplitAt(u64),
    /// A fixed mremap: anything inside `target` (unmapped first; pieces already moved
    /// there), pages of `source` unmapped (moved, or a shrink's tail); elsewhere as
    /// `AreaByArea`.
    FixedMove { target: (u64, u64), source: (u64, u64) },
}

/// The calls and errnos after which the address space may have changed, as Linux's may:
/// docs/mm.md's table ("Operations and their errors") names the holes and population
/// failures; its "Concurrency" section says mprotect, mlock and madvise work area by area
/// (Linux is not atomic either), and the calls' own docs name the per-area errors after
/// which "the areas before keep their change" (`Mm::mprotect`: EPERM, EACCES;
/// `Mm::madvise`: "an area's error ends the walk with the areas before changed").
fn partial_effect_allowed(call: &Call, args: &Resolved, errno: Errno, before: &State) -> Option<Partial> {
    let area_by_area = match call {
        // Table: "ENOMEM: a hole (areas before it already changed)"; `Mm::mprotect`: "a
        // sealed area (EPERM) or access the area may not have (EACCES)".
        Call::Mprotect { .. } => matches!(errno, Errno::ENOMEM | Errno::EPERM | Errno::EACCES),
        // Table: "ENOMEM: a hole (areas before it already locked), ... or a population fault
        // ... after the flags are set; ... EAGAIN: population out of memory".
        Call::Mlock { .. } | Call::Mlock2 { .. } => matches!(errno, Errno::ENOMEM | Errno::EAGAIN),
        Call::Munlock { .. } => errno == Errno::ENOMEM,
        // Table: "ENOMEM: a hole (every mapped part already advised); ... EFAULT: population
        // hit a guard page or the end of a file"; `Mm::madvise`: an area's error (EINVAL,
        // EACCES, EPERM, EAGAIN) ends the walk with the areas before changed. An EINVAL for
        // the arguments themselves changes nothing.
        Call::Madvise { advice, .. } => match errno {
            Errno::ENOMEM | Errno::EFAULT | Errno::EACCES | Errno::EPERM | Errno::EAGAIN => true,
            Errno::EINVAL => {
                let known = mm::Advice::from_number(advice_number(*advice)).is_some();
                let range_ok = page_up(args.len).and_then(|len| args.addr.checked_add(len)).is_some();
                known && args.addr % P == 0 && range_ok
            }
            _ => false,
        },
        // Not in docs/mm.md's table; `Mm::set_anon_name`'s own docs: "ENOMEM for holes
        // (after every mapped part is named)", and its walk is madvise's (EBADF for a file
        // area, EAGAIN for a split, after the areas before).
        Call::SetAnonName { .. } => matches!(errno, Errno::ENOMEM | Errno::EBADF | Errno::EAGAIN),
        // Table: "mseal ... ENOMEM: any hole (checked first, nothing changes)". Not in the
        // table (reported): with no hole, ENOMEM is a split past the map-count limit, after
        // the areas before are sealed, as Linux's mseal_apply leaves them.
        Call::Mseal { .. } if errno == Errno::ENOMEM => {
            let end = page_up(args.len).and_then(|len| args.addr.checked_add(len));
            end.is_some_and(|end| within(&[(args.addr, end)], &coverage(&before.areas)))
        }
        // Not in docs/mm.md (reported): a move to a fixed address unmaps the target first,
        // and a move that shrinks unmaps the tail it gives up, before the checks that can
        // still fail (the target below mmap_min_addr: EPERM; limits, the map count: ENOMEM;
        // ...), as Linux's mremap_to does; a same-size move of several areas moves them one
        // by one (remap_move), and a failure keeps the moves before it. All that stays.
        Call::Mremap { flags, .. } if remap_flags(*flags).contains(MremapFlags::FIXED) => {
            let target = (args.other_addr, args.other_addr.saturating_add(page_up(args.len).unwrap_or(u64::MAX)));
            let old_len = args.other_len.wrapping_add(P - 1) & !(P - 1);
            let source = (args.addr, args.addr.saturating_add(old_len));
            return Some(Partial::FixedMove { target, source });
        }
        // docs/mm.md, "Concurrency": "a split that the kernel commits before a later failure
        // stays, as there": munmap (and a fixed mmap, which unmaps first) splits the area
        // at `addr` before it finds a sealed area further on (EPERM). Checked exactly in
        // `only_split_at`.
        Call::Munmap { .. } | Call::Mmap { .. } if errno == Errno::EPERM => return Some(Partial::SplitAt(args.addr)),
        // The same split in the unmap of a shrinking mremap's tail (shrink_vma), at the
        // tail's start.
        Call::Mremap { .. } if errno == Errno::EPERM => {
            return page_up(args.len).map(|len| Partial::SplitAt(args.addr.saturating_add(len)));
        }
        _ => false,
    };
    area_by_area.then_some(Partial::AreaByArea)
}

/// For a munmap or fixed mmap refused with EPERM: the one change allowed is the split of the
/// area holding `addr` at `addr` (both halves otherwise as the area was).
fn only_split_at(before: &State, after: &State, addr: u64) -> Result<(), String> {
    let Some(split) = before.areas.iter().find(|a| a.start < addr && addr < a.end) else {
        return Err(format!("no area to split at {addr:#x}"));
    };
    let expected: Vec<_> = before
        .areas
        .iter()
        .flat_map(|a| {
            if a == split {
                let low = AreaState { end: addr, id: 0, ..a.clone() };
                let high = AreaState { start: addr, pgoff: a.pgoff + (addr - a.start) / P, id: 0, ..a.clone() };
                vec![low, high]
            } else {
                vec![a.clone()]
            }
        })
        .collect();
    let mut got = after.areas.clone();
    for (g, e) in got.iter_mut().zip(&expected) {
        if e.id == 0 {
            g.id = 0; // a split gives one half a new identity
        }
    }
    if got != expected {
        return Err(format!("more changed than the split of {:#x}-{:#x} at {addr:#x}", split.start, split.end));
    }
    Ok(())
}

/// The range `[start, end)` covered by areas without holes?
fn covered(mm: &Mm, start: u64, end: u64) -> bool {
    let snap = mm.snapshot();
    let mut at = start;
    for v in snap.vmas_in(start, end) {
        if v.start > at {
            return false;
        }
        at = v.end;
    }
    at >= end
}

/// Every area over `[start, end)`.
fn areas_in(mm: &Mm, start: u64, end: u64) -> Vec<Arc<Vma>> {
    mm.snapshot().vmas_in(start, end).cloned().collect()
}

fn page_up(len: u64) -> Option<u64> {
    len.checked_add(P - 1).map(|l| l & !(P - 1))
}

fn prot_access(prot: Prot) -> VmFlags {
    let mut flags = VmFlags::EMPTY;
    for (bit, flag) in [(Prot::READ, VmFlags::READ), (Prot::WRITE, VmFlags::WRITE), (Prot::EXEC, VmFlags::EXEC)] {
        if prot.contains(bit) {
            flags |= flag;
        }
    }
    flags
}

// ---------------------------------------------------------------------------------------------
// The calls
// ---------------------------------------------------------------------------------------------

/// What a call did, for the checks.
enum Done {
    /// A call returning `Result<(), Errno>` or `Result<u64, Errno>`.
    Result(Result<u64, Errno>),
    /// A fault (its signal is not an errno; only the invariants apply).
    Fault,
    /// brk: the break it returned.
    Brk {
        asked: u64,
        old: u64,
        got: u64,
    },
    Fork(Result<Mm, Errno>),
}

fn perform(world: &World, call: &Call, args: &Resolved) -> Done {
    let mm = &world.mm;
    let unit = |r: Result<(), Errno>| Done::Result(r.map(|()| 0));
    let Resolved { addr: a, len, other_len, other_addr } = *args;
    match *call {
        Call::Mmap { prot: p, flags, file, .. } => {
            let open = file.map(|f| world.file(f));
            Done::Result(mm.mmap(a, len, prot(p), map_flags(flags), open.as_ref(), other_len))
        }
        Call::Munmap { .. } => unit(mm.munmap(a, len)),
        Call::Mprotect { prot: p, .. } => unit(mm.mprotect(a, len, prot(p))),
        Call::Madvise { advice, .. } => {
            // An unknown number is EINVAL before anything else, as in do_madvise.
            let advice = mm::Advice::from_number(advice_number(advice));
            unit(advice.map_or(Err(Errno::EINVAL), |advice| mm.madvise(a, len, advice)))
        }
        Call::Mlock { .. } => unit(mm.mlock(a, len)),
        Call::Mlock2 { onfault, extra, .. } => {
            let mut flags = MlockFlags::from_bits(extra.unwrap_or(0));
            if onfault {
                flags |= MlockFlags::ONFAULT;
            }
            unit(mm.mlock2(a, len, flags))
        }
        Call::Munlock { .. } => unit(mm.munlock(a, len)),
        Call::Mseal { flags, .. } => unit(mm.mseal(a, len, MsealFlags::from_bits(flags.unwrap_or(0)))),
        Call::Mremap { flags, .. } => Done::Result(mm.mremap(a, other_len, len, remap_flags(flags), other_addr)),
        Call::Brk(arg) => {
            let old = mm.brk(0); // below start_brk: refused, returns the break
            let asked = match arg {
                BrkArg::Delta { pages, bytes } => {
                    old.wrapping_add((i64::from(pages) * P as i64) as u64).wrapping_add(u64::from(bytes))
                }
                BrkArg::At(_) => a,
            };
            Done::Brk { asked, old, got: mm.brk(asked) }
        }
        Call::Fork { .. } => Done::Fork(mm.fork()),
        Call::Fault { write, .. } => {
            let _ = mm.fault(a, if write { Access::Write } else { Access::Read });
            Done::Fault
        }
        Call::SetAnonName { name: n, .. } => unit(mm.set_anon_name(a, len, name(n))),
    }
}

/// The arguments of a call, resolved against the layout before it runs: the address and
/// length of its range (for mremap the new length), and for mmap the file offset, for
/// mremap the old length (`other_len`) and the new address (`other_addr`).
#[derive(Clone, Copy)]
struct Resolved {
    addr: u64,
    len: u64,
    other_len: u64,
    other_addr: u64,
}

fn resolve(world: &World, call: &Call) -> Resolved {
    let mut out = Resolved { addr: 0, len: 0, other_len: 0, other_addr: 0 };
    match *call {
        Call::Mmap { addr, len, offset, .. } => {
            out.addr = world.addr(addr);
            out.len = world.len(len, out.addr);
            out.other_len = world.len(offset, out.addr);
        }
        Call::Munmap { addr, len }
        | Call::Mprotect { addr, len, .. }
        | Call::Madvise { addr, len, .. }
        | Call::Mlock { addr, len }
        | Call::Mlock2 { addr, len, .. }
        | Call::Munlock { addr, len }
        | Call::Mseal { addr, len, .. }
        | Call::SetAnonName { addr, len, .. } => {
            out.addr = world.addr(addr);
            out.len = world.len(len, out.addr);
        }
        Call::Mremap { addr, old_len, new_len, new_addr, .. } => {
            out.addr = world.addr(addr);
            out.len = world.len(new_len, out.addr);
            out.other_len = world.len(old_len, out.addr);
            out.other_addr = world.addr(new_addr);
        }
        Call::Brk(BrkArg::At(addr)) | Call::Fault { addr, .. } => out.addr = world.addr(addr),
        Call::Brk(BrkArg::Delta { .. }) | Call::Fork { .. } => {}
    }
    out
}

/// What a successful call promises over its range.
fn check_success(mm: &Mm, call: &Call, args: &Resolved, before: &State, result: u64) {
    let Resolved { addr, len, other_len, other_addr } = *args;
    match *call {
        Call::Mmap { prot: p, flags, .. } => {
            let flags = map_flags(flags);
            let len = page_up(len).expect("mmap accepted an overflowing length");
            assert_eq!(result % P, 0, "mmap returned an unaligned address");
            let end = result.checked_add(len).expect("mmap returned a range past u64::MAX");
            if flags.contains(MapFlags::FIXED) || flags.contains(MapFlags::FIXED_NOREPLACE) {
                assert_eq!(result, addr, "a fixed mmap landed elsewhere");
            }
            if !flags.contains(MapFlags::FIXED) {
                let overlapped = before.areas.iter().any(|a| a.start < end && result < a.end);
                assert!(!overlapped, "a non-replacing mmap at {result:#x} overlaps an area that was there");
            }
            assert!(covered(mm, result, end), "mmap returned {result:#x}, but the range is not mapped");
            let access = prot_access(prot(p));
            for v in areas_in(mm, result, end) {
                assert_eq!(v.flags & VmFlags::ACCESS, access, "mmap: access bits of {:#x}-{:#x}", v.start, v.end);
            }
        }
        Call::Munmap { .. } => {
            let end = addr + page_up(len).expect("munmap accepted an overflowing length");
            assert!(areas_in(mm, addr, end).is_empty(), "munmap left areas in its range");
        }
        Call::Mprotect { prot: p, .. } if len != 0 => {
            let p = prot(p);
            let end = addr + page_up(len).expect("mprotect accepted an overflowing length");
            // With PROT_GROWSDOWN the change starts at the first area in the range (a
            // growsdown one), wherever `addr` is below it, as in Linux.
            let start = match p.contains(Prot::GROWSDOWN) {
                true => areas_in(mm, addr, end).first().map_or(addr, |v| v.start.max(addr)),
                false => addr,
            };
            assert!(covered(mm, start, end), "mprotect succeeded over a hole");
            let access = prot_access(p);
            for v in areas_in(mm, addr, end) {
                assert_eq!(v.flags & VmFlags::ACCESS, access, "mprotect: access bits of {:#x}-{:#x}", v.start, v.end);
            }
        }
        Call::Mlock { .. } | Call::Mlock2 { .. } | Call::Munlock { .. } => {
            // mlock's range: the start rounded down, the length widened to whole pages with
            // wrapping arithmetic (PAGE_ALIGN), then start + len must not overflow.
            let start = addr & !(P - 1);
            let len = len.wrapping_add(addr - start).wrapping_add(P - 1) & !(P - 1);
            let Some(end) = start.checked_add(len) else { return };
            if end == start {
                return;
            }
            assert!(covered(mm, start, end), "mlock/munlock succeeded over a hole");
            let want = match *call {
                Call::Munlock { .. } => VmFlags::EMPTY,
                // MLOCK_ONFAULT from `onfault` or among the extra bits.
                Call::Mlock2 { onfault, extra, .. }
                    if onfault || extra.unwrap_or(0) & MlockFlags::ONFAULT.bits() != 0 =>
                {
                    VmFlags::LOCKED | VmFlags::LOCKONFAULT
                }
                _ => VmFlags::LOCKED,
            };
            for v in areas_in(mm, start, end) {
                let bits = v.flags & (VmFlags::LOCKED | VmFlags::LOCKONFAULT);
                assert_eq!(bits, want, "lock bits of {:#x}-{:#x}", v.start, v.end);
            }
        }
        Call::Mseal { .. } if len != 0 => {
            let end = addr + page_up(len).expect("mseal accepted an overflowing length");
            assert!(covered(mm, addr, end), "mseal succeeded over a hole");
            for v in areas_in(mm, addr, end) {
                assert!(v.flags.contains(VmFlags::SEALED), "mseal left {:#x}-{:#x} unsealed", v.start, v.end);
            }
        }
        Call::Madvise { .. } | Call::SetAnonName { .. } if len != 0 => {
            let end = addr + page_up(len).expect("madvise accepted an overflowing length");
            assert!(covered(mm, addr, end), "madvise/prctl succeeded over a hole");
        }
        Call::Mremap { flags, .. } => {
            let len = page_up(len).expect("mremap accepted an overflowing length");
            assert_eq!(result % P, 0, "mremap returned an unaligned address");
            let end = result.checked_add(len).expect("mremap returned a range past u64::MAX");
            let flags = remap_flags(flags);
            let old_len = other_len.wrapping_add(P - 1) & !(P - 1);
            let fixed = flags.contains(MremapFlags::FIXED);
            let new_addr = fixed || flags.contains(MremapFlags::DONTUNMAP);
            if fixed {
                assert_eq!(result, other_addr, "a fixed mremap landed elsewhere");
            }
            if (fixed && old_len == len) || (!new_addr && len <= old_len) {
                // A same-size fixed move takes every area of the range along, keeping the
                // gaps between them (and a gap at the end); in place, the same size is a
                // no-op and a shrink only unmaps the tail, neither looking past the area at
                // `addr`: only the start must be mapped.
                assert!(covered(mm, result, result + P), "mremap returned {result:#x}, but nothing is mapped there");
            } else {
                assert!(covered(mm, result, end), "mremap returned {result:#x}, but the new range is not mapped");
            }
        }
        _ => {}
    }
}

fn check_fork(parent: &Mm, child: &Mm) {
    check_invariants(child, "the fork's child");
    let copied: Vec<(u64, u64, u64)> = parent
        .snapshot()
        .vmas()
        .filter(|v| !v.flags.contains(VmFlags::DONTCOPY))
        .map(|v| (v.start, v.end, (v.flags - (VmFlags::LOCKED | VmFlags::LOCKONFAULT)).bits()))
        .collect();
    let child_areas: Vec<(u64, u64, u64)> = child.snapshot().vmas().map(|v| (v.start, v.end, v.flags.bits())).collect();
    assert_eq!(child_areas, copied, "the child's areas are not the parent's copyable areas");
}

fuzz_target!(|input: Input| {
    let files = vec![File::with_pages("f16", 16), File::with_pages("f2", 2), File::new("unsized")];
    let mut world = World { mm: input.setup.mm(), files };
    check_invariants(&world.mm, "a new address space");
    for (i, call) in input.calls.iter().take(256).enumerate() {
        let before = state(&world.mm);
        let args = resolve(&world, call);
        let done = perform(&world, call, &args);
        let what = format!("after call {i} {call:?}");
        check_invariants(&world.mm, &what);
        let after = state(&world.mm);
        match done {
            Done::Result(Ok(result)) => check_success(&world.mm, call, &args, &before, result),
            Done::Result(Err(errno)) => {
                if after != before {
                    let Some(partial) = partial_effect_allowed(call, &args, errno, &before) else {
                        panic!(
                            "{what}: failed with {errno:?} and changed the address space\nbefore:\n{}after:\n{}",
                            before.maps, after.maps
                        );
                    };
                    let checked = match partial {
                        Partial::AreaByArea => same_pages_and_backing(&before, &after, &[], &[]),
                        Partial::SplitAt(addr) => only_split_at(&before, &after, addr),
                        Partial::FixedMove { target, source } => {
                            same_pages_and_backing(&before, &after, &[source], &[target])
                        }
                    };
                    if let Err(why) = checked {
                        panic!(
                            "{what}: failed with {errno:?} (a documented partial effect), but {why}\nbefore:\n{}after:\n{}",
                            before.maps, after.maps
                        );
                    }
                }
            }
            Done::Fault => {}
            Done::Brk { asked, old, got } => {
                assert!(
                    got == asked || got == old,
                    "{what}: brk({asked:#x}) returned {got:#x}, the old break was {old:#x}"
                );
                if got == old && asked != old {
                    // A refused brk changes nothing.
                    assert_eq!(after, before, "{what}: a refused brk changed the address space");
                }
            }
            Done::Fork(Err(errno)) => {
                assert_eq!(after, before, "{what}: fork failed with {errno:?} and changed the parent");
            }
            Done::Fork(Ok(child)) => {
                assert_eq!(after, before, "{what}: fork changed the parent");
                check_fork(&world.mm, &child);
                if let Call::Fork { go_on_in_child: true } = call {
                    world.mm = child;
                }
            }
        }
    }
});
