//! Building whole trees: bulk build from sorted ranges, and the O(n) clone fork uses.

use arrayvec::ArrayVec;

use crate::node::{free_subtree, Child, Item, NodePtr, NodeRef, BRANCH_MIN, BRANCH_SLOTS, LEAF_MIN, LEAF_SLOTS};
use crate::pool::Pool;
use crate::sync::store_exclusive;
use crate::write::chunk_end;
use crate::{Error, Range, Tree};

impl<T: Clone + Send + Sync + 'static> Tree<T> {
    /// Builds a tree from ranges in increasing, non-overlapping order, packing the nodes full.
    ///
    /// ```
    /// use maple::{Range, Tree};
    /// let ranges = (0..100u64).map(|i| (Range::new(i * 10, i * 10 + 4).unwrap(), i));
    /// let tree = Tree::from_sorted(ranges).unwrap();
    /// assert_eq!(tree.snapshot().get(993), Some(&99));
    /// let bad = [(Range::new(5, 9).unwrap(), 0), (Range::new(0, 1).unwrap(), 1)];
    /// assert!(Tree::from_sorted(bad).is_err());
    /// ```
    pub fn from_sorted(ranges: impl IntoIterator<Item = (Range, T)>) -> Result<Tree<T>, Error> {
        let mut tree = Tree::new();
        let mut leaves = Leaves::new(&mut tree.writer.get_mut().pool);
        // The first index not yet covered; `None` once u64::MAX is.
        let mut next = Some(0);
        for (range, value) in ranges {
            let start = next.filter(|&start| range.first >= start).ok_or(Error::Unsorted(range))?;
            if range.first > start {
                leaves.push(Item { last: range.first - 1, value: None })?;
            }
            leaves.push(Item { last: range.last, value: Some(value) })?;
            next = range.last.checked_add(1);
        }
        if leaves.started() && next.is_some() {
            leaves.push(Item { last: u64::MAX, value: None })?;
        }
        let mut level = leaves.finish()?;
        let pool = &mut tree.writer.get_mut().pool;
        while level.len() > 1 {
            level = build_branches(pool, level)?;
        }
        let root = level.first().map_or(core::ptr::null_mut(), |child| child.node.as_raw());
        store_exclusive(&mut tree.root, root);
        Ok(tree)
    }

    /// Copies the current committed state into a new tree in O(n): node by node, values
    /// cloned, no re-insertion. This is what `fork` uses. The copy uses the global epoch
    /// collector and no allocation hook, whatever the source was given.
    ///
    /// ```
    /// let mut tree = maple::Tree::new();
    /// tree.store(0, 9, 'a').unwrap();
    /// let mut copy = tree.try_clone().unwrap();
    /// copy.store(0, 9, 'b').unwrap();
    /// assert_eq!(tree.snapshot().get(0), Some(&'a'));
    /// assert_eq!(copy.snapshot().get(0), Some(&'b'));
    /// ```
    pub fn try_clone(&self) -> Result<Tree<T>, Error> {
        let snapshot = self.snapshot();
        let mut copy = Tree::new();
        let pool = &mut copy.writer.get_mut().pool;
        let root = match snapshot.root() {
            None => None,
            Some(root) => Some(copy_subtree(pool, root)?),
        };
        store_exclusive(&mut copy.root, root.map_or(core::ptr::null_mut(), NodePtr::as_raw));
        Ok(copy)
    }
}

impl<T: Clone + Send + Sync + 'static> Clone for Tree<T> {
    /// As [`Tree::try_clone`]; aborts through `handle_alloc_error` if memory runs out.
    fn clone(&self) -> Self {
        self.try_clone()
            .unwrap_or_else(|_| std::alloc::handle_alloc_error(core::alloc::Layout::new::<crate::node::Leaf<T>>()))
    }
}

/// Packs leaf slots, given in order, into full leaves as they come. A window of a leaf and a
/// minimum's worth of slots is kept: a full leaf goes out only when enough follows it for
/// another leaf, so that the last two leaves share what is left evenly, and no leaf but the
/// last ends in an empty range. Dropped before `finish`, it frees what it built.
struct Leaves<'p, T> {
    pool: &'p mut Pool<T>,
    built: Vec<Child<T>>,
    pending: ArrayVec<Item<T>, { LEAF_SLOTS + LEAF_MIN }>,
    /// The first index of the next leaf.
    first: u64,
}

impl<'p, T> Leaves<'p, T> {
    fn new(pool: &'p mut Pool<T>) -> Self {
        Leaves { pool, built: Vec::new(), pending: ArrayVec::new(), first: 0 }
    }

    /// Whether any slot was pushed.
    fn started(&self) -> bool {
        !self.pending.is_empty() || !self.built.is_empty()
    }

    fn push(&mut self, item: Item<T>) -> Result<(), Error> {
        if self.pending.is_full() {
            self.emit()?;
        }
        self.pending.push(item);
        Ok(())
    }

    /// Builds the leaves left: the children of the level above.
    fn finish(mut self) -> Result<Vec<Child<T>>, Error> {
        while !self.pending.is_empty() {
            self.emit()?;
        }
        Ok(core::mem::take(&mut self.built))
    }

    /// Builds one leaf from the front of the window.
    fn emit(&mut self) -> Result<(), Error> {
        let n = self.pending.len();
        let pending = &self.pending;
        let end = chunk_end(n, LEAF_SLOTS, LEAF_MIN, |i| i + 1 == n || pending[i].value.is_some());
        let last = pending[end - 1].last;
        self.pool.reserve(1, 0)?;
        let node = self.pool.take_leaf(false);
        // SAFETY: just taken from the pool, reachable from nowhere else.
        let leaf = unsafe { node.leaf_mut() };
        leaf.fill(self.pending.drain(..end));
        self.built.push(Child { last, gap: leaf.largest_gap(self.first, last), count: leaf.count(), node });
        self.first = last.wrapping_add(1);
        Ok(())
    }
}

impl<T> Drop for Leaves<'_, T> {
    fn drop(&mut self) {
        free_built(core::mem::take(&mut self.built));
    }
}

fn build_branches<T>(pool: &mut Pool<T>, kids: Vec<Child<T>>) -> Result<Vec<Child<T>>, Error> {
    let mut built = Vec::new();
    let mut start = 0;
    while start < kids.len() {
        let end = start + chunk_end(kids.len() - start, BRANCH_SLOTS, BRANCH_MIN, |_| true);
        if let Err(error) = pool.reserve(0, 1) {
            free_built(built);
            free_built(kids[start..].to_vec());
            return Err(error);
        }
        let node = pool.take_branch(false);
        // SAFETY: just taken from the pool, reachable from nowhere else.
        let branch = unsafe { node.branch_mut() };
        branch.fill(&kids[start..end]);
        built.push(Child { last: kids[end - 1].last, gap: branch.largest_gap(), count: branch.count(), node });
        start = end;
    }
    Ok(built)
}

fn free_built<T>(built: Vec<Child<T>>) {
    free_subtrees(built.into_iter().map(|child| child.node));
}

/// Frees nodes being built or copied, and everything below them.
fn free_subtrees<T>(nodes: impl IntoIterator<Item = NodePtr<T>>) {
    for node in nodes {
        // SAFETY: nodes being built or copied are reachable only from the caller's list.
        unsafe { free_subtree(node) };
    }
}

/// A copy of the subtree of `node`, values cloned: each node copied as it is, the children of
/// a branch prefetched together so that their memory latencies overlap.
fn copy_subtree<T: Clone>(pool: &mut Pool<T>, node: NodePtr<T>) -> Result<NodePtr<T>, Error> {
    // SAFETY: `node` belongs to a pinned snapshot.
    match unsafe { node.get() } {
        NodeRef::Leaf(leaf) => {
            pool.reserve(1, 0)?;
            let copy = pool.take_leaf(false);
            // SAFETY: just taken from the pool, reachable from nowhere else.
            unsafe { copy.leaf_mut() }.clone_from_leaf(leaf);
            Ok(copy)
        }
        NodeRef::Branch(branch) => {
            branch.children().for_each(NodePtr::prefetch);
            let mut kids = ArrayVec::<NodePtr<T>, BRANCH_SLOTS>::new();
            for child in branch.children() {
                match copy_subtree(pool, child) {
                    Ok(copy) => kids.push(copy),
                    Err(error) => {
                        free_subtrees(kids);
                        return Err(error);
                    }
                }
            }
            if let Err(error) = pool.reserve(0, 1) {
                free_subtrees(kids);
                return Err(error);
            }
            let copy = pool.take_branch(false);
            // SAFETY: just taken from the pool, reachable from nowhere else.
            let built = unsafe { copy.branch_mut() };
            built.copy_from(branch);
            for (slot, kid) in kids.into_iter().enumerate() {
                built.set_child(slot, kid);
            }
            Ok(copy)
        }
    }
}
