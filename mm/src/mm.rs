//! The address space: the VMA tree, the guard markers, the writer lock, layout and limits.

use std::sync::Arc;

use maple::{Range, Snapshot, View};
use parking_lot::{Mutex, MutexGuard, RwLock};
use vma::{File, VmFlags, Vma, VmaTree, VmaTxn, PAGE_SIZE};

use crate::fault::permitted;
use crate::observe::CallState;
use crate::{Access, Errno, Layout, Limits};

/// A process address space with Linux semantics.
///
/// Writers (every system call that changes the layout) are serialised by one lock, the
/// model of the kernel's `mmap_lock`; each change to the VMA tree is one atomic maple
/// commit. Readers ([`Mm::snapshot`], the lookup half of [`Mm::fault`]) never lock.
///
/// ```
/// use mm::{MapFlags, Mm, Prot};
/// let mm = Mm::new();
/// let addr = mm.mmap(0, 8192, Prot::READ | Prot::WRITE, MapFlags::PRIVATE | MapFlags::ANONYMOUS, None, 0).unwrap();
/// let snap = mm.snapshot();
/// let vma = snap.find(addr).unwrap();
/// assert_eq!(vma.end - vma.start, 8192);
/// ```
pub struct Mm {
    pub(crate) vmas: VmaTree,
    pub(crate) lock: Mutex<Heap>,
    pub(crate) layout: Layout,
    /// Changed only under the writer lock ([`Mm::setrlimit`]), so a call, which holds it,
    /// sees one set of limits throughout.
    pub(crate) limits: RwLock<Limits>,
    pub(crate) call: Mutex<CallState>,
}

/// What the writer lock guards besides the tree: the heap's bounds, and the flags every new
/// area gets (`mm->def_flags`: the lock bits `mlockall(MCL_FUTURE)` sets).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Heap {
    pub(crate) start_brk: u64,
    pub(crate) brk: u64,
    pub(crate) def_flags: VmFlags,
}

impl Default for Mm {
    fn default() -> Mm {
        Mm::new()
    }
}

impl Mm {
    /// An empty address space with the default layout and limits.
    ///
    /// ```
    /// assert_eq!(mm::Mm::new().snapshot().map_count(), 0);
    /// ```
    pub fn new() -> Mm {
        Mm::with_layout(Layout::default(), Limits::default())
    }

    /// An empty address space with `layout` and `limits`.
    ///
    /// ```
    /// let limits = mm::Limits { max_map_count: 10, ..Default::default() };
    /// let mm = mm::Mm::with_layout(mm::Layout::default(), limits);
    /// assert_eq!(mm.limits().max_map_count, 10);
    /// ```
    pub fn with_layout(layout: Layout, limits: Limits) -> Mm {
        Mm {
            vmas: VmaTree::with_max_map_count(limits.max_map_count),
            lock: Mutex::new(Heap { start_brk: layout.brk_start, brk: layout.brk_start, def_flags: VmFlags::EMPTY }),
            layout,
            limits: RwLock::new(limits.with_hard_limits_raised()),
            call: Mutex::default(),
        }
    }

    /// The layout.
    ///
    /// ```
    /// assert!(mm::Mm::new().layout().top_down);
    /// ```
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The limits in force (a copy: [`Mm::setrlimit`] changes them).
    ///
    /// ```
    /// assert_eq!(mm::Mm::new().limits().max_map_count, 65530);
    /// ```
    pub fn limits(&self) -> Limits {
        *self.limits.read()
    }

    /// Checks the area tree: maple's structure and gaps, areas in order without overlaps,
    /// each stored at its own range, and the map count. Nothing outside `Mm`'s calls can
    /// change the tree (readers get snapshots), so a failure is a bug of this crate.
    ///
    /// ```
    /// let mm = mm::Mm::new();
    /// mm.mmap(0, 4096, mm::Prot::READ, mm::MapFlags::PRIVATE | mm::MapFlags::ANONYMOUS, None, 0).unwrap();
    /// assert_eq!(mm.validate(), Ok(()));
    /// ```
    ///
    /// There is no public way to the tree itself, so no area can be added past `Mm`'s checks:
    ///
    /// ```compile_fail
    /// let mm = mm::Mm::new();
    /// mm.vma_tree().insert(vma::Vma::new(0x1000, 0x2000, 1, vma::VmFlags::READ));
    /// ```
    pub fn validate(&self) -> Result<(), String> {
        let _lock = self.write_lock();
        self.vmas.validate()
    }

    /// A consistent, lock-free view of the areas: the state after some set of complete
    /// operations.
    ///
    /// ```
    /// let mm = mm::Mm::new();
    /// assert!(mm.snapshot().vmas().next().is_none());
    /// ```
    pub fn snapshot(&self) -> MmSnapshot<'_> {
        MmSnapshot { view: self.vmas.snapshot() }
    }

    /// Takes the writer lock (the `mmap_lock`).
    pub(crate) fn write_lock(&self) -> MutexGuard<'_, Heap> {
        let lock = self.lock.lock();
        self.begin_call();
        lock
    }

    /// Sets (`on`) or clears the guard markers of `[start, end)` on the areas there, in the
    /// call's transaction (new versions of the areas, never splits).
    pub(crate) fn set_guards(&self, txn: &mut VmaTxn<'_>, start: u64, end: u64, on: bool) -> Result<(), Errno> {
        let hit: Vec<Arc<Vma>> = Areas(txn).within(start, end).cloned().collect();
        for vma in hit {
            let version = vma.with_guards(start, end, on);
            if version.guards != vma.guards {
                txn.replace(Arc::new(version))?;
            }
        }
        Ok(())
    }

    /// Calls `visit(area, from, to)` for each part of `[start, end)`, area by area, under the
    /// writer lock; ENOMEM at the first hole, with the parts before it already visited (the
    /// walk of mprotect and mlock, which Linux does not undo).
    pub(crate) fn walk_mapped<'t>(
        &self,
        txn: &mut VmaTxn<'t>,
        start: u64,
        end: u64,
        mut visit: impl FnMut(&mut VmaTxn<'t>, &Arc<Vma>, u64, u64) -> Result<(), Errno>,
    ) -> Result<(), Errno> {
        let mut next = start;
        while next < end {
            let vma = match Areas(txn).within(next, end).next().cloned() {
                Some(vma) if vma.start <= next => vma,
                _ => return Err(Errno::ENOMEM),
            };
            let to = end.min(vma.end);
            visit(txn, &vma, next, to)?;
            next = to;
        }
        Ok(())
    }
}

/// The areas of one state of the tree, as the writer reads them inside its transaction (or a
/// reader through a snapshot).
pub(crate) struct Areas<'v, 't>(pub(crate) &'v View<'t, Arc<Vma>>);

impl<'v> Areas<'v, '_> {
    /// The area containing `addr`.
    pub(crate) fn find(&self, addr: u64) -> Option<&'v Arc<Vma>> {
        self.0.get(addr)
    }

    /// The first area ending above `addr` (the kernel's `find_vma`).
    pub(crate) fn find_vma(&self, addr: u64) -> Option<&'v Arc<Vma>> {
        self.0.find(addr, u64::MAX).map(|(_, v)| v)
    }

    /// Every area, in address order.
    pub(crate) fn all(&self) -> impl Iterator<Item = &'v Arc<Vma>> + 'v {
        self.0.iter().map(|(_, v)| v)
    }

    /// The areas intersecting `[start, end)`, in address order.
    pub(crate) fn within(&self, start: u64, end: u64) -> impl Iterator<Item = &'v Arc<Vma>> + 'v {
        let view = self.0;
        let window = (start < end).then(|| Range { first: start, last: end - 1 });
        window.into_iter().flat_map(move |window| view.range(window).map(|(_, v)| v))
    }

    /// Sum of the pages of the areas whose flags contain `flags`.
    pub(crate) fn pages_with(&self, flags: VmFlags) -> u64 {
        self.all().filter(|v| v.flags.contains(flags)).map(|v| v.pages()).sum()
    }

    /// Whether every page of `[start, end)` is mapped.
    pub(crate) fn cover(&self, start: u64, end: u64) -> bool {
        let mut covered = start;
        for vma in self.within(start, end) {
            if vma.start > covered {
                return false;
            }
            covered = vma.end;
        }
        covered >= end
    }
}

/// A lock-free, consistent view of an address space's areas.
///
/// ```
/// use mm::{MapFlags, Mm, Prot};
/// let mm = Mm::new();
/// mm.mmap(0x10_0000, 4096, Prot::READ, MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::FIXED, None, 0).unwrap();
/// let snap = mm.snapshot();
/// assert_eq!(snap.map_count(), 1);
/// assert!(snap.find(0x10_0000).is_some());
/// ```
pub struct MmSnapshot<'a> {
    view: Snapshot<'a, Arc<Vma>>,
}

impl<'a> MmSnapshot<'a> {
    /// The area containing `addr`.
    ///
    /// ```
    /// assert!(mm::Mm::new().snapshot().find(0x1000).is_none());
    /// ```
    pub fn find(&self, addr: u64) -> Option<&Arc<Vma>> {
        Areas(&self.view).find(addr)
    }

    /// The first area ending above `addr` (the kernel's `find_vma`).
    ///
    /// ```
    /// assert!(mm::Mm::new().snapshot().find_vma(0).is_none());
    /// ```
    pub fn find_vma(&self, addr: u64) -> Option<&Arc<Vma>> {
        Areas(&self.view).find_vma(addr)
    }

    /// The areas in address order.
    ///
    /// ```
    /// assert_eq!(mm::Mm::new().snapshot().vmas().count(), 0);
    /// ```
    pub fn vmas(&self) -> impl Iterator<Item = &Arc<Vma>> + '_ {
        Areas(&self.view).all()
    }

    /// The areas intersecting `[start, end)`, in address order.
    ///
    /// ```
    /// assert_eq!(mm::Mm::new().snapshot().vmas_in(0, 0x1000).count(), 0);
    /// ```
    pub fn vmas_in(&self, start: u64, end: u64) -> impl Iterator<Item = &Arc<Vma>> + '_ {
        Areas(&self.view).within(start, end)
    }

    /// Whether an access of `access` kind to `addr` is allowed as this state stands: an area
    /// holds the address, permits the access, and no guard marker covers the page. It
    /// agrees with [`Mm::fault`], which besides may grow a stack to the address (where this
    /// says no) or signal SIGBUS past the end of a file (where this says yes).
    ///
    /// ```
    /// use mm::{Access, Advice, MapFlags, Mm, Prot};
    /// let mm = Mm::new();
    /// let a = mm.mmap(0, 8192, Prot::READ, MapFlags::PRIVATE | MapFlags::ANONYMOUS, None, 0).unwrap();
    /// mm.madvise(a + 4096, 4096, Advice::GuardInstall).unwrap();
    /// let snap = mm.snapshot();
    /// assert!(snap.allows(a, Access::Read) && !snap.allows(a, Access::Write));
    /// assert!(!snap.allows(a + 4096, Access::Read)); // a guard page
    /// assert!(mm.fault(a + 4096, Access::Read).is_err());
    /// ```
    pub fn allows(&self, addr: u64, access: Access) -> bool {
        self.find(addr).is_some_and(|vma| permitted(vma, access) && !vma.is_guard(addr))
    }

    /// The number of areas: O(1), from the same published state as the areas (the maple
    /// tree keeps the count in its nodes), so it always equals `vmas().count()`.
    ///
    /// ```
    /// use mm::{MapFlags, Mm, Prot};
    /// let mm = Mm::new();
    /// assert_eq!(mm.snapshot().map_count(), 0);
    /// let flags = MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::FIXED;
    /// mm.mmap(0x10_0000, 3 * 4096, Prot::READ, flags, None, 0).unwrap();
    /// mm.mprotect(0x10_1000, 4096, Prot::READ | Prot::WRITE).unwrap(); // split in three
    /// let snap = mm.snapshot();
    /// assert_eq!((snap.map_count(), snap.vmas().count()), (3, 3));
    /// ```
    pub fn map_count(&self) -> usize {
        self.view.len()
    }
}

/// Rounds `len` up to whole pages; `None` when that overflows.
pub(crate) fn page_align(len: u64) -> Option<u64> {
    len.checked_add(PAGE_SIZE - 1).map(|l| l & !(PAGE_SIZE - 1))
}

/// Whether `addr` is page aligned.
pub(crate) fn aligned(addr: u64) -> bool {
    addr % PAGE_SIZE == 0
}

/// Whether an area can be accessed at all (any of read, write, exec).
pub(crate) fn accessible(vma: &Vma) -> bool {
    vma.flags.intersects(VmFlags::ACCESS)
}

/// Whether writes to the area are private copies (no `VM_SHARED`): a write fault needs an
/// anon_vma.
pub(crate) fn is_cow(vma: &Vma) -> bool {
    !vma.flags.contains(VmFlags::SHARED)
}

/// Whether the page at `addr` of `vma` lies at or past the end of its file (SIGBUS).
pub(crate) fn beyond_eof(vma: &Vma, addr: u64) -> bool {
    let pages = vma.file.as_ref().and_then(|f: &Arc<File>| f.pages());
    pages.is_some_and(|pages| vma.pgoff_at(addr & !(PAGE_SIZE - 1)) >= pages)
}

/// The errno of a failed check, so the operations read as a list of rules.
pub(crate) fn ensure(ok: bool, errno: Errno) -> Result<(), Errno> {
    if ok {
        Ok(())
    } else {
        Err(errno)
    }
}
