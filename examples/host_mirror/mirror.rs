//! The host mirror: a real window of this process kept equal to the window of an [`mm::Mm`]
//! using only the engine's change notifications, and the check that it is.
//!
//! [`HostMirror`] is an [`Observer`]. It reserves a window of its own process as large as
//! the script's window and, on every [`Change`], makes the host follow with real system
//! calls: `mremap` for the moves, `mmap(MAP_FIXED)` for new mappings and for holes,
//! `mprotect` where a page stays backed the same way (so its contents stay, as a real
//! runtime needs), `madvise(MADV_DONTNEED)` for discarded ranges and
//! `madvise(MADV_GUARD_INSTALL / MADV_GUARD_REMOVE)` for guard markers. It never takes a
//! snapshot of the engine: what it knows of the engine's areas is what the notifications
//! told it (seeded once, before it observes, from the areas already mapped).
//!
//! The [`Vma`] fields are enough for the host: access bits and sharing from the flags, the
//! backing from the file object (`File::id`), the file offset from the pgoff, the guard
//! markers from the area. The mirror attaches no per-area data, so it needs none.
//!
//! [`run`] replays generated scripts on the engine with a mirror attached and, after every
//! op, compares `/proc/self/maps` and `/proc/self/pagemap` for the host window with the
//! engine's areas page by page.
//!
//! Everything here is for Linux on x86_64 with 4 KiB pages (6.15 or later for guard markers
//! on file mappings and in pagemap).

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::ffi::{c_int, c_void, CString};
use std::fmt;
use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use maple_mm::engine::{Replay, WINDOW_BASE};
use maple_mm::gen::{random_script, GenConfig};
use maple_mm::script::parse;
use mm::{Change, Mm, Observer};
use vma::{File, VmFlags, Vma};

/// Bytes per page.
const PAGE: usize = 4096;
/// [`PAGE`] as a `u64`, for engine addresses.
const PAGE_U64: u64 = PAGE as u64;

// Linux x86_64 uapi values the libc binding may not have.
const MADV_GUARD_INSTALL: c_int = 102;
const MADV_GUARD_REMOVE: c_int = 103;
const MREMAP_MAYMOVE: c_int = 1;
const MREMAP_FIXED: c_int = 2;
const MREMAP_DONTUNMAP: c_int = 4;
/// `/proc/<pid>/pagemap`: the page is a guard region (Linux 6.15).
const PM_GUARD_REGION: u64 = 1 << 58;

/// The calling thread's errno, by name when it has one.
fn errno_text() -> String {
    let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
    maple_mm::kernel::errno_name(errno).map_or_else(|| format!("E{errno}"), str::to_string)
}

/// An owned file descriptor, closed on drop.
struct Fd(c_int);

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: the descriptor is owned by this value and closed once.
        unsafe {
            libc::close(self.0);
        }
    }
}

/// A memfd of `bytes` bytes, and its device and inode (what `/proc/self/maps` shows).
fn memfd(name: &str, bytes: u64) -> Result<(Fd, u64, u64), String> {
    let c_name = CString::new(format!("maple-mm-mirror-{name}").replace('\0', "?")).expect("no NUL in the name");
    // SAFETY: the name is a valid C string.
    let fd = unsafe { libc::memfd_create(c_name.as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(format!("memfd_create for {name}: {}", errno_text()));
    }
    let fd = Fd(fd);
    // A size past the largest file cannot be set; the mappings do not need it.
    let size = i64::try_from(bytes).unwrap_or(i64::MAX);
    // SAFETY: plain system call on a descriptor we own.
    if unsafe { libc::ftruncate(fd.0, size) } != 0 {
        return Err(format!("ftruncate of {name} to {bytes} bytes: {}", errno_text()));
    }
    // SAFETY: a zeroed stat is a valid buffer for fstat to fill; the descriptor is ours.
    let stat = unsafe {
        let mut stat: libc::stat = std::mem::zeroed();
        if libc::fstat(fd.0, &mut stat) != 0 {
            return Err(format!("fstat of {name}: {}", errno_text()));
        }
        stat
    };
    Ok((fd, stat.st_dev, stat.st_ino))
}

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
struct Mapping {
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
enum Host {
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
struct HostPage {
    host: Host,
    guard: bool,
}

const HOLE_PAGE: HostPage = HostPage { host: Host::Hole, guard: false };

/// The host memory of an engine file object: a memfd.
struct Object {
    fd: Fd,
    inode: u64,
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
    /// madvise(MADV_DONTNEED) of discarded ranges.
    pub discard: u64,
    /// madvise(MADV_GUARD_INSTALL).
    pub guard_install: u64,
    /// madvise(MADV_GUARD_REMOVE).
    pub guard_remove: u64,
}

impl Calls {
    fn add(&mut self, other: &Calls) {
        self.mmap += other.mmap;
        self.holes += other.holes;
        self.mprotect += other.mprotect;
        self.mremap += other.mremap;
        self.mremap_by_page += other.mremap_by_page;
        self.discard += other.discard;
        self.guard_install += other.guard_install;
        self.guard_remove += other.guard_remove;
    }

    fn total(&self) -> u64 {
        self.mmap + self.holes + self.mprotect + self.mremap + self.discard + self.guard_install + self.guard_remove
    }
}

/// A real window of this process that follows an engine window through its notifications.
pub struct HostMirror {
    state: Mutex<State>,
}

struct State {
    /// The first host address of the reservation: a fence page, then the window, then a
    /// fence page.
    reserved: usize,
    /// Host address of window page 0.
    base: usize,
    /// The window's size in pages.
    window: usize,
    /// The reservation's backing: its inode marks holes in `/proc/self/maps` (an engine
    /// area that is PROT_NONE private anonymous memory shows as `---p` with no inode).
    hole: Fd,
    hole_dev: u64,
    hole_inode: u64,
    /// The memfd of each engine file object met, by `File::id`.
    objects: HashMap<u64, Object>,
    /// The engine's areas in the window, as the notifications told them, by start.
    areas: BTreeMap<u64, Arc<Vma>>,
    /// What the mirror made of each host page of the window.
    pages: Vec<HostPage>,
    calls: Calls,
    /// Time spent handling notifications.
    busy: Duration,
    /// Host calls that failed, and notifications the areas did not fit.
    errors: Vec<String>,
    /// `/proc/self/pagemap`, for the guard markers.
    pagemap: Fd,
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
        // SAFETY: the path is a valid C string.
        let pagemap = unsafe { libc::open(c"/proc/self/pagemap".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
        if pagemap < 0 {
            return Err(format!("opening /proc/self/pagemap: {}", errno_text()));
        }
        let pagemap = Fd(pagemap);
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

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Compares the host window with the engine's window page by page: access bits, shared
    /// or private, backing (anonymous, which object, or none) and file offset from
    /// `/proc/self/maps`, guard markers from `/proc/self/pagemap`. Returns the pages compared,
    /// or what differs (and the errors of host calls since the last check).
    pub fn check(&self, mm: &Mm) -> Result<u64, String> {
        let mut state = self.state();
        if !state.errors.is_empty() {
            return Err(format!("the mirror failed: {}", std::mem::take(&mut state.errors).join("; ")));
        }
        let engine = state.engine_pages(mm);
        let (host, lines) = state.host_pages()?;
        let differing: Vec<usize> = (0..state.window).filter(|&page| engine[page] != host[page]).collect();
        if differing.is_empty() {
            return Ok(state.window as u64);
        }
        let mut report = format!("{} of {} pages differ (engine | host):\n", differing.len(), state.window);
        for &page in differing.iter().take(12) {
            report.push_str(&format!("  page {page}: {} | {}\n", engine[page], host[page]));
        }
        report.push_str("engine areas:\n");
        let end = WINDOW_BASE + state.window as u64 * PAGE_U64;
        for vma in mm.snapshot().vmas_in(WINDOW_BASE, end) {
            let (start, stop) = ((vma.start - WINDOW_BASE) / PAGE_U64, (vma.end - WINDOW_BASE) / PAGE_U64);
            let file = vma.file.as_ref().map(|f| format!(" {}#{} pgoff {}", f.name(), f.id(), vma.pgoff));
            report.push_str(&format!("  [{start},{stop}) {}{}\n", vma.flags, file.unwrap_or_default()));
        }
        report.push_str("host maps (window pages):\n");
        for line in lines {
            report.push_str(&format!("  {line}\n"));
        }
        Err(report)
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

/// What the mirror does to a host page so that it is mapped as the engine asks.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Action {
    Keep,
    Hole,
    Protect(c_int),
    Map(Mapping),
}

impl State {
    /// The window pages of the engine range `range`, clipped to the window; `None` when
    /// they do not meet.
    fn pages_of(&self, range: Range<u64>) -> Option<Range<usize>> {
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
    fn engine_addr(page: usize) -> u64 {
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
        for range in &change.discarded {
            if let Some(pages) = self.pages_of(range.clone()) {
                // SAFETY: the range lies in the window, which only the mirror maps.
                let done =
                    unsafe { libc::madvise(self.host_addr(pages.start), pages.len() * PAGE, libc::MADV_DONTNEED) };
                self.calls.discard += 1;
                if done != 0 {
                    let error = errno_text();
                    self.fail(format!("madvise(MADV_DONTNEED) of pages {pages:?}: {error}"));
                }
            }
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
        let mut errno = 0;
        if got == -1 {
            self.calls.mremap_by_page += 1;
            for (i, page) in from.clone().enumerate() {
                let (old, new) = (self.host_addr(page), self.host_addr(to + i));
                // SAFETY: as above, one page (which lies in one host area).
                if unsafe { libc::syscall(libc::SYS_mremap, old, PAGE, PAGE, flags, new) } == -1 {
                    failed += 1;
                    errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
                }
            }
        }
        self.map_hole(from.clone());
        if failed > 0 {
            let errno = maple_mm::kernel::errno_name(errno).map_or_else(|| format!("E{errno}"), str::to_string);
            self.fail(format!("mremap of pages {from:?} to {to}: {failed} pages failed ({errno})"));
        }
        self.pages[to..to + moved.len()].copy_from_slice(&moved);
    }

    /// Maps the reservation over `pages` (PROT_NONE, the hole memfd at the page's offset in
    /// the reservation, so that neighbouring holes form one host area).
    fn map_hole(&mut self, pages: Range<usize>) {
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
    fn reconcile(&mut self, pages: Range<usize>) {
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

    /// The engine's window, page by page.
    fn engine_pages(&self, mm: &Mm) -> Vec<PageView> {
        let mut views = vec![PageView::HOLE; self.window];
        let snapshot = mm.snapshot();
        let end = WINDOW_BASE + self.window as u64 * PAGE_U64;
        for vma in snapshot.vmas_in(WINDOW_BASE, end) {
            let flag = |flag: VmFlags, letter: u8| if vma.flags.contains(flag) { letter } else { b'-' };
            let shared = if vma.flags.contains(VmFlags::MAYSHARE) { b's' } else { b'p' };
            let perms = [flag(VmFlags::READ, b'r'), flag(VmFlags::WRITE, b'w'), flag(VmFlags::EXEC, b'x'), shared];
            let backing = vma.file.as_ref().map_or(Seen::Anon, |file| Seen::Object(file.id()));
            for page in self.pages_of(vma.start..vma.end).into_iter().flatten() {
                let addr = Self::engine_addr(page);
                let offset = vma.file.as_ref().map(|_| vma.pgoff_at(addr));
                views[page] = PageView { perms, backing, offset, guard: vma.is_guard(addr) };
            }
        }
        views
    }

    /// The host window, page by page, from `/proc/self/maps` and `/proc/self/pagemap`; and
    /// the maps lines that meet the window.
    fn host_pages(&self) -> Result<(Vec<PageView>, Vec<String>), String> {
        let maps = std::fs::read_to_string("/proc/self/maps").map_err(|e| format!("reading /proc/self/maps: {e}"))?;
        let (low, high) = (self.base as u64, (self.base + self.window * PAGE) as u64);
        let mut views = vec![PageView::UNMAPPED; self.window];
        let mut lines = Vec::new();
        let inodes: HashMap<u64, u64> = self.objects.iter().map(|(&id, object)| (object.inode, id)).collect();
        for line in maps.lines() {
            let bad = || format!("/proc/self/maps: cannot read `{line}`");
            let mut words = line.split_whitespace();
            let (start, end) = words.next().and_then(|w| w.split_once('-')).ok_or_else(bad)?;
            let hex = |word: &str| u64::from_str_radix(word, 16).map_err(|_| bad());
            let (start, end) = (hex(start)?, hex(end)?);
            if end <= low || start >= high {
                continue;
            }
            lines.push(line.to_string());
            let perms: [u8; 4] = words.next().and_then(|w| w.as_bytes().try_into().ok()).ok_or_else(bad)?;
            let offset = hex(words.next().ok_or_else(bad)?)? / PAGE_U64;
            let (major, minor) = words.next().and_then(|w| w.split_once(':')).ok_or_else(bad)?;
            let dev = libc::makedev(hex(major)? as u32, hex(minor)? as u32);
            let inode: u64 = words.next().and_then(|w| w.parse().ok()).ok_or_else(bad)?;
            let first = (start.max(low) - low) as usize / PAGE;
            let last = (end.min(high) - low) as usize / PAGE;
            for (page, view) in views.iter_mut().enumerate().take(last).skip(first) {
                let delta = (low + (page * PAGE) as u64 - start) / PAGE_U64;
                *view = match (inode, dev == self.hole_dev) {
                    (0, _) => PageView { perms, backing: Seen::Anon, offset: None, guard: false },
                    (inode, true) if inode == self.hole_inode => {
                        PageView { perms, backing: Seen::Hole, offset: None, guard: false }
                    }
                    (inode, true) if inodes.contains_key(&inode) => PageView {
                        perms,
                        backing: Seen::Object(inodes[&inode]),
                        offset: Some(offset + delta),
                        guard: false,
                    },
                    (inode, _) => {
                        PageView { perms, backing: Seen::Foreign(inode), offset: Some(offset + delta), guard: false }
                    }
                };
            }
        }
        let mut entries = vec![0u8; self.window * 8];
        let at = (self.base / PAGE * 8) as libc::off_t;
        // SAFETY: the buffer is valid for its length; the descriptor is ours.
        let got = unsafe { libc::pread(self.pagemap.0, entries.as_mut_ptr().cast(), entries.len(), at) };
        if got != entries.len() as isize {
            return Err(format!("reading /proc/self/pagemap: {}", errno_text()));
        }
        for (view, entry) in views.iter_mut().zip(entries.chunks_exact(8)) {
            let entry = u64::from_ne_bytes(entry.try_into().expect("8 bytes"));
            view.guard = entry & PM_GUARD_REGION != 0;
        }
        Ok((views, lines))
    }
}

/// What backs a page, as the comparison sees it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Seen {
    /// No area (engine) or the reservation (host).
    Hole,
    /// Nothing mapped at all (host only; the mirror never leaves a page so).
    Unmapped,
    /// Private anonymous memory.
    Anon,
    /// The engine file object with this id (on the host: its memfd).
    Object(u64),
    /// A host inode that is none of the mirror's memfds.
    Foreign(u64),
}

/// One page as `/proc/self/maps` shows it (and whether it is a guard page).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct PageView {
    /// `rwxs` / `rwxp` letters, `-` where a bit is off.
    perms: [u8; 4],
    backing: Seen,
    /// The file offset in pages (file and shared anonymous memory).
    offset: Option<u64>,
    guard: bool,
}

impl PageView {
    const HOLE: PageView = PageView { perms: *b"---p", backing: Seen::Hole, offset: None, guard: false };
    const UNMAPPED: PageView = PageView { perms: *b"????", backing: Seen::Unmapped, offset: None, guard: false };
}

impl fmt::Display for PageView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:?}", String::from_utf8_lossy(&self.perms), self.backing)?;
        if let Some(offset) = self.offset {
            write!(f, " @{offset}")?;
        }
        if self.guard {
            write!(f, " guard")?;
        }
        Ok(())
    }
}

/// What [`run`] checked and measured.
#[derive(Debug, Default)]
pub struct Totals {
    /// Scripts replayed.
    pub scripts: u64,
    /// Ops replayed (and checked after).
    pub ops: u64,
    /// Ops that leave the window (not performed, as in `maple-mm run`).
    pub skipped: u64,
    /// Pages compared, over all checks.
    pub pages: u64,
    /// Ops replayed, by kind (the op's first word).
    pub kinds: BTreeMap<String, u64>,
    /// Host calls made by the mirrors.
    pub calls: Calls,
    /// Time in `Replay::apply`: the engine and the mirror's notification handling.
    pub replay: Duration,
    /// Of which in the mirror's notification handling.
    pub mirror: Duration,
    /// Time comparing the windows.
    pub check: Duration,
}

impl Totals {
    /// Ops per second of the engine with the mirror attached (the checks not counted).
    pub fn ops_per_second(&self) -> f64 {
        self.ops as f64 / self.replay.as_secs_f64().max(1e-9)
    }
}

impl fmt::Display for Totals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let per_op = |time: Duration| time.as_secs_f64() * 1e6 / self.ops.max(1) as f64;
        writeln!(
            f,
            "host mirror: {} scripts, {} ops checked ({} out-of-window ops skipped), {} pages compared",
            self.scripts, self.ops, self.skipped, self.pages
        )?;
        let kinds: Vec<String> = self.kinds.iter().map(|(kind, n)| format!("{kind} {n}")).collect();
        writeln!(f, "  ops by kind: {}", kinds.join(", "))?;
        let c = &self.calls;
        writeln!(
            f,
            "  host calls: {} ({} mmap, {} hole mmap, {} mprotect, {} mremap ({} page by page), {} MADV_DONTNEED, \
             {} MADV_GUARD_INSTALL, {} MADV_GUARD_REMOVE)",
            c.total(),
            c.mmap,
            c.holes,
            c.mprotect,
            c.mremap,
            c.mremap_by_page,
            c.discard,
            c.guard_install,
            c.guard_remove
        )?;
        write!(
            f,
            "  {:.0} ops/s with the mirror ({:.1} us/op: {:.1} us engine, {:.1} us mirror); checking {:.1} us/op",
            self.ops_per_second(),
            per_op(self.replay),
            per_op(self.replay.saturating_sub(self.mirror)),
            per_op(self.mirror),
            per_op(self.check)
        )
    }
}

/// Replays the generated scripts of seeds `seeds` with `config` ([`check_script`] each).
/// Stops at the first difference.
pub fn run(seeds: Range<u64>, config: &GenConfig) -> Result<Totals, String> {
    let mut totals = Totals::default();
    for seed in seeds {
        check_script(&format!("seed {seed}"), &random_script(seed, config), &mut totals)?;
    }
    Ok(totals)
}

/// Replays the op script `text` (called `name` in errors) on an engine with a
/// [`HostMirror`] attached, checks the host window against the engine's after every op, and
/// adds what it checked and measured to `totals`. An op that leaves the window is not
/// performed, as in `maple-mm run`. The error names the op, the difference and the script.
pub fn check_script(name: &str, text: &str, totals: &mut Totals) -> Result<(), String> {
    let script = parse(text).map_err(|e| format!("{name}: {e}"))?;
    let replay = Replay::new(&script).map_err(|e| format!("{name}: {e}"))?;
    let mm = replay.mm();
    let end = WINDOW_BASE + script.window * PAGE_U64;
    let areas: Vec<Arc<Vma>> = mm.snapshot().vmas_in(WINDOW_BASE, end).cloned().collect();
    let mirror = HostMirror::new(script.window, areas.into_iter()).map_err(|e| format!("{name}: {e}"))?;
    mm.observe(mirror.clone());
    let context = |n: usize, op: &dyn fmt::Display, error: String| {
        format!("{name}, op {n} (`{op}`): {error}\n--- the script ---\n{text}")
    };
    totals.pages += mirror.check(mm).map_err(|e| context(0, &"before the first", e))?;
    for (index, op) in script.ops.iter().enumerate() {
        if op.leaves_window(script.window) {
            totals.skipped += 1;
            continue;
        }
        let started = Instant::now();
        replay.apply(op);
        totals.replay += started.elapsed();
        let started = Instant::now();
        totals.pages += mirror.check(mm).map_err(|e| context(index + 1, op, e))?;
        totals.check += started.elapsed();
        totals.ops += 1;
        let kind = op.to_string().split_whitespace().next().unwrap_or_default().to_string();
        *totals.kinds.entry(kind).or_default() += 1;
    }
    let (calls, busy) = mirror.work();
    totals.calls.add(&calls);
    totals.mirror += busy;
    totals.scripts += 1;
    Ok(())
}
