//! mremap: shrink, grow in place, move (also several areas at once), don't-unmap moves.

use std::sync::Arc;

use vma::{copy_vma_in, merge_extend_in, VmFlags, Vma, VmaTxn, PAGE_SIZE};

use crate::mm::{aligned, ensure, Areas};
use crate::mmap::errno_of;
use crate::placement::{AreaRequest, Huge};
use crate::{Errno, Mm, Move, MremapFlags};

/// `PAGE_ALIGN`, wrapping as the kernel's does.
fn page_align_wrapping(len: u64) -> u64 {
    len.wrapping_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1)
}

/// One remap request (the kernel's `vma_remap_struct`).
#[derive(Clone, Copy, Debug)]
struct Remap {
    addr: u64,
    old_len: u64,
    new_len: u64,
    flags: MremapFlags,
    new_addr: u64,
    /// A locked area grew: populate the new part afterwards.
    populate_expand: bool,
}

impl Remap {
    /// FIXED or DONTUNMAP: the area goes to a new address.
    fn implies_new_addr(&self) -> bool {
        self.flags.contains(MremapFlags::FIXED) || self.flags.contains(MremapFlags::DONTUNMAP)
    }

    /// A same-size FIXED move, which may span several areas.
    fn move_only(&self) -> bool {
        self.flags.contains(MremapFlags::FIXED) && self.old_len == self.new_len
    }

    fn delta(&self) -> u64 {
        self.new_len.abs_diff(self.old_len)
    }
}

impl Mm {
    /// `mremap(addr, old_len, new_len, flags, new_addr)`; returns the area's address.
    ///
    /// Shrinking unmaps the tail; growing extends in place when the pages after the area
    /// are free (merging with a compatible next area) or, with `MAYMOVE`, moves the area;
    /// `FIXED` moves to `new_addr`, unmapping what is there (a same-size move may span
    /// several areas, keeping the gaps between them); `DONTUNMAP` leaves the source mapped
    /// (without its lock bits, and without its anon_vma if it moved whole). Errors as
    /// Linux: EINVAL (bad flags, alignment, lengths, overlap), EFAULT (no area at `addr`,
    /// a range crossing areas), ENOMEM (no room to grow without MAYMOVE, limits), EPERM
    /// (sealed), EAGAIN (lock limit).
    ///
    /// ```
    /// use mm::{MapFlags, Mm, MremapFlags, Prot};
    /// let mm = Mm::new();
    /// let anon = MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::FIXED;
    /// mm.mmap(0x100_0000, 4096, Prot::READ, anon, None, 0).unwrap();
    /// assert_eq!(mm.mremap(0x100_0000, 4096, 8192, MremapFlags::NONE, 0), Ok(0x100_0000));
    /// let moved = MremapFlags::MAYMOVE | MremapFlags::FIXED;
    /// assert_eq!(mm.mremap(0x100_0000, 8192, 8192, moved, 0x200_0000), Ok(0x200_0000));
    /// assert!(mm.snapshot().find(0x100_0000).is_none());
    /// ```
    pub fn mremap(
        &self,
        addr: u64,
        old_len: u64,
        new_len: u64,
        flags: MremapFlags,
        new_addr: u64,
    ) -> Result<u64, Errno> {
        let mut remap = Remap {
            addr,
            old_len: page_align_wrapping(old_len),
            new_len: page_align_wrapping(new_len),
            flags,
            new_addr,
            populate_expand: false,
        };
        let _lock = self.write_lock();
        let mut txn = self.vmas.transaction();
        let result = self.do_mremap(&mut txn, &mut remap);
        if result.is_ok() && remap.populate_expand {
            let from = remap.new_addr + remap.old_len;
            let _ = self.populate(&mut txn, from, from.saturating_add(remap.delta()), true);
        }
        // Also after an error: what Linux did before it (an unmapped target or tail) stands.
        self.publish(txn);
        result
    }

    /// The whole of mremap in the call's transaction.
    fn do_mremap(&self, txn: &mut VmaTxn<'_>, r: &mut Remap) -> Result<u64, Errno> {
        self.check_mremap_params(txn, r)?;
        if r.move_only() {
            return self.remap_move(txn, *r);
        }
        let vma = Areas(txn).find(r.addr).cloned();
        self.check_prep(txn, vma.as_ref(), r)?;
        if r.implies_new_addr() {
            self.mremap_to(txn, r)
        } else {
            self.mremap_at(txn, vma.expect("check_prep found the area"), r)
        }
    }

    /// check_mremap_params: the checks that need no area.
    fn check_mremap_params(&self, txn: &VmaTxn<'_>, r: &Remap) -> Result<(), Errno> {
        let task_size = self.layout.task_size;
        let known = MremapFlags::MAYMOVE | MremapFlags::FIXED | MremapFlags::DONTUNMAP;
        ensure(r.flags.without(known) == MremapFlags::NONE, Errno::EINVAL)?;
        ensure(aligned(r.addr), Errno::EINVAL)?;
        ensure(r.new_len != 0 && r.new_len <= task_size, Errno::EINVAL)?;
        if !r.implies_new_addr() {
            return Ok(());
        }
        ensure(r.new_addr <= task_size - r.new_len && aligned(r.new_addr), Errno::EINVAL)?;
        ensure(r.flags.contains(MremapFlags::MAYMOVE), Errno::EINVAL)?;
        ensure(!r.flags.contains(MremapFlags::DONTUNMAP) || r.old_len == r.new_len, Errno::EINVAL)?;
        let overlaps = r.addr.wrapping_add(r.old_len) > r.new_addr && r.new_addr + r.new_len > r.addr;
        ensure(!overlaps, Errno::EINVAL)?;
        ensure(txn.map_count() + 2 < self.limits().max_map_count.saturating_sub(3), Errno::ENOMEM)
    }

    /// check_prep_vma: the checks against the area at `addr`.
    fn check_prep(&self, txn: &VmaTxn<'_>, vma: Option<&Arc<Vma>>, r: &mut Remap) -> Result<(), Errno> {
        let vma = vma.ok_or(Errno::EFAULT)?;
        ensure(!vma.flags.contains(VmFlags::SEALED), Errno::EPERM)?;
        if !r.implies_new_addr() {
            r.new_addr = r.addr;
        }
        if r.new_len <= r.old_len && !r.implies_new_addr() {
            return Ok(());
        }
        let shareable = vma.flags.intersects(VmFlags::SHARED | VmFlags::MAYSHARE);
        ensure(r.old_len != 0 || shareable, Errno::EINVAL)?;
        let unmovable = vma.flags.intersects(VmFlags::DONTEXPAND | VmFlags::PFNMAP);
        ensure(!(r.flags.contains(MremapFlags::DONTUNMAP) && unmovable), Errno::EINVAL)?;
        // A move that also shrinks unmaps the tail first (even past the area), so only
        // what is left must lie inside the area.
        let kept = if r.implies_new_addr() { r.old_len.min(r.new_len) } else { r.old_len };
        ensure(kept <= vma.end - r.addr, Errno::EFAULT)?;
        if r.new_len == r.old_len {
            return Ok(());
        }
        r.populate_expand = vma.flags.contains(VmFlags::LOCKED);
        ensure(vma.pgoff_at(r.addr).checked_add(r.new_len / PAGE_SIZE).is_some(), Errno::EINVAL)?;
        ensure(!unmovable, Errno::EFAULT)?;
        ensure(!vma.flags.contains(VmFlags::LOCKED) || self.mlock_future_ok(&Areas(txn), r.delta()), Errno::EAGAIN)?;
        self.check_address_space(&Areas(txn), r.delta() / PAGE_SIZE)?;
        self.check_data_limit(&Areas(txn), vma.flags, r.delta() / PAGE_SIZE)
    }

    /// mremap_at: resize where the area is.
    fn mremap_at(&self, txn: &mut VmaTxn<'_>, vma: Arc<Vma>, r: &mut Remap) -> Result<u64, Errno> {
        if r.new_len == r.old_len {
            return Ok(r.addr);
        }
        if r.new_len < r.old_len {
            self.shrink_tail(txn, r)?;
            return Ok(r.addr);
        }
        if vma.end - r.addr == r.old_len && self.expandable(txn, &vma, r.delta()) {
            if vma.flags.contains(VmFlags::ACCOUNT) {
                self.charge(&Areas(txn), r.delta() / PAGE_SIZE)?;
            }
            merge_extend_in(txn, &vma, r.delta()).ok_or(Errno::ENOMEM)?;
            return Ok(r.addr);
        }
        ensure(r.flags.contains(MremapFlags::MAYMOVE), Errno::ENOMEM)?;
        r.new_addr = self.area_for_move(txn, r)?;
        self.move_vma(txn, r)
    }

    /// vma_expandable: the `delta` bytes after `vma` are free and inside the task.
    fn expandable(&self, txn: &VmaTxn<'_>, vma: &Vma, delta: u64) -> bool {
        let Some(end) = vma.end.checked_add(delta) else { return false };
        let free = Areas(txn).within(vma.end, end).next().is_none();
        free && end <= self.layout.task_size
    }

    /// shrink_vma: unmaps the tail `[addr + new_len, addr + old_len)` that a shrink gives up,
    /// with do_vmi_munmap's checks: a tail reaching past the task size (an `old_len` up to
    /// `u64::MAX`) is EINVAL.
    fn shrink_tail(&self, txn: &mut VmaTxn<'_>, r: &Remap) -> Result<(), Errno> {
        let task_size = self.layout.task_size;
        // `addr` is inside an area and `new_len` at most the task size: no overflow.
        let start = r.addr + r.new_len;
        let len = r.old_len - r.new_len;
        ensure(start <= task_size && len <= task_size - start, Errno::EINVAL)?;
        self.do_munmap(txn, start, start + len)
    }

    /// mremap_to: move to the new address (unmapping it first with FIXED), shrinking first.
    fn mremap_to(&self, txn: &mut VmaTxn<'_>, r: &mut Remap) -> Result<u64, Errno> {
        if r.flags.contains(MremapFlags::FIXED) {
            self.do_munmap(txn, r.new_addr, r.new_addr + r.new_len)?;
        }
        ensure(Areas(txn).find(r.addr).is_some(), Errno::EFAULT)?;
        if r.new_len < r.old_len {
            self.shrink_tail(txn, r)?;
            r.old_len = r.new_len;
        }
        if r.flags.contains(MremapFlags::DONTUNMAP) {
            self.check_address_space(&Areas(txn), r.old_len / PAGE_SIZE)?;
            let flags = Areas(txn).find(r.addr).map_or(VmFlags::EMPTY, |vma| vma.flags);
            self.check_data_limit(&Areas(txn), flags, r.old_len / PAGE_SIZE)?;
        }
        r.new_addr = if r.flags.contains(MremapFlags::FIXED) {
            ensure(r.new_addr >= self.layout.mmap_min_addr, Errno::EPERM)?;
            r.new_addr
        } else {
            self.area_for_move(txn, r)?
        };
        self.move_vma(txn, r)
    }

    /// A free place for the moved area: get_unmapped_area with the request's hint and the
    /// area's file, offset and sharing, so that a move is placed as a new mapping of it would
    /// be (huge-page alignment included).
    fn area_for_move(&self, txn: &VmaTxn<'_>, r: &Remap) -> Result<u64, Errno> {
        let hint = if r.implies_new_addr() { r.new_addr } else { 0 };
        let vma = Areas(txn).find(r.addr).ok_or(Errno::EFAULT)?;
        let pgoff = vma.pgoff + (r.addr - vma.start) / PAGE_SIZE;
        let shared = vma.flags.contains(VmFlags::MAYSHARE);
        let huge = Huge::of(vma.file.is_some(), shared, hint, r.new_len, pgoff);
        self.get_unmapped_area(txn, AreaRequest { hint, len: r.new_len, fixed: false, huge })
    }

    /// move_vma: copy the area to the new place with its pages (guard markers included; the
    /// area's `mremap` hook may refuse), and unmap the source (or, with DONTUNMAP, leave it
    /// without lock bits).
    fn move_vma(&self, txn: &mut VmaTxn<'_>, r: &Remap) -> Result<u64, Errno> {
        ensure(txn.map_count() < self.limits().max_map_count.saturating_sub(3), Errno::ENOMEM)?;
        let vma = Areas(txn).find(r.addr).cloned().ok_or(Errno::EFAULT)?;
        let old_end = r.addr + r.old_len;
        if vma.start != r.addr {
            vma.may_split(r.addr).map_err(errno_of)?;
        }
        if vma.end != old_end {
            vma.may_split(old_end).map_err(errno_of)?;
        }
        if vma.flags.contains(VmFlags::ACCOUNT) {
            self.charge(&Areas(txn), r.new_len / PAGE_SIZE)?;
        }
        // move_page_tables: the guard markers of the pages that move go with them.
        let moved = r.old_len.min(r.new_len);
        let markers = vma.guard_ranges(r.addr, r.addr + moved);
        let new_vma = txn.atomic(|txn| {
            let (new_vma, _) = copy_vma_in(txn, &vma, r.new_addr, r.new_len, vma.pgoff_at(r.addr))?;
            vma.mremap_hook(&new_vma).map_err(errno_of)?;
            for range in &markers {
                self.set_guards(txn, range.start - r.addr + r.new_addr, range.end - r.addr + r.new_addr, true)?;
            }
            Ok::<_, Errno>(new_vma)
        })?;
        self.note_moved(Move { from: r.addr, to: r.new_addr, len: r.old_len.min(r.new_len) });
        if r.flags.contains(MremapFlags::DONTUNMAP) {
            self.dontunmap_complete(txn, r, &new_vma);
        } else {
            // An unmap failure here only costs accounting in Linux; the move stands.
            let _ = self.do_munmap(txn, r.addr, old_end);
        }
        Ok(r.new_addr)
    }

    /// The source of a DONTUNMAP move loses its lock bits, its guard markers (they moved
    /// with the page tables), and its anon_vma when it moved whole.
    fn dontunmap_complete(&self, txn: &mut VmaTxn<'_>, r: &Remap, new_vma: &Arc<Vma>) {
        let Some(source) = Areas(txn).find(r.addr).cloned() else { return };
        let whole = source.start == r.addr && source.end == r.addr + r.old_len;
        let mut version = source.with_guards(r.addr, r.addr + r.old_len, false);
        version.flags = version.flags - (VmFlags::LOCKED | VmFlags::LOCKONFAULT);
        if whole && new_vma.id() != source.id() {
            version.anon = None;
        }
        let _ = txn.atomic(|txn| txn.replace(Arc::new(version)));
    }

    /// remap_move: a same-size FIXED move of every area in the range, split as needed,
    /// each landing at the same distance from the first as in the source.
    fn remap_move(&self, txn: &mut VmaTxn<'_>, r: Remap) -> Result<u64, Errno> {
        // The kernel's unsigned sum: a range wrapping past u64::MAX meets no area (EFAULT).
        let (start, end) = (r.addr, r.addr.wrapping_add(r.old_len));
        let mut result = Err(Errno::EFAULT);
        let mut target = r.new_addr;
        let mut last_end = None;
        let mut next = start;
        loop {
            let Some(vma) = Areas(txn).within(next, end).next().cloned() else { break };
            let piece = vma.start.max(start);
            let len = end.min(vma.end) - piece;
            ensure(last_end.is_some() || start >= vma.start, Errno::EFAULT)?;
            let seen = last_end.is_some();
            let offset = last_end.map_or(0, |last| vma.start - last);
            last_end = Some(vma.end);
            // Areas with a userfaultfd context move only alone.
            if vma.uffd.is_some() {
                ensure(!seen && vma.end >= end, Errno::EFAULT)?;
            }
            let mut one = Remap { addr: piece, old_len: len, new_len: len, new_addr: target + offset, ..r };
            self.check_prep(txn, Some(&vma), &mut one)?;
            let moved = self.mremap_to(txn, &mut one)?;
            if result.is_err() {
                result = Ok(moved);
            }
            target = moved + len;
            next = vma.end;
        }
        result
    }
}
