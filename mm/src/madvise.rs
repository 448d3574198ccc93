//! madvise: advice over a range, area by area.

use std::sync::Arc;

use vma::{anon_vma_prepare_in, vma_modify_in, VmFlags, Vma, VmaChange, VmaTxn, PAGE_SIZE};

use crate::mm::{aligned, ensure, page_align, Areas};
use crate::{Advice, Errno, Mm};

/// madvise reports a lack of kernel resources (a split past the map-count limit) as EAGAIN.
fn resources_as_eagain(err: vma::VmaError) -> Errno {
    match Errno::from(err) {
        Errno::ENOMEM => Errno::EAGAIN,
        other => other,
    }
}

/// Advice that discards memory, which a sealed read-only anonymous area refuses.
fn is_discard(advice: Advice) -> bool {
    matches!(
        advice,
        Advice::Free
            | Advice::DontNeed
            | Advice::DontNeedLocked
            | Advice::Remove
            | Advice::DontFork
            | Advice::WipeOnFork
            | Advice::GuardInstall
    )
}

/// Whether KSM may merge the pages of `vma` (otherwise MADV_MERGEABLE is ignored).
fn ksm_compatible(vma: &Vma) -> bool {
    let refused = VmFlags::SHARED
        | VmFlags::MAYSHARE
        | VmFlags::PFNMAP
        | VmFlags::IO
        | VmFlags::DONTEXPAND
        | VmFlags::HUGETLB
        | VmFlags::MIXEDMAP
        | VmFlags::DROPPABLE;
    !vma.flags.intersects(refused)
}

/// The flags `advice` gives `vma`, for the advice that changes flags; `Ok(None)` for the
/// advice that does not.
fn advised_flags(vma: &Vma, advice: Advice) -> Result<Option<VmFlags>, Errno> {
    let flags = vma.flags;
    let new = match advice {
        Advice::Normal => flags - (VmFlags::RAND_READ | VmFlags::SEQ_READ),
        Advice::Sequential => (flags - VmFlags::RAND_READ) | VmFlags::SEQ_READ,
        Advice::Random => (flags - VmFlags::SEQ_READ) | VmFlags::RAND_READ,
        Advice::DontFork => flags | VmFlags::DONTCOPY,
        Advice::DoFork => {
            ensure(!flags.contains(VmFlags::IO), Errno::EINVAL)?;
            flags - VmFlags::DONTCOPY
        }
        Advice::WipeOnFork => {
            ensure(vma.file.is_none() && !flags.contains(VmFlags::SHARED), Errno::EINVAL)?;
            flags | VmFlags::WIPEONFORK
        }
        Advice::KeepOnFork => {
            ensure(!flags.contains(VmFlags::DROPPABLE), Errno::EINVAL)?;
            flags - VmFlags::WIPEONFORK
        }
        Advice::DontDump => flags | VmFlags::DONTDUMP,
        Advice::DoDump => {
            ensure(!flags.is_special() && !flags.contains(VmFlags::DROPPABLE), Errno::EINVAL)?;
            flags - VmFlags::DONTDUMP
        }
        Advice::Mergeable if ksm_compatible(vma) => flags | VmFlags::MERGEABLE,
        Advice::Mergeable => flags,
        Advice::Unmergeable => flags - VmFlags::MERGEABLE,
        Advice::HugePage => (flags - VmFlags::NOHUGEPAGE) | VmFlags::HUGEPAGE,
        Advice::NoHugePage => (flags - VmFlags::HUGEPAGE) | VmFlags::NOHUGEPAGE,
        _ => return Ok(None),
    };
    Ok(Some(new))
}

impl Mm {
    /// `madvise(addr, len, advice)`. EINVAL for an unaligned address or a length that
    /// overflows. An advice number Linux does not know is EINVAL before anything else (before
    /// the address is looked at, also with a zero length); a caller holding a raw number
    /// converts it with [`Advice::from_number`] and answers EINVAL for `None`.
    ///
    /// Like Linux it visits every mapped part of the range and reports ENOMEM afterwards if
    /// the range had holes; an area's error ends the walk with the areas before changed.
    /// Flag-changing advice splits and merges areas (EAGAIN when a split fails); guard
    /// advice marks pages without splitting (the area gets `VM_MAYBE_GUARD` and an
    /// anon_vma); population reports EINVAL for areas it cannot fault, EFAULT for faults
    /// that would signal and ENOMEM for holes.
    ///
    /// ```
    /// use mm::{Advice, Errno, MapFlags, Mm, Prot};
    /// let mm = Mm::new();
    /// let a = mm.mmap(0, 3 * 4096, Prot::READ | Prot::WRITE, MapFlags::PRIVATE | MapFlags::ANONYMOUS, None, 0).unwrap();
    /// mm.madvise(a + 4096, 4096, Advice::DontFork).unwrap();
    /// assert_eq!(mm.snapshot().map_count(), 3);
    /// assert_eq!(mm.madvise(a + 1, 4096, Advice::DontFork), Err(Errno::EINVAL));
    /// // A raw number, as the system call gets it:
    /// let raw = |number| Advice::from_number(number).map_or(Err(Errno::EINVAL), |advice| mm.madvise(a, 4096, advice));
    /// assert_eq!(raw(7), Err(Errno::EINVAL));
    /// ```
    pub fn madvise(&self, addr: u64, len: u64, advice: Advice) -> Result<(), Errno> {
        ensure(aligned(addr), Errno::EINVAL)?;
        let len = page_align(len).ok_or(Errno::EINVAL)?;
        let end = addr.checked_add(len).ok_or(Errno::EINVAL)?;
        if end == addr {
            return Ok(());
        }
        let _lock = self.write_lock();
        let mut txn = self.vmas.transaction();
        let done = match advice {
            Advice::PopulateRead | Advice::PopulateWrite => self.madvise_populate(&mut txn, addr, end, advice),
            _ => {
                self.madvise_walk(&mut txn, addr, end, |txn, vma, from, to| self.advise_one(txn, vma, from, to, advice))
            }
        };
        // Also after an error: every part advised before it stays advised, as in Linux.
        self.publish(txn);
        done
    }

    /// `prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, addr, len, name)`: names the anonymous areas
    /// of the range (`None` clears the name); named areas show as `[anon:name]` in maps and
    /// merge only with areas of the same name.
    ///
    /// EINVAL for an unaligned address, an overflowing length, or a name of 80 bytes or more
    /// bytes or with characters other than printable ASCII without `\\`, `` ` ``, `$`, `[`
    /// and `]`; EBADF for a file area; ENOMEM for holes (after every mapped part is named);
    /// EAGAIN when a split would pass the map-count limit.
    ///
    /// ```
    /// use mm::{MapFlags, Mm, Prot};
    /// let mm = Mm::new();
    /// let a = mm.mmap(0, 3 * 4096, Prot::READ, MapFlags::PRIVATE | MapFlags::ANONYMOUS, None, 0).unwrap();
    /// mm.set_anon_name(a + 4096, 4096, Some("cache")).unwrap();
    /// assert!(mm.maps().contains("[anon:cache]"));
    /// assert_eq!(mm.snapshot().map_count(), 3);
    /// assert_eq!(mm.set_anon_name(a, 4096, Some("a[1]")), Err(mm::Errno::EINVAL));
    /// ```
    pub fn set_anon_name(&self, addr: u64, len: u64, name: Option<&str>) -> Result<(), Errno> {
        if let Some(name) = name {
            let allowed = |c: char| c.is_ascii_graphic() || c == ' ';
            let valid = name.len() < 80 && name.chars().all(|c| allowed(c) && !"\\`$[]".contains(c));
            ensure(valid, Errno::EINVAL)?;
        }
        ensure(aligned(addr), Errno::EINVAL)?;
        let len = page_align(len).ok_or(Errno::EINVAL)?;
        let end = addr.checked_add(len).ok_or(Errno::EINVAL)?;
        if end == addr {
            return Ok(());
        }
        let name: Option<Arc<str>> = name.map(Arc::from);
        let _lock = self.write_lock();
        let mut txn = self.vmas.transaction();
        let done = self.madvise_walk(&mut txn, addr, end, |txn, vma, from, to| {
            let shared_anon = vma.file.as_ref().is_some_and(|f| f.name() == crate::mmap::SHARED_ANON_NAME);
            ensure(vma.file.is_none() || shared_anon, Errno::EBADF)?;
            if vma.anon_name == name {
                return Ok(());
            }
            vma_modify_in(txn, vma, from, to, VmaChange::Name(name.clone())).map(drop).map_err(resources_as_eagain)
        });
        self.publish(txn);
        done
    }

    /// madvise_walk_vmas: visits each mapped part; a hole makes the result ENOMEM.
    fn madvise_walk<'t>(
        &self,
        txn: &mut VmaTxn<'t>,
        start: u64,
        end: u64,
        mut visit: impl FnMut(&mut VmaTxn<'t>, &Arc<Vma>, u64, u64) -> Result<(), Errno>,
    ) -> Result<(), Errno> {
        let mut unmapped = false;
        let mut next = start;
        loop {
            let Some(vma) = Areas(txn).find_vma(next).cloned() else { return Err(Errno::ENOMEM) };
            if next < vma.start {
                unmapped = true;
                next = vma.start;
                if next >= end {
                    break;
                }
            }
            let to = end.min(vma.end);
            visit(txn, &vma, next, to)?;
            next = to;
            if next >= end {
                break;
            }
        }
        if unmapped {
            Err(Errno::ENOMEM)
        } else {
            Ok(())
        }
    }

    /// madvise_vma_behavior for `[start, end)` of `vma`.
    fn advise_one(
        &self,
        txn: &mut VmaTxn<'_>,
        vma: &Arc<Vma>,
        start: u64,
        end: u64,
        advice: Advice,
    ) -> Result<(), Errno> {
        let flags = vma.flags;
        let sealed_read_only_anon = flags.contains(VmFlags::SEALED)
            && vma.file.is_none()
            && !flags.contains(VmFlags::SHARED)
            && !flags.contains(VmFlags::WRITE);
        ensure(!(sealed_read_only_anon && is_discard(advice)), Errno::EPERM)?;
        let lru_refused = VmFlags::LOCKED | VmFlags::PFNMAP | VmFlags::HUGETLB;
        match advice {
            Advice::WillNeed => Ok(()),
            Advice::Cold | Advice::PageOut => ensure(!flags.intersects(lru_refused), Errno::EINVAL),
            Advice::DontNeed | Advice::Free | Advice::DontNeedLocked => {
                let mut refused = VmFlags::PFNMAP;
                if advice != Advice::DontNeedLocked {
                    refused |= VmFlags::LOCKED;
                }
                ensure(!flags.intersects(refused), Errno::EINVAL)?;
                // MADV_FREE works on private anonymous memory only.
                ensure(advice != Advice::Free || vma.is_anonymous(), Errno::EINVAL)?;
                self.note_discarded(start..end);
                Ok(())
            }
            Advice::Remove => {
                ensure(!flags.contains(VmFlags::LOCKED), Errno::EINVAL)?;
                ensure(vma.file.is_some(), Errno::EINVAL)?;
                ensure(flags.contains(VmFlags::SHARED | VmFlags::MAYWRITE), Errno::EACCES)?;
                self.note_discarded(start..end);
                self.note_punched(start..end);
                Ok(())
            }
            Advice::Collapse => self.madvise_collapse(vma),
            Advice::GuardInstall => {
                ensure(!flags.intersects(VmFlags::SPECIAL | VmFlags::HUGETLB | VmFlags::LOCKED), Errno::EINVAL)?;
                mark_maybe_guard(txn, vma)?;
                self.note_discarded(start..end);
                self.set_guards(txn, start, end, true)
            }
            Advice::GuardRemove => {
                ensure(!flags.intersects(VmFlags::SPECIAL | VmFlags::HUGETLB), Errno::EINVAL)?;
                self.set_guards(txn, start, end, false)
            }
            _ => advise_flags(txn, vma, start, end, advice),
        }
    }

    /// MADV_COLLAPSE: only an area holding a whole, suitably aligned 2 MiB page can be
    /// collapsed; the model has no pages to collapse, so any other area is EINVAL and a
    /// suitable one succeeds.
    fn madvise_collapse(&self, vma: &Vma) -> Result<(), Errno> {
        const HUGE: u64 = 2 << 20;
        let aligned_offset = (vma.start / PAGE_SIZE).wrapping_sub(vma.pgoff) % (HUGE / PAGE_SIZE) == 0;
        let top = (vma.end - HUGE.min(vma.end)) & !(HUGE - 1);
        let fits = vma.end - vma.start >= HUGE && top >= vma.start && top + HUGE <= vma.end;
        ensure(fits && (aligned_offset || vma.is_anonymous()), Errno::EINVAL)
    }

    /// MADV_POPULATE_READ / _WRITE: faults the range in; ENOMEM at a hole, EINVAL for an
    /// area that cannot be faulted that way, EFAULT for a fault that would signal.
    fn madvise_populate(&self, txn: &mut VmaTxn<'_>, start: u64, end: u64, advice: Advice) -> Result<(), Errno> {
        let write = advice == Advice::PopulateWrite;
        let mut next = start;
        while next < end {
            let vma = match Areas(txn).find(next).cloned() {
                Some(vma) => vma,
                None => return Err(Errno::ENOMEM),
            };
            let refused = vma.flags.intersects(VmFlags::IO | VmFlags::PFNMAP);
            let allowed = if write { vma.flags.contains(VmFlags::WRITE) } else { vma.flags.contains(VmFlags::READ) };
            ensure(!refused && allowed, Errno::EINVAL)?;
            let to = end.min(vma.end);
            self.fault_pages(txn, &vma, next, to, write)?;
            next = to;
        }
        Ok(())
    }
}

/// The flag-changing advice: a new version of the part, split or merged.
fn advise_flags(txn: &mut VmaTxn<'_>, vma: &Arc<Vma>, start: u64, end: u64, advice: Advice) -> Result<(), Errno> {
    let Some(new) = advised_flags(vma, advice)? else { return Ok(()) };
    if new == vma.flags {
        return Ok(());
    }
    vma_modify_in(txn, vma, start, end, VmaChange::Flags(new)).map(drop).map_err(resources_as_eagain)
}

/// MADV_GUARD_INSTALL's effect on the area: the sticky `VM_MAYBE_GUARD` flag on the whole
/// area (no split, no merge) and, for anonymous memory, an anon_vma (file areas get none).
fn mark_maybe_guard(txn: &mut VmaTxn<'_>, vma: &Arc<Vma>) -> Result<(), Errno> {
    let vma = if vma.flags.contains(VmFlags::MAYBE_GUARD) {
        vma.clone()
    } else {
        let mut marked = (**vma).clone();
        marked.flags |= VmFlags::MAYBE_GUARD;
        let marked = Arc::new(marked);
        txn.replace(marked.clone())?;
        marked
    };
    if vma.is_anonymous() {
        anon_vma_prepare_in(txn, &vma)?;
    }
    Ok(())
}
