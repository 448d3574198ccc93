//! Building whole trees: bulk build from sorted ranges, and the O(n) clone fork uses.

use crate::node::{free_subtree, Child, Item, NodePtr, NodeRef, Slots, BRANCH_MIN, BRANCH_SLOTS, LEAF_MIN, LEAF_SLOTS};
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
        let items = slots_of(ranges)?;
        let mut tree = Tree::new();
        let root = build_levels(&mut tree.writer.get_mut().pool, items)?;
        store_exclusive(&mut tree.root, root.map_or(core::ptr::null_mut(), NodePtr::as_raw));
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
            Some(root) => Some(copy_subtree(pool, root, 0, u64::MAX)?),
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

/// The leaf slots for sorted ranges: values, with the empty ranges between them.
fn slots_of<T>(ranges: impl IntoIterator<Item = (Range, T)>) -> Result<Vec<Item<T>>, Error> {
    let mut items = Vec::new();
    // The first index not yet covered; `None` once u64::MAX is.
    let mut next = Some(0);
    for (range, value) in ranges {
        let start = next.filter(|&start| range.first >= start).ok_or(Error::Unsorted(range))?;
        if range.first > start {
            items.push(Item { last: range.first - 1, value: None });
        }
        items.push(Item { last: range.last, value: Some(value) });
        next = range.last.checked_add(1);
    }
    if !items.is_empty() && next.is_some() {
        items.push(Item { last: u64::MAX, value: None });
    }
    Ok(items)
}

/// Packs leaf slots into full leaves, then the leaves into branches, up to one root.
fn build_levels<T>(pool: &mut Pool<T>, items: Vec<Item<T>>) -> Result<Option<NodePtr<T>>, Error> {
    if items.is_empty() {
        return Ok(None);
    }
    let mut level = build_leaves(pool, items)?;
    while level.len() > 1 {
        level = build_branches(pool, level)?;
    }
    Ok(Some(level[0].node))
}

fn build_leaves<T>(pool: &mut Pool<T>, mut items: Vec<Item<T>>) -> Result<Vec<Child<T>>, Error> {
    let mut built = Vec::new();
    let mut rest = items.drain(..);
    let mut first = 0u64;
    let mut pending: Vec<Item<T>> = Vec::with_capacity(LEAF_SLOTS);
    let total = rest.len();
    let mut taken = 0;
    while taken < total {
        let n = total - taken;
        // Peek the items this leaf could take, to choose where it ends.
        pending.extend(rest.by_ref().take(LEAF_SLOTS.min(n) - pending.len()));
        let end = chunk_end(n, LEAF_SLOTS, LEAF_MIN, |i| i + 1 == n || pending[i].value.is_some());
        if let Err(error) = pool.reserve(1, 0) {
            free_built(built);
            return Err(error);
        }
        let node = pool.take_leaf(false);
        // SAFETY: just taken from the pool, reachable from nowhere else.
        let leaf = unsafe { node.leaf_mut() };
        let last = pending[end - 1].last;
        leaf.fill(pending.drain(..end));
        built.push(Child { last, gap: leaf.largest_gap(first, last), count: leaf.count(), node });
        first = last.wrapping_add(1);
        taken += end;
    }
    Ok(built)
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
    for child in built {
        // SAFETY: nodes being built are reachable only from this list.
        unsafe { free_subtree(child.node) };
    }
}

/// A copy of the subtree of `node` (covering `[min, max]`), values cloned.
fn copy_subtree<T: Clone>(pool: &mut Pool<T>, node: NodePtr<T>, min: u64, max: u64) -> Result<NodePtr<T>, Error> {
    // SAFETY: `node` belongs to a pinned snapshot.
    match unsafe { node.get() } {
        NodeRef::Leaf(leaf) => {
            pool.reserve(1, 0)?;
            let copy = pool.take_leaf(false);
            let items =
                (0..leaf.len()).map(|slot| Item { last: leaf.last_of(slot, max), value: leaf.value(slot).cloned() });
            // SAFETY: just taken from the pool, reachable from nowhere else.
            unsafe { copy.leaf_mut() }.fill(items);
            Ok(copy)
        }
        NodeRef::Branch(branch) => {
            let mut kids: Vec<Child<T>> = Vec::with_capacity(branch.len());
            for slot in 0..branch.len() {
                let child = branch.child_item(slot, max);
                match copy_subtree(pool, child.node, branch.first_of(slot, min), child.last) {
                    Ok(node) => kids.push(Child { node, ..child }),
                    Err(error) => {
                        free_built(kids);
                        return Err(error);
                    }
                }
            }
            if let Err(error) = pool.reserve(0, 1) {
                free_built(kids);
                return Err(error);
            }
            let copy = pool.take_branch(false);
            // SAFETY: just taken from the pool, reachable from nowhere else.
            unsafe { copy.branch_mut() }.fill(&kids);
            Ok(copy)
        }
    }
}
