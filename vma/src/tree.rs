//! The VMA tree: a maple tree of `Arc<Vma>` handles, the map count, and a cursor.
//!
//! A VMA `[start, end)` is stored over the inclusive maple range `[start, end - 1]`. Every
//! change goes through a [`VmaTxn`]: one maple transaction that commits whole or changes
//! nothing. The map count (the number of VMAs) is the number of values the maple tree holds,
//! which its nodes keep (`View::len`, O(1)): a snapshot's count comes from the same published
//! root as its areas, and a transaction's from its own working tree.

use crate::sync::{AtomicUsize, Ordering};
use core::ops::Deref;
use std::sync::Arc;

use maple::{AllocHook, Range, Snapshot, Transaction, View};

use crate::{Vma, VmaError, PAGE_SIZE};

/// The kernel's default `vm.max_map_count`.
///
/// ```
/// assert_eq!(vma::DEFAULT_MAX_MAP_COUNT, 65530);
/// ```
pub const DEFAULT_MAX_MAP_COUNT: usize = 65530;

/// The VMAs of one address space.
///
/// Readers take a [`snapshot`](VmaTree::snapshot) and never wait; writers use
/// [`transaction`](VmaTree::transaction) (one at a time) or the merge, split and modify
/// functions of this crate, each of which is one transaction.
///
/// ```
/// use vma::{Vma, VmaTree, VmFlags};
/// let tree = VmaTree::new();
/// tree.insert(Vma::new(0x1000, 0x3000, 1, VmFlags::READ)).unwrap();
/// assert_eq!(tree.map_count(), 1);
/// assert_eq!(tree.find(0x2fff).unwrap().start, 0x1000);
/// assert!(tree.find(0x3000).is_none());
/// tree.validate().unwrap();
/// ```
pub struct VmaTree {
    tree: maple::Tree<Arc<Vma>>,
    /// A setting, not part of the tree's state: read with `Relaxed`.
    max_map_count: AtomicUsize,
}

impl Default for VmaTree {
    fn default() -> Self {
        VmaTree::new()
    }
}

impl core::fmt::Debug for VmaTree {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let snap = self.snapshot();
        let mut list = f.debug_list();
        for (_, vma) in snap.iter() {
            list.entry(&format_args!(
                "{:#x}-{:#x} pg {:#x} {} id {}",
                vma.start,
                vma.end,
                vma.pgoff,
                vma.flags,
                vma.id().get()
            ));
        }
        list.finish()
    }
}

impl VmaTree {
    /// An empty tree with the default map-count limit.
    ///
    /// ```
    /// assert_eq!(vma::VmaTree::new().map_count(), 0);
    /// ```
    pub fn new() -> VmaTree {
        VmaTree::with_max_map_count(DEFAULT_MAX_MAP_COUNT)
    }

    /// An empty tree whose splits fail once `limit` VMAs exist.
    ///
    /// ```
    /// assert_eq!(vma::VmaTree::with_max_map_count(8).max_map_count(), 8);
    /// ```
    pub fn with_max_map_count(limit: usize) -> VmaTree {
        VmaTree { tree: maple::Tree::new(), max_map_count: AtomicUsize::new(limit) }
    }

    /// The map-count limit.
    ///
    /// ```
    /// assert_eq!(vma::VmaTree::new().max_map_count(), vma::DEFAULT_MAX_MAP_COUNT);
    /// ```
    pub fn max_map_count(&self) -> usize {
        self.max_map_count.load(Ordering::Relaxed)
    }

    /// Changes the map-count limit.
    ///
    /// ```
    /// let tree = vma::VmaTree::new();
    /// tree.set_max_map_count(3);
    /// assert_eq!(tree.max_map_count(), 3);
    /// ```
    pub fn set_max_map_count(&self, limit: usize) {
        self.max_map_count.store(limit, Ordering::Relaxed);
    }

    /// The number of VMAs, as of the last commit: the `len` of the published state, O(1).
    /// A reader that needs the count together with the areas reads both from one snapshot
    /// (`snapshot().len()`).
    ///
    /// ```
    /// let tree = vma::VmaTree::new();
    /// tree.insert(vma::Vma::new(0, 0x1000, 0, vma::VmFlags::READ)).unwrap();
    /// assert_eq!(tree.map_count(), 1);
    /// let snap = tree.snapshot();
    /// assert_eq!(snap.len(), snap.iter().count());
    /// ```
    pub fn map_count(&self) -> usize {
        self.tree.snapshot().len()
    }

    /// Runs `op` in a new transaction, committed when `op` succeeds (`Ok` or `Some`): the
    /// one-transaction form of each `..._in` operation.
    pub(crate) fn write<'t, R: Succeeded>(&'t self, op: impl FnOnce(&mut VmaTxn<'t>) -> R) -> R {
        let mut txn = self.transaction();
        let result = op(&mut txn);
        if result.succeeded() {
            txn.commit();
        }
        result
    }

    /// Pins the current state for reading.
    ///
    /// ```
    /// let tree = vma::VmaTree::new();
    /// assert!(tree.snapshot().is_empty());
    /// ```
    pub fn snapshot(&self) -> Snapshot<'_, Arc<Vma>> {
        self.tree.snapshot()
    }

    /// Opens a write transaction (waits for the writer lock).
    ///
    /// ```
    /// use std::sync::Arc;
    /// let tree = vma::VmaTree::new();
    /// let mut txn = tree.transaction();
    /// txn.insert(Arc::new(vma::Vma::new(0, 0x1000, 0, vma::VmFlags::READ))).unwrap();
    /// assert_eq!(txn.map_count(), 1);
    /// drop(txn); // not committed: nothing happened
    /// assert_eq!(tree.map_count(), 0);
    /// ```
    pub fn transaction(&self) -> VmaTxn<'_> {
        VmaTxn { txn: self.tree.transaction(), tree: self, touched: Vec::new() }
    }

    /// Inserts a new VMA where nothing is mapped; one transaction.
    ///
    /// ```
    /// use vma::{Vma, VmaError, VmaTree, VmFlags};
    /// let tree = VmaTree::new();
    /// tree.insert(Vma::new(0, 0x2000, 0, VmFlags::READ)).unwrap();
    /// assert_eq!(tree.insert(Vma::new(0x1000, 0x3000, 1, VmFlags::READ)).unwrap_err(), VmaError::Occupied);
    /// ```
    pub fn insert(&self, vma: Vma) -> Result<Arc<Vma>, VmaError> {
        let vma = Arc::new(vma);
        let mut txn = self.transaction();
        txn.insert(vma.clone())?;
        txn.commit();
        Ok(vma)
    }

    /// The VMA containing `addr` (the kernel's `vma_lookup`).
    ///
    /// ```
    /// let tree = vma::VmaTree::new();
    /// tree.insert(vma::Vma::new(0x1000, 0x2000, 1, vma::VmFlags::READ)).unwrap();
    /// assert!(tree.find(0x1000).is_some() && tree.find(0xfff).is_none());
    /// ```
    pub fn find(&self, addr: u64) -> Option<Arc<Vma>> {
        self.snapshot().get(addr).cloned()
    }

    /// Every VMA in address order (a copy of the handles, from one snapshot).
    ///
    /// ```
    /// let tree = vma::VmaTree::new();
    /// tree.insert(vma::Vma::new(0x1000, 0x2000, 1, vma::VmFlags::READ)).unwrap();
    /// assert_eq!(tree.vmas().len(), 1);
    /// ```
    pub fn vmas(&self) -> Vec<Arc<Vma>> {
        self.snapshot().iter().map(|(_, vma)| vma.clone()).collect()
    }

    /// Installs (or removes) the maple allocation hook: tests make the k-th node
    /// allocation fail with it.
    ///
    /// ```
    /// use vma::{Vma, VmaError, VmaTree, VmFlags};
    /// let tree = VmaTree::new();
    /// tree.set_alloc_hook(Some(maple::AllocHook::fail_at(0)));
    /// assert_eq!(tree.insert(Vma::new(0, 0x1000, 0, VmFlags::READ)).unwrap_err(), VmaError::NoMemory);
    /// assert_eq!(tree.map_count(), 0);
    /// ```
    pub fn set_alloc_hook(&self, hook: Option<AllocHook>) {
        self.tree.set_alloc_hook(hook);
    }

    /// A copy of the tree (what fork starts from), with the same map count and limit.
    ///
    /// ```
    /// let tree = vma::VmaTree::new();
    /// tree.insert(vma::Vma::new(0, 0x1000, 0, vma::VmFlags::READ)).unwrap();
    /// let copy = tree.try_clone().unwrap();
    /// assert_eq!(copy.map_count(), 1);
    /// ```
    pub fn try_clone(&self) -> Result<VmaTree, VmaError> {
        // The copy is of one published state, and carries its count in its nodes.
        let tree = self.tree.try_clone()?;
        Ok(VmaTree { tree, max_map_count: AtomicUsize::new(self.max_map_count()) })
    }

    /// Checks the tree's invariants: maple's own, each VMA stored exactly over
    /// `[start, end - 1]`, page-aligned and non-empty bounds, no overlap (implied), and the
    /// map count equal to the number of VMAs. Returns what is wrong.
    ///
    /// ```
    /// let tree = vma::VmaTree::new();
    /// tree.insert(vma::Vma::new(0, 0x1000, 0, vma::VmFlags::READ)).unwrap();
    /// assert_eq!(tree.validate(), Ok(()));
    /// ```
    pub fn validate(&self) -> Result<(), String> {
        validate_view(&self.snapshot())
    }
}

/// Checks a view of a VMA tree (see [`VmaTree::validate`]); its map count (`view.len()`) must
/// equal the number of VMAs iterated.
///
/// ```
/// let tree = vma::VmaTree::new();
/// tree.insert(vma::Vma::new(0, 0x1000, 0, vma::VmFlags::READ)).unwrap();
/// let snap = tree.snapshot();
/// assert!(vma::validate_view(&snap).is_ok());
/// assert_eq!(snap.len(), 1);
/// ```
pub fn validate_view(view: &View<'_, Arc<Vma>>) -> Result<(), String> {
    view.validate().map_err(|e| format!("maple: {e:?}"))?;
    let map_count = view.len();
    let mut count = 0;
    let mut last_end = 0;
    for (range, vma) in view.iter() {
        count += 1;
        if vma.start >= vma.end || vma.start % PAGE_SIZE != 0 || vma.end % PAGE_SIZE != 0 {
            return Err(format!("bad bounds {:#x}-{:#x}", vma.start, vma.end));
        }
        if range != vma.range() {
            return Err(format!("vma {:#x}-{:#x} stored over {range}", vma.start, vma.end));
        }
        if vma.start < last_end {
            return Err(format!("vma {:#x}-{:#x} overlaps the one before", vma.start, vma.end));
        }
        last_end = vma.end;
    }
    if count != map_count {
        return Err(format!("map count {map_count}, but {count} VMAs"));
    }
    Ok(())
}

/// One write transaction on a [`VmaTree`]: a maple transaction, and the ranges it wrote (for
/// [`changes`](VmaTxn::changes)). Dereferences to the transaction's [`View`], whose `len` is
/// the map count with the transaction's changes; dropping it uncommitted changes nothing.
///
/// Every operation of this crate has a form that works inside a `VmaTxn` (`..._in`), so that
/// a caller can make many operations one publication; an operation that fails leaves the
/// transaction as it was before it (except [`vma_modify_in`](crate::vma_modify_in), which
/// keeps its first split as the kernel does). The published tree is never touched before
/// [`commit`](VmaTxn::commit).
///
/// ```
/// use std::sync::Arc;
/// use vma::{Vma, VmaTree, VmFlags};
/// let tree = VmaTree::new();
/// let a = tree.insert(Vma::new(0, 0x1000, 0, VmFlags::READ)).unwrap();
/// let mut txn = tree.transaction();
/// txn.remove(&a).unwrap();
/// txn.insert(Arc::new(Vma::new(0x5000, 0x6000, 5, VmFlags::READ))).unwrap();
/// txn.commit();
/// assert_eq!(tree.vmas()[0].start, 0x5000);
/// assert_eq!(tree.map_count(), 1);
/// ```
pub struct VmaTxn<'t> {
    txn: Transaction<'t, Arc<Vma>>,
    tree: &'t VmaTree,
    /// Every range written, inclusive: where [`VmaTxn::changes`] looks.
    touched: Vec<Range>,
}

/// What a transaction changed: the area versions it took out of the tree and those it put
/// in, each in address order. An area that changed (a new version with the same id) is in
/// both lists; an area stored and removed again within the transaction is in neither.
///
/// ```
/// use vma::{split_vma_in, VmaTree, Vma, VmFlags};
/// let tree = VmaTree::new();
/// let v = tree.insert(Vma::new(0, 0x3000, 0, VmFlags::READ)).unwrap();
/// let mut txn = tree.transaction();
/// split_vma_in(&mut txn, &v, 0x1000, false).unwrap();
/// let changes = txn.changes();
/// assert_eq!(changes.removed.len(), 1);
/// assert_eq!(changes.added.iter().map(|v| (v.start, v.end)).collect::<Vec<_>>(), [(0, 0x1000), (0x1000, 0x3000)]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct AreaChanges {
    /// The versions that left the tree.
    pub removed: Vec<Arc<Vma>>,
    /// The versions that entered it.
    pub added: Vec<Arc<Vma>>,
}

impl AreaChanges {
    /// Whether nothing changed.
    ///
    /// ```
    /// assert!(vma::AreaChanges::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.removed.is_empty() && self.added.is_empty()
    }
}

impl<'t> Deref for VmaTxn<'t> {
    type Target = View<'t, Arc<Vma>>;

    fn deref(&self) -> &View<'t, Arc<Vma>> {
        &self.txn
    }
}

impl<'t> VmaTxn<'t> {
    /// The map count as this transaction would leave it: the `len` of its working tree, O(1).
    ///
    /// ```
    /// use std::sync::Arc;
    /// let tree = vma::VmaTree::new();
    /// let mut txn = tree.transaction();
    /// assert_eq!(txn.map_count(), 0);
    /// txn.insert(Arc::new(vma::Vma::new(0, 0x3000, 0, vma::VmFlags::READ))).unwrap();
    /// txn.clear(0x1000, 0x2000).unwrap(); // cut in two
    /// assert_eq!(txn.map_count(), 2);
    /// ```
    pub fn map_count(&self) -> usize {
        self.txn.len()
    }

    /// The map-count limit of the tree.
    ///
    /// ```
    /// let tree = vma::VmaTree::with_max_map_count(5);
    /// assert_eq!(tree.transaction().max_map_count(), 5);
    /// ```
    pub fn max_map_count(&self) -> usize {
        self.tree.max_map_count()
    }

    /// The version of `vma` the transaction sees, which must be `vma` itself or a version
    /// with the same id and bounds; [`VmaError::Stale`] otherwise.
    ///
    /// ```
    /// use vma::{Vma, VmaError, VmaTree, VmFlags};
    /// let tree = VmaTree::new();
    /// let v = tree.insert(Vma::new(0, 0x1000, 0, VmFlags::READ)).unwrap();
    /// let other = Vma::new(0, 0x1000, 0, VmFlags::READ);
    /// let txn = tree.transaction();
    /// assert!(txn.current(&v).is_ok());
    /// assert_eq!(txn.current(&other).unwrap_err(), VmaError::Stale);
    /// ```
    pub fn current(&self, vma: &Vma) -> Result<&Arc<Vma>, VmaError> {
        match self.txn.get(vma.start) {
            Some(found) if found.id() == vma.id() && found.start == vma.start && found.end == vma.end => Ok(found),
            _ => Err(VmaError::Stale),
        }
    }

    /// A cursor over the transaction's state, at `addr`.
    ///
    /// ```
    /// let tree = vma::VmaTree::new();
    /// tree.insert(vma::Vma::new(0x1000, 0x2000, 1, vma::VmFlags::READ)).unwrap();
    /// let txn = tree.transaction();
    /// assert!(txn.cursor(0).next_vma().is_some());
    /// ```
    pub fn cursor(&self, addr: u64) -> VmaCursor<'_, 't> {
        VmaCursor::new(&self.txn, addr)
    }

    /// Inserts a VMA where nothing is mapped (one more VMA).
    ///
    /// ```
    /// use std::sync::Arc;
    /// let tree = vma::VmaTree::new();
    /// let mut txn = tree.transaction();
    /// txn.insert(Arc::new(vma::Vma::new(0, 0x1000, 0, vma::VmFlags::READ))).unwrap();
    /// assert!(txn.insert(Arc::new(vma::Vma::new(0, 0x1000, 0, vma::VmFlags::READ))).is_err());
    /// ```
    pub fn insert(&mut self, vma: Arc<Vma>) -> Result<(), VmaError> {
        check_bounds(&vma)?;
        self.touched.push(vma.range());
        self.txn.insert(vma.start, vma.end - 1, vma)?;
        Ok(())
    }

    /// Stores a version of a VMA over its range, overwriting whatever lies there (VMAs it
    /// wholly overwrites leave the tree, and the map count with them; those it reaches into
    /// are trimmed, as maple stores are).
    ///
    /// ```
    /// use std::sync::Arc;
    /// let tree = vma::VmaTree::new();
    /// let v = tree.insert(vma::Vma::new(0, 0x2000, 0, vma::VmFlags::READ)).unwrap();
    /// let mut txn = tree.transaction();
    /// txn.replace(Arc::new(v.resized(0, 0x3000))).unwrap();
    /// txn.commit();
    /// assert_eq!(tree.find(0).unwrap().end, 0x3000);
    /// ```
    pub fn replace(&mut self, vma: Arc<Vma>) -> Result<(), VmaError> {
        check_bounds(&vma)?;
        self.touched.push(vma.range());
        self.txn.store(vma.start, vma.end - 1, vma)?;
        Ok(())
    }

    /// Empties the range of `vma` (which must be current): one VMA less.
    ///
    /// ```
    /// let tree = vma::VmaTree::new();
    /// let v = tree.insert(vma::Vma::new(0, 0x2000, 0, vma::VmFlags::READ)).unwrap();
    /// let mut txn = tree.transaction();
    /// txn.remove(&v).unwrap();
    /// txn.commit();
    /// assert_eq!(tree.map_count(), 0);
    /// ```
    pub fn remove(&mut self, vma: &Vma) -> Result<(), VmaError> {
        self.current(vma)?;
        self.touched.push(vma.range());
        self.txn.clear(vma.start, vma.end - 1)?;
        Ok(())
    }

    /// Empties `[start, end)`, trimming the VMAs at its edges to new versions and removing
    /// those inside (the tree part of munmap; nothing is closed here). Returns the VMAs
    /// that were wholly removed.
    ///
    /// ```
    /// let tree = vma::VmaTree::new();
    /// tree.insert(vma::Vma::new(0, 0x3000, 0, vma::VmFlags::READ)).unwrap();
    /// let mut txn = tree.transaction();
    /// assert!(txn.clear(0x1000, 0x2000).unwrap().is_empty());
    /// txn.commit();
    /// assert_eq!(tree.map_count(), 2);
    /// assert_eq!(tree.vmas()[1].pgoff, 2);
    /// ```
    pub fn clear(&mut self, start: u64, end: u64) -> Result<Vec<Arc<Vma>>, VmaError> {
        if start >= end || start % PAGE_SIZE != 0 || end % PAGE_SIZE != 0 {
            return Err(VmaError::InvalidRange);
        }
        let hit: Vec<Arc<Vma>> =
            self.txn.range(Range { first: start, last: end - 1 }).map(|(_, v)| v.clone()).collect();
        // The trimmed pieces reach past the cleared range, to the ends of the areas hit.
        let first = hit.first().map_or(start, |v| v.start.min(start));
        let last = hit.last().map_or(end, |v| v.end.max(end)) - 1;
        self.touched.push(Range { first, last });
        let mut pieces = Vec::new();
        let mut removed = Vec::new();
        for vma in hit {
            let below = vma.start < start;
            let above = vma.end > end;
            //   [ vma ]          both edges inside: the VMA goes
            // [ v|....|ma ]      cut in two: the upper piece is a new VMA
            // [ v|.... ]  or  [ ....|ma ]   trimmed: a new version
            match (below, above) {
                (false, false) => removed.push(vma),
                (true, true) => {
                    pieces.push(Vma { end: start, ..(*vma).clone() });
                    pieces.push(Vma { start: end, pgoff: vma.pgoff_at(end), ..vma.duplicate() });
                }
                (true, false) => pieces.push(Vma { end: start, ..(*vma).clone() }),
                (false, true) => pieces.push(Vma { start: end, pgoff: vma.pgoff_at(end), ..(*vma).clone() }),
            }
        }
        self.txn.clear(start, end - 1)?;
        for piece in pieces {
            self.txn.store(piece.start, piece.end - 1, Arc::new(piece))?;
        }
        Ok(removed)
    }

    /// Runs `scope` as one change: when it returns `Err`, the transaction (map count
    /// included) is back where it was before the scope; when it returns `Ok`, the changes
    /// stay. Scopes nest.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use vma::{Vma, VmaError, VmaTree, VmFlags};
    /// let tree = VmaTree::new();
    /// let mut txn = tree.transaction();
    /// let failed: Result<(), VmaError> = txn.atomic(|txn| {
    ///     txn.insert(Arc::new(Vma::new(0, 0x2000, 0, VmFlags::READ)))?;
    ///     txn.insert(Arc::new(Vma::new(0x1000, 0x3000, 1, VmFlags::READ))) // overlaps
    /// });
    /// assert_eq!(failed, Err(VmaError::Occupied));
    /// assert_eq!((txn.map_count(), txn.iter().count()), (0, 0));
    /// ```
    pub fn atomic<R, E>(&mut self, scope: impl FnOnce(&mut Self) -> Result<R, E>) -> Result<R, E> {
        let point = self.txn.savepoint();
        let result = scope(self);
        match result {
            Ok(_) => self.txn.keep(point),
            Err(_) => self.txn.roll_back(point),
        }
        result
    }

    /// Empties `[start, end)` in the maple tree: a part of a VMA that stays, as a new
    /// version stored next (the VMA's remaining part keeps it counted meanwhile).
    pub(crate) fn clear_raw(&mut self, start: u64, end: u64) -> Result<(), VmaError> {
        self.touched.push(Range { first: start, last: end - 1 });
        self.txn.clear(start, end - 1)?;
        Ok(())
    }

    /// The areas this transaction removed and added so far, against the tree's published
    /// state: found by looking only where the transaction wrote (O(changed areas · log n)),
    /// never by comparing whole trees.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let tree = vma::VmaTree::new();
    /// let mut txn = tree.transaction();
    /// txn.insert(Arc::new(vma::Vma::new(0, 0x1000, 0, vma::VmFlags::READ))).unwrap();
    /// assert_eq!(txn.changes().added.len(), 1);
    /// assert!(txn.changes().removed.is_empty());
    /// ```
    pub fn changes(&self) -> AreaChanges {
        let published = self.tree.snapshot();
        let mut changes = AreaChanges::default();
        for window in coalesce(&self.touched) {
            let old: Vec<&Arc<Vma>> = published.range(window).map(|(_, v)| v).collect();
            let new: Vec<&Arc<Vma>> = self.txn.range(window).map(|(_, v)| v).collect();
            // Both in address order: an area is unchanged when the same version is in both.
            let (mut i, mut j) = (0, 0);
            while i < old.len() || j < new.len() {
                match (old.get(i), new.get(j)) {
                    (Some(o), Some(n)) if Arc::ptr_eq(o, n) => (i, j) = (i + 1, j + 1),
                    (Some(o), n) if n.map_or(true, |n| o.start <= n.start) => {
                        changes.removed.push(Arc::clone(o));
                        i += 1;
                    }
                    (_, n) => {
                        changes.added.extend(n.map(|n| Arc::clone(n)));
                        j += 1;
                    }
                }
            }
        }
        for list in [&mut changes.removed, &mut changes.added] {
            list.dedup_by(|a, b| Arc::ptr_eq(a, b));
        }
        changes
    }

    /// Publishes every change at once, the map count with them (it is part of the tree).
    ///
    /// ```
    /// use std::sync::Arc;
    /// let tree = vma::VmaTree::new();
    /// let mut txn = tree.transaction();
    /// txn.insert(Arc::new(vma::Vma::new(0, 0x1000, 0, vma::VmFlags::READ))).unwrap();
    /// assert_eq!(tree.map_count(), 0);
    /// txn.commit();
    /// assert_eq!(tree.map_count(), 1);
    /// ```
    pub fn commit(self) {
        self.txn.commit();
    }
}

/// The ranges, sorted, with overlapping and touching ones joined.
fn coalesce(ranges: &[Range]) -> Vec<Range> {
    let mut sorted = ranges.to_vec();
    sorted.sort_unstable_by_key(|r| r.first);
    let mut joined: Vec<Range> = Vec::with_capacity(sorted.len());
    for range in sorted {
        match joined.last_mut() {
            Some(last) if range.first <= last.last.saturating_add(1) => last.last = last.last.max(range.last),
            _ => joined.push(range),
        }
    }
    joined
}

fn check_bounds(vma: &Vma) -> Result<(), VmaError> {
    if vma.start >= vma.end || vma.start % PAGE_SIZE != 0 || vma.end % PAGE_SIZE != 0 {
        return Err(VmaError::InvalidRange);
    }
    Ok(())
}

/// A position in a VMA tree's state, stepping from VMA to VMA.
///
/// ```
/// use vma::{Vma, VmaCursor, VmaTree, VmFlags};
/// let tree = VmaTree::new();
/// for i in 0..4u64 {
///     tree.insert(Vma::new(i * 0x3000, i * 0x3000 + 0x1000, i * 3, VmFlags::READ)).unwrap();
/// }
/// let snap = tree.snapshot();
/// let mut cursor = VmaCursor::new(&snap, 0x4000);
/// assert_eq!(cursor.next_vma().unwrap().start, 0x6000);
/// assert_eq!(cursor.next_vma().unwrap().start, 0x9000);
/// assert!(cursor.next_vma().is_none());
/// assert_eq!(cursor.prev_vma().unwrap().start, 0x6000);
/// let (prev, next) = cursor.around(0x4000, 0x5000);
/// assert_eq!((prev.unwrap().start, next.unwrap().start), (0x3000, 0x6000));
/// ```
pub struct VmaCursor<'v, 't> {
    view: &'v View<'t, Arc<Vma>>,
    addr: u64,
}

impl<'v, 't> VmaCursor<'v, 't> {
    /// A cursor at `addr` (before any VMA starting at or after it).
    ///
    /// ```
    /// let tree = vma::VmaTree::new();
    /// let snap = tree.snapshot();
    /// assert!(vma::VmaCursor::new(&snap, 0).next_vma().is_none());
    /// ```
    pub fn new(view: &'v View<'t, Arc<Vma>>, addr: u64) -> Self {
        VmaCursor { view, addr }
    }

    /// The cursor's address.
    ///
    /// ```
    /// let tree = vma::VmaTree::new();
    /// let snap = tree.snapshot();
    /// assert_eq!(vma::VmaCursor::new(&snap, 0x5000).addr(), 0x5000);
    /// ```
    pub fn addr(&self) -> u64 {
        self.addr
    }

    /// Moves to `addr` and returns the VMA containing it.
    ///
    /// ```
    /// let tree = vma::VmaTree::new();
    /// tree.insert(vma::Vma::new(0x1000, 0x2000, 1, vma::VmFlags::READ)).unwrap();
    /// let snap = tree.snapshot();
    /// let mut c = vma::VmaCursor::new(&snap, 0);
    /// assert!(c.find(0x1800).is_some());
    /// assert!(c.find(0x2000).is_none());
    /// ```
    pub fn find(&mut self, addr: u64) -> Option<&'v Arc<Vma>> {
        self.addr = addr;
        self.view.get(addr)
    }

    /// The first VMA ending above `addr` (the kernel's `find_vma`), moving the cursor to it.
    ///
    /// ```
    /// let tree = vma::VmaTree::new();
    /// tree.insert(vma::Vma::new(0x1000, 0x2000, 1, vma::VmFlags::READ)).unwrap();
    /// let snap = tree.snapshot();
    /// assert_eq!(vma::VmaCursor::new(&snap, 0).find_vma(0).unwrap().start, 0x1000);
    /// ```
    pub fn find_vma(&mut self, addr: u64) -> Option<&'v Arc<Vma>> {
        let (_, vma) = self.view.find(addr, u64::MAX)?;
        self.addr = vma.start;
        Some(vma)
    }

    /// The first VMA meeting `[start, end)`, moving the cursor to it.
    ///
    /// ```
    /// let tree = vma::VmaTree::new();
    /// tree.insert(vma::Vma::new(0x3000, 0x4000, 3, vma::VmFlags::READ)).unwrap();
    /// let snap = tree.snapshot();
    /// let mut c = vma::VmaCursor::new(&snap, 0);
    /// assert!(c.first_intersecting(0, 0x3000).is_none());
    /// assert!(c.first_intersecting(0, 0x3001).is_some());
    /// ```
    pub fn first_intersecting(&mut self, start: u64, end: u64) -> Option<&'v Arc<Vma>> {
        if start >= end {
            return None;
        }
        let (_, vma) = self.view.find(start, end - 1)?;
        self.addr = vma.start;
        Some(vma)
    }

    /// The VMA after the cursor: the first one starting above the cursor's address (or,
    /// when the cursor is in a gap, the first one after it). Moves to it.
    ///
    /// ```
    /// let tree = vma::VmaTree::new();
    /// tree.insert(vma::Vma::new(0x1000, 0x2000, 1, vma::VmFlags::READ)).unwrap();
    /// let snap = tree.snapshot();
    /// let mut c = vma::VmaCursor::new(&snap, 0x1000);
    /// assert!(c.next_vma().is_none()); // the cursor is on that VMA
    /// ```
    pub fn next_vma(&mut self) -> Option<&'v Arc<Vma>> {
        let (_, vma) = self.view.next(self.addr)?;
        self.addr = vma.start;
        Some(vma)
    }

    /// The VMA before the cursor: the last one ending at or below the start of the range
    /// holding the cursor's address. Moves to it.
    ///
    /// ```
    /// let tree = vma::VmaTree::new();
    /// tree.insert(vma::Vma::new(0x1000, 0x2000, 1, vma::VmFlags::READ)).unwrap();
    /// let snap = tree.snapshot();
    /// assert_eq!(vma::VmaCursor::new(&snap, 0x5000).prev_vma().unwrap().start, 0x1000);
    /// ```
    pub fn prev_vma(&mut self) -> Option<&'v Arc<Vma>> {
        let (_, vma) = self.view.prev(self.addr)?;
        self.addr = vma.start;
        Some(vma)
    }

    /// The VMAs around the window `[start, end)`: the last one ending at or before `start`
    /// and the first one starting at or after `end` (what a new mapping of the window would
    /// merge with). Moves the cursor to `start`.
    ///
    /// ```
    /// let tree = vma::VmaTree::new();
    /// tree.insert(vma::Vma::new(0x1000, 0x2000, 1, vma::VmFlags::READ)).unwrap();
    /// let snap = tree.snapshot();
    /// let (p, n) = vma::VmaCursor::new(&snap, 0).around(0x2000, 0x3000);
    /// assert!(p.is_some() && n.is_none());
    /// ```
    pub fn around(&mut self, start: u64, end: u64) -> (Option<&'v Arc<Vma>>, Option<&'v Arc<Vma>>) {
        self.addr = start;
        let prev = match start.checked_sub(1) {
            None => None,
            Some(below) => match self.view.get(below) {
                Some(vma) => Some(vma).filter(|v| v.end <= start),
                None => self.view.prev(below).map(|(_, v)| v),
            },
        };
        let next = self.view.find(end, u64::MAX).map(|(_, v)| v).filter(|v| v.start >= end);
        (prev, next)
    }
}

/// Whether an operation's result is a success, for [`VmaTree::write`].
pub(crate) trait Succeeded {
    fn succeeded(&self) -> bool;
}

impl<T, E> Succeeded for Result<T, E> {
    fn succeeded(&self) -> bool {
        self.is_ok()
    }
}

impl<T> Succeeded for Option<T> {
    fn succeeded(&self) -> bool {
        self.is_some()
    }
}
