//! mprotect: new access bits for a range, area by area, as the kernel does it.

use std::sync::Arc;

use vma::{vma_modify_in, VmFlags, Vma, VmaChange, VmaTxn};

use crate::mm::{aligned, ensure, page_align, Areas};
use crate::mmap::prot_flags;
use crate::{Errno, Mm, Prot};

impl Mm {
    /// `mprotect(addr, len, prot)`.
    ///
    /// Area by area from `addr`: each part gets the new access bits (splitting or merging
    /// as needed), and readers see the whole call at one instant. Like Linux it is not
    /// atomic: on a hole (ENOMEM), a sealed area (EPERM) or access the area may not have
    /// (EACCES), the areas before keep their change (published with the error).
    /// Making private memory writable charges it (`VM_ACCOUNT`) and counts it against
    /// `RLIMIT_DATA` (ENOMEM past it, also with the areas before changed); making it read-only
    /// uncharges it only while it has no anon_vma. EINVAL for an unaligned address or
    /// unknown bits; a zero length does nothing.
    ///
    /// ```
    /// use mm::{MapFlags, Mm, Prot};
    /// let mm = Mm::new();
    /// let a = mm.mmap(0, 3 * 4096, Prot::READ | Prot::WRITE, MapFlags::PRIVATE | MapFlags::ANONYMOUS, None, 0).unwrap();
    /// mm.mprotect(a + 4096, 4096, Prot::READ).unwrap();
    /// assert_eq!(mm.snapshot().map_count(), 3);
    /// assert_eq!(mm.mprotect(a, 4 * 4096, Prot::READ), Err(mm::Errno::ENOMEM));
    /// ```
    pub fn mprotect(&self, addr: u64, len: u64, prot: Prot) -> Result<(), Errno> {
        let grows = prot.contains(Prot::GROWSDOWN) || prot.contains(Prot::GROWSUP);
        ensure(!prot.contains(Prot::GROWSUP), Errno::EINVAL)?;
        ensure(aligned(addr), Errno::EINVAL)?;
        if len == 0 {
            return Ok(());
        }
        let len = page_align(len).ok_or(Errno::ENOMEM)?;
        let end = addr.checked_add(len).ok_or(Errno::ENOMEM)?;
        let known = Prot::READ | Prot::WRITE | Prot::EXEC | Prot::SEM | Prot::GROWSDOWN;
        ensure(prot.without(known) == Prot::NONE, Errno::EINVAL)?;
        let _lock = self.write_lock();
        let mut txn = self.vmas.transaction();
        let first = Areas(&txn).within(addr, end).next().cloned().ok_or(Errno::ENOMEM)?;
        let start = if grows {
            ensure(first.start < end, Errno::ENOMEM)?;
            ensure(first.flags.contains(VmFlags::GROWSDOWN), Errno::EINVAL)?;
            first.start
        } else {
            ensure(first.start <= addr, Errno::ENOMEM)?;
            addr
        };
        let access = prot_flags(prot);
        let done =
            self.walk_mapped(&mut txn, start, end, |txn, vma, from, to| self.protect_one(txn, vma, from, to, access));
        // Also after an error: what Linux changed before it stays.
        self.publish(txn);
        done
    }

    /// mprotect_fixup for `[start, end)` of `vma`.
    fn protect_one(
        &self,
        txn: &mut VmaTxn<'_>,
        vma: &Arc<Vma>,
        start: u64,
        end: u64,
        access: VmFlags,
    ) -> Result<(), Errno> {
        let old = vma.flags;
        let mut new = access | (old - VmFlags::ACCESS);
        // VM_MAY* sit four bits above the access bits they allow.
        let allowed = VmFlags::from_bits((new.bits() >> 4) & VmFlags::ACCESS.bits());
        ensure(access - allowed == VmFlags::EMPTY, Errno::EACCES)?;
        ensure(!old.contains(VmFlags::SEALED), Errno::EPERM)?;
        if new == old {
            return Ok(());
        }
        let pages = (end - start) / vma::PAGE_SIZE;
        if new.contains(VmFlags::WRITE) {
            // The part turns into data: RLIMIT_DATA, unless the limits refuse it as it was.
            let areas = Areas(txn);
            ensure(self.may_expand_vm(&areas, new, pages) || !self.may_expand_vm(&areas, old, pages), Errno::ENOMEM)?;
            let uncharged = VmFlags::ACCOUNT | VmFlags::WRITE | VmFlags::HUGETLB | VmFlags::SHARED | VmFlags::NORESERVE;
            if !old.intersects(uncharged) {
                self.charge(&Areas(txn), pages)?;
                new |= VmFlags::ACCOUNT;
            }
        } else if old.contains(VmFlags::ACCOUNT) && vma.is_anonymous() && vma.anon.is_none() {
            new = new - VmFlags::ACCOUNT;
        }
        vma_modify_in(txn, vma, start, end, VmaChange::Flags(new))?;
        // A locked private area turning writable is populated (COW broken) at once.
        let locked_private = old & (VmFlags::WRITE | VmFlags::SHARED | VmFlags::LOCKED) == VmFlags::LOCKED;
        if locked_private && new.contains(VmFlags::WRITE) {
            let _ = self.populate(txn, start, end, true);
        }
        Ok(())
    }
}
