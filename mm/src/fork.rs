//! fork: the child's copy of an address space.

use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use vma::{AnonRef, VmFlags, VmaTree};

use crate::mm::Areas;
use crate::{Errno, Mm};

impl Mm {
    /// `fork()`: the child's address space.
    ///
    /// Every area is copied with a new identity except the don't-copy ones
    /// (`MADV_DONTFORK`); the copies lose their lock bits; a copy of an area with an
    /// anon_vma gets its own anon_vma whose chain is one longer than the parent's (so the
    /// child's areas never lend or merge anon_vmas the way single-chain ones do), and a
    /// wipe-on-fork area starts without one. Guard markers are copied with their areas.
    /// The parent is unchanged.
    ///
    /// ```
    /// use mm::{Access, MapFlags, Mm, Prot};
    /// let mm = Mm::new();
    /// let a = mm.mmap(0, 4096, Prot::READ | Prot::WRITE, MapFlags::PRIVATE | MapFlags::ANONYMOUS, None, 0).unwrap();
    /// mm.fault(a, Access::Write).unwrap();
    /// let child = mm.fork().unwrap();
    /// let copy = child.snapshot().find(a).cloned().unwrap();
    /// assert_eq!(copy.anon.as_ref().unwrap().chain_len, 2);
    /// assert_ne!(copy.id(), mm.snapshot().find(a).unwrap().id());
    /// ```
    pub fn fork(&self) -> Result<Mm, Errno> {
        let heap = self.write_lock();
        let child = Mm {
            vmas: VmaTree::with_max_map_count(self.limits().max_map_count),
            guards: maple::Tree::new(),
            lock: Mutex::new(*heap),
            layout: self.layout,
            limits: RwLock::new(self.limits()),
        };
        let snap = self.snapshot();
        let charged: u64 = snap.vmas().filter(|v| v.flags.contains(VmFlags::ACCOUNT)).map(|v| v.pages()).sum();
        child.charge(&Areas(&child.vmas.snapshot()), charged)?;
        let mut txn = child.vmas.transaction();
        for vma in snap.vmas().filter(|v| !v.flags.contains(VmFlags::DONTCOPY)) {
            let mut copy = vma.duplicate();
            copy.flags = copy.flags - (VmFlags::LOCKED | VmFlags::LOCKONFAULT);
            copy.anon = match vma.flags.contains(VmFlags::WIPEONFORK) {
                true => None,
                false => vma.anon.as_ref().map(AnonRef::forked),
            };
            txn.insert(Arc::new(copy))?;
        }
        txn.commit();
        // The markers go over as ranges, clipped to the copied areas: one store per range,
        // however many pages it covers.
        let mut guards = child.guards.transaction();
        for vma in snap.vmas().filter(|v| !v.flags.intersects(VmFlags::DONTCOPY | VmFlags::WIPEONFORK)) {
            for range in self.guard_ranges(vma.start, vma.end) {
                guards.store(range.first, range.last, ()).expect("guard markers: a valid range");
            }
        }
        guards.commit();
        Ok(child)
    }
}
