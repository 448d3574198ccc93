//! mlock, mlock2, munlock, mlockall, munlockall and mseal.

use std::sync::Arc;

use vma::{vma_modify_in, VmFlags, Vma, VmaChange, VmaTxn, PAGE_SIZE};

use crate::mm::{aligned, ensure, page_align, Areas};
use crate::{Errno, MlockFlags, MlockallFlags, Mm, MsealFlags};

/// The lock bits (`VM_LOCKED_MASK`).
const LOCK_BITS: VmFlags = VmFlags::from_bits(VmFlags::LOCKED.bits() | VmFlags::LOCKONFAULT.bits());

impl Mm {
    /// `mlock(addr, len)`: locks the pages of the range and faults them in.
    ///
    /// The address need not be aligned (the range is widened to whole pages). ENOMEM for
    /// a hole (areas before it are already locked) or the lock limit; a fault that fails
    /// while populating (a `PROT_NONE` area, a guard page, a page past the end of a file)
    /// reports ENOMEM too, with the flags already set, as in Linux.
    ///
    /// ```
    /// use mm::{MapFlags, Mm, Prot};
    /// let mm = Mm::new();
    /// let a = mm.mmap(0, 3 * 4096, Prot::READ, MapFlags::PRIVATE | MapFlags::ANONYMOUS, None, 0).unwrap();
    /// mm.mlock(a + 4096, 4096).unwrap();
    /// assert!(mm.snapshot().find(a + 4096).unwrap().flags.contains(vma::VmFlags::LOCKED));
    /// ```
    pub fn mlock(&self, addr: u64, len: u64) -> Result<(), Errno> {
        self.do_mlock(addr, len, VmFlags::LOCKED)
    }

    /// `mlock2(addr, len, flags)`: with [`MlockFlags::ONFAULT`], pages are locked as they
    /// are faulted in and nothing is populated now. EINVAL for unknown flags.
    ///
    /// ```
    /// use mm::{MapFlags, MlockFlags, Mm, Prot};
    /// let mm = Mm::new();
    /// let a = mm.mmap(0, 4096, Prot::READ, MapFlags::PRIVATE | MapFlags::ANONYMOUS, None, 0).unwrap();
    /// mm.mlock2(a, 4096, MlockFlags::ONFAULT).unwrap();
    /// assert!(mm.snapshot().find(a).unwrap().flags.contains(vma::VmFlags::LOCKONFAULT));
    /// assert_eq!(mm.mlock2(a, 4096, MlockFlags::from_bits(2)), Err(mm::Errno::EINVAL));
    /// ```
    pub fn mlock2(&self, addr: u64, len: u64, flags: MlockFlags) -> Result<(), Errno> {
        ensure(flags.without(MlockFlags::ONFAULT) == MlockFlags::NONE, Errno::EINVAL)?;
        let bits = if flags.contains(MlockFlags::ONFAULT) { LOCK_BITS } else { VmFlags::LOCKED };
        self.do_mlock(addr, len, bits)
    }

    /// `munlock(addr, len)`: unlocks the range (ENOMEM for a hole, after the areas before
    /// it are unlocked).
    ///
    /// ```
    /// use mm::{MapFlags, Mm, Prot};
    /// let mm = Mm::new();
    /// let a = mm.mmap(0, 4096, Prot::READ, MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::LOCKED, None, 0).unwrap();
    /// mm.munlock(a, 4096).unwrap();
    /// assert!(!mm.snapshot().find(a).unwrap().flags.contains(vma::VmFlags::LOCKED));
    /// ```
    pub fn munlock(&self, addr: u64, len: u64) -> Result<(), Errno> {
        let (start, len) = lock_range(addr, len);
        let _lock = self.write_lock();
        let mut txn = self.vmas.transaction();
        let done = self.apply_lock_bits(&mut txn, start, len, VmFlags::EMPTY);
        // Also after an error: the areas before a hole keep their change, as in Linux.
        self.publish(txn);
        done
    }

    /// `mlockall(flags)`: with `CURRENT`, locks every area (and populates them, unless
    /// `ONFAULT`); with `FUTURE`, every area mapped or grown from now on (mmap, brk) is
    /// locked. EINVAL for no flags, unknown ones or `ONFAULT` alone; EPERM without a lock
    /// allowance; ENOMEM with `CURRENT` when everything mapped exceeds `RLIMIT_MEMLOCK`
    /// (without `CAP_IPC_LOCK`). As in Linux, an area that cannot be changed (a split past
    /// the map count) is skipped, and population errors are ignored.
    ///
    /// ```
    /// use mm::{MapFlags, MlockallFlags, Mm, Prot};
    /// use vma::VmFlags;
    /// let mm = Mm::new();
    /// let anon = MapFlags::PRIVATE | MapFlags::ANONYMOUS;
    /// let a = mm.mmap(0, 4096, Prot::READ, anon, None, 0).unwrap();
    /// mm.mlockall(MlockallFlags::CURRENT | MlockallFlags::FUTURE).unwrap();
    /// let b = mm.mmap(0, 4096, Prot::READ, anon, None, 0).unwrap();
    /// assert!(mm.snapshot().vmas().all(|v| v.flags.contains(VmFlags::LOCKED)));
    /// mm.munlockall().unwrap();
    /// assert!(mm.snapshot().vmas().all(|v| !v.flags.contains(VmFlags::LOCKED)));
    /// # let _ = (a, b);
    /// ```
    pub fn mlockall(&self, flags: MlockallFlags) -> Result<(), Errno> {
        let known = MlockallFlags::CURRENT | MlockallFlags::FUTURE | MlockallFlags::ONFAULT;
        let valid = flags != MlockallFlags::NONE && flags.without(known) == MlockallFlags::NONE;
        ensure(valid && flags != MlockallFlags::ONFAULT, Errno::EINVAL)?;
        self.check_can_mlock()?;
        let mut state = self.write_lock();
        let limits = self.limits();
        if flags.contains(MlockallFlags::CURRENT) && !limits.ipc_lock {
            let mapped: u64 = self.snapshot().vmas().map(|v| v.pages()).sum();
            ensure(mapped <= limits.memlock / PAGE_SIZE, Errno::ENOMEM)?;
        }
        let mut txn = self.vmas.transaction();
        self.apply_mlockall(&mut txn, &mut state.def_flags, flags);
        if flags.contains(MlockallFlags::CURRENT) && !flags.contains(MlockallFlags::ONFAULT) {
            // mm_populate(0, TASK_SIZE): errors are ignored.
            let _ = self.populate(&mut txn, 0, self.layout.task_size, true);
        }
        self.publish(txn);
        Ok(())
    }

    /// `munlockall()`: unlocks every area and stops locking future ones.
    ///
    /// ```
    /// let mm = mm::Mm::new();
    /// assert_eq!(mm.munlockall(), Ok(()));
    /// ```
    pub fn munlockall(&self) -> Result<(), Errno> {
        let mut state = self.write_lock();
        let mut txn = self.vmas.transaction();
        self.apply_mlockall(&mut txn, &mut state.def_flags, MlockallFlags::NONE);
        self.publish(txn);
        Ok(())
    }

    /// `apply_mlockall_flags`: the lock bits of future areas, then of every area now (each
    /// area's failure ignored).
    fn apply_mlockall(&self, txn: &mut VmaTxn<'_>, def_flags: &mut VmFlags, flags: MlockallFlags) {
        let onfault = if flags.contains(MlockallFlags::ONFAULT) { VmFlags::LOCKONFAULT } else { VmFlags::EMPTY };
        *def_flags = *def_flags - LOCK_BITS;
        if flags.contains(MlockallFlags::FUTURE) {
            *def_flags |= VmFlags::LOCKED | onfault;
            if !flags.contains(MlockallFlags::CURRENT) {
                return;
            }
        }
        let bits = if flags.contains(MlockallFlags::CURRENT) { VmFlags::LOCKED | onfault } else { VmFlags::EMPTY };
        let areas: Vec<Arc<Vma>> = Areas(txn).within(0, u64::MAX).cloned().collect();
        for vma in areas {
            if let Ok(current) = txn.current(&vma).cloned() {
                let _ = lock_one(txn, &current, current.start, current.end, (current.flags - LOCK_BITS) | bits);
            }
        }
    }

    fn do_mlock(&self, addr: u64, len: u64, bits: VmFlags) -> Result<(), Errno> {
        self.check_can_mlock()?;
        let (start, len) = lock_range(addr, len);
        let _lock = self.write_lock();
        let limits = self.limits();
        if !limits.ipc_lock {
            let snap = self.vmas.snapshot();
            let areas = Areas(&snap);
            let already = locked_pages_in(&areas, start, start.saturating_add(len));
            // In pages, as the kernel counts: `len` may be close to 2^64 bytes.
            let locked = len / PAGE_SIZE + areas.pages_with(VmFlags::LOCKED) - already;
            ensure(locked <= limits.memlock / PAGE_SIZE, Errno::ENOMEM)?;
        }
        let mut txn = self.vmas.transaction();
        let done = self.apply_lock_bits(&mut txn, start, len, bits).and_then(|()| {
            // Errors of the population map as mlock's POSIX errors: EFAULT is ENOMEM,
            // ENOMEM is EAGAIN.
            self.populate(&mut txn, start, start + len, false).map_err(|errno| match errno {
                Errno::EFAULT => Errno::ENOMEM,
                Errno::ENOMEM => Errno::EAGAIN,
                other => other,
            })
        });
        // Also after an error: the lock bits set before it stay, as in Linux.
        self.publish(txn);
        done
    }

    /// `can_do_mlock`: EPERM without a memlock allowance or `CAP_IPC_LOCK`.
    pub(crate) fn check_can_mlock(&self) -> Result<(), Errno> {
        let limits = self.limits();
        ensure(limits.memlock != 0 || limits.ipc_lock, Errno::EPERM)
    }

    /// `mlock_future_ok`: whether locking `len` more bytes stays within the limit.
    pub(crate) fn mlock_future_ok(&self, areas: &Areas<'_, '_>, len: u64) -> bool {
        let limits = self.limits();
        limits.ipc_lock || areas.pages_with(VmFlags::LOCKED) * PAGE_SIZE + len <= limits.memlock
    }

    /// apply_vma_lock_flags: sets the lock bits of every area part in the range to `bits`.
    fn apply_lock_bits(&self, txn: &mut VmaTxn<'_>, start: u64, len: u64, bits: VmFlags) -> Result<(), Errno> {
        let end = start.checked_add(len).ok_or(Errno::EINVAL)?;
        if end == start {
            return Ok(());
        }
        self.walk_mapped(txn, start, end, |txn, vma, from, to| {
            lock_one(txn, vma, from, to, (vma.flags - LOCK_BITS) | bits)
        })
    }

    /// `mseal(addr, len, flags)`: seals the range, which then refuses munmap, mprotect,
    /// mremap, mapping over it and discarding advice on read-only anonymous memory
    /// (EPERM). EINVAL for any flag (Linux 6.18 defines none), an unaligned address or an
    /// overflowing length; ENOMEM if any part of the range is unmapped (checked first:
    /// nothing changes).
    ///
    /// ```
    /// use mm::{Errno, MapFlags, Mm, MsealFlags, Prot};
    /// let mm = Mm::new();
    /// let a = mm.mmap(0, 2 * 4096, Prot::READ, MapFlags::PRIVATE | MapFlags::ANONYMOUS, None, 0).unwrap();
    /// mm.mseal(a, 4096, MsealFlags::NONE).unwrap();
    /// assert_eq!(mm.munmap(a, 4096), Err(Errno::EPERM));
    /// assert_eq!(mm.mseal(a, 3 * 4096, MsealFlags::NONE), Err(Errno::ENOMEM));
    /// assert_eq!(mm.mseal(a, 4096, MsealFlags::from_bits(1)), Err(Errno::EINVAL));
    /// ```
    pub fn mseal(&self, addr: u64, len: u64, flags: MsealFlags) -> Result<(), Errno> {
        ensure(flags == MsealFlags::NONE && aligned(addr), Errno::EINVAL)?;
        let len = page_align(len).ok_or(Errno::EINVAL)?;
        let end = addr.checked_add(len).ok_or(Errno::EINVAL)?;
        if end == addr {
            return Ok(());
        }
        let _lock = self.write_lock();
        let mut txn = self.vmas.transaction();
        ensure(Areas(&txn).cover(addr, end), Errno::ENOMEM)?;
        let sealed = self.walk_mapped(&mut txn, addr, end, |txn, vma, from, to| {
            if !vma.flags.contains(VmFlags::SEALED) {
                vma_modify_in(txn, vma, from, to, VmaChange::Flags(vma.flags | VmFlags::SEALED))?;
            }
            Ok(())
        });
        // Also after an error (a split past the map-count limit): what was sealed stays.
        self.publish(txn);
        sealed
    }
}

/// mlock_fixup: special, hugetlb and droppable areas are never locked.
fn lock_one(txn: &mut VmaTxn<'_>, vma: &Arc<Vma>, start: u64, end: u64, new: VmFlags) -> Result<(), Errno> {
    let skipped = vma.flags.is_special() || vma.flags.intersects(VmFlags::HUGETLB | VmFlags::DROPPABLE);
    if new == vma.flags || skipped {
        return Ok(());
    }
    vma_modify_in(txn, vma, start, end, VmaChange::Flags(new))?;
    Ok(())
}

/// The locked pages of `[start, end)`.
fn locked_pages_in(areas: &Areas<'_, '_>, start: u64, end: u64) -> u64 {
    let locked = areas.within(start, end).filter(|v| v.flags.contains(VmFlags::LOCKED));
    locked.map(|v| (v.end.min(end) - v.start.max(start)) / PAGE_SIZE).sum()
}

/// mlock's range: the start rounded down to its page, the length widened to whole pages
/// (an overflow wraps to an empty range, as `PAGE_ALIGN` does).
fn lock_range(addr: u64, len: u64) -> (u64, u64) {
    let offset = addr % PAGE_SIZE;
    let len = len.wrapping_add(offset).wrapping_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
    (addr - offset, len)
}
