//! Node allocation: a small stock of spare nodes, the allocation hook, and fallible
//! allocation from the system.
//!
//! A write first [`reserve`](Pool::reserve)s the most nodes it could need, so every later
//! step is infallible: an allocation failure is only ever reported before anything changed.

use core::alloc::Layout;
use core::fmt;
use core::ptr::NonNull;

use crate::node::{free_node, Branch, Kind, Leaf, NodePtr, NodeRef};
use crate::Error;

/// Spare nodes kept of each kind between writes.
const SPARES_KEPT: usize = 64;

/// Decides, before each node the tree allocates from the system, whether it may go ahead.
///
/// Tests use it to make the k-th allocation of a write fail and check that the write then
/// changes nothing. Setting a hook also drops the tree's spare nodes, so that counting starts
/// from the first allocation.
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
}

// SAFETY: the pool owns its spare nodes outright; they hold no values.
unsafe impl<T: Send> Send for Pool<T> {}

impl<T> Pool<T> {
    pub(crate) fn new() -> Self {
        Pool { leaves: Vec::new(), branches: Vec::new(), hook: None }
    }

    pub(crate) fn set_hook(&mut self, hook: Option<AllocHook>) {
        self.release_spares();
        self.hook = hook;
    }

    /// Makes sure `leaves` leaves and `branches` branches can be taken without failing.
    pub(crate) fn reserve(&mut self, leaves: usize, branches: usize) -> Result<(), Error> {
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
            let spares = match node.get() {
                NodeRef::Leaf(_) => {
                    node.leaf_mut().empty_out();
                    &mut self.leaves
                }
                NodeRef::Branch(_) => {
                    node.branch_mut().empty_out();
                    &mut self.branches
                }
            };
            if spares.len() < SPARES_KEPT {
                spares.push(node);
            } else {
                free_node(node);
            }
        }
    }

    fn release_spares(&mut self) {
        for node in self.leaves.drain(..).chain(self.branches.drain(..)) {
            debug_assert!(matches!(node.kind(), Kind::Leaf | Kind::Branch));
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
