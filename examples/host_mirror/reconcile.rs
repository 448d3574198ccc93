//! Making host pages what the engine's areas ask: the mirror's record of each host page,
//! and the mmap, mprotect and guard-marker calls that bring a run of pages in line (with
//! the memfds of the engine's file objects, created when first met).
//!
//! A submodule of `mirror.rs`, so that it shares [`State`]'s private fields.

use std::collections::hash_map::Entry;
use std::ffi::c_int;
use std::ops::Range;
use std::sync::Arc;

use vma::{File, VmFlags, Vma};

use super::super::host::{errno_text, memfd, MADV_GUARD_INSTALL, MADV_GUARD_REMOVE, PAGE, PAGE_U64};
use super::{Object, State};

/// What backs a host page.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Backing {
    /// Private anonymous memory.
    Anon,
    /// The memfd of the engine's file object with this id (a file, or a shared anonymous
    /// object).
    Object(u64),
}

/// How a host page is mapped.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct Mapping {
    backing: Backing,
    /// MAP_SHARED (else MAP_PRIVATE).
    shared: bool,
    /// PROT_* bits.
    prot: c_int,
    /// The page's offset in its object, in pages (0 for anonymous memory).
    pgoff: u64,
}

impl Mapping {
    /// Whether a page mapped as `self` is backed as `want` is: the same memory at the same
    /// offset, whatever the access bits.
    fn same_backing(&self, want: &Mapping) -> bool {
        self.backing == want.backing && self.shared == want.shared && self.pgoff == want.pgoff
    }

    /// Whether the page after a page mapped as `self` may be mapped as `next` by the same
    /// mmap call.
    fn continues(&self, next: &Mapping) -> bool {
        let pgoff = if self.backing == Backing::Anon { self.pgoff } else { self.pgoff + 1 };
        *next == Mapping { pgoff, ..*self }
    }
}

/// What the mirror has made of a host page.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Host {
    /// The reservation: the hole memfd, private, PROT_NONE (the engine has no area here).
    Hole,
    /// A mapping whose pages the engine unmapped: whatever the engine has here now needs a
    /// fresh host mapping.
    Stale,
    /// Mapped as the engine's area asks.
    Mapped(Mapping),
}

/// One host page: how it is mapped and whether it carries a guard marker.
#[derive(Clone, Copy, Debug)]
pub(super) struct HostPage {
    pub(super) host: Host,
    pub(super) guard: bool,
}

pub(super) const HOLE_PAGE: HostPage = HostPage { host: Host::Hole, guard: false };

/// What the mirror does to a host page so that it is mapped as the engine asks.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Action {
    Keep,
    Hole,
    Protect(c_int),
    Map(Mapping),
}

impl State {
    /// Maps the reservation over `pages` (PROT_NONE, the hole memfd at the page's offset in
    /// the reservation, so that neighbouring holes form one host area).
    pub(super) fn map_hole(&mut self, pages: Range<usize>) {
        let flags = libc::MAP_FIXED | libc::MAP_PRIVATE | libc::MAP_NORESERVE;
        let offset = ((pages.start + 1) * PAGE) as libc::off_t;
        let (addr, len) = (self.host_addr(pages.start), pages.len() * PAGE);
        // SAFETY: the range lies in the window, which only the mirror maps.
        let got = unsafe { libc::mmap(addr, len, libc::PROT_NONE, flags, self.hole.0, offset) };
        self.calls.holes += 1;
        if got == libc::MAP_FAILED {
            let error = errno_text();
            self.fail(format!("mmap of the reservation over pages {pages:?}: {error}"));
        }
        self.pages[pages].fill(HOLE_PAGE);
    }

    /// Creates the memfd of an engine file object when first met, sized to the object.
    fn object(&mut self, file: &File) {
        if let Entry::Vacant(slot) = self.objects.entry(file.id()) {
            let bytes = file.pages().unwrap_or(0).saturating_mul(PAGE_U64);
            match memfd(&format!("{}#{}", file.name(), file.id()), bytes) {
                Ok((fd, _, inode)) => {
                    slot.insert(Object { fd, inode });
                }
                Err(error) => self.errors.push(error),
            }
        }
    }

    /// How the engine's areas ask each page of `pages` to be mapped (`None`: no area, a
    /// hole), and which pages carry a guard marker.
    fn wanted(&mut self, pages: Range<usize>) -> Vec<(Option<Mapping>, bool)> {
        let mut wanted = vec![(None, false); pages.len()];
        let (low, high) = (Self::engine_addr(pages.start), Self::engine_addr(pages.end));
        let areas: Vec<Arc<Vma>> =
            self.areas.range(..high).rev().take_while(|(_, vma)| vma.end > low).map(|(_, vma)| vma.clone()).collect();
        for vma in areas {
            if let Some(file) = &vma.file {
                self.object(file);
            }
            let mut prot = libc::PROT_NONE;
            for (flag, bit) in
                [(VmFlags::READ, libc::PROT_READ), (VmFlags::WRITE, libc::PROT_WRITE), (VmFlags::EXEC, libc::PROT_EXEC)]
            {
                if vma.flags.contains(flag) {
                    prot |= bit;
                }
            }
            let backing = vma.file.as_ref().map_or(Backing::Anon, |file| Backing::Object(file.id()));
            let shared = vma.flags.contains(VmFlags::MAYSHARE);
            let span = self.pages_of(vma.start.max(low)..vma.end.min(high)).expect("the area meets the pages");
            for page in span {
                let addr = Self::engine_addr(page);
                let pgoff = if vma.file.is_some() { vma.pgoff_at(addr) } else { 0 };
                wanted[page - pages.start] = (Some(Mapping { backing, shared, prot, pgoff }), vma.is_guard(addr));
            }
        }
        wanted
    }

    /// Makes the host pages `pages` what the engine's areas ask: mprotect where a page is
    /// backed the same way already, else mmap of the backing or of the reservation; then
    /// the guard markers.
    pub(super) fn reconcile(&mut self, pages: Range<usize>) {
        let wanted = self.wanted(pages.clone());
        let action = |have: HostPage, want: Option<Mapping>| match (have.host, want) {
            (Host::Hole, None) => Action::Keep,
            (_, None) => Action::Hole,
            (Host::Mapped(mapped), Some(want)) if mapped.same_backing(&want) => {
                if mapped.prot == want.prot {
                    Action::Keep
                } else {
                    Action::Protect(want.prot)
                }
            }
            (_, Some(want)) => Action::Map(want),
        };
        let mut at = 0;
        while at < pages.len() {
            let first = action(self.pages[pages.start + at], wanted[at].0);
            let mut end = at + 1;
            let mut last = first;
            while end < pages.len() {
                let next = action(self.pages[pages.start + end], wanted[end].0);
                let continues = match (last, next) {
                    (Action::Map(a), Action::Map(b)) => a.continues(&b),
                    (a, b) => a == b,
                };
                if !continues {
                    break;
                }
                last = next;
                end += 1;
            }
            self.perform(first, pages.start + at..pages.start + end);
            at = end;
        }
        // Guard markers: a fresh mapping has none; a kept page keeps its own.
        let mut at = 0;
        while at < pages.len() {
            let want = wanted[at].1;
            if self.pages[pages.start + at].guard == want {
                at += 1;
                continue;
            }
            let mut end = at + 1;
            while end < pages.len() && wanted[end].1 == want && self.pages[pages.start + end].guard != want {
                end += 1;
            }
            let run = pages.start + at..pages.start + end;
            let advice = if want { MADV_GUARD_INSTALL } else { MADV_GUARD_REMOVE };
            // SAFETY: the range lies in the window, which only the mirror maps.
            let done = unsafe { libc::madvise(self.host_addr(run.start), run.len() * PAGE, advice) };
            if want {
                self.calls.guard_install += 1;
            } else {
                self.calls.guard_remove += 1;
            }
            if done != 0 {
                let error = errno_text();
                self.fail(format!("madvise({advice}) of pages {run:?}: {error}"));
            }
            for page in run {
                self.pages[page].guard = want;
            }
            at = end;
        }
    }

    /// One host call for the run of pages `pages`.
    fn perform(&mut self, action: Action, pages: Range<usize>) {
        let (addr, len) = (self.host_addr(pages.start), pages.len() * PAGE);
        match action {
            Action::Keep => {}
            Action::Hole => self.map_hole(pages),
            Action::Protect(prot) => {
                // SAFETY: the range lies in the window, which only the mirror maps.
                let done = unsafe { libc::mprotect(addr, len, prot) };
                self.calls.mprotect += 1;
                if done != 0 {
                    let error = errno_text();
                    self.fail(format!("mprotect({prot}) of pages {pages:?}: {error}"));
                }
                for page in &mut self.pages[pages] {
                    if let Host::Mapped(mapping) = &mut page.host {
                        mapping.prot = prot;
                    }
                }
            }
            Action::Map(mapping) => {
                let share = if mapping.shared { libc::MAP_SHARED } else { libc::MAP_PRIVATE };
                let (fd, offset) = match mapping.backing {
                    Backing::Anon => (-1, 0),
                    Backing::Object(id) => match self.objects.get(&id) {
                        Some(object) => (object.fd.0, mapping.pgoff.saturating_mul(PAGE_U64)),
                        None => return, // its creation failed, and said so
                    },
                };
                let anonymous = if fd < 0 { libc::MAP_ANONYMOUS | libc::MAP_NORESERVE } else { 0 };
                let flags = libc::MAP_FIXED | share | anonymous;
                let offset = libc::off_t::try_from(offset).unwrap_or(libc::off_t::MAX);
                // SAFETY: the range lies in the window, which only the mirror maps; the
                // descriptor (if any) is a memfd the mirror owns.
                let got = unsafe { libc::mmap(addr, len, mapping.prot, flags, fd, offset) };
                self.calls.mmap += 1;
                if got == libc::MAP_FAILED {
                    let error = errno_text();
                    self.fail(format!("mmap of {mapping:?} over pages {pages:?}: {error}"));
                }
                for (i, page) in self.pages[pages].iter_mut().enumerate() {
                    let pgoff = if mapping.backing == Backing::Anon { 0 } else { mapping.pgoff + i as u64 };
                    *page = HostPage { host: Host::Mapped(Mapping { pgoff, ..mapping }), guard: false };
                }
            }
        }
    }
}
