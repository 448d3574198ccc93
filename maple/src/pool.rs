//! Node allocation: a small stock of spare nodes, the allocation hook, and fallible
//! allocation from the system.
//!
//! A write first [`reserve`](Pool::reserve)s the most nodes it could need, so every later
//! step is infallible: an allocation failure is only ever reported before anything changed.

use core::alloc::Layout;
use core::fmt;
use core::ptr::NonNull;

use crate::node::{free_spare, Branch, Kind, Leaf, NodePtr, NodeRef};
use crate::sync::{Arc, Mutex};
use crate::Error;

/// Spare nodes kept of each kind between writes.
const SPARES_KEPT: usize = 64;

/// Decides, before each node the tree allocates from the system, whether it may go ahead.
///
/// Tests use it to make the k-th allocation of a write fail and check that the write then
/// changes nothing. Setting a hook also drops the tree's spare nodes, so that counting starts
/// from the first allocation, and while a hook is installed the tree does not reuse nodes the
/// epoch collector hands back (whose timing depends on other threads).
///
/// ```
/// use maple::{AllocHook, Error, Tree};
/// let tree = Tree::new();
/// tree.set_alloc_hook(Some(AllocHook::fail_at(0)));
/// let mut txn = tree.transaction();
/// assert_eq!(txn.store(0, 9, 'a'), Err(Error::AllocFailed));
/// ```
pub struct AllocHook(Box<dyn FnMut() -> bool + Send>);

impl AllocHook {
    /// A hook that allows an allocation when `allow` returns true.
    ///
    /// ```
    /// let hook = maple::AllocHook::new(|| true);
    /// # drop(hook);
    /// ```
    pub fn new(allow: impl FnMut() -> bool + Send + 'static) -> Self {
        AllocHook(Box::new(allow))
    }

    /// A hook that fails the `n`-th allocation from now (counting from 0) and allows all others.
    ///
    /// ```
    /// let hook = maple::AllocHook::fail_at(3);
    /// # drop(hook);
    /// ```
    pub fn fail_at(n: usize) -> Self {
        let mut count = 0;
        AllocHook::new(move || {
            count += 1;
            count != n + 1
        })
    }
}

impl fmt::Debug for AllocHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AllocHook")
    }
}

/// Spare nodes, and where new ones come from.
pub(crate) struct Pool<T> {
    spares: Spares<T>,
    hook: Option<AllocHook>,
    /// Nodes that commits retired, handed back by the epoch collector once no reader can
    /// reach them; the next reservation takes them before allocating.
    returns: Arc<Returns<T>>,
}

// SAFETY: the pool owns its spare nodes outright; they hold no values.
unsafe impl<T: Send> Send for Pool<T> {}

/// Emptied nodes on their way back from the epoch collector (any thread) to the writer.
pub(crate) struct Returns<T> {
    nodes: Mutex<Spares<T>>,
}

/// Nodes of each kind kept waiting to be reused; more are freed.
const RETURNS_KEPT: usize = 512;

/// Emptied nodes by kind.
struct Spares<T> {
    leaves: Vec<NodePtr<T>>,
    branches: Vec<NodePtr<T>>,
}

impl<T> Spares<T> {
    fn new() -> Self {
        Spares { leaves: Vec::new(), branches: Vec::new() }
    }

    fn of(&mut self, kind: Kind) -> &mut Vec<NodePtr<T>> {
        match kind {
            Kind::Leaf => &mut self.leaves,
            Kind::Branch => &mut self.branches,
        }
    }

    /// Files `node` with its `kind` unless `cap` of them are there already; gives it back if
    /// so.
    fn file(&mut self, node: NodePtr<T>, kind: Kind, cap: usize) -> Option<NodePtr<T>> {
        let list = self.of(kind);
        if list.len() < cap {
            list.push(node);
            return None;
        }
        Some(node)
    }

    /// Frees every node.
    ///
    /// # Safety
    /// The nodes belong to the list alone.
    unsafe fn free_all(&mut self) {
        for node in self.leaves.drain(..) {
            // SAFETY: as the caller promises; spares own no values.
            unsafe { free_spare(node, Kind::Leaf) };
        }
        for node in self.branches.drain(..) {
            // SAFETY: as above.
            unsafe { free_spare(node, Kind::Branch) };
        }
    }
}

// SAFETY: the nodes in the list are unreachable and hold no values; the mutex serialises access.
unsafe impl<T: Send> Send for Returns<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Returns<T> {}

impl<T> Returns<T> {
    /// Takes an unreachable node of `kind` back and keeps its memory for reuse. A leaf's
    /// values are dropped here when it `owns_values` and they need it; otherwise the node is not
    /// even read (it is long out of the cache by now), and the pool resets it when it is taken.
    /// Spare nodes own no values: they are freed without dropping any.
    ///
    /// # Safety
    /// Nobody can reach `node` any more (its children, if any, are handled separately).
    pub(crate) unsafe fn give_back(&self, node: NodePtr<T>, kind: Kind, owns_values: bool) {
        if owns_values && kind == Kind::Leaf && core::mem::needs_drop::<T>() {
            // SAFETY: the caller hands the node over.
            unsafe { node.leaf_mut() }.empty_out();
        }
        let surplus = self.nodes.lock().file(node, kind, RETURNS_KEPT);
        if let Some(node) = surplus {
            // SAFETY: as above; the node owns no values any more.
            unsafe { free_spare(node, kind) };
        }
    }
}

impl<T> Drop for Returns<T> {
    fn drop(&mut self) {
        // SAFETY: returned nodes belong to the list alone.
        unsafe { self.nodes.get_mut().free_all() };
    }
}

/// Drops a node's values (leaf) or forgets its children (branch), keeping the memory.
///
/// # Safety
/// The caller owns `node`.
unsafe fn empty_out<T>(node: NodePtr<T>) {
    // SAFETY: the caller owns the node.
    unsafe {
        match node.get() {
            NodeRef::Leaf(_) => node.leaf_mut().empty_out(),
            NodeRef::Branch(_) => node.branch_mut().empty_out(),
        }
    }
}

impl<T> Pool<T> {
    pub(crate) fn new() -> Self {
        let returns = Arc::new(Returns { nodes: Mutex::new(Spares::new()) });
        Pool { spares: Spares::new(), hook: None, returns }
    }

    pub(crate) fn set_hook(&mut self, hook: Option<AllocHook>) {
        self.release_spares();
        self.hook = hook;
    }

    /// Where a commit's batch sends its nodes once they are free.
    pub(crate) fn returns(&self) -> &Arc<Returns<T>> {
        &self.returns
    }

    /// Makes sure `leaves` leaves and `branches` branches can be taken without failing.
    pub(crate) fn reserve(&mut self, leaves: usize, branches: usize) -> Result<(), Error> {
        // With a hook installed, nodes come only from allocations the hook saw (and from this
        // writer's own recycling), so a test can count every allocation point exactly.
        if self.hook.is_none() && (self.spares.leaves.len() < leaves || self.spares.branches.len() < branches) {
            self.take_returns();
        }
        while self.spares.leaves.len() < leaves {
            let leaf = self.allocate(|| Leaf::<T>::new(false))?;
            self.spares.leaves.push(NodePtr::from_leaf(leaf));
        }
        while self.spares.branches.len() < branches {
            let branch = self.allocate(|| Branch::<T>::new(false))?;
            self.spares.branches.push(NodePtr::from_branch(branch));
        }
        Ok(())
    }

    fn allocate<N>(&mut self, init: impl FnOnce() -> N) -> Result<NonNull<N>, Error> {
        if let Some(hook) = &mut self.hook {
            if !(hook.0)() {
                return Err(Error::AllocFailed);
            }
        }
        let layout = Layout::new::<N>();
        // SAFETY: node layouts are never zero-sized.
        let raw = unsafe { std::alloc::alloc(layout) }.cast::<N>();
        let node = NonNull::new(raw).ok_or(Error::AllocFailed)?;
        // SAFETY: freshly allocated with N's layout, so writable and aligned; the result is
        // owned exactly like a `Box<N>`, which is how nodes are freed.
        unsafe { node.as_ptr().write(init()) };
        Ok(node)
    }

    /// An empty leaf from the reserve.
    pub(crate) fn take_leaf(&mut self, fresh: bool) -> NodePtr<T> {
        let node = self.spares.leaves.pop().expect("leaves were reserved before the write");
        // SAFETY: spare nodes are owned by the pool and reachable from nowhere else.
        unsafe { node.leaf_mut() }.reuse(fresh);
        node
    }

    /// An empty branch from the reserve.
    pub(crate) fn take_branch(&mut self, fresh: bool) -> NodePtr<T> {
        let node = self.spares.branches.pop().expect("branches were reserved before the write");
        // SAFETY: as in `take_leaf`.
        unsafe { node.branch_mut() }.set_fresh(fresh);
        node
    }

    /// Takes back a node nobody can reach any more, dropping the values it still holds.
    ///
    /// # Safety
    /// No reader can reach `node` and no other owner will free it.
    pub(crate) unsafe fn recycle(&mut self, node: NodePtr<T>) {
        // SAFETY: the caller hands the node over.
        unsafe {
            empty_out(node);
            self.keep(node);
        }
    }

    /// Files an emptied node among the spares, or frees it when there are enough.
    ///
    /// # Safety
    /// The pool owns `node`, which holds nothing.
    unsafe fn keep(&mut self, node: NodePtr<T>) {
        let kind = node.kind();
        if let Some(surplus) = self.spares.file(node, kind, SPARES_KEPT) {
            // SAFETY: the pool owns the node, which holds nothing.
            unsafe { free_spare(surplus, kind) };
        }
    }

    /// Tops the spares up from the nodes the epoch collector has handed back; the rest wait
    /// there for the next reservation.
    fn take_returns(&mut self) {
        let mut returned = self.returns.nodes.lock();
        for kind in [Kind::Leaf, Kind::Branch] {
            let (spares, waiting) = (self.spares.of(kind), returned.of(kind));
            let moved = waiting.len().min(SPARES_KEPT.saturating_sub(spares.len()));
            spares.extend(waiting.drain(waiting.len() - moved..));
        }
    }

    fn release_spares(&mut self) {
        // SAFETY: spare and returned nodes belong to the pool and the list alone.
        unsafe {
            self.returns.nodes.lock().free_all();
            self.spares.free_all();
        }
    }
}

impl<T> Drop for Pool<T> {
    fn drop(&mut self) {
        self.release_spares();
    }
}
