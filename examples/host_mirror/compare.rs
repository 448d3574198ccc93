//! The check: the host window read back from `/proc/self/smaps` and `/proc/self/pagemap`,
//! the engine's window from a snapshot, compared page by page.
//!
//! This is a test-side check: it takes snapshots of the engine, which the mirror itself
//! never does.

use std::collections::HashMap;
use std::fmt;

use maple_mm::engine::WINDOW_BASE;
use mm::Mm;
use vma::VmFlags;

use super::host::{errno_text, PAGE, PAGE_U64, PM_GUARD_REGION};
use super::mirror::{HostMirror, State};

impl HostMirror {
    /// Compares the host window with the engine's window page by page: access bits, shared
    /// or private, backing (anonymous, which object, or none) and file offset from
    /// `/proc/self/smaps`, guard markers from `/proc/self/pagemap`. Returns the pages compared,
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
}

impl State {
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

    /// The host window, page by page, from `/proc/self/smaps` (each area's header line) and
    /// `/proc/self/pagemap`; and the header lines that meet the window.
    fn host_pages(&self) -> Result<(Vec<PageView>, Vec<String>), String> {
        let smaps =
            std::fs::read_to_string("/proc/self/smaps").map_err(|e| format!("reading /proc/self/smaps: {e}"))?;
        let (low, high) = (self.base as u64, (self.base + self.window * PAGE) as u64);
        let mut views = vec![PageView::UNMAPPED; self.window];
        let mut lines = Vec::new();
        let inodes: HashMap<u64, u64> = self.objects.iter().map(|(&id, object)| (object.inode, id)).collect();
        // Each area's header line (what maps prints), then its `Key: value` lines.
        let is_header = |line: &&str| line.split_whitespace().next().is_some_and(|word| word.contains('-'));
        for line in smaps.lines().filter(is_header) {
            let bad = || format!("/proc/self/smaps: cannot read `{line}`");
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

/// One page as `/proc/self/smaps` shows it (and whether it is a guard page).
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
