//! Page faults and population: permission checks, anon_vma allocation on the first write to
//! private memory, stack expansion, guard pages and SIGBUS past the end of a file.

use std::sync::Arc;

use vma::{anon_vma_prepare_in, VmFlags, Vma, VmaTxn, PAGE_SIZE};

use crate::mm::{accessible, beyond_eof, is_cow, Areas};
use crate::{Access, Errno, Mm, Signal};

/// Whether `access` is allowed on `vma` (x86: a read needs any access bit, a write needs
/// write).
fn permitted(vma: &Vma, access: Access) -> bool {
    match access {
        Access::Write => vma.flags.contains(VmFlags::WRITE),
        Access::Read => accessible(vma),
    }
}

impl Mm {
    /// A page fault at `addr`: what a CPU access does to the address space.
    ///
    /// The lookup is lock-free; the writer lock is taken only to change something: the first
    /// write to private memory gives the area an anon_vma (lent by a compatible neighbour
    /// whose chain has one entry, or new), and an access just below a growsdown area
    /// expands it (unless an accessible area lies within the stack guard gap below).
    /// SIGSEGV without an area or permission or on a guard page; SIGBUS for a file page at
    /// or past the end of the file.
    ///
    /// ```
    /// use mm::{Access, MapFlags, Mm, Prot, Signal};
    /// let mm = Mm::new();
    /// let a = mm.mmap(0, 4096, Prot::READ, MapFlags::PRIVATE | MapFlags::ANONYMOUS, None, 0).unwrap();
    /// assert_eq!(mm.fault(a, Access::Read), Ok(()));
    /// assert_eq!(mm.fault(a, Access::Write), Err(Signal::Segv));
    /// assert!(mm.snapshot().find(a).unwrap().anon.is_none());
    /// ```
    pub fn fault(&self, addr: u64, access: Access) -> Result<(), Signal> {
        if let Some(done) = self.fault_lock_free(addr, access) {
            return done;
        }
        let _lock = self.write_lock();
        let mut txn = self.vmas.transaction();
        let done = self.fault_locked(&mut txn, addr, access);
        // The stack growth and the anon_vma publish together (also before a SIGBUS).
        txn.commit();
        done
    }

    /// The fault under the writer lock, inside the call's transaction.
    fn fault_locked(&self, txn: &mut VmaTxn<'_>, addr: u64, access: Access) -> Result<(), Signal> {
        let found = Areas(txn).find_vma(addr).cloned();
        let vma = match found {
            Some(vma) if vma.start <= addr => vma,
            Some(vma) if vma.flags.contains(VmFlags::GROWSDOWN) => self.expand_stack(txn, &vma, addr)?,
            _ => return Err(Signal::Segv),
        };
        self.fault_in(txn, &vma, addr, access)
    }

    /// The fault when it changes nothing: `None` when it needs the writer lock.
    fn fault_lock_free(&self, addr: u64, access: Access) -> Option<Result<(), Signal>> {
        let snap = self.snapshot();
        let vma = snap.find(addr)?;
        if !permitted(vma, access) || self.is_guard(addr) {
            return Some(Err(Signal::Segv));
        }
        if access == Access::Write && is_cow(vma) && vma.anon.is_none() {
            return None;
        }
        Some(if beyond_eof(vma, addr) { Err(Signal::Bus) } else { Ok(()) })
    }

    /// The fault on `vma`, which contains `addr`, under the writer lock.
    fn fault_in(&self, txn: &mut VmaTxn<'_>, vma: &Arc<Vma>, addr: u64, access: Access) -> Result<(), Signal> {
        if !permitted(vma, access) || self.is_guard(addr) {
            return Err(Signal::Segv);
        }
        let vma = match access == Access::Write && is_cow(vma) {
            // do_anonymous_page / do_cow_fault prepare the anon_vma before they look at
            // the file, so a write past the end still allocates one.
            true => anon_vma_prepare_in(txn, vma).map_err(|_| Signal::Segv)?,
            false => vma.clone(),
        };
        if beyond_eof(&vma, addr) {
            return Err(Signal::Bus);
        }
        Ok(())
    }

    /// expand_downwards: grows the growsdown `vma` down to the page of `addr`.
    fn expand_stack(&self, txn: &mut VmaTxn<'_>, vma: &Arc<Vma>, addr: u64) -> Result<Arc<Vma>, Signal> {
        let address = addr & !(PAGE_SIZE - 1);
        if address < self.layout.mmap_min_addr {
            return Err(Signal::Segv);
        }
        if let Some((_, prev)) = txn.prev(vma.start) {
            let too_close = address - prev.end < self.layout.stack_guard_gap;
            if !prev.flags.contains(VmFlags::GROWSDOWN) && accessible(prev) && too_close {
                return Err(Signal::Segv);
            }
        }
        // As the kernel: the anon_vma comes first and stays even when the growth is refused.
        let vma = anon_vma_prepare_in(txn, vma).map_err(|_| Signal::Segv)?;
        let grow = (vma.start - address) / PAGE_SIZE;
        let size = vma.end - address;
        if grow > vma.pgoff || size > self.limits().stack || self.check_address_space(&Areas(txn), grow).is_err() {
            return Err(Signal::Segv);
        }
        let mut grown = (*vma).clone();
        grown.start = address;
        grown.pgoff -= grow;
        let grown = Arc::new(grown);
        txn.replace(grown.clone()).map_err(|_| Signal::Segv)?;
        Ok(grown)
    }

    /// `__mm_populate(start, end - start, ignore_errors)` under the writer lock: faults in
    /// every page of the areas in the range (write faults on private writable areas),
    /// skipping lock-on-fault and I/O areas. The first error ends it (EFAULT for a fault
    /// that would signal), unless errors are ignored, which moves on to the next area.
    pub(crate) fn populate(
        &self,
        txn: &mut VmaTxn<'_>,
        start: u64,
        end: u64,
        ignore_errors: bool,
    ) -> Result<(), Errno> {
        let mut next = start;
        while next < end {
            let Some(vma) = Areas(txn).within(next, end).next().cloned() else { break };
            let from = next.max(vma.start);
            let to = end.min(vma.end);
            if !vma.flags.intersects(VmFlags::IO | VmFlags::PFNMAP) {
                if let Err(errno) = self.populate_vma(txn, &vma, from, to) {
                    if !ignore_errors {
                        return Err(errno);
                    }
                }
            }
            next = to;
        }
        Ok(())
    }

    /// populate_vma_page_range: faults `[start, end)` of `vma` in, as get_user_pages would.
    fn populate_vma(&self, txn: &mut VmaTxn<'_>, vma: &Arc<Vma>, start: u64, end: u64) -> Result<(), Errno> {
        if vma.flags.contains(VmFlags::LOCKONFAULT) {
            return Ok(());
        }
        let write = vma.flags.contains(VmFlags::WRITE) && is_cow(vma);
        // FOLL_FORCE lets an accessible area without read be populated by reads.
        if !write && !vma.flags.contains(VmFlags::READ) && !accessible(vma) {
            return Err(Errno::EFAULT);
        }
        self.fault_pages(txn, vma, start, end, write)
    }

    /// Faults in `[start, end)` of `vma` page by page, stopping at the first page that
    /// would signal (EFAULT); a write fault gives the area its anon_vma first.
    pub(crate) fn fault_pages(
        &self,
        txn: &mut VmaTxn<'_>,
        vma: &Arc<Vma>,
        start: u64,
        end: u64,
        write: bool,
    ) -> Result<(), Errno> {
        if self.is_guard(start) {
            return Err(Errno::EFAULT);
        }
        let vma = match write && is_cow(vma) {
            true => anon_vma_prepare_in(txn, vma).map_err(|_| Errno::ENOMEM)?,
            false => vma.clone(),
        };
        let guard = self.first_guard(start, end).is_some();
        let eof = beyond_eof(&vma, end - PAGE_SIZE);
        if guard || eof {
            return Err(Errno::EFAULT);
        }
        Ok(())
    }
}
