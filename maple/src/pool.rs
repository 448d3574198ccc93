//! Node allocation: a small stock of spare nodes, the allocation hook, and fallible
//! allocation from the system.
//!
//! A write first [`reserve`](Pool::reserve)s the most nodes it could need, so every later
//! step is infallible: an allocation failure is only ever reported before anything changed.

use core::alloc::Layout;
use core::fmt;
use core::ptr::NonNull;

use crate::node::{free_node, Branch, Kind, Leaf, NodePtr, NodeRef};
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
    leaves: Vec<NodePtr<T>>,
    branches: Vec<NodePtr<T>>,
    hook: Option<AllocHook>,
    /// Nodes that commits retired, handed back by the epoch collector once no reader can
    /// reach them; the next reservation takes them before allocating.
    returns: Arc<Returns<T>>,
}

// SAFETY: the pool owns its spare nodes outright; they hold no values.
unsafe impl<T: Send> Send for Pool<T> {}

/// Emptied nodes on their way back from the epoch collector (any thread) to the writer.
pub(crate) struct Returns<T> {
    nodes: Mutex<Vec<NodePtr<T>>>,
}

/// Nodes kept waiting to be reused; more are freed.
const RETURNS_KEPT: usize = 1024;

// SAFETY: the nodes in the list are unreachable and hold no values; the mutex serialises access.
unsafe impl<T: Send> Send for Returns<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Returns<T> {}

impl<T> Returns<T> {
    /// Takes an unreachable node back: drops what it holds and keeps its memory for reuse.
    ///
    /// # Safety
    /// Nobody can reach `node` any more (its children, if any, are handled separately).
    pub(crate) unsafe fn give_back(&self, node: NodePtr<T>) {
        // SAFETY: the caller hands the node over.
        unsafe { empty_out(node) };
        let mut nodes = self.nodes.lock();
        if nodes.len() < RETURNS_KEPT {
            nodes.push(node);
        } else {
            drop(nodes);
            // SAFETY: as above.
            unsafe { free_node(node) };
        }
    }
}

impl<T> Drop for Returns<T> {
    fn drop(&mut self) {
        for node in self.nodes.get_mut().drain(..) {
            // SAFETY: returned nodes belong to the list alone.
            unsafe { free_node(node) };
        }
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
        let returns = Arc::new(Returns { nodes: Mutex::new(Vec::new()) });
        Pool { leaves: Vec::new(), branches: Vec::new(), hook: None, returns }
    }

    pub(crate) fn set_hook(&mut self, hook: Option<AllocHook>) {
        self.release_spares();
        self.hook = hook;
    }

    /// Where a commit's batch sends its nodes once they are free.
    pub(crate) fn returns(&self) -> Arc<Returns<T>> {
        Arc::clone(&self.returns)
    }

    /// Makes sure `leaves` leaves and `branches` branches can be taken without failing.
    pub(crate) fn reserve(&mut self, leaves: usize, branches: usize) -> Result<(), Error> {
        // With a hook installed, nodes come only from allocations the hook saw (and from this
        // writer's own recycling), so a test can count every allocation point exactly.
        if self.hook.is_none() && (self.leaves.len() < leaves || self.branches.len() < branches) {
            self.take_returns();
        }
        while self.leaves.len() < leaves {
            let leaf = self.allocate(|| Leaf::<T>::new(false))?;
            self.leaves.push(NodePtr::from_leaf(leaf));
        }
        while self.branches.len() < branches {
            let branch = self.allocate(|| Branch::<T>::new(false))?;
            self.branches.push(NodePtr::from_branch(branch));
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
        let node = self.leaves.pop().expect("leaves were reserved before the write");
        // SAFETY: spare nodes are owned by the pool and reachable from nowhere else.
        unsafe { node.leaf_mut() }.set_fresh(fresh);
        node
    }

    /// An empty branch from the reserve.
    pub(crate) fn take_branch(&mut self, fresh: bool) -> NodePtr<T> {
        let node = self.branches.pop().expect("branches were reserved before the write");
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
        let spares = match node.kind() {
            Kind::Leaf => &mut self.leaves,
            Kind::Branch => &mut self.branches,
        };
        if spares.len() < SPARES_KEPT {
            spares.push(node);
        } else {
            // SAFETY: the pool owns the node.
            unsafe { free_node(node) };
        }
    }

    /// Moves the nodes the epoch collector has handed back into the spares.
    fn take_returns(&mut self) {
        let returned = core::mem::take(&mut *self.returns.nodes.lock());
        for node in returned {
            // SAFETY: returned nodes are emptied and now belong to the pool.
            unsafe { self.keep(node) };
        }
    }

    fn release_spares(&mut self) {
        self.take_returns();
        for node in self.leaves.drain(..).chain(self.branches.drain(..)) {
            // SAFETY: spare nodes belong to the pool alone.
            unsafe { free_node(node) };
        }
    }
}

impl<T> Drop for Pool<T> {
    fn drop(&mut self) {
        self.release_spares();
    }
}
