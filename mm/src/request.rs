//! A mapping request: mmap's arguments plus what a runtime attaches to the new area.

use vma::{AreaData, VmOps};

use crate::{MapFlags, OpenFile, Prot};

/// What [`Mm::map`](crate::Mm::map) maps: mmap's six arguments, and optionally the
/// runtime's data and hooks for the new area.
///
/// Data takes part in merging (see [`vma::AreaValue`]): a new range merges with a neighbour
/// only when both carry no data, or the neighbour's data continues into the new one's. A
/// request with ops never merges into a neighbour, so its hooks stay on its own area; as in
/// Linux, a later mapping may still merge into that area (a close hook only keeps a merge
/// from deleting it), unless the area carries data that continues only into itself.
///
/// ```
/// use mm::{MapFlags, MapRequest, Mm, Prot};
/// use vma::{AreaData, AreaValue};
/// struct HostPages { base: u64 }
/// impl AreaValue for HostPages {}
/// let mm = Mm::new();
/// let rw = Prot::READ | Prot::WRITE;
/// let request = MapRequest::new(0x4000, rw, MapFlags::PRIVATE | MapFlags::ANONYMOUS)
///     .data(AreaData::new(HostPages { base: 0x7f00_0000_0000 }));
/// let addr = mm.map(request).unwrap();
/// let snap = mm.snapshot();
/// let area = snap.find(addr + 0x2000).unwrap();
/// assert_eq!(area.data::<HostPages>().unwrap().base, 0x7f00_0000_0000);
/// assert_eq!(area.data_offset(addr + 0x2000), Some(2));
/// ```
#[derive(Clone, Debug)]
pub struct MapRequest<'f> {
    /// The address (a hint, or exact with `MAP_FIXED`).
    pub addr: u64,
    /// Bytes to map (rounded up to pages).
    pub len: u64,
    /// Protection.
    pub prot: Prot,
    /// mmap flags.
    pub flags: MapFlags,
    /// The open file (ignored with `MAP_ANONYMOUS`).
    pub file: Option<&'f OpenFile>,
    /// File offset in bytes (page aligned).
    pub offset: u64,
    /// The runtime's value for the new area.
    pub data: Option<AreaData>,
    /// The new area's hooks.
    pub ops: Option<VmOps>,
}

impl<'f> MapRequest<'f> {
    /// A request for `len` bytes anywhere, with no file, data or ops.
    ///
    /// ```
    /// use mm::{MapFlags, MapRequest, Prot};
    /// let r = MapRequest::new(4096, Prot::READ, MapFlags::PRIVATE | MapFlags::ANONYMOUS);
    /// assert_eq!((r.addr, r.len), (0, 4096));
    /// ```
    pub fn new(len: u64, prot: Prot, flags: MapFlags) -> MapRequest<'f> {
        MapRequest { addr: 0, len, prot, flags, file: None, offset: 0, data: None, ops: None }
    }

    /// This request at `addr`.
    ///
    /// ```
    /// use mm::{MapFlags, MapRequest, Prot};
    /// assert_eq!(MapRequest::new(4096, Prot::READ, MapFlags::PRIVATE).at(0x10_0000).addr, 0x10_0000);
    /// ```
    pub fn at(mut self, addr: u64) -> MapRequest<'f> {
        self.addr = addr;
        self
    }

    /// This request mapping `file` from byte `offset`.
    ///
    /// ```
    /// use mm::{MapFlags, MapRequest, OpenFile, Prot};
    /// let file = OpenFile::read_only(vma::File::new("lib.so"));
    /// let r = MapRequest::new(4096, Prot::READ, MapFlags::PRIVATE).file(&file, 8192);
    /// assert_eq!(r.offset, 8192);
    /// ```
    pub fn file(mut self, file: &'f OpenFile, offset: u64) -> MapRequest<'f> {
        self.file = Some(file);
        self.offset = offset;
        self
    }

    /// This request attaching `data` to the new area.
    ///
    /// ```
    /// use mm::{MapFlags, MapRequest, Prot};
    /// struct Tag;
    /// impl vma::AreaValue for Tag {}
    /// let r = MapRequest::new(4096, Prot::READ, MapFlags::PRIVATE).data(vma::AreaData::new(Tag));
    /// assert!(r.data.is_some());
    /// ```
    pub fn data(mut self, data: AreaData) -> MapRequest<'f> {
        self.data = Some(data);
        self
    }

    /// This request giving the new area `ops` (its own area: it does not merge).
    ///
    /// ```
    /// use mm::{MapFlags, MapRequest, Prot};
    /// let r = MapRequest::new(4096, Prot::READ, MapFlags::PRIVATE).ops(vma::VmOps::new().with_close(|_| {}));
    /// assert!(r.ops.is_some());
    /// ```
    pub fn ops(mut self, ops: VmOps) -> MapRequest<'f> {
        self.ops = Some(ops);
        self
    }
}
