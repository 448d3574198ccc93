//! The tree: a published root that readers load lock-free, and one writer at a time.

use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ops::Deref;

use crate::node::{free_subtree, Header, NodePtr};
use crate::pool::Pool;
use crate::reclaim::{Graveyard, Guard, Reclaimer, Retired};
use crate::sync::{load_exclusive, store_exclusive, AtomicPtr, Mutex, OBSERVE};
use crate::write::Editor;
use crate::{AllocHook, Error, Range, Transaction, View};

/// A range map over `u64` indexes in the style of the Linux maple tree.
///
/// Every index in `0..=u64::MAX` maps to one value or to nothing; values are stored over
/// inclusive ranges that never overlap, and adjacent empty ranges are always one range.
///
/// Readers take a [`Snapshot`] and never lock or wait: every lookup through it sees one
/// committed state. Writers are serialised: a [`Transaction`] collects any number of changes
/// and [`commit`](Transaction::commit) publishes them all at one instant. Methods on
/// `&mut Tree` skip the copy-on-write machinery, since no reader can exist: a change inside
/// one leaf rewrites that leaf in place, and nodes a restructuring replaces are reused at once.
///
/// ```
/// use maple::{Range, Tree};
///
/// let tree = Tree::new();
/// let mut txn = tree.transaction();
/// txn.store(0x1000, 0x1fff, "text").unwrap();
/// txn.store(0x2000, 0x2fff, "data").unwrap();
/// txn.commit();
///
/// let snap = tree.snapshot();
/// assert_eq!(snap.get(0x2345), Some(&"data"));
/// let within = Range::new(0, 0xffff).unwrap();
/// assert_eq!(snap.lowest_gap(within, 0x1000).unwrap().first, 0);
/// assert_eq!(snap.highest_gap(within, 0x1000).unwrap().first, 0xf000);
/// ```
pub struct Tree<T> {
    /// The published root: null for a tree that is one empty range.
    pub(crate) root: AtomicPtr<Header>,
    pub(crate) writer: Mutex<Writer<T>>,
    reclaimer: Reclaimer,
    _values: PhantomData<T>,
}

/// What the writer lock protects besides the root.
pub(crate) struct Writer<T> {
    pub(crate) pool: Pool<T>,
    pub(crate) graveyard: Graveyard<T>,
    /// Published nodes the open transaction has replaced, to retire when it commits (kept
    /// here, empty between transactions, so that a transaction allocates no list of its own).
    pub(crate) garbage: Vec<Retired<T>>,
    /// Published values the open transaction took out (see `Editor::removed`), empty
    /// between transactions.
    pub(crate) removed: Vec<ManuallyDrop<T>>,
    /// The number of the next savepoint of a transaction on this tree.
    pub(crate) next_savepoint: u64,
}

/// A state of the tree, pinned for as long as it is held.
///
/// Dereferences to [`View`] for every query. Holding one snapshot across many lookups is
/// the fast way to read: the epoch is pinned once, and every answer comes from the same
/// committed state. Nodes a later commit replaces stay alive until the snapshot drops.
///
/// ```
/// let tree = maple::Tree::new();
/// let snap = tree.snapshot();
/// let mut txn = tree.transaction();
/// txn.store(1, 2, 'x').unwrap();
/// txn.commit();
/// assert_eq!(snap.get(1), None); // taken before the commit
/// assert_eq!(tree.snapshot().get(1), Some(&'x'));
/// ```
pub struct Snapshot<'t, T> {
    view: View<'t, T>,
    _guard: Guard,
}

impl<'t, T> Deref for Snapshot<'t, T> {
    type Target = View<'t, T>;

    /// Every answer a view gives borrows the view, so nothing read through a snapshot can
    /// outlive it (and its pinned epoch).
    fn deref(&self) -> &View<'t, T> {
        &self.view
    }
}

impl<T> Default for Tree<T> {
    fn default() -> Self {
        Tree::new()
    }
}

impl<T> Tree<T> {
    /// An empty tree (one empty range over the whole index space), using crossbeam's global
    /// epoch collector.
    ///
    /// ```
    /// let tree = maple::Tree::<u32>::new();
    /// assert!(tree.snapshot().is_empty());
    /// ```
    pub fn new() -> Self {
        Tree::with_reclaimer(Reclaimer::default())
    }

    /// An empty tree whose replaced nodes go to `collector` instead of the global one.
    ///
    /// Snapshots of such a tree register with the collector on every call; readers that take
    /// many snapshots should keep the global collector.
    ///
    /// ```
    /// let tree = maple::Tree::<u32>::with_collector(crossbeam_epoch::Collector::new());
    /// assert!(tree.snapshot().is_empty());
    /// ```
    #[cfg(not(loom))]
    pub fn with_collector(collector: crossbeam_epoch::Collector) -> Self {
        Tree::with_reclaimer(Reclaimer::with_collector(collector))
    }

    fn with_reclaimer(reclaimer: Reclaimer) -> Self {
        Tree {
            root: AtomicPtr::new(core::ptr::null_mut()),
            writer: Mutex::new(Writer {
                pool: Pool::new(),
                graveyard: Graveyard::new(),
                garbage: Vec::new(),
                removed: Vec::new(),
                next_savepoint: 0,
            }),
            reclaimer,
            _values: PhantomData,
        }
    }

    /// Pins the current committed state for reading.
    ///
    /// ```
    /// let mut tree = maple::Tree::new();
    /// tree.store(5, 9, 1u8).unwrap();
    /// assert_eq!(tree.snapshot().get(6), Some(&1));
    /// ```
    pub fn snapshot(&self) -> Snapshot<'_, T> {
        let guard = self.reclaimer.pin();
        // SAFETY: a published root (OBSERVE pairs with the commit's PUBLISH, so its nodes are
        // fully written) stays alive while `guard` is pinned.
        let view = unsafe { View::new(NodePtr::from_raw(self.root.load(OBSERVE))) };
        Snapshot { view, _guard: guard }
    }

    /// Installs (or removes) the hook consulted before each node allocation, and drops the
    /// spare nodes so the hook sees every allocation from now on. Waits for the writer lock.
    ///
    /// ```
    /// use maple::{AllocHook, Error, Tree};
    /// let mut tree = Tree::new();
    /// tree.set_alloc_hook(Some(AllocHook::fail_at(0)));
    /// assert_eq!(tree.store(0, 1, ()), Err(Error::AllocFailed));
    /// tree.set_alloc_hook(None);
    /// assert_eq!(tree.store(0, 1, ()), Ok(()));
    /// ```
    pub fn set_alloc_hook(&self, hook: Option<AllocHook>) {
        self.writer.lock().pool.set_hook(hook);
    }

    pub(crate) fn reclaimer(&self) -> &Reclaimer {
        &self.reclaimer
    }

    /// Runs `edit` on the tree in place: exclusive access means no reader can exist.
    fn edit<R>(&mut self, edit: impl FnOnce(&mut Editor<'_, T>) -> R) -> R {
        // SAFETY: the root pointer is null or a live node of this tree.
        let mut root = unsafe { NodePtr::from_raw(load_exclusive(&mut self.root)) };
        let writer = self.writer.get_mut();
        let result = edit(&mut Editor {
            root: &mut root,
            pool: &mut writer.pool,
            garbage: &mut writer.garbage,
            removed: &mut writer.removed,
            exclusive: true,
        });
        debug_assert!(writer.garbage.is_empty(), "exclusive edits recycle in place");
        debug_assert!(writer.removed.is_empty(), "exclusive edits own every value");
        store_exclusive(&mut self.root, root.map_or(core::ptr::null_mut(), NodePtr::as_raw));
        result
    }
}

impl<T: Clone + Send + Sync + 'static> Tree<T> {
    /// Opens a write transaction, waiting for the writer lock.
    ///
    /// Changes made through the transaction are private to it (and visible through it)
    /// until [`commit`](Transaction::commit); dropping it uncommitted changes nothing.
    ///
    /// ```
    /// let tree = maple::Tree::new();
    /// let mut txn = tree.transaction();
    /// txn.store(0, 9, 'a').unwrap();
    /// assert_eq!(txn.get(3), Some(&'a'));
    /// drop(txn);
    /// assert_eq!(tree.snapshot().get(3), None);
    /// ```
    pub fn transaction(&self) -> Transaction<'_, T> {
        Transaction::new(self, self.writer.lock())
    }

    /// Stores `value` over `[first, last]`, overwriting and trimming whatever was there.
    ///
    /// ```
    /// let mut tree = maple::Tree::new();
    /// tree.store(0, 99, 'a').unwrap();
    /// tree.store(40, 59, 'b').unwrap();
    /// let ranges: Vec<_> = tree.snapshot().iter().map(|(r, v)| (r.first, r.last, *v)).collect();
    /// assert_eq!(ranges, [(0, 39, 'a'), (40, 59, 'b'), (60, 99, 'a')]);
    /// ```
    pub fn store(&mut self, first: u64, last: u64, value: T) -> Result<(), Error> {
        self.edit(|editor| editor.store(first, last, Some(value)))
    }

    /// Stores `value` over `[first, last]` if no part of it holds a value.
    ///
    /// ```
    /// let mut tree = maple::Tree::new();
    /// tree.insert(10, 19, 'a').unwrap();
    /// assert!(matches!(tree.insert(15, 30, 'b'), Err(maple::Error::Occupied(_))));
    /// ```
    pub fn insert(&mut self, first: u64, last: u64, value: T) -> Result<(), Error> {
        self.edit(|editor| editor.insert(first, last, value))
    }

    /// Empties the whole range holding `index`; returns that range, or `None` if it was empty.
    ///
    /// ```
    /// let mut tree = maple::Tree::new();
    /// tree.store(10, 19, 'a').unwrap();
    /// assert_eq!(tree.erase(12).unwrap(), maple::Range::new(10, 19));
    /// assert!(tree.snapshot().is_empty());
    /// ```
    pub fn erase(&mut self, index: u64) -> Result<Option<Range>, Error> {
        self.edit(|editor| editor.erase(index))
    }

    /// Empties `[first, last]`, trimming values that reach into it.
    ///
    /// ```
    /// let mut tree = maple::Tree::new();
    /// tree.store(0, 99, 'a').unwrap();
    /// tree.clear(0, 49).unwrap();
    /// assert_eq!(tree.snapshot().find(0, 99).map(|(r, _)| r.first), Some(50));
    /// ```
    pub fn clear(&mut self, first: u64, last: u64) -> Result<(), Error> {
        self.edit(|editor| editor.store(first, last, None))
    }
}

impl<T> Drop for Tree<T> {
    fn drop(&mut self) {
        // SAFETY: `&mut self`: no snapshot or transaction exists; the root is ours to free.
        if let Some(root) = unsafe { NodePtr::<T>::from_raw(load_exclusive(&mut self.root)) } {
            // SAFETY: as above; every node of the published tree is freed exactly once.
            unsafe { free_subtree(root) };
        }
    }
}

impl<T: core::fmt::Debug> core::fmt::Debug for Snapshot<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(&self.view, f)
    }
}

impl<T: core::fmt::Debug> core::fmt::Debug for Tree<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(&*self.snapshot(), f)
    }
}
