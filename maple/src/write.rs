//! The write engine: one `store` of a value (or of emptiness) over a range, on the writer's
//! working copy of the tree.
//!
//! Every write has the same shape:
//!
//! 1. Reserve the most nodes it could need (so nothing can fail after the first change).
//! 2. Walk the path to the leaf holding `first`.
//! 3. Fast paths. An exact fit, a value stored over exactly the range of a slot that holds a
//!    value, swaps the value (on a copy of the leaf, and of the path, when the writer may not
//!    change it in place): no slot moves, no gap or count changes. Otherwise, when `last` is
//!    in the same leaf and the result still fits it, edit that leaf's slots (a splice of at
//!    most three new slots), on the leaf itself when the writer
//!    may change it and on a copy otherwise, then bring the ancestors up to date: copy each
//!    one the writer may not change (to point at the copy below), fix gap values while they
//!    change and value counts up to the root. A transaction's store into a published leaf
//!    costs one path copy. Done.
//! 4. Otherwise walk the path to the leaf holding `last` too, and gather the leaf level: the
//!    left leaf's slots before `first`, the new range, the right leaf's slots after `last`,
//!    with adjacent empty ranges merged.
//! 5. Rebuild level by level, bottom up: cut the gathered slots into one to three
//!    new nodes, then gather the parent level (the left parent's children before the path,
//!    the new nodes, the right parent's children after it) and cut again, up to a new root.
//!    A level that would be under-full pulls in a neighbour (the two become one or two
//!    nodes); a level that would split pulls in a neighbour with room, so two fuller nodes
//!    replace three; a leaf level that would end in an empty range pulls in the next leaf,
//!    which starts with the rest of that range. A branch the writer may change that can take
//!    the level's new children is refilled in place instead, and the build stops there.
//! 6. Bury what the new tree no longer reaches: nodes on the old paths, neighbours pulled
//!    in, and whole subtrees inside `[first, last]`. Nodes only this writer could see are
//!    recycled at once; published ones are retired, to be freed after the readers move on.
//!
//! Every branch keeps the number of values in its subtree. New branches sum their children's
//! counts; a node changed in place passes the change in its count to every ancestor, up to the
//! root (gap values stop climbing where they stop changing; counts never do), so the working
//! tree's root always knows how many values the tree holds.
//!
//! The kernel classifies writes (exact fit, node store, split, rebalance, spanning store) and
//! gives most of them a path of their own. Here there are three: the exact fit and the in-leaf
//! edit of step 3, the latter which takes every other store that neither splits nor empties a
//! leaf below its minimum nor spans leaves, and the one rebuild for everything else.

use core::mem::ManuallyDrop;

use arrayvec::ArrayVec;

use crate::node::{
    Child, Item, Kind, Leaf, NodePtr, NodeRef, Slots, BRANCH_MIN, BRANCH_SLOTS, LEAF_MIN, LEAF_SLOTS, MAX_HEIGHT,
};
use crate::pool::Pool;
use crate::reclaim::Retired;
use crate::{Error, Range, View};

/// One node on a path from the root, the range it covers, and the slot the path takes.
struct Step<T> {
    node: NodePtr<T>,
    min: u64,
    max: u64,
    slot: usize,
}

impl<T> Clone for Step<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Step<T> {}

type Path<T> = ArrayVec<Step<T>, MAX_HEIGHT>;
/// Leaf slots gathered for a rebuild: at most 16 before, 1 new, 16 after (or, with a
/// neighbour pulled in, fewer than 22 or at most 30).
type Items<T> = ArrayVec<Item<T>, { 2 * LEAF_SLOTS + 1 }>;
/// Children gathered for a rebuild: at most 9 before, 3 new, 9 after (or, with a neighbour
/// pulled in, fewer than 14 or at most 18).
type Children<T> = ArrayVec<Child<T>, { 2 * BRANCH_SLOTS + 1 }>;

/// Which neighbour a level pulls in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Left,
    Right,
}

/// A store whose two ends lie in one leaf, as an edit of that leaf's slots: slots `cut` give
/// way to what stays of the first one before the store (`keep_left`), the stored range
/// (ending at `last`), and what stays of the last one after it (`keep_right`: its end).
/// Storing emptiness also takes in the empty ranges beside it, so that no two empty ranges
/// are ever adjacent.
struct LeafEdit {
    cut: core::ops::Range<usize>,
    keep_left: bool,
    last: u64,
    keep_right: Option<u64>,
}

impl LeafEdit {
    /// The edit that stores over `[first, last]`, from `step.slot` to `end_slot` of `leaf`.
    fn plan<T>(leaf: &Leaf<T>, step: Step<T>, end_slot: usize, first: u64, last: u64, empty: bool) -> Self {
        let (start_slot, starts_before) = (step.slot, leaf.first_of(step.slot, step.min) < first);
        let right_end = leaf.last_of(end_slot, step.max);
        let ends_after = right_end > last;
        let mut edit = LeafEdit {
            cut: start_slot..end_slot + 1,
            keep_left: starts_before,
            last,
            keep_right: ends_after.then_some(right_end),
        };
        if empty {
            // An empty slot's neighbours hold values, so only one of each pair can apply.
            if !leaf.is_occupied(start_slot) {
                edit.keep_left = false;
            } else if !starts_before && start_slot > 0 && !leaf.is_occupied(start_slot - 1) {
                edit.cut.start -= 1;
            }
            if !leaf.is_occupied(end_slot) {
                (edit.keep_right, edit.last) = (None, right_end);
            } else if !ends_after && end_slot + 1 < leaf.len() && !leaf.is_occupied(end_slot + 1) {
                edit.cut.end += 1;
                edit.last = leaf.last_of(end_slot + 1, step.max);
            }
        }
        edit
    }

    /// Whether the edited leaf stands on its own: enough slots and no more than fit, not
    /// ending in an empty range unless it ends the index space, and not one empty range.
    fn fits<T>(&self, leaf: &Leaf<T>, max: u64, is_root: bool, stores_value: bool) -> bool {
        let pieces = usize::from(self.keep_left) + 1 + usize::from(self.keep_right.is_some());
        let len = leaf.len() - self.cut.len() + pieces;
        let fewest = if is_root { 1 } else { LEAF_MIN };
        let ends_with_store = self.cut.end == leaf.len() && self.keep_right.is_none();
        let ends_well = !ends_with_store || stores_value || max == u64::MAX;
        let one_empty_range = len == 1 && !stores_value;
        (fewest..=LEAF_SLOTS).contains(&len) && ends_well && !one_empty_range
    }
}

/// The writer's handle on a working tree.
pub(crate) struct Editor<'e, T> {
    /// The working root (`None`: the whole index space is one empty range).
    pub(crate) root: &'e mut Option<NodePtr<T>>,
    pub(crate) pool: &'e mut Pool<T>,
    /// Published nodes this write replaced, to free once readers are done with them.
    pub(crate) garbage: &'e mut Vec<Retired<T>>,
    /// Published values this write took out of the working tree whose only owners are leaves
    /// it retired as shells: dropped after the readers move on if the transaction commits,
    /// forgotten if it does not (the published tree still owns them then).
    pub(crate) removed: &'e mut Vec<ManuallyDrop<T>>,
    /// The writer holds the tree exclusively: no reader exists, every node may change in place.
    pub(crate) exclusive: bool,
}

impl<T: Clone> Editor<'_, T> {
    /// Stores `value` over `[first, last]` (`None` empties it), trimming what was there.
    pub(crate) fn store(&mut self, first: u64, last: u64, value: Option<T>) -> Result<(), Error> {
        if first > last {
            return Err(Error::InvalidRange { first, last });
        }
        let Some(root) = *self.root else {
            self.pool.reserve(1, 0)?;
            self.plant(first, last, value);
            return Ok(());
        };
        // Paths are built in place: at 32 bytes a step they are too big to move around.
        let mut path = Path::new();
        descend_into(&mut path, root, 0, u64::MAX, first);
        self.store_along(root, &mut path, first, last, value)
    }

    /// Stores `value` over `[first, last]`, failing with `Occupied` if anything is there.
    pub(crate) fn insert(&mut self, first: u64, last: u64, value: T) -> Result<(), Error> {
        if first > last {
            return Err(Error::InvalidRange { first, last });
        }
        let Some(root) = *self.root else {
            return self.store(first, last, Some(value));
        };
        let mut path = Path::new();
        descend_into(&mut path, root, 0, u64::MAX, first);
        let step = path[path.len() - 1];
        let within_leaf = last <= step.max && {
            let found = leaf(step.node);
            (step.slot..=found.slot_of(last)).all(|slot| !found.is_occupied(slot))
        };
        if !within_leaf {
            if let Some((range, _)) = self.view().find(first, last) {
                return Err(Error::Occupied(range));
            }
        }
        self.store_along(root, &mut path, first, last, Some(value))
    }

    /// Empties the whole range holding `index`; returns it, or `None` if it was empty.
    pub(crate) fn erase(&mut self, index: u64) -> Result<Option<Range>, Error> {
        let Some(root) = *self.root else {
            return Ok(None);
        };
        let mut path = Path::new();
        descend_into(&mut path, root, 0, u64::MAX, index);
        // The path to `index` is the path to its range's first index: the same slot.
        let step = path[path.len() - 1];
        let found = leaf(step.node);
        if !found.is_occupied(step.slot) {
            return Ok(None);
        }
        let range = Range { first: found.first_of(step.slot, step.min), last: found.last_of(step.slot, step.max) };
        self.store_along(root, &mut path, range.first, range.last, None)?;
        Ok(Some(range))
    }

    /// Stores over `[first, last]` along `path`, the path to `first`: reserves the nodes the
    /// store may need, then makes it (infallibly).
    fn store_along(
        &mut self,
        root: NodePtr<T>,
        path: &mut Path<T>,
        first: u64,
        last: u64,
        value: Option<T>,
    ) -> Result<(), Error> {
        let height = path.len();
        self.pool.reserve(3, 3 * (height - 1) + 1)?;
        self.store_in(root, path, first, last, value);
        Ok(())
    }

    fn view(&self) -> View<'_, T> {
        // SAFETY: the writer's nodes cannot change or go away while `self` is borrowed.
        unsafe { View::new(*self.root) }
    }

    fn private(&self, node: NodePtr<T>) -> bool {
        self.exclusive || node.is_fresh()
    }

    fn fresh(&self) -> bool {
        !self.exclusive
    }

    /// The first store into a tree without nodes.
    fn plant(&mut self, first: u64, last: u64, value: Option<T>) {
        if value.is_none() {
            return;
        }
        let mut items = Items::new();
        if first > 0 {
            items.push(Item { last: first - 1, value: None });
        }
        items.push(Item { last, value });
        if last < u64::MAX {
            items.push(Item { last: u64::MAX, value: None });
        }
        let leaf = self.pool.take_leaf(self.fresh());
        // SAFETY: just taken from the pool, reachable from nowhere else.
        unsafe { leaf.leaf_mut() }.fill(items.into_iter());
        *self.root = Some(leaf);
    }

    fn store_in(&mut self, root: NodePtr<T>, left: &mut Path<T>, first: u64, last: u64, value: Option<T>) {
        let leaf_level = left.len() - 1;
        let step = left[leaf_level];
        let found = leaf(step.node);
        let exact = found.is_occupied(step.slot)
            && found.first_of(step.slot, step.min) == first
            && found.last_of(step.slot, step.max) == last;
        let value = match value {
            Some(value) if exact => return self.replace_value(left, value),
            value => value,
        };
        if last <= step.max {
            let node = found;
            let edit = LeafEdit::plan(node, step, node.slot_of(last), first, last, value.is_none());
            if edit.fits(node, step.max, leaf_level == 0, value.is_some()) {
                self.edit_leaf(left, edit, first, value);
                return;
            }
        }
        let mut right = Path::new();
        descend_beside(&mut right, left, last);
        let items = self.gather_leaf(left[leaf_level], right[leaf_level], first, last, value);
        self.rebuild(root, left, &mut right, items, Range { first, last });
    }

    /// The exact fit: a value over exactly the range of the path's slot, which holds a value.
    /// Nothing moves and no gap or count changes: the slot's value is swapped (on a copy of
    /// the leaf unless the writer may change it in place, and then the path is copied).
    fn replace_value(&mut self, path: &Path<T>, value: T) {
        let leaf_level = path.len() - 1;
        let step = path[leaf_level];
        let node = self.own_leaf(step.node);
        self.remove_values(node, step.slot..step.slot + 1);
        // SAFETY: `own_leaf` returns a leaf the writer may change.
        unsafe { node.leaf_mut() }.put(step.slot, value);
        self.refresh_above(&path[..leaf_level], (node != step.node).then_some(node), None, 0);
    }

    /// Step 3: applies `edit` to the path's leaf (copied first unless the writer may change
    /// it in place), then brings the ancestors up to date.
    fn edit_leaf(&mut self, path: &Path<T>, edit: LeafEdit, first: u64, value: Option<T>) {
        let leaf_level = path.len() - 1;
        let step = path[leaf_level];
        let old = leaf(step.node);
        let old_count = old.count();
        let mut pieces = ArrayVec::new();
        if edit.keep_left {
            pieces.push(Item { last: first - 1, value: old.value(edit.cut.start).cloned() });
        }
        pieces.push(Item { last: edit.last, value });
        if let Some(end) = edit.keep_right {
            pieces.push(Item { last: end, value: old.value(edit.cut.end - 1).cloned() });
        }
        // A value replacing a value over the same range changes no gap and no count.
        let same_shape = pieces.len() == 1 && edit.cut.len() == 1 && old.is_occupied(edit.cut.start);
        let same_shape = same_shape && pieces[0].value.is_some();
        let node = self.own_leaf(step.node);
        self.remove_values(node, edit.cut.clone());
        // SAFETY: `own_leaf` returns a leaf the writer may change.
        let new = unsafe { node.leaf_mut() };
        new.splice(edit.cut, pieces);
        let gap = (!same_shape).then(|| new.largest_gap(step.min, step.max));
        let delta = count_change(old_count, new.count());
        self.refresh_above(&path[..leaf_level], (node != step.node).then_some(node), gap, delta);
    }

    /// `node` itself when the writer may change it, otherwise a private copy of it whose
    /// values are borrowed from `node` (bitwise, nothing cloned), with `node` retired as a shell:
    /// each of its values either lives on in the copy or goes to `removed`.
    fn own_leaf(&mut self, node: NodePtr<T>) -> NodePtr<T> {
        if self.private(node) {
            return node;
        }
        let copy = self.pool.take_leaf(self.fresh());
        // SAFETY: the copy was just taken from the pool and is reachable from nowhere else;
        // `node` stays alive (published, or sealed and kept by the transaction) until the
        // commit that hands its values over, or longer.
        unsafe { copy.leaf_mut().borrow_from(leaf(node)) };
        self.garbage.push(Retired::Shell(node));
        copy
    }

    /// Takes the values out of `slots` of a private leaf: those it owns are dropped, borrowed
    /// ones go to `removed`.
    fn remove_values(&mut self, node: NodePtr<T>, slots: core::ops::Range<usize>) {
        // SAFETY: the caller passes a private leaf.
        let found = unsafe { node.leaf_mut() };
        for slot in slots {
            let borrowed = found.is_borrowed(slot);
            match found.take(slot) {
                Some(value) if borrowed => self.removed.push(ManuallyDrop::new(value)),
                value => drop(value),
            }
        }
    }

    /// As [`own_leaf`](Self::own_leaf), for a branch (children shared with the original).
    fn own_branch(&mut self, node: NodePtr<T>) -> NodePtr<T> {
        if self.private(node) {
            return node;
        }
        let copy = self.pool.take_branch(self.fresh());
        // SAFETY: just taken from the pool, reachable from nowhere else.
        unsafe { copy.branch_mut() }.copy_from(branch(node));
        self.retire_node(node);
        copy
    }

    /// After the node below `ancestors` (root first) changed, to a copy `replaced` or in
    /// place, with its largest gap now `gap` (`None`: unchanged) and its value count changed
    /// by `delta`: brings the ancestors up to date, copying those the writer may not change.
    /// Pointers climb while nodes are copied, gap values while they change, counts up to the
    /// root.
    fn refresh_above(&mut self, ancestors: &[Step<T>], mut replaced: Option<NodePtr<T>>, gap: Option<u64>, delta: i64) {
        let (mut gaps_settled, mut gap) = (gap.is_none(), gap.unwrap_or(0));
        for parent in ancestors.iter().rev() {
            if replaced.is_none() && gaps_settled && delta == 0 {
                return;
            }
            let node = self.own_branch(parent.node);
            // SAFETY: `own_branch` returns a branch the writer may change.
            let branch = unsafe { node.branch_mut() };
            if let Some(child) = replaced {
                branch.set_child(parent.slot, child);
            }
            if delta != 0 {
                branch.add_count(delta);
            }
            if !gaps_settled {
                if branch.gap(parent.slot) == gap {
                    gaps_settled = true;
                } else {
                    branch.set_gap(parent.slot, gap);
                    gap = branch.largest_gap();
                }
            }
            replaced = (node != parent.node).then_some(node);
        }
        if replaced.is_some() {
            *self.root = replaced;
        }
    }

    /// The leaf level of a write: slots before `first`, the new range, slots after `last`.
    fn gather_leaf(&mut self, left: Step<T>, right: Step<T>, first: u64, last: u64, value: Option<T>) -> Items<T> {
        let mut items = Items::new();
        for slot in 0..left.slot {
            let end = leaf(left.node).last_of(slot, left.max);
            push_item(&mut items, Item { last: end, value: self.take_value(left.node, slot) });
        }
        let same_slot = left.node == right.node && left.slot == right.slot;
        let left_piece =
            (leaf(left.node).first_of(left.slot, left.min) < first).then(|| self.take_value(left.node, left.slot));
        let right_end = leaf(right.node).last_of(right.slot, right.max);
        let right_piece = (right_end > last).then(|| match &left_piece {
            Some(shared) if same_slot => shared.clone(),
            _ => self.take_value(right.node, right.slot),
        });
        if let Some(value) = left_piece {
            push_item(&mut items, Item { last: first - 1, value });
        }
        push_item(&mut items, Item { last, value });
        if let Some(value) = right_piece {
            push_item(&mut items, Item { last: right_end, value });
        }
        for slot in right.slot + 1..leaf(right.node).len() {
            let end = leaf(right.node).last_of(slot, right.max);
            push_item(&mut items, Item { last: end, value: self.take_value(right.node, slot) });
        }
        items
    }

    /// The value of a leaf slot for a new node: moved out of a private leaf, cloned from a
    /// published one (whose readers still need it).
    fn take_value(&mut self, node: NodePtr<T>, slot: usize) -> Option<T> {
        if self.private(node) {
            // SAFETY: a private node is the writer's alone.
            let found = unsafe { node.leaf_mut() };
            if found.is_borrowed(slot) {
                // The new node owns a clone; the borrowed original is the published tree's.
                let original = found.take(slot)?;
                let copy = original.clone();
                self.removed.push(ManuallyDrop::new(original));
                return Some(copy);
            }
            found.take(slot)
        } else {
            leaf(node).value(slot).cloned()
        }
    }

    /// Steps 5 and 6 of the module description.
    fn rebuild(
        &mut self,
        old_root: NodePtr<T>,
        left: &mut Path<T>,
        right: &mut Path<T>,
        mut items: Items<T>,
        changed: Range,
    ) {
        // The two paths share their top; list each node once.
        let mut consumed: Vec<NodePtr<T>> = Vec::with_capacity(4 * left.len());
        consumed.extend(left.iter().map(|step| step.node));
        consumed.extend(right.iter().map(|step| step.node).filter(|node| !left.iter().any(|step| step.node == *node)));
        let leaf_level = left.len() - 1;
        let ends_empty = items.last().is_some_and(|item| item.value.is_none());
        if ends_empty && right[leaf_level].max < u64::MAX {
            let next = pull(right, leaf_level, Side::Right, &mut consumed, |_| true)
                .expect("a leaf below u64::MAX has a successor");
            self.append_leaf(&mut items, next);
        }
        let count = items.len();
        let wanted = |len: usize| count < LEAF_MIN || count + len <= 2 * LEAF_SLOTS - 2;
        if !(LEAF_MIN..=LEAF_SLOTS).contains(&count) {
            if let Some(prev) = pull(left, leaf_level, Side::Left, &mut consumed, wanted) {
                items = self.prepend_leaf(items, prev);
            } else if let Some(next) = pull(right, leaf_level, Side::Right, &mut consumed, wanted) {
                self.append_leaf(&mut items, next);
            }
        }
        let mut built = self.build_leaves(items, left[leaf_level].min);
        for level in (0..leaf_level).rev() {
            let kids = self.gather_branch(left, right, level, built);
            if self.refill_in_place(left, right, level, &kids, changed, &consumed) {
                return;
            }
            let kids = self.balance_branch(left, right, level, kids, &mut consumed);
            built = self.build_branches(kids);
        }
        while built.len() > 1 {
            built = self.build_branches(built);
        }
        *self.root = self.collapse(built[0].node);
        self.bury(old_root, Range::ALL, changed, &consumed);
    }

    fn append_leaf(&mut self, items: &mut Items<T>, next: Step<T>) {
        for slot in 0..leaf(next.node).len() {
            let end = leaf(next.node).last_of(slot, next.max);
            push_item(items, Item { last: end, value: self.take_value(next.node, slot) });
        }
    }

    fn prepend_leaf(&mut self, items: Items<T>, prev: Step<T>) -> Items<T> {
        let mut joined = Items::new();
        self.append_leaf(&mut joined, prev);
        for item in items {
            push_item(&mut joined, item);
        }
        joined
    }

    /// A branch level of a rebuild: children before the path, the new nodes, children after.
    fn gather_branch(&self, left: &Path<T>, right: &Path<T>, level: usize, built: Children<T>) -> Children<T> {
        let (l, r) = (left[level], right[level]);
        let mut kids: Children<T> = (0..l.slot).map(|slot| branch(l.node).child_item(slot, l.max)).collect();
        kids.extend(built);
        kids.extend((r.slot + 1..branch(r.node).len()).map(|slot| branch(r.node).child_item(slot, r.max)));
        kids
    }

    /// When a branch level's run is one node the writer may change and the gathered children
    /// fit it, refills that node in place: the levels above keep their pointers, and only
    /// their gap values may change. What the node's old children lost is buried first.
    fn refill_in_place(
        &mut self,
        left: &Path<T>,
        right: &Path<T>,
        level: usize,
        kids: &Children<T>,
        changed: Range,
        consumed: &[NodePtr<T>],
    ) -> bool {
        let step = left[level];
        let fewest = if level == 0 { 2 } else { BRANCH_MIN };
        if step.node != right[level].node || !self.private(step.node) || !(fewest..=BRANCH_SLOTS).contains(&kids.len())
        {
            return false;
        }
        self.bury_children(step.node, Range { first: step.min, last: step.max }, changed, consumed);
        // SAFETY: a private node; the children it had were read above and are not needed again.
        let node = unsafe { step.node.branch_mut() };
        let old_count = node.count();
        node.fill(kids);
        let gap = node.largest_gap();
        let delta = count_change(old_count, node.count());
        self.refresh_above(&left[..level], None, Some(gap), delta);
        true
    }

    /// Pulls a neighbour into a branch level that would be under-full, or that would split
    /// while a neighbour has room (see [`pull`]).
    fn balance_branch(
        &mut self,
        left: &mut Path<T>,
        right: &mut Path<T>,
        level: usize,
        mut kids: Children<T>,
        consumed: &mut Vec<NodePtr<T>>,
    ) -> Children<T> {
        let count = kids.len();
        let wanted = |len: usize| count < BRANCH_MIN || count + len <= 2 * BRANCH_SLOTS - 2;
        if !(BRANCH_MIN..=BRANCH_SLOTS).contains(&count) {
            let all = |step: Step<T>| {
                (0..branch(step.node).len()).map(move |slot| branch(step.node).child_item(slot, step.max))
            };
            if let Some(prev) = pull(left, level, Side::Left, consumed, wanted) {
                let mut joined: Children<T> = all(prev).collect();
                joined.extend(kids);
                kids = joined;
            } else if let Some(next) = pull(right, level, Side::Right, consumed, wanted) {
                kids.extend(all(next));
            }
        }
        kids
    }

    /// Cuts gathered slots (starting at index `min`) into new leaves.
    fn build_leaves(&mut self, mut items: Items<T>, min: u64) -> Children<T> {
        let mut built = Children::new();
        let mut first = min;
        while !items.is_empty() {
            let n = items.len();
            let end = chunk_end(n, LEAF_SLOTS, LEAF_MIN, |i| i + 1 == n || items[i].value.is_some());
            let last = items[end - 1].last;
            let node = self.pool.take_leaf(self.fresh());
            // SAFETY: just taken from the pool, reachable from nowhere else.
            let new = unsafe { node.leaf_mut() };
            new.fill(items.drain(..end));
            built.push(Child { last, gap: new.largest_gap(first, last), count: new.count(), node });
            first = last.wrapping_add(1);
        }
        built
    }

    /// Cuts gathered children into new branches.
    fn build_branches(&mut self, mut kids: Children<T>) -> Children<T> {
        let mut built = Children::new();
        while !kids.is_empty() {
            let end = chunk_end(kids.len(), BRANCH_SLOTS, BRANCH_MIN, |_| true);
            let node = self.pool.take_branch(self.fresh());
            // SAFETY: just taken from the pool, reachable from nowhere else.
            let new = unsafe { node.branch_mut() };
            new.fill(&kids[..end]);
            built.push(Child { last: kids[end - 1].last, gap: new.largest_gap(), count: new.count(), node });
            kids.drain(..end);
        }
        built
    }

    /// The root a rebuild ends with: a branch with one child gives way to the child, and a
    /// leaf that is one empty range gives way to no nodes at all.
    fn collapse(&mut self, mut root: NodePtr<T>) -> Option<NodePtr<T>> {
        loop {
            // SAFETY: `root` is a node this rebuild made, or one it kept.
            match unsafe { root.get() } {
                NodeRef::Branch(top) if top.len() == 1 => {
                    let child = top.child(0);
                    // SAFETY: a one-child root is always new, so private to the writer.
                    unsafe { self.pool.recycle(root) };
                    root = child;
                }
                NodeRef::Leaf(top) if top.len() == 1 && top.value(0).is_none() => {
                    // SAFETY: as above: a one-slot empty leaf is never published.
                    unsafe { self.pool.recycle(root) };
                    return None;
                }
                _ => return Some(root),
            }
        }
    }

    /// Step 6: frees what a rebuild replaced. `node` (covering `bounds`) is dead: it was on a
    /// path or pulled in. Its children are dead too when they were (`consumed`) or when they
    /// lie inside `changed`; the others were kept by the new tree.
    fn bury(&mut self, node: NodePtr<T>, bounds: Range, changed: Range, consumed: &[NodePtr<T>]) {
        self.bury_children(node, bounds, changed, consumed);
        self.retire_node(node);
    }

    /// The part of [`Editor::bury`] that judges a node's children.
    fn bury_children(&mut self, node: NodePtr<T>, bounds: Range, changed: Range, consumed: &[NodePtr<T>]) {
        // SAFETY: the old tree's nodes are alive until this write retires them.
        if let NodeRef::Branch(old) = unsafe { node.get() } {
            for slot in 0..old.len() {
                let child = old.child(slot);
                let span = Range { first: old.first_of(slot, bounds.first), last: old.last_of(slot, bounds.last) };
                if consumed.contains(&child) {
                    self.bury(child, span, changed, consumed);
                } else if changed.first <= span.first && span.last <= changed.last {
                    self.retire_subtree(child);
                }
            }
        }
    }

    fn retire_node(&mut self, node: NodePtr<T>) {
        if self.private(node) {
            if node.kind() == Kind::Leaf {
                self.remove_values(node, 0..LEAF_SLOTS);
            }
            // SAFETY: private and no longer reachable from the working tree.
            unsafe { self.pool.recycle(node) };
        } else {
            self.garbage.push(Retired::Node(node, node.kind()));
        }
    }

    fn retire_subtree(&mut self, node: NodePtr<T>) {
        if !self.private(node) {
            // A published node has only published nodes below it.
            self.garbage.push(Retired::Subtree(node));
            return;
        }
        // SAFETY: the writer's nodes are alive; children go before their parent.
        if let NodeRef::Branch(old) = unsafe { node.get() } {
            for child in old.children() {
                self.retire_subtree(child);
            }
        }
        self.retire_node(node);
    }
}

/// How a node's value count changed, from `old` to `new`.
fn count_change(old: u64, new: u64) -> i64 {
    // Counts are bounded by the nodes in memory, far below i64::MAX.
    new as i64 - old as i64
}

/// Appends a slot, merging it into the one before when both are empty.
fn push_item<T>(items: &mut Items<T>, item: Item<T>) {
    if let Some(tail) = items.last_mut() {
        if tail.value.is_none() && item.value.is_none() {
            tail.last = item.last;
            return;
        }
    }
    items.push(item);
}

/// Where the next node ends when `n` items remain to be cut into nodes of at most `cap`:
/// full nodes while plenty remains, then the rest split evenly over the last two so neither
/// has fewer than `min`. A node never ends after an item that `can_end` refuses (a leaf must
/// not end in an empty range); the cut then moves one item left.
pub(crate) fn chunk_end(n: usize, cap: usize, min: usize, can_end: impl Fn(usize) -> bool) -> usize {
    if n <= cap {
        return n;
    }
    let mut end = if n < cap + min { n.div_ceil(2) } else { cap };
    if !can_end(end - 1) {
        end -= 1;
    }
    end
}

/// Fills the empty `path` with the path to the leaf slot holding `index`, sharing `known`'s
/// steps down to the deepest node whose range holds `index`.
fn descend_beside<T>(path: &mut Path<T>, known: &Path<T>, index: u64) {
    let depth =
        known.iter().rposition(|step| step.min <= index && index <= step.max).expect("the root holds every index");
    path.extend(known[..depth].iter().copied());
    let step = known[depth];
    descend_into(path, step.node, step.min, step.max, index);
}

/// Extends `path` from `node` (covering `[min, max]`) down to the leaf slot holding `index`.
fn descend_into<T>(path: &mut Path<T>, mut node: NodePtr<T>, mut min: u64, mut max: u64, index: u64) {
    loop {
        // SAFETY: the writer's nodes are alive.
        match unsafe { node.get() } {
            NodeRef::Leaf(found) => {
                path.push(Step { node, min, max, slot: found.slot_of(index) });
                return;
            }
            NodeRef::Branch(found) => {
                let slot = found.slot_of(index);
                path.push(Step { node, min, max, slot });
                (min, max, node) = (found.first_of(slot, min), found.last_of(slot, max), found.child(slot));
            }
        }
    }
}

/// Moves one end of a rebuild's run at `level` to the neighbouring node on `side`, if there
/// is one and `wanted(its slot count)` agrees, walking up to the nearest ancestor with a
/// sibling that way and back down along the near edge. Returns the neighbour, whose slots all
/// join the run. A run pulls a neighbour in when it would be under-full (the two become one
/// or two nodes), or when it would split and the neighbour has room (two fuller nodes
/// instead of three: this keeps random and sequential inserts packed).
fn pull<T>(
    path: &mut Path<T>,
    level: usize,
    side: Side,
    consumed: &mut Vec<NodePtr<T>>,
    wanted: impl Fn(usize) -> bool,
) -> Option<Step<T>> {
    let pivot = (0..level).rev().find(|&k| match side {
        Side::Right => path[k].slot + 1 < branch(path[k].node).len(),
        Side::Left => path[k].slot > 0,
    })?;
    let mut moved = path.clone();
    match side {
        Side::Right => moved[pivot].slot += 1,
        Side::Left => moved[pivot].slot -= 1,
    }
    for depth in pivot + 1..=level {
        let parent = moved[depth - 1];
        let above = branch(parent.node);
        let node = above.child(parent.slot);
        let len = node_len(node);
        // Above `level` the path enters the neighbour along its near edge; at `level` the
        // slot is set so that nothing of the neighbour is left outside the run.
        let slot = match (side, depth == level) {
            (Side::Right, false) | (Side::Left, true) => 0,
            (Side::Right, true) | (Side::Left, false) => len - 1,
        };
        moved[depth] = Step {
            node,
            min: above.first_of(parent.slot, parent.min),
            max: above.last_of(parent.slot, parent.max),
            slot,
        };
    }
    if !wanted(node_len(moved[level].node)) {
        return None;
    }
    consumed.extend(moved[pivot + 1..=level].iter().map(|step| step.node));
    *path = moved;
    Some(path[level])
}

fn node_len<T>(node: NodePtr<T>) -> usize {
    // SAFETY: the writer's nodes are alive.
    match unsafe { node.get() } {
        NodeRef::Leaf(found) => found.len(),
        NodeRef::Branch(found) => found.len(),
    }
}

fn leaf<'a, T>(node: NodePtr<T>) -> &'a Leaf<T> {
    // SAFETY: the writer's nodes are alive for the whole write.
    match unsafe { node.get() } {
        NodeRef::Leaf(found) => found,
        NodeRef::Branch(_) => unreachable!("the path's last node is a leaf"),
    }
}

fn branch<'a, T>(node: NodePtr<T>) -> &'a crate::node::Branch<T> {
    // SAFETY: the writer's nodes are alive for the whole write.
    match unsafe { node.get() } {
        NodeRef::Branch(found) => found,
        NodeRef::Leaf(_) => unreachable!("only the path's last node is a leaf"),
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::chunk_end;

    fn cuts(n: usize, cap: usize, min: usize) -> Vec<usize> {
        let (mut left, mut sizes) = (n, Vec::new());
        while left > 0 {
            let end = chunk_end(left, cap, min, |_| true);
            sizes.push(end);
            left -= end;
        }
        sizes
    }

    #[test]
    fn chunks_fill_nodes_and_even_out_the_last_two() {
        assert_eq!(cuts(16, 16, 6), [16]);
        assert_eq!(cuts(17, 16, 6), [9, 8]);
        assert_eq!(cuts(33, 16, 6), [16, 9, 8]);
        assert_eq!(cuts(21, 10, 4), [10, 6, 5]);
        assert_eq!(cuts(40, 10, 4), [10, 10, 10, 10]);
    }

    #[test]
    fn a_chunk_never_ends_where_it_may_not() {
        // Item 15 may not end a node: the first leaf takes 15 items.
        assert_eq!(chunk_end(40, 16, 6, |i| i != 15), 15);
    }
}
