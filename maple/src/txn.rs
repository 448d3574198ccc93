//! Write transactions: private changes, published together by one atomic store.

use core::ops::Deref;

use crate::node::{Kind, NodePtr, NodeRef};
use crate::pool::Pool;
use crate::sync::{MutexGuard, PUBLISH};
use crate::tree::Writer;
use crate::write::Editor;
use crate::{Error, Range, Tree, View};

/// A write transaction on a [`Tree`], holding the writer lock.
///
/// Each change copies the nodes it touches (the first time; later changes to the same nodes
/// work in place) and is visible through the transaction, which dereferences to [`View`].
/// Readers see none of it until [`commit`](Transaction::commit), and then all of it at once.
/// A change that fails (bad range, occupied, allocation failure) leaves the transaction as it
/// was before that change, and [`atomic`](Transaction::atomic) makes a group of changes fail
/// or succeed together; dropping the transaction without committing discards everything.
///
/// ```
/// let tree = maple::Tree::new();
/// let mut txn = tree.transaction();
/// txn.store(0, 9, 'a').unwrap();
/// txn.store(10, 19, 'b').unwrap();
/// txn.erase(5).unwrap();
/// txn.commit();
/// let snap = tree.snapshot();
/// assert_eq!((snap.get(5), snap.get(15)), (None, Some(&'b')));
/// ```
pub struct Transaction<'t, T: Clone + Send + Sync + 'static> {
    tree: &'t Tree<T>,
    writer: MutexGuard<'t, Writer<T>>,
    view: View<'t, T>,
    /// Nodes sealed when a savepoint was made: never published, no
    /// longer changed in place (a change copies them, as it copies published nodes), so that
    /// the state at the scope's start stays whole for a rollback.
    sealed: Vec<NodePtr<T>>,
    /// The savepoints that have not ended, oldest first.
    marks: Vec<Mark<T>>,
}

/// A point in a [`Transaction`] to return to; see [`Transaction::savepoint`].
#[must_use = "a savepoint is ended by roll_back or keep"]
#[derive(Debug)]
pub struct Savepoint {
    id: u64,
}

/// Where a transaction stood at a savepoint.
struct Mark<T> {
    /// The savepoint's number, unique among the tree's savepoints.
    id: u64,
    root: Option<NodePtr<T>>,
    garbage: usize,
    removed: usize,
    sealed: usize,
}

impl<'t, T: Clone + Send + Sync + 'static> Transaction<'t, T> {
    pub(crate) fn new(tree: &'t Tree<T>, writer: MutexGuard<'t, Writer<T>>) -> Self {
        // The writer lock is held: no commit can change the root under us.
        let root = tree.root.load(crate::sync::Ordering::Relaxed);
        // SAFETY: published nodes are only retired by a commit, which needs the lock we hold.
        let view = unsafe { View::new(NodePtr::from_raw(root)) };
        debug_assert!(writer.garbage.is_empty(), "the last transaction left no garbage behind");
        debug_assert!(writer.removed.is_empty(), "the last transaction left no values behind");
        Transaction { tree, writer, view, sealed: Vec::new(), marks: Vec::new() }
    }

    fn edit<R>(&mut self, edit: impl FnOnce(&mut Editor<'_, T>) -> R) -> R {
        let mut root = self.view.root();
        let writer = &mut *self.writer;
        let result = edit(&mut Editor {
            root: &mut root,
            pool: &mut writer.pool,
            garbage: &mut writer.garbage,
            removed: &mut writer.removed,
            exclusive: false,
        });
        // SAFETY: the editor leaves a root whose nodes are fresh (ours) or published (kept
        // alive by the lock).
        unsafe { self.view.set_root(root) };
        result
    }

    /// Stores `value` over `[first, last]`, overwriting and trimming whatever was there.
    ///
    /// ```
    /// let tree = maple::Tree::new();
    /// let mut txn = tree.transaction();
    /// txn.store(0, 9, 1).unwrap();
    /// assert_eq!(txn.store(9, 0, 2), Err(maple::Error::InvalidRange { first: 9, last: 0 }));
    /// ```
    pub fn store(&mut self, first: u64, last: u64, value: T) -> Result<(), Error> {
        self.edit(|editor| editor.store(first, last, Some(value)))
    }

    /// Stores `value` over `[first, last]` if no part of it holds a value.
    ///
    /// ```
    /// let tree = maple::Tree::new();
    /// let mut txn = tree.transaction();
    /// txn.insert(0, 9, 1).unwrap();
    /// assert!(txn.insert(9, 12, 2).is_err());
    /// ```
    pub fn insert(&mut self, first: u64, last: u64, value: T) -> Result<(), Error> {
        self.edit(|editor| editor.insert(first, last, value))
    }

    /// Empties the whole range holding `index`; returns that range, or `None` if it was empty.
    ///
    /// ```
    /// let tree = maple::Tree::new();
    /// let mut txn = tree.transaction();
    /// txn.store(4, 8, ()).unwrap();
    /// assert_eq!(txn.erase(5).unwrap(), maple::Range::new(4, 8));
    /// assert_eq!(txn.erase(5).unwrap(), None);
    /// ```
    pub fn erase(&mut self, index: u64) -> Result<Option<Range>, Error> {
        self.edit(|editor| editor.erase(index))
    }

    /// Empties `[first, last]`, trimming values that reach into it.
    ///
    /// ```
    /// let tree = maple::Tree::new();
    /// let mut txn = tree.transaction();
    /// txn.store(0, 99, 'a').unwrap();
    /// txn.clear(10, 89).unwrap();
    /// assert_eq!(txn.iter().count(), 2);
    /// ```
    pub fn clear(&mut self, first: u64, last: u64) -> Result<(), Error> {
        self.edit(|editor| editor.store(first, last, None))
    }

    /// Runs `scope` on the transaction as one change: when it returns `Err`, the transaction
    /// is back where it was before the scope, as if none of the scope's changes had been
    /// made; when it returns `Ok`, they stay. Scopes nest. (A scope is a [`savepoint`]
    /// rolled back on `Err` and kept on `Ok`.)
    ///
    /// [`savepoint`]: Transaction::savepoint
    ///
    /// ```
    /// let tree = maple::Tree::new();
    /// let mut txn = tree.transaction();
    /// txn.store(0, 9, 'a').unwrap();
    /// let failed: Result<(), maple::Error> = txn.atomic(|txn| {
    ///     txn.store(20, 29, 'b')?;
    ///     txn.insert(5, 25, 'c') // occupied: the whole scope fails
    /// });
    /// assert!(failed.is_err());
    /// assert_eq!((txn.get(5), txn.get(25)), (Some(&'a'), None));
    /// txn.atomic(|txn| txn.store(20, 29, 'b')).unwrap();
    /// txn.commit();
    /// assert_eq!(tree.snapshot().get(25), Some(&'b'));
    /// ```
    pub fn atomic<R, E>(&mut self, scope: impl FnOnce(&mut Self) -> Result<R, E>) -> Result<R, E> {
        let point = self.savepoint();
        let result = scope(self);
        match result {
            Ok(_) => self.keep(point),
            Err(_) => self.roll_back(point),
        }
        result
    }

    /// Marks the transaction's current state, to [`roll_back`](Transaction::roll_back) to
    /// later or [`keep`](Transaction::keep). Savepoints nest: rolling back to one, or keeping
    /// it, also ends every savepoint made after it.
    ///
    /// The working tree's fresh nodes are sealed: later changes copy them (as they copy
    /// published nodes) instead of changing them in place, so the marked state stays whole.
    ///
    /// ```
    /// let tree = maple::Tree::new();
    /// let mut txn = tree.transaction();
    /// txn.store(0, 9, 1).unwrap();
    /// let point = txn.savepoint();
    /// txn.clear(0, 99).unwrap();
    /// txn.roll_back(point);
    /// assert_eq!(txn.get(3), Some(&1));
    /// ```
    pub fn savepoint(&mut self) -> Savepoint {
        let root = self.view.root();
        if let Some(root) = root {
            let sealed = &mut self.sealed;
            // SAFETY: the fresh nodes are this transaction's own.
            unsafe { root.seal_with(&mut |node| sealed.push(node)) };
        }
        let id = self.writer.next_savepoint;
        self.writer.next_savepoint += 1;
        let (garbage, removed) = (self.writer.garbage.len(), self.writer.removed.len());
        self.marks.push(Mark { id, root, garbage, removed, sealed: self.sealed.len() });
        Savepoint { id }
    }

    /// Returns to the state at `point`: frees what was made after it and keeps what it
    /// reaches. Savepoints made after `point` end with it.
    ///
    /// # Panics
    /// If `point` has ended (a rollback or keep of it or of an earlier savepoint) or was made
    /// by another transaction on this tree. (Savepoints are numbered per tree: one made on
    /// another tree is a caller's bug this may not catch, though never memory-unsafe: only
    /// this transaction's own marks are ever used.)
    pub fn roll_back(&mut self, point: Savepoint) {
        let at = self.mark_of(&point);
        let mark = self.marks.swap_remove(at);
        self.marks.truncate(at);
        let writer = &mut *self.writer;
        let pool = &mut writer.pool;
        if let Some(root) = self.view.root() {
            discard_fresh(pool, root);
        }
        // Replaced after the mark, but reachable from the mark's root again (or sealed after
        // the mark, and freed just below).
        writer.garbage.truncate(mark.garbage);
        // Taken out after the mark: back in the mark's tree, whose nodes still own them.
        writer.removed.truncate(mark.removed);
        for node in self.sealed.drain(mark.sealed..) {
            // SAFETY: sealed after the mark, so made after it: the mark's root does not reach
            // it, no reader ever could, and it is freed only here.
            unsafe { pool.recycle(node) };
        }
        // SAFETY: the mark's root and every node below it are alive: published nodes under
        // the writer lock, sealed ones until a rollback past them or the drop.
        unsafe { self.view.set_root(mark.root) };
    }

    /// Ends `point` keeping every change made since (and ends the savepoints made after it).
    ///
    /// # Panics
    /// As [`roll_back`](Transaction::roll_back).
    ///
    /// ```
    /// let tree = maple::Tree::new();
    /// let mut txn = tree.transaction();
    /// let point = txn.savepoint();
    /// txn.store(0, 9, 1).unwrap();
    /// txn.keep(point);
    /// txn.commit();
    /// assert_eq!(tree.snapshot().get(3), Some(&1));
    /// ```
    pub fn keep(&mut self, point: Savepoint) {
        let at = self.mark_of(&point);
        self.marks.truncate(at);
    }

    fn mark_of(&self, point: &Savepoint) -> usize {
        let found = self.marks.iter().rposition(|mark| mark.id == point.id);
        found.expect("a savepoint of this transaction that has not ended")
    }

    /// Publishes every change at once, with one `Release` store of the new root, and hands
    /// the nodes it replaced to the epoch collector in one batch.
    ///
    /// ```
    /// let tree = maple::Tree::new();
    /// let mut txn = tree.transaction();
    /// txn.store(0, 0, 'z').unwrap();
    /// txn.commit();
    /// assert_eq!(tree.snapshot().get(0), Some(&'z'));
    /// ```
    pub fn commit(mut self) {
        let root = self.view.root();
        if let Some(root) = root {
            // SAFETY: the fresh nodes are ours until the store below publishes them; their
            // borrowed values become theirs (the leaves they came from are retired as shells).
            unsafe { root.seal_with(&mut |node| own_borrowed(node)) };
        }
        // Sealed nodes are about to be published, or are replaced and in the garbage retired
        // below; either way they own what they hold. (Before the store: once published, a
        // node is never written again.)
        for node in self.sealed.drain(..) {
            own_borrowed(node);
        }
        self.tree.root.store(root.map_or(core::ptr::null_mut(), NodePtr::as_raw), PUBLISH);
        let writer = &mut *self.writer;
        let reclaimer = self.tree.reclaimer();
        reclaimer.retire(&mut writer.garbage, &mut writer.removed, writer.pool.returns(), &mut writer.graveyard);
    }
}

impl<T: Clone + Send + Sync + 'static + core::fmt::Debug> core::fmt::Debug for Transaction<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(&self.view, f)
    }
}

impl<'t, T: Clone + Send + Sync + 'static> Deref for Transaction<'t, T> {
    type Target = View<'t, T>;

    fn deref(&self) -> &View<'t, T> {
        &self.view
    }
}

impl<T: Clone + Send + Sync + 'static> Drop for Transaction<'_, T> {
    /// Discards uncommitted changes: frees the nodes only this transaction could see. After
    /// a commit no node is fresh or sealed any more, and this does nothing.
    fn drop(&mut self) {
        let writer = &mut *self.writer;
        if let Some(root) = self.view.root() {
            discard_fresh(&mut writer.pool, root);
        }
        for node in self.sealed.drain(..) {
            // SAFETY: never published; reachable only from this transaction's working tree or
            // its garbage list, which is cleared below without freeing anything.
            unsafe { writer.pool.recycle(node) };
        }
        // What the transaction replaced is still published (or was just recycled as sealed),
        // and so are the values it took out (forgotten, not dropped).
        writer.garbage.clear();
        writer.removed.clear();
    }
}

/// Makes a leaf the owner of the values it borrowed: at a commit, when the leaves it
/// borrowed from are retired as shells.
fn own_borrowed<T>(node: NodePtr<T>) {
    if node.kind() == Kind::Leaf {
        // SAFETY: called at commit, before the root store, on the transaction's fresh or sealed
        // nodes, which no reader can reach yet.
        unsafe { node.leaf_mut() }.own_borrowed();
    }
}

/// Recycles `node` and every node below it that is still private to the transaction.
fn discard_fresh<T>(pool: &mut Pool<T>, node: NodePtr<T>) {
    if !node.is_fresh() {
        return;
    }
    // SAFETY: fresh nodes are reachable only from the transaction; children go first.
    unsafe {
        if let NodeRef::Branch(branch) = node.get() {
            for child in branch.fresh_children() {
                discard_fresh(pool, child);
            }
        }
        pool.recycle(node);
    }
}
