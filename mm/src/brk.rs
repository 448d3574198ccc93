//! brk: the heap.

use std::sync::Arc;

use vma::{merge_new_range_in, VmFlags, Vma, VmaMergeRequest, VmaTxn, PAGE_SIZE};

use crate::mm::{page_align, Areas};
use crate::placement::start_gap;
use crate::{Errno, Mm, RLIM_INFINITY};

impl Mm {
    /// `brk(addr)`: moves the end of the heap and returns the new end, or the old one when
    /// the request is refused, as the system call does: below the heap's start, into another
    /// mapping, or past a limit (the heap's size `addr - start_brk` above `RLIMIT_DATA`, the
    /// data mappings and the growth above it, `RLIMIT_AS`). The heap grows by expanding its
    /// own area (never the one below `start_brk`) or by a new one, and shrinks by unmapping.
    ///
    /// ```
    /// let mm = mm::Mm::new();
    /// let start = mm.brk(0);
    /// assert_eq!(mm.brk(start + 10_000), start + 10_000);
    /// assert_eq!(mm.snapshot().find(start).unwrap().end, start + 12_288);
    /// assert_eq!(mm.brk(start - 4096), start + 10_000);
    /// ```
    pub fn brk(&self, addr: u64) -> u64 {
        let mut heap = self.write_lock();
        let old = heap.brk;
        if addr < heap.start_brk {
            return old;
        }
        // check_data_rlimit: the heap (there is no data segment) within RLIMIT_DATA, checked
        // on the unrounded break, also when it shrinks.
        let data_limit = self.limits().data;
        if data_limit != RLIM_INFINITY && addr - heap.start_brk > data_limit {
            return old;
        }
        let (Some(new_end), Some(old_end)) = (page_align(addr), page_align(old)) else { return old };
        if new_end == old_end {
            heap.brk = addr;
            return addr;
        }
        let mut txn = self.vmas.transaction();
        let done = if addr <= old {
            self.shrink_heap(&mut txn, new_end, old_end)
        } else {
            let grown = self.grow_heap(&mut txn, heap.start_brk, old_end, new_end, heap.def_flags);
            if grown.is_ok() && heap.def_flags.contains(VmFlags::LOCKED) {
                // mlockall(MCL_FUTURE): the new part is populated, errors ignored.
                let _ = self.populate(&mut txn, old_end, new_end, true);
            }
            grown
        };
        self.publish(txn);
        if done.is_ok() {
            heap.brk = addr;
        }
        heap.brk
    }

    fn shrink_heap(&self, txn: &mut VmaTxn<'_>, new_end: u64, old_end: u64) -> Result<(), Errno> {
        let heap_vma = Areas(txn).within(new_end, old_end).next().cloned();
        match heap_vma {
            Some(vma) if vma.start < old_end => self.do_munmap(txn, new_end, old_end),
            _ => Err(Errno::ENOMEM),
        }
    }

    fn grow_heap(
        &self,
        txn: &mut VmaTxn<'_>,
        start_brk: u64,
        old_end: u64,
        new_end: u64,
        def_flags: VmFlags,
    ) -> Result<(), Errno> {
        // check_brk_limits: the new part must be a valid fixed range (below the task size).
        self.check_fixed_range(old_end, new_end - old_end)?;
        let guard_gap = self.layout.stack_guard_gap;
        if let Some(next) = Areas(txn).within(old_end, new_end.saturating_add(PAGE_SIZE + guard_gap)).next() {
            if new_end + PAGE_SIZE > start_gap(next, guard_gap) {
                return Err(Errno::ENOMEM);
            }
        }
        let heap_vma = txn.prev(old_end).map(|(_, v)| v.clone()).filter(|v| v.start >= start_brk);
        self.do_brk_flags(txn, heap_vma, old_end, new_end - old_end, def_flags)
    }

    /// do_brk_flags: an anonymous read-write charged area at `[addr, addr + len)` with the
    /// flags every new area gets (`def_flags`), expanding `heap_vma` when it ends at `addr`.
    fn do_brk_flags(
        &self,
        txn: &mut VmaTxn<'_>,
        heap_vma: Option<Arc<Vma>>,
        addr: u64,
        len: u64,
        def_flags: VmFlags,
    ) -> Result<(), Errno> {
        let flags = VmFlags::READ
            | VmFlags::WRITE
            | VmFlags::MAYREAD
            | VmFlags::MAYWRITE
            | VmFlags::MAYEXEC
            | VmFlags::ACCOUNT
            | def_flags;
        self.check_address_space(&Areas(txn), len / PAGE_SIZE)?;
        self.check_data_limit(&Areas(txn), flags, len / PAGE_SIZE)?;
        if txn.map_count() > self.limits().max_map_count {
            return Err(Errno::ENOMEM);
        }
        self.charge(&Areas(txn), len / PAGE_SIZE)?;
        if let Some(prev) = heap_vma.filter(|v| v.end == addr) {
            let mut vmg = VmaMergeRequest::new_range(addr, addr + len, addr / PAGE_SIZE, flags, None);
            vmg.prev = Some(prev);
            vmg.just_expand = true;
            if merge_new_range_in(txn, &mut vmg).is_some() {
                return Ok(());
            }
            if vmg.state == vma::MergeState::ErrorNoMem {
                return Err(Errno::ENOMEM);
            }
        }
        txn.insert(Arc::new(Vma::new(addr, addr + len, addr / PAGE_SIZE, flags)))?;
        Ok(())
    }
}
