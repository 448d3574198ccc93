//! fork: the child's copy of an address space.

use std::sync::Arc;

use vma::{AnonRef, VmFlags, Vma};

use crate::mm::{Areas, Heap};
use crate::{Errno, Mm, Observer};

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
        self.fork_child(None)
    }

    /// [`Mm::fork`] with `observer` registered on the child before its areas are published,
    /// so that it hears of every area the child starts with (one change, all of them added)
    /// and of every call after. Each area's runtime data is copied by its rule
    /// ([`vma::AreaValue::on_fork`]).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use mm::{ChangeLog, MapFlags, Mm, Prot};
    /// let mm = Mm::new();
    /// mm.mmap(0, 4096, Prot::READ, MapFlags::PRIVATE | MapFlags::ANONYMOUS, None, 0).unwrap();
    /// let log = Arc::new(ChangeLog::default());
    /// let child = mm.fork_observed(log.clone()).unwrap();
    /// assert_eq!(log.take()[0].added.len(), child.snapshot().map_count());
    /// ```
    pub fn fork_observed(&self, observer: Arc<dyn Observer>) -> Result<Mm, Errno> {
        self.fork_child(Some(observer))
    }

    fn fork_child(&self, observer: Option<Arc<dyn Observer>>) -> Result<Mm, Errno> {
        let heap = self.write_lock();
        let child = Mm::with_layout(self.layout, self.limits());
        // The child keeps the heap; mlockall's lock bits for future areas are not inherited
        // (mm_init keeps only VM_INIT_DEF_MASK of def_flags).
        *child.lock.lock() = Heap { def_flags: VmFlags::EMPTY, ..*heap };
        if let Some(observer) = observer {
            child.observe(observer);
        }
        let snap = self.snapshot();
        let charged: u64 = snap.vmas().filter(|v| v.flags.contains(VmFlags::ACCOUNT)).map(|v| v.pages()).sum();
        child.charge(&Areas(&child.vmas.snapshot()), charged)?;
        let _child_lock = child.write_lock();
        let mut txn = child.vmas.transaction();
        for vma in snap.vmas().filter(|v| !v.flags.contains(VmFlags::DONTCOPY)) {
            txn.insert(Arc::new(child_copy(vma)))?;
        }
        child.publish(txn);
        drop(_child_lock);
        Ok(child)
    }
}

/// The child's copy of `vma`: a new area without lock bits; a wipe-on-fork area starts
/// empty (no anon_vma, no guard markers), any other gets an anon_vma one chain longer and
/// keeps its markers; the runtime data follows its fork rule.
fn child_copy(vma: &Vma) -> Vma {
    let mut copy = vma.duplicate();
    copy.flags = copy.flags - (VmFlags::LOCKED | VmFlags::LOCKONFAULT);
    if vma.flags.contains(VmFlags::WIPEONFORK) {
        copy.anon = None;
        copy.guards = None;
    } else {
        copy.anon = vma.anon.as_ref().map(AnonRef::forked);
    }
    copy.data = vma.data.as_ref().and_then(|data| data.forked());
    copy
}
