//! Page faults and population: permission checks, anon_vma allocation on the first write to
//! private memory, stack expansion, guard pages and SIGBUS past the end of a file.

use std::sync::Arc;

use vma::{anon_vma_prepare_in, File, GuardPages, VmFlags, Vma, VmaTxn, PAGE_SIZE};

use crate::mm::{accessible, beyond_eof, is_cow, Areas};
use crate::{Access, Errno, Mm, Signal};

/// Whether `access` is allowed on `vma` (x86: a read needs any access bit, a write needs
/// write, an instruction fetch needs exec).
pub(crate) fn permitted(vma: &Vma, access: Access) -> bool {
    match access {
        Access::Write => vma.flags.contains(VmFlags::WRITE),
        Access::Exec => vma.flags.contains(VmFlags::EXEC),
        Access::Read => accessible(vma),
    }
}

/// Where a page's contents come from. Files compare by identity.
///
/// ```
/// let b = mm::Backing::Anonymous;
/// assert_eq!(b, mm::Backing::Anonymous);
/// ```
#[derive(Clone, Debug)]
pub enum Backing {
    /// Anonymous memory: zeroes until written.
    Anonymous,
    /// A page of a file (a shared anonymous mapping is a page of its shmem object).
    File {
        /// The file.
        file: Arc<File>,
        /// The page's offset in the file, in pages.
        pgoff: u64,
    },
}

impl PartialEq for Backing {
    fn eq(&self, other: &Backing) -> bool {
        match (self, other) {
            (Backing::Anonymous, Backing::Anonymous) => true,
            (Backing::File { file: a, pgoff: p }, Backing::File { file: b, pgoff: q }) => Arc::ptr_eq(a, b) && p == q,
            _ => false,
        }
    }
}

impl Eq for Backing {}

/// What a successful fault resolved: what a runtime needs to map the page.
///
/// ```
/// use mm::{Access, Backing, MapFlags, Mm, Prot};
/// let mm = Mm::new();
/// let a = mm.mmap(0, 8192, Prot::READ | Prot::WRITE, MapFlags::PRIVATE | MapFlags::ANONYMOUS, None, 0).unwrap();
/// let fault = mm.fault(a + 4096 + 12, Access::Write).unwrap();
/// assert_eq!(fault.page, a + 4096);
/// assert_eq!(fault.backing, Backing::Anonymous);
/// assert!(fault.private && fault.anon_vma_created && !fault.stack_grew);
/// assert!(fault.area.anon.is_some());
/// assert!(!mm.fault(a, Access::Write).unwrap().anon_vma_created); // the area has one now
/// ```
#[derive(Clone, Debug)]
pub struct Fault {
    /// The area holding the page, as published after the fault (its flags, its runtime data
    /// with [`Vma::data`] and [`Vma::data_offset`]).
    pub area: Arc<Vma>,
    /// The page's address.
    pub page: u64,
    /// Where the page's contents come from.
    pub backing: Backing,
    /// A private mapping: a write makes a private copy of the page (copy-on-write).
    pub private: bool,
    /// This fault gave the area its anon_vma.
    pub anon_vma_created: bool,
    /// This fault grew a stack area down to the page.
    pub stack_grew: bool,
}

impl Fault {
    /// The answer for `addr` in `area`.
    fn new(area: Arc<Vma>, addr: u64) -> Fault {
        let page = addr & !(PAGE_SIZE - 1);
        let backing = match &area.file {
            Some(file) => Backing::File { file: file.clone(), pgoff: area.pgoff_at(page) },
            None => Backing::Anonymous,
        };
        let private = is_cow(&area);
        Fault { area, page, backing, private, anon_vma_created: false, stack_grew: false }
    }
}

impl Mm {
    /// A page fault at `addr`: what a CPU access does to the address space, and what the
    /// page is when the access is allowed ([`Fault`]).
    ///
    /// The lookup is lock-free; the writer lock is taken only to change something: the first
    /// write to private memory gives the area an anon_vma (lent by a compatible neighbour
    /// whose chain has one entry, or new), and an access just below a growsdown area
    /// expands it (unless an accessible area lies within the stack guard gap below); that
    /// change is published once. SIGSEGV without an area or permission or on a guard page;
    /// SIGBUS for a file page at or past the end of the file.
    ///
    /// ```
    /// use mm::{Access, MapFlags, Mm, Prot, Signal};
    /// let mm = Mm::new();
    /// let a = mm.mmap(0, 4096, Prot::READ, MapFlags::PRIVATE | MapFlags::ANONYMOUS, None, 0).unwrap();
    /// assert!(mm.fault(a, Access::Read).is_ok());
    /// assert_eq!(mm.fault(a, Access::Write).unwrap_err(), Signal::Segv);
    /// assert_eq!(mm.fault(a, Access::Exec).unwrap_err(), Signal::Segv);
    /// assert!(mm.snapshot().find(a).unwrap().anon.is_none());
    /// ```
    pub fn fault(&self, addr: u64, access: Access) -> Result<Fault, Signal> {
        if let Some(done) = self.fault_lock_free(addr, access) {
            return done;
        }
        let _lock = self.write_lock();
        let mut txn = self.vmas.transaction();
        let done = self.fault_locked(&mut txn, addr, access);
        // The stack growth and the anon_vma publish together (also before a SIGBUS).
        self.publish(txn);
        done
    }

    /// The fault under the writer lock, inside the call's transaction.
    fn fault_locked(&self, txn: &mut VmaTxn<'_>, addr: u64, access: Access) -> Result<Fault, Signal> {
        let found = Areas(txn).find_vma(addr).cloned();
        let had_anon = found.as_ref().is_some_and(|vma| vma.anon.is_some());
        let (vma, stack_grew) = match found {
            Some(vma) if vma.start <= addr => (vma, false),
            Some(vma) if vma.flags.contains(VmFlags::GROWSDOWN) => (self.expand_stack(txn, &vma, addr)?, true),
            _ => return Err(Signal::Segv),
        };
        let fault = self.fault_in(txn, &vma, addr, access)?;
        let anon_vma_created = !had_anon && fault.area.anon.is_some();
        Ok(Fault { stack_grew, anon_vma_created, ..fault })
    }

    /// The fault when it changes nothing: `None` when it needs the writer lock.
    fn fault_lock_free(&self, addr: u64, access: Access) -> Option<Result<Fault, Signal>> {
        let snap = self.snapshot();
        let vma = snap.find(addr)?;
        if !permitted(vma, access) || vma.is_guard(addr) {
            return Some(Err(Signal::Segv));
        }
        if access == Access::Write && is_cow(vma) && vma.anon.is_none() {
            return None;
        }
        Some(if beyond_eof(vma, addr) { Err(Signal::Bus) } else { Ok(Fault::new(vma.clone(), addr)) })
    }

    /// The fault on `vma`, which contains `addr`, under the writer lock.
    fn fault_in(&self, txn: &mut VmaTxn<'_>, vma: &Arc<Vma>, addr: u64, access: Access) -> Result<Fault, Signal> {
        if !permitted(vma, access) || vma.is_guard(addr) {
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
        Ok(Fault::new(vma, addr))
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
        // The new pages carry no guard markers, whatever stale offsets the set holds.
        grown.guards = GuardPages::union_within([(vma.guards.as_ref(), vma.pgoff..vma.end_pgoff())]);
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
        if vma.is_guard(start) {
            return Err(Errno::EFAULT);
        }
        let vma = match write && is_cow(vma) {
            true => anon_vma_prepare_in(txn, vma).map_err(|_| Errno::ENOMEM)?,
            false => vma.clone(),
        };
        let guard = !vma.guard_ranges(start, end).is_empty();
        let eof = beyond_eof(&vma, end - PAGE_SIZE);
        if guard || eof {
            return Err(Errno::EFAULT);
        }
        Ok(())
    }
}
