//! The mirror: an [`Observer`] that makes the host window follow every [`Change`] with
//! real system calls. Here: the areas it holds, the pages each change touches, the moves and
//! the discards; its submodule `reconcile.rs` makes a run of pages what the areas ask.
//!
//! It never takes a snapshot of the engine: what it knows of the engine's areas is what the
//! notifications told it (seeded once, before it observes, from the areas already mapped).
//! The [`Vma`] fields are enough for the host: access bits and sharing from the flags, the
//! backing from the file object (`File::id`), the file offset from the pgoff, the guard
//! markers from the area. The mirror attaches no per-area data, so it needs none.

// Making host pages what the areas ask: a submodule, to share `State`'s private fields.
#[path = "reconcile.rs"]
mod reconcile;

use std::collections::{BTreeMap, HashMap};
use std::ffi::c_void;
use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use maple_mm::engine::WINDOW_BASE;
use mm::{Change, Observer};
use vma::Vma;

use self::reconcile::{Host, HostPage, HOLE_PAGE};
use super::host::{
    errno, errno_name, errno_text, memfd, open_pagemap, Fd, MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE, PAGE,
    PAGE_U64,
};

/// The host memory of an engine file object: a memfd.
pub(super) struct Object {
    fd: Fd,
    /// Its inode, as `/proc/self/maps` shows it.
    pub(super) inode: u64,
}

/// Host system calls made by the mirror.
#[derive(Clone, Copy, Debug, Default)]
pub struct Calls {
    /// mmap(MAP_FIXED) of a backing.
    pub mmap: u64,
    /// mmap(MAP_FIXED) of the reservation (a hole).
    pub holes: u64,
    /// mprotect.
    pub mprotect: u64,
    /// mremap moves.
    pub mremap: u64,
    /// Moves of ranges the host had split into several areas, done page by page.
    pub mremap_by_page: u64,
    /// madvise(MADV_DONTNEED) of discarded ranges (those not punched).
    pub dontneed: u64,
    /// madvise(MADV_REMOVE) of punched ranges (discarded, with the file's pages freed).
    pub remove: u64,
    /// madvise(MADV_GUARD_INSTALL).
    pub guard_install: u64,
    /// madvise(MADV_GUARD_REMOVE).
    pub guard_remove: u64,
}

impl Calls {
    pub(super) fn add(&mut self, other: &Calls) {
        self.mmap += other.mmap;
        self.holes += other.holes;
        self.mprotect += other.mprotect;
        self.mremap += other.mremap;
        self.mremap_by_page += other.mremap_by_page;
        self.dontneed += other.dontneed;
        self.remove += other.remove;
        self.guard_install += other.guard_install;
        self.guard_remove += other.guard_remove;
    }

    pub(super) fn total(&self) -> u64 {
        self.mmap
            + self.holes
            + self.mprotect
            + self.mremap
            + self.dontneed
            + self.remove
            + self.guard_install
            + self.guard_remove
    }
}

/// A real window of this process that follows an engine window through its notifications.
pub struct HostMirror {
    state: Mutex<State>,
}

/// What the mirror holds: the host window, the engine's areas as the notifications told
/// them, and what it made of each host page.
pub(super) struct State {
    /// The first host address of the reservation: a fence page, then the window, then a
    /// fence page.
    reserved: usize,
    /// Host address of window page 0.
    pub(super) base: usize,
    /// The window's size in pages.
    pub(super) window: usize,
    /// The reservation's backing: its inode marks holes in `/proc/self/maps` (an engine
    /// area that is PROT_NONE private anonymous memory shows as `---p` with no inode).
    hole: Fd,
    pub(super) hole_dev: u64,
    pub(super) hole_inode: u64,
    /// The memfd of each engine file object met, by `File::id`.
    pub(super) objects: HashMap<u64, Object>,
    /// The engine's areas in the window, as the notifications told them, by start.
    areas: BTreeMap<u64, Arc<Vma>>,
    /// What the mirror made of each host page of the window.
    pages: Vec<HostPage>,
    calls: Calls,
    /// Time spent handling notifications.
    busy: Duration,
    /// Host calls that failed, and notifications the areas did not fit.
    pub(super) errors: Vec<String>,
    /// `/proc/self/pagemap`, for the guard markers.
    pub(super) pagemap: Fd,
}

impl Drop for State {
    fn drop(&mut self) {
        // SAFETY: the reservation is ours and nothing refers into it any more; the mirror
        // never seals host memory, so the unmap succeeds.
        unsafe {
            libc::munmap(self.reserved as *mut c_void, (self.window + 2) * PAGE);
        }
    }
}

impl HostMirror {
    /// Reserves a host window of `window` pages and maps in it the engine's `areas` (those
    /// mapped before the mirror observes; the rest it learns from notifications).
    pub fn new(window: u64, areas: impl Iterator<Item = Arc<Vma>>) -> Result<Arc<HostMirror>, String> {
        let window = usize::try_from(window).map_err(|_| "the window is too large".to_string())?;
        let bytes = window.checked_add(2).and_then(|pages| pages.checked_mul(PAGE)).ok_or("the window is too large")?;
        let (hole, hole_dev, hole_inode) = memfd("hole", 0)?;
        let pagemap = open_pagemap()?;
        let flags = libc::MAP_PRIVATE | libc::MAP_NORESERVE;
        // SAFETY: a new mapping where the kernel chooses touches no existing memory.
        let reserved = unsafe { libc::mmap(std::ptr::null_mut(), bytes, libc::PROT_NONE, flags, hole.0, 0) };
        if reserved == libc::MAP_FAILED {
            return Err(format!("reserving {window} pages: {}", errno_text()));
        }
        let reserved = reserved as usize;
        let mut state = State {
            reserved,
            base: reserved + PAGE,
            window,
            hole,
            hole_dev,
            hole_inode,
            objects: HashMap::new(),
            areas: BTreeMap::new(),
            pages: vec![HOLE_PAGE; window],
            calls: Calls::default(),
            busy: Duration::ZERO,
            errors: Vec::new(),
            pagemap,
        };
        for area in areas {
            if state.pages_of(area.start..area.end).is_some() {
                state.areas.insert(area.start, area);
            }
        }
        state.reconcile(0..window);
        match state.errors.first() {
            Some(error) => Err(error.clone()),
            None => Ok(Arc::new(HostMirror { state: Mutex::new(state) })),
        }
    }

    pub(super) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The host calls made so far and the time spent handling notifications.
    pub fn work(&self) -> (Calls, Duration) {
        let state = self.state();
        (state.calls, state.busy)
    }
}

impl Observer for HostMirror {
    fn after(&self, change: &Change) {
        let started = Instant::now();
        let mut state = self.state();
        state.apply(change);
        state.busy += started.elapsed();
    }
}

/// Sorts `ranges` and joins those that overlap or touch.
fn join(mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    ranges.sort_unstable_by_key(|r| r.start);
    let mut joined: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for range in ranges.into_iter().filter(|r| r.start < r.end) {
        match joined.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => joined.push(range),
        }
    }
    joined
}

/// `range` cut at the edges of the sorted, disjoint `punched` ranges: its pieces in order,
/// each with whether it lies in a punched range.
fn cut(range: Range<u64>, punched: &[Range<u64>]) -> Vec<(Range<u64>, bool)> {
    let mut pieces = Vec::new();
    let mut at = range.start;
    for hole in punched.iter().filter(|p| p.start < range.end && range.start < p.end) {
        let (from, to) = (hole.start.max(at), hole.end.min(range.end));
        if at < from {
            pieces.push((at..from, false));
        }
        if from < to {
            pieces.push((from..to, true));
        }
        at = at.max(to);
    }
    if at < range.end {
        pieces.push((at..range.end, false));
    }
    pieces
}

impl State {
    /// The window pages of the engine range `range`, clipped to the window; `None` when
    /// they do not meet.
    pub(super) fn pages_of(&self, range: Range<u64>) -> Option<Range<usize>> {
        let end = WINDOW_BASE + self.window as u64 * PAGE_U64;
        let (start, stop) = (range.start.max(WINDOW_BASE), range.end.min(end));
        (start < stop).then(|| ((start - WINDOW_BASE) / PAGE_U64) as usize..((stop - WINDOW_BASE) / PAGE_U64) as usize)
    }

    /// The pages of `range` when it lies wholly in the window.
    fn pages_within(&self, range: Range<u64>) -> Option<Range<usize>> {
        let pages = self.pages_of(range.clone())?;
        let whole = pages.len() as u64 * PAGE_U64 == range.end - range.start;
        whole.then_some(pages)
    }

    /// The engine address of window page `page`.
    pub(super) fn engine_addr(page: usize) -> u64 {
        WINDOW_BASE + page as u64 * PAGE_U64
    }

    /// The host address of window page `page`.
    fn host_addr(&self, page: usize) -> *mut c_void {
        (self.base + page * PAGE) as *mut c_void
    }

    fn fail(&mut self, what: String) {
        self.errors.push(what);
    }

    /// Follows one change: the areas, the moves, the mappings of every page the change
    /// touched, the discards.
    fn apply(&mut self, change: &Change) {
        let mut dirty = Vec::new();
        for gone in &change.removed {
            if let Some(pages) = self.pages_of(gone.start..gone.end) {
                dirty.push(pages);
                match self.areas.remove(&gone.start) {
                    Some(held) if Arc::ptr_eq(&held, gone) => {}
                    _ => {
                        self.fail(format!("removed {:#x}-{:#x}, which the mirror does not hold", gone.start, gone.end))
                    }
                }
            }
        }
        for new in &change.added {
            if let Some(pages) = self.pages_of(new.start..new.end) {
                dirty.push(pages);
                if self.areas.insert(new.start, new.clone()).is_some() {
                    self.fail(format!("added {:#x}-{:#x} over an area the mirror holds", new.start, new.end));
                }
            }
        }
        // Unmapped pages lose their contents, whatever is mapped there now; but a move's
        // source is unmapped after its pages left (the host moves them first).
        let sources: Vec<Range<u64>> = change.moved.iter().map(|m| m.from..m.from + m.len).collect();
        for range in &change.unmapped {
            let Some(pages) = self.pages_of(range.clone()) else { continue };
            dirty.push(pages.clone());
            for page in pages {
                let addr = Self::engine_addr(page);
                if !sources.iter().any(|source| source.contains(&addr)) {
                    self.pages[page].host = Host::Stale;
                }
            }
        }
        for moved in &change.moved {
            let from = self.pages_of(moved.from..moved.from + moved.len);
            let to = self.pages_of(moved.to..moved.to + moved.len);
            dirty.extend(from.iter().chain(&to).cloned());
            // A move out of the window (or into it from outside) cannot be followed on the
            // host: the pages it leaves or reaches are mapped afresh below.
            let from = self.pages_within(moved.from..moved.from + moved.len);
            let to = self.pages_within(moved.to..moved.to + moved.len);
            if let (Some(from), Some(to)) = (from, to) {
                self.host_move(from, to.start);
            }
        }
        for range in join(dirty) {
            self.reconcile(range);
        }
        // Discards: the punched parts lose the memfd's pages (MADV_REMOVE), the rest only
        // this mapping's pages (MADV_DONTNEED).
        let mut punched = change.punched.clone();
        punched.sort_unstable_by_key(|r| r.start);
        for range in &punched {
            let covered: u64 =
                change.discarded.iter().map(|d| d.end.min(range.end).saturating_sub(d.start.max(range.start))).sum();
            if covered != range.end - range.start {
                self.fail(format!("punched {:#x}-{:#x}, which is not all discarded", range.start, range.end));
            }
        }
        for range in &change.discarded {
            for (piece, punch) in cut(range.clone(), &punched) {
                if let Some(pages) = self.pages_of(piece) {
                    self.discard(pages, punch);
                }
            }
        }
    }

    /// Drops the contents of the host pages `pages`: with `punch`, MADV_REMOVE (the memfd's
    /// pages are freed, for every mapping of them: what the engine's MADV_REMOVE does to a
    /// shared file); else MADV_DONTNEED (only these mappings' pages go).
    fn discard(&mut self, pages: Range<usize>, punch: bool) {
        let (advice, name) =
            if punch { (libc::MADV_REMOVE, "MADV_REMOVE") } else { (libc::MADV_DONTNEED, "MADV_DONTNEED") };
        // SAFETY: the range lies in the window, which only the mirror maps.
        let done = unsafe { libc::madvise(self.host_addr(pages.start), pages.len() * PAGE, advice) };
        if punch {
            self.calls.remove += 1;
        } else {
            self.calls.dontneed += 1;
        }
        if done != 0 {
            let error = errno_text();
            let host = self.pages[pages.start].host;
            self.fail(format!("the host refused madvise({name}) of pages {pages:?} ({host:?}...): {error}"));
        }
    }

    /// Moves the host pages `from` to the pages from `to` on (mremap, with their contents,
    /// guard markers and backing), and puts the reservation back where they were.
    ///
    /// With MREMAP_DONTUNMAP the source stays mapped until the reservation replaces it, so
    /// the window never has a gap that another thread's mmap could take. DONTUNMAP moves one
    /// host area per call: where the host has split the range (its areas need not be the
    /// engine's), the move goes page by page.
    fn host_move(&mut self, from: Range<usize>, to: usize) {
        let len = from.len() * PAGE;
        let flags = MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP;
        let moved: Vec<HostPage> = self.pages[from.clone()].to_vec();
        // SAFETY: both ranges lie in the window, which only the mirror maps.
        let got =
            unsafe { libc::syscall(libc::SYS_mremap, self.host_addr(from.start), len, len, flags, self.host_addr(to)) };
        self.calls.mremap += 1;
        let mut failed = 0;
        let mut last_errno = 0;
        if got == -1 {
            self.calls.mremap_by_page += 1;
            for (i, page) in from.clone().enumerate() {
                let (old, new) = (self.host_addr(page), self.host_addr(to + i));
                // SAFETY: as above, one page (which lies in one host area).
                if unsafe { libc::syscall(libc::SYS_mremap, old, PAGE, PAGE, flags, new) } == -1 {
                    failed += 1;
                    last_errno = errno();
                }
            }
        }
        self.map_hole(from.clone());
        if failed > 0 {
            let error = errno_name(last_errno);
            self.fail(format!("mremap of pages {from:?} to {to}: {failed} pages failed ({error})"));
        }
        self.pages[to..to + moved.len()].copy_from_slice(&moved);
    }
}
