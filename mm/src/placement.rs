//! get_unmapped_area: where a mapping without a fixed address goes (the hint, then the
//! layout's direction), with the huge-page alignment Linux gives large mappings.

use std::sync::Arc;

use maple::{Range, View};
use vma::{VmFlags, Vma, PAGE_SIZE};

use crate::mm::{aligned, ensure, Areas};
use crate::{Errno, Mm};

/// A huge page (PMD) on x86_64.
const HUGE_PAGE: u64 = 2 << 20;

/// What `get_unmapped_area` is asked for.
#[derive(Clone, Copy)]
pub(crate) struct AreaRequest {
    pub(crate) hint: u64,
    pub(crate) len: u64,
    pub(crate) fixed: bool,
    /// Whether to try a huge-page aligned place first.
    pub(crate) huge: Huge,
}

/// Whether a search tries a huge-page aligned place, and for which file offset.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Huge {
    /// A plain search.
    No,
    /// `thp_get_unmapped_area`: a place where `addr - offset` is huge-page aligned, when the
    /// mapping holds a whole aligned huge page of the file (offset 0 for anonymous memory).
    Aligned {
        /// The file offset of the mapping's start, in bytes.
        offset: u64,
    },
}

impl Huge {
    /// Linux's choice (`__get_unmapped_area`): a regular file's mappings always try (its file
    /// system places them with `thp_get_unmapped_area`); private anonymous memory tries when
    /// there is no hint and the length is a multiple of a huge page; shared anonymous memory
    /// (shmem, huge pages off by default) never does. `pgoff` is the file offset in pages.
    pub(crate) fn of(file: bool, shared: bool, hint: u64, len: u64, pgoff: u64) -> Huge {
        match (file, shared) {
            (true, _) => Huge::Aligned { offset: pgoff * PAGE_SIZE },
            (false, false) if hint == 0 && len % HUGE_PAGE == 0 => Huge::Aligned { offset: 0 },
            (false, _) => Huge::No,
        }
    }
}

/// `vm_start_gap`: where the space that must stay free below an area begins.
pub(crate) fn start_gap(vma: &Vma, guard_gap: u64) -> u64 {
    if vma.flags.contains(VmFlags::GROWSDOWN) {
        vma.start.saturating_sub(guard_gap)
    } else {
        vma.start
    }
}

impl Mm {
    /// `get_unmapped_area`: the fixed address after its checks, or a free range found by
    /// the huge-page rule, then the hint, then the layout's direction (top-down falls back to
    /// bottom-up).
    pub(crate) fn get_unmapped_area(&self, view: &View<'_, Arc<Vma>>, request: AreaRequest) -> Result<u64, Errno> {
        let AreaRequest { hint, len, fixed, huge } = request;
        let task_size = self.layout.task_size;
        ensure(len <= task_size, Errno::ENOMEM)?;
        let addr = match (fixed, huge) {
            (true, _) => hint,
            (false, Huge::Aligned { offset }) => match self.huge_area(view, hint, len, offset) {
                Some(addr) => addr,
                None => self.find_area(view, hint, len)?,
            },
            (false, Huge::No) => self.find_area(view, hint, len)?,
        };
        ensure(addr <= task_size - len, Errno::ENOMEM)?;
        ensure(aligned(addr), Errno::EINVAL)?;
        ensure(addr >= self.layout.mmap_min_addr, Errno::EPERM)?;
        Ok(addr)
    }

    /// `get_unmapped_area(NULL, addr, len, 0, MAP_FIXED)`: the checks a fixed range must
    /// pass (inside the task size, at or above `mmap_min_addr`); brk's `check_brk_limits`.
    pub(crate) fn check_fixed_range(&self, addr: u64, len: u64) -> Result<u64, Errno> {
        let request = AreaRequest { hint: addr, len, fixed: true, huge: Huge::No };
        self.get_unmapped_area(&self.vmas.snapshot(), request)
    }

    /// `__thp_get_unmapped_area`: a search for the length plus a huge page, then the start
    /// moved up so that `addr - offset` is aligned (top-down, an already aligned start moves
    /// up a whole huge page, to the top of the padded range). `None` when the mapping holds
    /// no whole aligned huge page of the file, when the padded length finds no room (the
    /// caller then searches without padding), or at once when the hint is taken as it is.
    fn huge_area(&self, view: &View<'_, Arc<Vma>>, hint: u64, len: u64, offset: u64) -> Option<u64> {
        let offset_end = offset.checked_add(len)?;
        let offset_aligned = offset.checked_next_multiple_of(HUGE_PAGE)?;
        if offset_end <= offset_aligned || offset_end - offset_aligned < HUGE_PAGE {
            return None;
        }
        let padded = len.checked_add(HUGE_PAGE)?;
        offset.checked_add(padded)?;
        let found = self.find_area(view, hint, padded).ok()?;
        if found == hint {
            return Some(found);
        }
        let shift = offset.wrapping_sub(found) & (HUGE_PAGE - 1);
        Some(if self.layout.top_down && shift == 0 { found + HUGE_PAGE } else { found + shift })
    }

    /// A free range for a non-fixed request without alignment: the hint when the range there
    /// is free (and clear of a stack's guard gap), else the layout's direction.
    pub(crate) fn find_area(&self, view: &View<'_, Arc<Vma>>, hint: u64, len: u64) -> Result<u64, Errno> {
        let layout = &self.layout;
        ensure(len <= layout.task_size, Errno::ENOMEM)?;
        if hint != 0 && hint <= layout.task_size - len {
            match Areas(view).find_vma(hint) {
                Some(vma) if hint + len > start_gap(vma, layout.stack_guard_gap) => {}
                _ => return Ok(hint),
            }
        }
        let bottom_up = || self.unmapped_area(view, len, layout.unmapped_base(), layout.task_size, false);
        if layout.top_down {
            self.unmapped_area(view, len, PAGE_SIZE, layout.mmap_base, true).or_else(|_| bottom_up())
        } else {
            bottom_up()
        }
    }

    /// `vm_unmapped_area`: the highest (top-down) or lowest free range of `len` bytes in
    /// `[low, high)`, keeping the stack guard gap below growsdown areas. The maple gap search
    /// finds each candidate in O(log n).
    fn unmapped_area(
        &self,
        view: &View<'_, Arc<Vma>>,
        len: u64,
        low: u64,
        high: u64,
        top_down: bool,
    ) -> Result<u64, Errno> {
        let guard_gap = self.layout.stack_guard_gap;
        let (mut low, mut high) = (low.max(self.layout.mmap_min_addr), high);
        loop {
            ensure(low < high, Errno::ENOMEM)?;
            let within = Range { first: low, last: high - 1 };
            let search = if top_down { view.highest_gap(within, len) } else { view.lowest_gap(within, len) };
            let gap = search.map_err(|_| Errno::ENOMEM)?;
            let start = if top_down { gap.last + 1 - len } else { gap.first };
            // The area after the gap may be a stack that wants its guard gap
            // (unmapped_area / unmapped_area_topdown retry below or above it).
            if let Some(next) = Areas(view).find_vma(gap.last).filter(|n| n.flags.contains(VmFlags::GROWSDOWN)) {
                let below = start_gap(next, guard_gap);
                if top_down && below <= gap.last {
                    high = below;
                    continue;
                }
                if !top_down && below < start + len - 1 {
                    low = next.end;
                    continue;
                }
            }
            return Ok(start);
        }
    }
}
