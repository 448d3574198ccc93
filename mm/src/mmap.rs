//! mmap and munmap.

use std::sync::Arc;

use vma::{merge_new_range_in, split_vma_in, File, MergeState, VmFlags, Vma, VmaMergeRequest, VmaTxn, PAGE_SIZE};

use crate::mm::{aligned, ensure, page_align, Areas};
use crate::placement::{AreaRequest, Huge};
use crate::{Errno, MapFlags, MapRequest, Mm, OpenFile, Prot, Resource, RLIM_INFINITY};

/// The name of the shmem object behind a shared anonymous mapping, as maps shows it before
/// ` (deleted)`.
pub(crate) const SHARED_ANON_NAME: &str = "/dev/zero";

/// The VM flags of protection bits.
pub(crate) fn prot_flags(prot: Prot) -> VmFlags {
    let mut flags = VmFlags::EMPTY;
    for (bit, flag) in [(Prot::READ, VmFlags::READ), (Prot::WRITE, VmFlags::WRITE), (Prot::EXEC, VmFlags::EXEC)] {
        if prot.contains(bit) {
            flags |= flag;
        }
    }
    flags
}

/// The VM flags that mmap flags imply.
fn map_flags(flags: MapFlags) -> VmFlags {
    let mut vm = VmFlags::EMPTY;
    for (bit, flag) in [
        (MapFlags::GROWSDOWN, VmFlags::GROWSDOWN),
        (MapFlags::LOCKED, VmFlags::LOCKED),
        (MapFlags::STACK, VmFlags::NOHUGEPAGE),
    ] {
        if flags.contains(bit) {
            vm |= flag;
        }
    }
    vm
}

/// Whether a mapping with `flags` is charged to the commit accounting (gets `VM_ACCOUNT`):
/// private, writable and not `noreserve`.
pub(crate) fn accountable(flags: VmFlags) -> bool {
    flags.contains(VmFlags::WRITE) && !flags.intersects(VmFlags::NORESERVE | VmFlags::SHARED)
}

/// `is_data_mapping`: private writable memory that is not a stack (`VM_STACK` is
/// `VM_GROWSDOWN` on x86_64), what `RLIMIT_DATA` counts.
pub(crate) fn is_data_mapping(flags: VmFlags) -> bool {
    flags & (VmFlags::WRITE | VmFlags::SHARED | VmFlags::GROWSDOWN) == VmFlags::WRITE
}

/// `file_mmap_ok`: the mapped bytes stay below the largest file offset (`MAX_LFS_FILESIZE`).
fn file_offsets_ok(pgoff: u64, len: u64) -> bool {
    let max = i64::MAX as u64;
    pgoff <= max / PAGE_SIZE && len <= max && pgoff * PAGE_SIZE <= max - len
}

impl Mm {
    /// `mmap(addr, len, prot, flags, fd, offset)`: maps `len` bytes (rounded up to pages)
    /// and returns the address of the new mapping.
    ///
    /// `file` stands for the fd (ignored with `MAP_ANONYMOUS`; EBADF without it otherwise);
    /// `offset` is in bytes and must be page aligned. Errors as Linux: EINVAL (zero
    /// length, unaligned offset or fixed address, bad type, growsdown file or shared
    /// mapping), ENOMEM (overflow, no room, too many areas, limits), EEXIST
    /// (`MAP_FIXED_NOREPLACE` over a mapping), EACCES (file opened without the access the
    /// mapping needs), EPERM (below `mmap_min_addr`, over a sealed area), EOVERFLOW (file
    /// offset overflow), EAGAIN (lock limit).
    ///
    /// ```
    /// use mm::{Errno, MapFlags, Mm, Prot};
    /// let mm = Mm::new();
    /// let anon = MapFlags::PRIVATE | MapFlags::ANONYMOUS;
    /// let a = mm.mmap(0x20_0000, 4096, Prot::READ, anon | MapFlags::FIXED, None, 0).unwrap();
    /// assert_eq!(a, 0x20_0000);
    /// assert_eq!(mm.mmap(a, 4096, Prot::READ, anon | MapFlags::FIXED_NOREPLACE, None, 0), Err(Errno::EEXIST));
    /// assert_eq!(mm.mmap(0, 0, Prot::READ, anon, None, 0), Err(Errno::EINVAL));
    /// ```
    pub fn mmap(
        &self,
        addr: u64,
        len: u64,
        prot: Prot,
        flags: MapFlags,
        file: Option<&OpenFile>,
        offset: u64,
    ) -> Result<u64, Errno> {
        self.map(MapRequest { addr, file, offset, ..MapRequest::new(len, prot, flags) })
    }

    /// mmap with the runtime's data and hooks for the new area ([`MapRequest`]): the same
    /// checks, errors and placement as [`Mm::mmap`]. The mapping, what it replaces and its
    /// population (`MAP_POPULATE`, `MAP_LOCKED`) publish as one change.
    ///
    /// ```
    /// use mm::{MapFlags, MapRequest, Mm, Prot};
    /// let mm = Mm::new();
    /// let request = MapRequest::new(8192, Prot::READ, MapFlags::PRIVATE | MapFlags::ANONYMOUS).at(0x40_0000);
    /// assert_eq!(mm.map(request), Ok(0x40_0000));
    /// ```
    pub fn map(&self, request: MapRequest<'_>) -> Result<u64, Errno> {
        ensure(aligned(request.offset), Errno::EINVAL)?;
        if !request.flags.contains(MapFlags::ANONYMOUS) {
            request.file.ok_or(Errno::EBADF)?;
        }
        let state = self.write_lock();
        let mut txn = self.vmas.transaction();
        let mapped = self.do_mmap(&mut txn, &request, state.def_flags);
        if let Ok((addr, Some(len))) = mapped {
            // mm_populate: errors are ignored, the mapping stays.
            let _ = self.populate(&mut txn, addr, addr + len, true);
        }
        // Also after an error: munmap's one partial effect (a split) stands, as in Linux.
        self.publish(txn);
        mapped.map(|(addr, _)| addr)
    }

    /// do_mmap: returns the address and the length to populate, if any. `def_flags` are the
    /// flags every new area gets (mlockall's lock bits).
    fn do_mmap(
        &self,
        txn: &mut VmaTxn<'_>,
        request: &MapRequest<'_>,
        def_flags: VmFlags,
    ) -> Result<(u64, Option<u64>), Errno> {
        let MapRequest { addr, len, prot, mut flags, .. } = *request;
        let file = request.file.filter(|_| !flags.contains(MapFlags::ANONYMOUS));
        let pgoff = request.offset / PAGE_SIZE;
        ensure(len != 0, Errno::EINVAL)?;
        // NOREPLACE is a fixed mapping from here on: its address is not rounded (an
        // unaligned one is EINVAL in get_unmapped_area).
        if flags.contains(MapFlags::FIXED_NOREPLACE) {
            flags |= MapFlags::FIXED;
        }
        let addr = if flags.contains(MapFlags::FIXED) { addr } else { self.round_hint(addr) };
        let len = page_align(len).filter(|&len| len != 0).ok_or(Errno::ENOMEM)?;
        ensure(pgoff.checked_add(len / PAGE_SIZE).is_some(), Errno::EOVERFLOW)?;
        ensure(txn.map_count() <= self.limits().max_map_count, Errno::ENOMEM)?;
        let mut vm_flags =
            prot_flags(prot) | map_flags(flags) | def_flags | VmFlags::MAYREAD | VmFlags::MAYWRITE | VmFlags::MAYEXEC;
        let shared = flags.map_type() != MapFlags::PRIVATE;
        let area = AreaRequest {
            hint: addr,
            len,
            fixed: flags.contains(MapFlags::FIXED),
            huge: Huge::of(file.is_some(), shared, addr, len, pgoff),
        };
        let addr = self.get_unmapped_area(txn, area)?;
        if flags.contains(MapFlags::FIXED_NOREPLACE) {
            ensure(Areas(txn).within(addr, addr + len).next().is_none(), Errno::EEXIST)?;
        }
        if flags.contains(MapFlags::LOCKED) {
            self.check_can_mlock()?;
        }
        if vm_flags.contains(VmFlags::LOCKED) {
            ensure(self.mlock_future_ok(&Areas(txn), len), Errno::EAGAIN)?;
        }
        let (file, pgoff, try_merge) = match file {
            Some(open) => {
                ensure(file_offsets_ok(pgoff, len), Errno::EOVERFLOW)?;
                (Some(self.file_mapping_flags(open, prot, flags, &mut vm_flags)?), pgoff, true)
            }
            None => match flags.map_type() {
                MapFlags::SHARED => {
                    ensure(!vm_flags.contains(VmFlags::GROWSDOWN), Errno::EINVAL)?;
                    vm_flags |= VmFlags::SHARED | VmFlags::MAYSHARE;
                    // Each shared anonymous mapping is its own shmem object.
                    (Some(File::with_pages(SHARED_ANON_NAME, len / PAGE_SIZE)), 0, false)
                }
                MapFlags::PRIVATE => (None, addr / PAGE_SIZE, true),
                _ => return Err(Errno::EINVAL),
            },
        };
        if flags.contains(MapFlags::NORESERVE) {
            vm_flags |= VmFlags::NORESERVE;
        }
        let mut new = Vma::new(addr, addr + len, pgoff, vm_flags);
        new.file = file;
        if let Some(data) = &request.data {
            new = new.with_data(data.clone());
        }
        if let Some(ops) = &request.ops {
            new = new.with_ops(ops.clone());
        }
        self.map_region(txn, new, try_merge && request.ops.is_none())?;
        let populate = vm_flags.contains(VmFlags::LOCKED)
            || (flags.contains(MapFlags::POPULATE) && !flags.contains(MapFlags::NONBLOCK));
        Ok((addr, populate.then_some(len)))
    }

    /// The checks and flags of a file mapping (the `switch (flags & MAP_TYPE)` of do_mmap).
    fn file_mapping_flags(
        &self,
        open: &OpenFile,
        prot: Prot,
        flags: MapFlags,
        vm_flags: &mut VmFlags,
    ) -> Result<Arc<File>, Errno> {
        let map_type = flags.map_type();
        if map_type == MapFlags::SHARED_VALIDATE {
            ensure(flags.without(MapFlags::KNOWN) == MapFlags::NONE, Errno::EOPNOTSUPP)?;
        }
        match map_type {
            MapFlags::SHARED | MapFlags::SHARED_VALIDATE => {
                ensure(!prot.contains(Prot::WRITE) || open.writable, Errno::EACCES)?;
                *vm_flags |= VmFlags::SHARED | VmFlags::MAYSHARE;
                if !open.writable {
                    *vm_flags = *vm_flags - (VmFlags::MAYWRITE | VmFlags::SHARED);
                }
            }
            MapFlags::PRIVATE => {}
            _ => return Err(Errno::EINVAL),
        }
        ensure(open.readable, Errno::EACCES)?;
        ensure(!vm_flags.contains(VmFlags::GROWSDOWN), Errno::EINVAL)?;
        Ok(open.file.clone())
    }

    /// `round_hint_to_min`: a hint below `mmap_min_addr` is raised to it.
    fn round_hint(&self, hint: u64) -> u64 {
        let hint = hint & !(PAGE_SIZE - 1);
        if hint != 0 && hint < self.layout.mmap_min_addr {
            page_align(self.layout.mmap_min_addr).unwrap_or(hint)
        } else {
            hint
        }
    }

    /// Maps `new` (mmap_region): unmaps what was there and merges with (when `try_merge`) or
    /// inserts next to the neighbours, in the call's transaction. A shared anonymous mapping
    /// never merges: its shmem object is new.
    pub(crate) fn map_region(&self, txn: &mut VmaTxn<'_>, new: Vma, try_merge: bool) -> Result<Arc<Vma>, Errno> {
        let (addr, end, len) = (new.start, new.end, new.end - new.start);
        self.gather_unmap(txn, addr, end)?;
        let (overlap, overlap_accounted) = overlap_pages(&Areas(txn), addr, end);
        self.check_address_space(&Areas(txn), len / PAGE_SIZE - overlap)?;
        self.check_data_limit(&Areas(txn), new.flags, len / PAGE_SIZE - overlap)?;
        let mut new = new;
        if accountable(new.flags) {
            self.charge(&Areas(txn), (len / PAGE_SIZE).saturating_sub(overlap_accounted))?;
            new.flags |= VmFlags::ACCOUNT;
        }
        txn.atomic(|txn| {
            let removed = if overlap > 0 { txn.clear(addr, end)? } else { Vec::new() };
            let (prev, next) = {
                let (prev, next) = txn.cursor(addr).around(addr, end);
                (prev.cloned(), next.cloned())
            };
            let mut vmg = VmaMergeRequest::new_range(addr, end, new.pgoff, new.flags, new.file.clone());
            vmg.data = new.data.clone();
            vmg.prev = prev;
            vmg.next = next;
            let neighbours = vmg.prev.is_some() || vmg.next.is_some();
            let merged = if try_merge && neighbours { merge_new_range_in(txn, &mut vmg) } else { None };
            let vma = match merged {
                Some(merged) => merged,
                // The merge ran out of memory: nothing of this mapping happens.
                None if vmg.state == MergeState::ErrorNoMem => return Err(Errno::ENOMEM),
                None => {
                    let new = Arc::new(new);
                    txn.insert(new.clone())?;
                    new
                }
            };
            if overlap > 0 {
                self.note_unmapped(addr..end);
            }
            self.closing(removed);
            Ok(vma)
        })
    }

    /// `may_expand_vm`: `RLIMIT_AS` against the mapped total plus `pages`.
    pub(crate) fn check_address_space(&self, areas: &Areas<'_, '_>, pages: u64) -> Result<(), Errno> {
        let limit = self.limits().address_space;
        if limit == RLIM_INFINITY {
            return Ok(());
        }
        let total: u64 = areas.all().map(|v| v.pages()).sum();
        ensure((total + pages) * PAGE_SIZE <= limit, Errno::ENOMEM)
    }

    /// `may_expand_vm`'s `RLIMIT_DATA` half: adding `pages` of an area with `flags` that is
    /// a data mapping keeps the data pages of `areas` within the soft limit, or, when the
    /// soft limit is 0, within the hard one (Linux's allowance for Valgrind).
    pub(crate) fn check_data_limit(&self, areas: &Areas<'_, '_>, flags: VmFlags, pages: u64) -> Result<(), Errno> {
        let limit = self.limits().rlimit(Resource::Data);
        if !is_data_mapping(flags) || limit.cur == RLIM_INFINITY {
            return Ok(());
        }
        let data: u64 = areas.all().filter(|v| is_data_mapping(v.flags)).map(|v| v.pages()).sum();
        let within = |bytes: u64| data + pages <= bytes / PAGE_SIZE;
        ensure(within(limit.cur) || (limit.cur == 0 && within(limit.max)), Errno::ENOMEM)
    }

    /// `may_expand_vm(flags, pages)`: both limits, as a yes or no.
    pub(crate) fn may_expand_vm(&self, areas: &Areas<'_, '_>, flags: VmFlags, pages: u64) -> bool {
        self.check_address_space(areas, pages).is_ok() && self.check_data_limit(areas, flags, pages).is_ok()
    }

    /// `security_vm_enough_memory`: the commit limit against the charged total of `areas`
    /// (the writer's current state) plus `pages`.
    pub(crate) fn charge(&self, areas: &Areas<'_, '_>, pages: u64) -> Result<(), Errno> {
        let Some(limit) = self.limits().commit_pages else { return Ok(()) };
        ensure(areas.pages_with(VmFlags::ACCOUNT) + pages <= limit, Errno::ENOMEM)
    }

    /// `munmap(addr, len)`: unmaps every area part in the range; a range with nothing
    /// mapped is fine. EINVAL for an unaligned address, a zero length or a range past the
    /// task size; EPERM over a sealed area; ENOMEM when a split would pass the map-count
    /// limit.
    ///
    /// ```
    /// use mm::{MapFlags, Mm, Prot};
    /// let mm = Mm::new();
    /// let a = mm.mmap(0, 3 * 4096, Prot::READ, MapFlags::PRIVATE | MapFlags::ANONYMOUS, None, 0).unwrap();
    /// mm.munmap(a + 4096, 4096).unwrap();
    /// assert_eq!(mm.snapshot().map_count(), 2);
    /// assert_eq!(mm.munmap(a + 1, 4096), Err(mm::Errno::EINVAL));
    /// ```
    pub fn munmap(&self, addr: u64, len: u64) -> Result<(), Errno> {
        let task_size = self.layout.task_size;
        ensure(aligned(addr) && addr <= task_size && len <= task_size - addr, Errno::EINVAL)?;
        let len = page_align(len).ok_or(Errno::EINVAL)?;
        ensure(len != 0, Errno::EINVAL)?;
        let _lock = self.write_lock();
        let mut txn = self.vmas.transaction();
        let done = self.do_munmap(&mut txn, addr, addr + len);
        self.publish(txn);
        done
    }

    /// do_vmi_munmap in the call's transaction: removes `[start, end)`; the areas removed
    /// whole are closed once the call is published.
    pub(crate) fn do_munmap(&self, txn: &mut VmaTxn<'_>, start: u64, end: u64) -> Result<(), Errno> {
        if Areas(txn).within(start, end).next().is_none() {
            return Ok(());
        }
        self.gather_unmap(txn, start, end)?;
        let removed = txn.clear(start, end)?;
        self.note_unmapped(start..end);
        self.closing(removed);
        Ok(())
    }

    /// The checks munmap makes before it changes anything (vms_gather_munmap_vmas), with
    /// the kernel's one partial effect: when an area after the first is sealed or refuses
    /// its split, the split of the first area at `start` has already happened and stays.
    pub(crate) fn gather_unmap(&self, txn: &mut VmaTxn<'_>, start: u64, end: u64) -> Result<(), Errno> {
        let hit: Vec<Arc<Vma>> = Areas(txn).within(start, end).cloned().collect();
        let Some(first) = hit.first() else { return Ok(()) };
        let split_first = first.start < start;
        if split_first {
            let both_ends = end < first.end;
            ensure(!both_ends || txn.map_count() < self.limits().max_map_count, Errno::ENOMEM)?;
            ensure(!first.flags.contains(VmFlags::SEALED), Errno::EPERM)?;
            first.may_split(start).map_err(errno_of)?;
        }
        let later = hit.iter().enumerate().find_map(|(i, vma)| {
            if vma.flags.contains(VmFlags::SEALED) {
                return Some(Errno::EPERM);
            }
            let split_end = vma.end > end;
            let checked = i == 0 && split_first && !split_end;
            (split_end && !checked).then(|| vma.may_split(end).err().map(errno_of)).flatten()
        });
        match later {
            None => Ok(()),
            Some(errno) => {
                if split_first {
                    split_vma_in(txn, first, start, true).map_err(Errno::from)?;
                }
                Err(errno)
            }
        }
    }
}

/// Pages of `[addr, end)` mapped now, and of those the ones charged (VM_ACCOUNT).
fn overlap_pages(areas: &Areas<'_, '_>, addr: u64, end: u64) -> (u64, u64) {
    let mut pages = (0, 0);
    for vma in areas.within(addr, end) {
        let n = (vma.end.min(end) - vma.start.max(addr)) / PAGE_SIZE;
        pages.0 += n;
        if vma.flags.contains(VmFlags::ACCOUNT) {
            pages.1 += n;
        }
    }
    pages
}

/// A `may_split` hook's errno as an [`Errno`] (EINVAL when it is not one we know).
pub(crate) fn errno_of(code: i32) -> Errno {
    Errno::from_code(code).unwrap_or(Errno::EINVAL)
}
