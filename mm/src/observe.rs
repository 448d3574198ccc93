//! Change notifications: what a call changed, told to the runtime's observers under the
//! writer lock, before and after the change is published (the model of Linux's MMU
//! notifiers, with the areas themselves instead of bare ranges).

use core::ops::Range;
use std::sync::Arc;

use parking_lot::Mutex;
use vma::{VmFlags, Vma, VmaTxn};

use crate::Mm;

/// A runtime's view of the calls on an [`Mm`]: it is told what each call changes.
///
/// Both methods run under the writer lock, so every change reaches an observer in the order
/// the calls happened, and readers see the new state only between [`before`](Observer::before)
/// and [`after`](Observer::after). An observer must not call the `Mm` it observes (the lock
/// is held: that would deadlock); snapshots of it are fine.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use mm::{Change, MapFlags, Mm, Observer, Prot};
/// #[derive(Default)]
/// struct Count(AtomicUsize);
/// impl Observer for Count {
///     fn after(&self, change: &Change) {
///         self.0.fetch_add(change.added.len(), Ordering::Relaxed);
///     }
/// }
/// let mm = Mm::new();
/// let count = Arc::new(Count::default());
/// mm.observe(count.clone());
/// let a = mm.mmap(0, 3 * 4096, Prot::READ, MapFlags::PRIVATE | MapFlags::ANONYMOUS, None, 0).unwrap();
/// mm.mprotect(a + 4096, 4096, Prot::NONE).unwrap(); // one area becomes three
/// assert_eq!(count.0.load(Ordering::Relaxed), 1 + 3);
/// ```
pub trait Observer: Send + Sync {
    /// The call is about to publish `change`: readers still see the old state. Invalidate
    /// whatever translations [`Change::invalidated`] names.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use mm::{Change, MapFlags, Mm, Observer, Prot};
    /// #[derive(Default)]
    /// struct Tlb(Mutex<Vec<std::ops::Range<u64>>>);
    /// impl Observer for Tlb {
    ///     fn before(&self, change: &Change) {
    ///         self.0.lock().unwrap().extend(change.invalidated()); // shoot these down
    ///     }
    /// }
    /// let mm = Mm::new();
    /// let a = mm.mmap(0, 4096, Prot::READ, MapFlags::PRIVATE | MapFlags::ANONYMOUS, None, 0).unwrap();
    /// let tlb = Arc::new(Tlb::default());
    /// mm.observe(tlb.clone());
    /// mm.munmap(a, 4096).unwrap();
    /// assert_eq!(*tlb.0.lock().unwrap(), [a..a + 4096]);
    /// ```
    fn before(&self, change: &Change) {
        let _ = change;
    }

    /// The call published `change`: readers see the new state.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use mm::{Change, MapFlags, Mm, Observer, Prot};
    /// #[derive(Default)]
    /// struct Mapped(Mutex<Vec<(u64, u64)>>);
    /// impl Observer for Mapped {
    ///     fn after(&self, change: &Change) {
    ///         self.0.lock().unwrap().extend(change.added.iter().map(|v| (v.start, v.end)));
    ///     }
    /// }
    /// let mm = Mm::new();
    /// let mapped = Arc::new(Mapped::default());
    /// mm.observe(mapped.clone());
    /// let a = mm.mmap(0, 8192, Prot::READ, MapFlags::PRIVATE | MapFlags::ANONYMOUS, None, 0).unwrap();
    /// assert_eq!(*mapped.0.lock().unwrap(), [(a, a + 8192)]);
    /// ```
    fn after(&self, change: &Change) {
        let _ = change;
    }
}

/// Pages moved from one place to another with their contents (mremap), `len` bytes.
///
/// ```
/// let m = mm::Move { from: 0x1000, to: 0x8000, len: 0x2000 };
/// assert_eq!(m.from + m.len, 0x3000);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Move {
    /// The first address of the source.
    pub from: u64,
    /// The first address of the destination.
    pub to: u64,
    /// Bytes moved.
    pub len: u64,
}

/// What one call changed, as one published step.
///
/// `removed` and `added` are exact: the area versions that left the tree and those that
/// entered it (an area changed in place, like one that got an anon_vma or new flags, is
/// in both, with the same [`vma::VmaId`]). `discarded` and `moved` are page-level effects
/// that no area shows.
///
/// ```
/// use mm::{Advice, ChangeLog, MapFlags, Mm, Prot};
/// let mm = Mm::new();
/// let log = std::sync::Arc::new(ChangeLog::default());
/// mm.observe(log.clone());
/// let a = mm.mmap(0, 2 * 4096, Prot::READ, MapFlags::PRIVATE | MapFlags::ANONYMOUS, None, 0).unwrap();
/// mm.madvise(a, 4096, Advice::DontNeed).unwrap();
/// let changes = log.take();
/// assert_eq!(changes.len(), 2);
/// assert_eq!(changes[1].discarded, vec![a..a + 4096]);
/// assert!(changes[1].removed.is_empty() && changes[1].added.is_empty());
/// ```
#[derive(Clone, Debug, Default)]
pub struct Change {
    /// Area versions that left the tree, in address order.
    pub removed: Vec<Arc<Vma>>,
    /// Area versions that entered the tree, in address order.
    pub added: Vec<Arc<Vma>>,
    /// Ranges unmapped by the call (munmap, and what mmap, mremap and brk unmap), sorted
    /// and joined: their pages are gone, whatever is mapped there now.
    pub unmapped: Vec<Range<u64>>,
    /// Ranges whose page contents were dropped while their areas stay (MADV_DONTNEED,
    /// MADV_FREE, MADV_REMOVE, MADV_GUARD_INSTALL): the next access finds zeroes (anonymous
    /// memory) or the file's data.
    pub discarded: Vec<Range<u64>>,
    /// Of the discarded ranges, those whose file pages were freed too (MADV_REMOVE punches a
    /// hole in the shared file): every mapping of those pages reads zeroes afterwards, not
    /// only this one.
    pub punched: Vec<Range<u64>>,
    /// Pages that moved with their contents (mremap), in the order they moved.
    pub moved: Vec<Move>,
}

impl Change {
    /// Whether the call changed nothing.
    ///
    /// ```
    /// assert!(mm::Change::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.removed.is_empty()
            && self.added.is_empty()
            && self.unmapped.is_empty()
            && self.discarded.is_empty()
            && self.moved.is_empty()
    }

    /// The ranges whose old translations are no longer valid, sorted and joined: the parts
    /// of removed areas not mapped the same way by an added area (unmapped, or with other
    /// access bits, sharing, file, file offset or runtime data), the unmapped and discarded
    /// ranges, and the sources of moves. An area that only gained an anon_vma, a lock bit, a name or a
    /// larger size invalidates nothing.
    ///
    /// ```
    /// use mm::{ChangeLog, MapFlags, Mm, Prot};
    /// let mm = Mm::new();
    /// let a = mm.mmap(0, 4 * 4096, Prot::READ, MapFlags::PRIVATE | MapFlags::ANONYMOUS, None, 0).unwrap();
    /// let log = std::sync::Arc::new(ChangeLog::default());
    /// mm.observe(log.clone());
    /// mm.mprotect(a + 4096, 2 * 4096, Prot::READ | Prot::WRITE).unwrap();
    /// assert_eq!(log.take()[0].invalidated(), vec![a + 4096..a + 3 * 4096]);
    /// ```
    pub fn invalidated(&self) -> Vec<Range<u64>> {
        let mut ranges: Vec<Range<u64>> = Vec::new();
        for old in &self.removed {
            let mut covered = old.start;
            for new in self.added.iter().filter(|n| n.start < old.end && old.start < n.end) {
                let (from, to) = (new.start.max(old.start), new.end.min(old.end));
                if covered < from {
                    ranges.push(covered..from);
                }
                if !same_translation(old, new, from) {
                    ranges.push(from..to);
                }
                covered = covered.max(to);
            }
            if covered < old.end {
                ranges.push(covered..old.end);
            }
        }
        ranges.extend(self.unmapped.iter().cloned());
        ranges.extend(self.discarded.iter().cloned());
        ranges.extend(self.moved.iter().map(|m| m.from..m.from + m.len));
        join(ranges)
    }
}

/// The flags a page translation depends on: access bits and sharing.
const TRANSLATION: VmFlags = VmFlags::ACCESS.union(VmFlags::SHARED);

/// Whether `old` and `new` translate the pages they share from `at` on the same way.
fn same_translation(old: &Vma, new: &Vma, at: u64) -> bool {
    let same_data = match (&old.data, &new.data) {
        (None, None) => true,
        (Some(a), Some(b)) => a.same_value(b) && old.data_offset(at) == new.data_offset(at),
        _ => false,
    };
    let same_file = match (&old.file, &new.file) {
        (None, None) => true,
        (Some(a), Some(b)) => Arc::ptr_eq(a, b) && old.pgoff_at(at) == new.pgoff_at(at),
        _ => false,
    };
    old.flags & TRANSLATION == new.flags & TRANSLATION && same_file && same_data
}

/// Sorts `ranges` and joins the ones that overlap or touch.
fn join(mut ranges: Vec<Range<u64>>) -> Vec<Range<u64>> {
    ranges.sort_unstable_by_key(|r| r.start);
    let mut joined: Vec<Range<u64>> = Vec::with_capacity(ranges.len());
    for range in ranges.into_iter().filter(|r| r.start < r.end) {
        match joined.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => joined.push(range),
        }
    }
    joined
}

/// An observer that keeps every change, for a runtime (or a test) that reads them after the
/// calls instead of during them.
///
/// ```
/// use mm::{ChangeLog, MapFlags, Mm, Prot};
/// let mm = Mm::new();
/// let log = std::sync::Arc::new(ChangeLog::default());
/// mm.observe(log.clone());
/// let a = mm.mmap(0, 4096, Prot::READ, MapFlags::PRIVATE | MapFlags::ANONYMOUS, None, 0).unwrap();
/// mm.munmap(a, 4096).unwrap();
/// let changes = log.take();
/// assert_eq!(changes[1].removed[0].start, a);
/// assert!(log.take().is_empty());
/// ```
#[derive(Debug, Default)]
pub struct ChangeLog {
    changes: Mutex<Vec<Change>>,
}

impl ChangeLog {
    /// The changes logged since the last call, oldest first.
    ///
    /// ```
    /// assert!(mm::ChangeLog::default().take().is_empty());
    /// ```
    pub fn take(&self) -> Vec<Change> {
        core::mem::take(&mut *self.changes.lock())
    }
}

impl Observer for ChangeLog {
    fn after(&self, change: &Change) {
        self.changes.lock().push(change.clone());
    }
}

/// The observers of an address space, and what the call in progress did besides its
/// transaction: page-level effects to report, areas to close once it is published.
#[derive(Default)]
pub(crate) struct CallState {
    /// Shared so that a call takes them without allocating.
    observers: Arc<Vec<Arc<dyn Observer>>>,
    /// Discards and moves of the call in progress (kept only while someone observes).
    pending: Change,
    /// Areas the call removed whole, whose `close` hooks run after it is published.
    to_close: Vec<Arc<Vma>>,
}

impl Mm {
    /// Registers `observer`: from now on it hears of every change (see [`Observer`]). A
    /// runtime that registers after mapping starts from [`Mm::snapshot`], taken while no
    /// call runs.
    ///
    /// ```
    /// let mm = mm::Mm::new();
    /// mm.observe(std::sync::Arc::new(mm::ChangeLog::default()));
    /// ```
    pub fn observe(&self, observer: Arc<dyn Observer>) {
        let _lock = self.write_lock();
        let mut call = self.call.lock();
        let mut list = Vec::clone(&call.observers);
        list.push(observer);
        call.observers = Arc::new(list);
    }

    /// Forgets what a call that ended without publishing left behind. Under the writer lock.
    pub(crate) fn begin_call(&self) {
        let mut call = self.call.lock();
        call.pending = Change::default();
        call.to_close.clear();
    }

    /// Notes that the call frees the file pages behind `range` (MADV_REMOVE; under the
    /// writer lock).
    pub(crate) fn note_punched(&self, range: Range<u64>) {
        let mut call = self.call.lock();
        if !call.observers.is_empty() {
            call.pending.punched.push(range);
        }
    }

    /// Notes that the call unmaps `range` (under the writer lock).
    pub(crate) fn note_unmapped(&self, range: Range<u64>) {
        let mut call = self.call.lock();
        if !call.observers.is_empty() {
            call.pending.unmapped.push(range);
        }
    }

    /// Notes that the call drops the page contents of `range` (under the writer lock).
    pub(crate) fn note_discarded(&self, range: Range<u64>) {
        let mut call = self.call.lock();
        if !call.observers.is_empty() {
            call.pending.discarded.push(range);
        }
    }

    /// Notes that the call moves pages (under the writer lock).
    pub(crate) fn note_moved(&self, moved: Move) {
        let mut call = self.call.lock();
        if !call.observers.is_empty() {
            call.pending.moved.push(moved);
        }
    }

    /// Notes areas the call removed whole: their `close` hooks run once it is published.
    pub(crate) fn closing(&self, removed: Vec<Arc<Vma>>) {
        if !removed.is_empty() {
            self.call.lock().to_close.extend(removed);
        }
    }

    /// Publishes the call's transaction: the observers hear of the change before and after
    /// the commit, then the removed areas are closed. Under the writer lock.
    pub(crate) fn publish(&self, txn: VmaTxn<'_>) {
        let (observers, mut change, to_close) = {
            let mut call = self.call.lock();
            let to_close = core::mem::take(&mut call.to_close);
            (call.observers.clone(), core::mem::take(&mut call.pending), to_close)
        };
        if observers.is_empty() {
            txn.commit();
        } else {
            let areas = txn.changes();
            change.removed = areas.removed;
            change.added = areas.added;
            change.unmapped = join(core::mem::take(&mut change.unmapped));
            let told = !change.is_empty();
            for observer in observers.iter().filter(|_| told) {
                observer.before(&change);
            }
            txn.commit();
            for observer in observers.iter().filter(|_| told) {
                observer.after(&change);
            }
        }
        for vma in to_close {
            vma.close();
        }
    }
}
