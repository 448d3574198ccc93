//! The virtual memory area: an immutable, versioned description of one mapping.
//!
//! A published [`Vma`] never changes. Changing an area means building a new version (a
//! clone with the change, which keeps the [`VmaId`]) and storing it in the tree in the same
//! transaction that removes the old one. Pieces that split off get a new id.

use crate::sync::{next_identity, IdentitySource};
use core::fmt;
use std::sync::Arc;

use crate::anon::AnonRef;
use crate::data::AreaData;
use crate::guards::GuardPages;
use crate::VmFlags;

/// Bytes per page.
///
/// ```
/// assert_eq!(vma::PAGE_SIZE, 4096);
/// ```
pub const PAGE_SIZE: u64 = 4096;

/// log2 of [`PAGE_SIZE`].
///
/// ```
/// assert_eq!(1u64 << vma::PAGE_SHIFT, vma::PAGE_SIZE);
/// ```
pub const PAGE_SHIFT: u32 = 12;

static NEXT_ID: IdentitySource = IdentitySource::new();
static NEXT_OBJECT: IdentitySource = IdentitySource::new();

/// A stable name for a VMA that follows it across versions: a merge that grows `prev`
/// returns a new version with `prev`'s id.
///
/// ```
/// let a = vma::VmaId::fresh();
/// let b = vma::VmaId::fresh();
/// assert_ne!(a, b);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct VmaId(u64);

impl VmaId {
    /// A new id, different from every id handed out before.
    ///
    /// ```
    /// assert!(vma::VmaId::fresh().get() > 0);
    /// ```
    pub fn fresh() -> VmaId {
        VmaId(next_identity(&NEXT_ID))
    }

    /// The number behind the id.
    ///
    /// ```
    /// let id = vma::VmaId::fresh();
    /// assert_eq!(id.get(), id.get());
    /// ```
    pub fn get(self) -> u64 {
        self.0
    }
}

/// A mapped file. Two areas map the same file when they hold the same `Arc<File>`
/// (identity, not equal names).
///
/// ```
/// use std::sync::Arc;
/// let a = vma::File::new("libc.so");
/// let b = vma::File::new("libc.so");
/// assert!(!Arc::ptr_eq(&a, &b));
/// assert_eq!(a.name(), "libc.so");
/// ```
#[derive(Debug)]
pub struct File {
    id: u64,
    name: String,
    pages: Option<u64>,
}

impl File {
    /// A new file object.
    ///
    /// ```
    /// let f = vma::File::new("data");
    /// assert!(f.id() > 0);
    /// ```
    pub fn new(name: impl Into<String>) -> Arc<File> {
        Arc::new(File { id: next_identity(&NEXT_OBJECT), name: name.into(), pages: None })
    }

    /// A new file object of `pages` pages: an access to a page at or past the end is a
    /// SIGBUS (a mapping may still extend past the end).
    ///
    /// ```
    /// assert_eq!(vma::File::with_pages("data", 2).pages(), Some(2));
    /// ```
    pub fn with_pages(name: impl Into<String>, pages: u64) -> Arc<File> {
        Arc::new(File { id: next_identity(&NEXT_OBJECT), name: name.into(), pages: Some(pages) })
    }

    /// The file's size in pages; `None` for a file without a size (every page exists).
    ///
    /// ```
    /// assert_eq!(vma::File::new("x").pages(), None);
    /// ```
    pub fn pages(&self) -> Option<u64> {
        self.pages
    }

    /// The file's name, for display.
    ///
    /// ```
    /// assert_eq!(vma::File::new("x").name(), "x");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A number unique to this file object, for display.
    ///
    /// ```
    /// assert_ne!(vma::File::new("x").id(), vma::File::new("x").id());
    /// ```
    pub fn id(&self) -> u64 {
        self.id
    }
}

/// The hooks a driver or file system attaches to an area (a small `vm_operations_struct`).
///
/// A `close` hook does not make two areas incompatible; it only forbids a merge from
/// deleting the area that carries it (merges never call `close`). `may_split` may refuse a
/// split with an errno.
///
/// ```
/// use vma::VmOps;
/// let ops = VmOps::new().with_close(|_vma| {}).with_may_split(|_vma, addr| if addr % 0x20_0000 == 0 { Ok(()) } else { Err(22) });
/// assert!(ops.has_close());
/// ```
#[derive(Clone, Default)]
pub struct VmOps {
    close: Option<CloseHook>,
    may_split: Option<MaySplitHook>,
    mremap: Option<MremapHook>,
    name: Option<Arc<str>>,
}

/// A `close` hook.
type CloseHook = Arc<dyn Fn(&Vma) + Send + Sync>;
/// A `may_split` hook: the area and the split address; `Err(errno)` refuses.
type MaySplitHook = Arc<dyn Fn(&Vma, u64) -> Result<(), i32> + Send + Sync>;
/// An `mremap` hook: the area as it was and its moved copy; `Err(errno)` refuses the move.
type MremapHook = Arc<dyn Fn(&Vma, &Vma) -> Result<(), i32> + Send + Sync>;

impl VmOps {
    /// Ops with no hooks.
    ///
    /// ```
    /// assert!(!vma::VmOps::new().has_close());
    /// ```
    pub fn new() -> VmOps {
        VmOps::default()
    }

    /// These ops with a `close` hook.
    ///
    /// ```
    /// assert!(vma::VmOps::new().with_close(|_| {}).has_close());
    /// ```
    pub fn with_close(mut self, close: impl Fn(&Vma) + Send + Sync + 'static) -> VmOps {
        self.close = Some(Arc::new(close));
        self
    }

    /// These ops with a `may_split` hook, called with the area and the split address.
    ///
    /// ```
    /// let ops = vma::VmOps::new().with_may_split(|_, _| Err(22));
    /// let v = vma::Vma::new(0, 0x2000, 0, vma::VmFlags::READ).with_ops(ops);
    /// assert_eq!(v.may_split(0x1000), Err(22));
    /// ```
    pub fn with_may_split(mut self, may_split: impl Fn(&Vma, u64) -> Result<(), i32> + Send + Sync + 'static) -> VmOps {
        self.may_split = Some(Arc::new(may_split));
        self
    }

    /// These ops with an `mremap` hook, called when mremap moves the area, with the area as
    /// it was and its new copy; `Err(errno)` refuses the move, which then changes nothing.
    ///
    /// ```
    /// let ops = vma::VmOps::new().with_mremap(|_old, _new| Err(1));
    /// let v = vma::Vma::new(0, 0x1000, 0, vma::VmFlags::READ).with_ops(ops);
    /// assert_eq!(v.mremap_hook(&v.resized(0x5000, 0x6000)), Err(1));
    /// ```
    pub fn with_mremap(mut self, mremap: impl Fn(&Vma, &Vma) -> Result<(), i32> + Send + Sync + 'static) -> VmOps {
        self.mremap = Some(Arc::new(mremap));
        self
    }

    /// These ops naming their areas in `/proc/PID/maps`, as a special mapping's `name` hook
    /// does (`[vdso]`, `[vvar]`, `[vvar_vclock]`).
    ///
    /// ```
    /// assert_eq!(vma::VmOps::new().with_name("[vdso]").name(), Some("[vdso]"));
    /// ```
    pub fn with_name(mut self, name: &str) -> VmOps {
        self.name = Some(Arc::from(name));
        self
    }

    /// The name these ops give their areas, if any.
    ///
    /// ```
    /// assert_eq!(vma::VmOps::new().name(), None);
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Whether there is a `close` hook.
    ///
    /// ```
    /// assert!(!vma::VmOps::new().with_may_split(|_, _| Ok(())).has_close());
    /// ```
    pub fn has_close(&self) -> bool {
        self.close.is_some()
    }
}

impl fmt::Debug for VmOps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VmOps")
            .field("close", &self.close.is_some())
            .field("may_split", &self.may_split.is_some())
            .field("mremap", &self.mremap.is_some())
            .field("name", &self.name)
            .finish()
    }
}

/// A NUMA memory policy. Two policies are equal when they are the same object or have
/// the same mode, flags and node mask.
///
/// ```
/// use vma::MemPolicy;
/// let a = MemPolicy::new(2, 0, 0b11);
/// let b = MemPolicy::new(2, 0, 0b11);
/// assert!(MemPolicy::same(Some(&a), Some(&b)));
/// assert!(!MemPolicy::same(Some(&a), None));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MemPolicy {
    /// Policy mode (`MPOL_*`).
    pub mode: u16,
    /// Mode flags.
    pub flags: u16,
    /// Node mask.
    pub nodes: u64,
}

impl MemPolicy {
    /// A shared policy object.
    ///
    /// ```
    /// assert_eq!(vma::MemPolicy::new(1, 0, 1).mode, 1);
    /// ```
    pub fn new(mode: u16, flags: u16, nodes: u64) -> Arc<MemPolicy> {
        Arc::new(MemPolicy { mode, flags, nodes })
    }

    /// The merge rule's policy equality: both none, or the same object, or equal fields.
    ///
    /// ```
    /// assert!(vma::MemPolicy::same(None, None));
    /// ```
    pub fn same(a: Option<&Arc<MemPolicy>>, b: Option<&Arc<MemPolicy>>) -> bool {
        match (a, b) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b) || **a == **b,
            _ => false,
        }
    }
}

/// A userfaultfd context; compared by identity.
///
/// ```
/// let a = vma::UffdCtx::new();
/// let b = vma::UffdCtx::new();
/// assert_ne!(a.id(), b.id());
/// ```
#[derive(Debug)]
pub struct UffdCtx {
    id: u64,
}

impl UffdCtx {
    /// A new context.
    ///
    /// ```
    /// let ctx = vma::UffdCtx::new();
    /// assert!(ctx.id() > 0);
    /// ```
    pub fn new() -> Arc<UffdCtx> {
        Arc::new(UffdCtx { id: next_identity(&NEXT_OBJECT) })
    }

    /// A number unique to this context, for display.
    ///
    /// ```
    /// assert!(vma::UffdCtx::new().id() > 0);
    /// ```
    pub fn id(&self) -> u64 {
        self.id
    }
}

/// Pointer identity of two optional shared objects (both none counts as the same).
pub(crate) fn same_object<T: ?Sized>(a: Option<&Arc<T>>, b: Option<&Arc<T>>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        _ => false,
    }
}

/// One virtual memory area: the half-open range `[start, end)` and what is mapped there.
///
/// Published versions are immutable (the tree holds `Arc<Vma>`). `Clone` makes a new
/// version with the same [`VmaId`]; [`Vma::duplicate`] makes a separate area with a new id.
///
/// ```
/// use vma::{File, Vma, VmFlags};
/// let file = File::new("data.bin");
/// let v = Vma::new(0x1000, 0x3000, 5, VmFlags::READ | VmFlags::MAYREAD).with_file(file);
/// assert_eq!(v.pages(), 2);
/// assert_eq!(v.pgoff_at(0x2000), 6);
/// let newer = v.resized(0x1000, 0x4000);
/// assert_eq!(newer.id(), v.id());
/// ```
#[derive(Clone, Debug)]
pub struct Vma {
    pub(crate) id: VmaId,
    /// First address (page aligned).
    pub start: u64,
    /// One past the last address (page aligned, above `start`).
    pub end: u64,
    /// File page offset of `start` (for anonymous private areas, conventionally
    /// `start / PAGE_SIZE` at creation).
    pub pgoff: u64,
    /// The area's flags.
    pub flags: VmFlags,
    /// The mapped file, compared by identity.
    pub file: Option<Arc<File>>,
    /// The anon_vma and this area's chain length, once the area has one.
    pub anon: Option<AnonRef>,
    /// Driver or file-system hooks.
    pub ops: Option<Arc<VmOps>>,
    /// NUMA memory policy.
    pub policy: Option<Arc<MemPolicy>>,
    /// userfaultfd context.
    pub uffd: Option<Arc<UffdCtx>>,
    /// Name of an anonymous area (`prctl(PR_SET_VMA_ANON_NAME)`), compared by content.
    pub anon_name: Option<Arc<str>>,
    /// The runtime's value for this area, if it attached one ([`Vma::with_data`]).
    pub data: Option<AreaData>,
    /// Guard markers on pages of the area (MADV_GUARD_INSTALL), by pgoff; may hold offsets
    /// outside the area, which every query ignores.
    pub guards: Option<Arc<GuardPages>>,
}

impl Vma {
    /// A new area with a fresh id and no file, anon_vma, ops, policy, uffd or name.
    ///
    /// ```
    /// let v = vma::Vma::new(0, 0x1000, 0, vma::VmFlags::READ);
    /// assert_eq!((v.start, v.end), (0, 0x1000));
    /// ```
    pub fn new(start: u64, end: u64, pgoff: u64, flags: VmFlags) -> Vma {
        Vma {
            id: VmaId::fresh(),
            start,
            end,
            pgoff,
            flags,
            file: None,
            anon: None,
            ops: None,
            policy: None,
            uffd: None,
            anon_name: None,
            data: None,
            guards: None,
        }
    }

    /// The stable id.
    ///
    /// ```
    /// let v = vma::Vma::new(0, 0x1000, 0, vma::VmFlags::READ);
    /// assert_eq!(v.clone().id(), v.id());
    /// ```
    pub fn id(&self) -> VmaId {
        self.id
    }

    /// A copy of this area that is a different area: same attributes, new id.
    ///
    /// ```
    /// let v = vma::Vma::new(0, 0x1000, 0, vma::VmFlags::READ);
    /// assert_ne!(v.duplicate().id(), v.id());
    /// ```
    pub fn duplicate(&self) -> Vma {
        Vma { id: VmaId::fresh(), ..self.clone() }
    }

    /// A new version of this area (same id) covering `[start, end)`; the pgoff follows
    /// `start`.
    ///
    /// ```
    /// let v = vma::Vma::new(0x1000, 0x3000, 1, vma::VmFlags::READ);
    /// let w = v.resized(0x2000, 0x5000);
    /// assert_eq!((w.pgoff, w.id()), (2, v.id()));
    /// ```
    pub fn resized(&self, start: u64, end: u64) -> Vma {
        Vma { start, end, pgoff: self.pgoff_at(start), ..self.clone() }
    }

    /// This area with a file.
    ///
    /// ```
    /// let v = vma::Vma::new(0, 0x1000, 0, vma::VmFlags::READ).with_file(vma::File::new("f"));
    /// assert!(v.file.is_some());
    /// ```
    pub fn with_file(mut self, file: Arc<File>) -> Vma {
        self.file = Some(file);
        self
    }

    /// This area with an anon_vma link.
    ///
    /// ```
    /// let v = vma::Vma::new(0, 0x1000, 0, vma::VmFlags::READ).with_anon(vma::AnonRef::new());
    /// assert_eq!(v.anon.as_ref().unwrap().chain_len, 1);
    /// ```
    pub fn with_anon(mut self, anon: AnonRef) -> Vma {
        self.anon = Some(anon);
        self
    }

    /// This area with ops.
    ///
    /// ```
    /// let v = vma::Vma::new(0, 0x1000, 0, vma::VmFlags::READ).with_ops(vma::VmOps::new().with_close(|_| {}));
    /// assert!(!v.can_remove());
    /// ```
    pub fn with_ops(mut self, ops: VmOps) -> Vma {
        self.ops = Some(Arc::new(ops));
        self
    }

    /// This area with a memory policy.
    ///
    /// ```
    /// let v = vma::Vma::new(0, 0x1000, 0, vma::VmFlags::READ).with_policy(vma::MemPolicy::new(1, 0, 1));
    /// assert!(v.policy.is_some());
    /// ```
    pub fn with_policy(mut self, policy: Arc<MemPolicy>) -> Vma {
        self.policy = Some(policy);
        self
    }

    /// This area with a userfaultfd context.
    ///
    /// ```
    /// let v = vma::Vma::new(0, 0x1000, 0, vma::VmFlags::READ).with_uffd(vma::UffdCtx::new());
    /// assert!(v.uffd.is_some());
    /// ```
    pub fn with_uffd(mut self, uffd: Arc<UffdCtx>) -> Vma {
        self.uffd = Some(uffd);
        self
    }

    /// This area with an anonymous name.
    ///
    /// ```
    /// let v = vma::Vma::new(0, 0x1000, 0, vma::VmFlags::READ).with_anon_name("heap");
    /// assert_eq!(v.anon_name.as_deref(), Some("heap"));
    /// ```
    pub fn with_anon_name(mut self, name: &str) -> Vma {
        self.anon_name = Some(Arc::from(name));
        self
    }

    /// This area with a runtime's value attached: the area's first page is page 0 of it.
    ///
    /// ```
    /// use vma::{AreaData, AreaValue, Vma, VmFlags};
    /// struct Tag;
    /// impl AreaValue for Tag {}
    /// let v = Vma::new(0x5000, 0x8000, 5, VmFlags::READ).with_data(AreaData::new(Tag));
    /// assert_eq!(v.data_offset(0x5000), Some(0));
    /// assert_eq!(v.resized(0x6000, 0x8000).data_offset(0x6000), Some(1)); // pieces keep their offset
    /// ```
    pub fn with_data(mut self, data: AreaData) -> Vma {
        self.data = Some(data.placed_at(self.pgoff));
        self
    }

    /// The runtime's value, when the area carries one of type `T`.
    ///
    /// ```
    /// use vma::{AreaData, AreaValue, Vma, VmFlags};
    /// struct Tag(u32);
    /// impl AreaValue for Tag {}
    /// let v = Vma::new(0, 0x1000, 0, VmFlags::READ).with_data(AreaData::new(Tag(7)));
    /// assert_eq!(v.data::<Tag>().map(|t| t.0), Some(7));
    /// assert!(Vma::new(0, 0x1000, 0, VmFlags::READ).data::<Tag>().is_none());
    /// ```
    pub fn data<T: core::any::Any>(&self) -> Option<&T> {
        self.data.as_ref().and_then(|data| data.get())
    }

    /// The page offset of `addr` (which should lie in the area) into the area's data.
    ///
    /// ```
    /// use vma::{AreaData, AreaValue, Vma, VmFlags};
    /// struct Tag;
    /// impl AreaValue for Tag {}
    /// let v = Vma::new(0x1000, 0x4000, 0, VmFlags::READ).with_data(AreaData::new(Tag));
    /// assert_eq!(v.data_offset(0x3000), Some(2));
    /// ```
    pub fn data_offset(&self, addr: u64) -> Option<u64> {
        self.data.as_ref().map(|data| data.offset(self.pgoff_at(addr)))
    }

    /// Whether a guard marker covers the page at `addr` (which should lie in the area).
    ///
    /// ```
    /// let v = vma::Vma::new(0x1000, 0x4000, 1, vma::VmFlags::READ).with_guards(0x2000, 0x3000, true);
    /// assert!(v.is_guard(0x2fff) && !v.is_guard(0x3000));
    /// ```
    pub fn is_guard(&self, addr: u64) -> bool {
        self.contains(addr) && self.guards.as_ref().is_some_and(|g| g.contains(self.pgoff_at(addr)))
    }

    /// The guarded parts of `[start, end)` within the area, as address ranges in order.
    ///
    /// ```
    /// let v = vma::Vma::new(0x1000, 0x9000, 1, vma::VmFlags::READ)
    ///     .with_guards(0x2000, 0x4000, true)
    ///     .with_guards(0x6000, 0x7000, true);
    /// assert_eq!(v.guard_ranges(0x3000, 0x9000), vec![0x3000..0x4000, 0x6000..0x7000]);
    /// ```
    pub fn guard_ranges(&self, start: u64, end: u64) -> Vec<core::ops::Range<u64>> {
        let (start, end) = (start.max(self.start), end.min(self.end));
        let Some(guards) = self.guards.as_ref().filter(|_| start < end) else { return Vec::new() };
        let to_addr = |pgoff: u64| self.start + (pgoff.wrapping_sub(self.pgoff) << PAGE_SHIFT);
        guards.within(self.pgoff_at(start)..self.pgoff_at(end)).map(|p| to_addr(p.start)..to_addr(p.end)).collect()
    }

    /// A new version (same id) with the guard markers of `[start, end)` (clipped to the area)
    /// set (`on`) or cleared.
    ///
    /// ```
    /// let v = vma::Vma::new(0, 0x3000, 0, vma::VmFlags::READ).with_guards(0, 0x3000, true);
    /// let w = v.with_guards(0x1000, 0x2000, false);
    /// assert!(w.is_guard(0) && !w.is_guard(0x1000) && w.id() == v.id());
    /// assert!(w.with_guards(0, 0x3000, false).guards.is_none());
    /// ```
    pub fn with_guards(&self, start: u64, end: u64, on: bool) -> Vma {
        let (start, end) = (start.max(self.start), end.min(self.end));
        let mut version = self.clone();
        if start < end {
            let pages = self.pgoff_at(start)..self.pgoff_at(end);
            let set = self.guards.as_deref().cloned().unwrap_or_default().with(pages, on);
            version.guards = (!set.is_empty()).then(|| Arc::new(set));
        }
        version
    }

    /// The number of pages.
    ///
    /// ```
    /// assert_eq!(vma::Vma::new(0, 0x3000, 0, vma::VmFlags::READ).pages(), 3);
    /// ```
    pub fn pages(&self) -> u64 {
        (self.end - self.start) >> PAGE_SHIFT
    }

    /// The file page offset of `addr` (which should lie in the area).
    ///
    /// ```
    /// assert_eq!(vma::Vma::new(0x2000, 0x5000, 7, vma::VmFlags::READ).pgoff_at(0x4000), 9);
    /// ```
    pub fn pgoff_at(&self, addr: u64) -> u64 {
        self.pgoff.wrapping_add(addr.wrapping_sub(self.start) >> PAGE_SHIFT)
    }

    /// The pgoff just past the end (`pgoff + pages`).
    ///
    /// ```
    /// assert_eq!(vma::Vma::new(0, 0x2000, 3, vma::VmFlags::READ).end_pgoff(), 5);
    /// ```
    pub fn end_pgoff(&self) -> u64 {
        self.pgoff.wrapping_add(self.pages())
    }

    /// Whether `addr` lies in `[start, end)`.
    ///
    /// ```
    /// let v = vma::Vma::new(0x1000, 0x2000, 1, vma::VmFlags::READ);
    /// assert!(v.contains(0x1fff) && !v.contains(0x2000));
    /// ```
    pub fn contains(&self, addr: u64) -> bool {
        self.start <= addr && addr < self.end
    }

    /// The inclusive tree range `[start, end - 1]` the area is stored over.
    ///
    /// ```
    /// let v = vma::Vma::new(0x1000, 0x2000, 1, vma::VmFlags::READ);
    /// assert_eq!(v.range(), maple::Range::new(0x1000, 0x1fff).unwrap());
    /// ```
    pub fn range(&self) -> maple::Range {
        maple::Range { first: self.start, last: self.end - 1 }
    }

    /// Whether the area has a `close` hook.
    ///
    /// ```
    /// assert!(!vma::Vma::new(0, 0x1000, 0, vma::VmFlags::READ).has_close());
    /// ```
    pub fn has_close(&self) -> bool {
        self.ops.as_ref().is_some_and(|ops| ops.has_close())
    }

    /// Whether a merge may delete this area: it has no ops, or its ops have no `close`.
    ///
    /// ```
    /// assert!(vma::Vma::new(0, 0x1000, 0, vma::VmFlags::READ).can_remove());
    /// ```
    pub fn can_remove(&self) -> bool {
        !self.has_close()
    }

    /// Calls the `close` hook, if any (what unmapping does; merges never do).
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    /// let closed = Arc::new(AtomicBool::new(false));
    /// let c = closed.clone();
    /// let v = vma::Vma::new(0, 0x1000, 0, vma::VmFlags::READ)
    ///     .with_ops(vma::VmOps::new().with_close(move |_| c.store(true, Ordering::Relaxed)));
    /// v.close();
    /// assert!(closed.load(Ordering::Relaxed));
    /// ```
    pub fn close(&self) {
        if let Some(close) = self.ops.as_ref().and_then(|ops| ops.close.as_ref()) {
            close(self);
        }
    }

    /// Asks the `may_split` hook whether the area may be split at `addr`; `Ok` without one.
    ///
    /// ```
    /// assert_eq!(vma::Vma::new(0, 0x2000, 0, vma::VmFlags::READ).may_split(0x1000), Ok(()));
    /// ```
    pub fn may_split(&self, addr: u64) -> Result<(), i32> {
        match self.ops.as_ref().and_then(|ops| ops.may_split.as_ref()) {
            Some(hook) => hook(self, addr),
            None => Ok(()),
        }
    }

    /// Asks the `mremap` hook whether the area may move to `moved` (its copy at the new
    /// place); `Ok` without one.
    ///
    /// ```
    /// let v = vma::Vma::new(0, 0x1000, 0, vma::VmFlags::READ);
    /// assert_eq!(v.mremap_hook(&v.resized(0x4000, 0x5000)), Ok(()));
    /// ```
    pub fn mremap_hook(&self, moved: &Vma) -> Result<(), i32> {
        match self.ops.as_ref().and_then(|ops| ops.mremap.as_ref()) {
            Some(hook) => hook(self, moved),
            None => Ok(()),
        }
    }

    /// Whether the area is anonymous (maps no file).
    ///
    /// ```
    /// assert!(vma::Vma::new(0, 0x1000, 0, vma::VmFlags::READ).is_anonymous());
    /// ```
    pub fn is_anonymous(&self) -> bool {
        self.file.is_none()
    }

    /// Whether the area has an anon_vma whose chain is not exactly one entry long: it
    /// (or an ancestor) took part in a fork, so its pages may be shared with other areas.
    ///
    /// ```
    /// use vma::{AnonRef, Vma, VmFlags};
    /// let v = Vma::new(0, 0x1000, 0, VmFlags::READ).with_anon(AnonRef::new().forked());
    /// assert!(v.is_forked());
    /// ```
    pub fn is_forked(&self) -> bool {
        self.anon.as_ref().is_some_and(|a| a.chain_len != 1)
    }
}
