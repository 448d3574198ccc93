//! A read cursor: one leaf slot, stepping over ranges in order.
//!
//! The cursor keeps only its leaf and the branch above it, with their ranges and slots: a few
//! words, cheap to create and to move. Stepping inside a leaf reads nothing else; stepping
//! out of a leaf moves to the neighbouring child of the same branch, and only at the branch's
//! edge (about one leaf in ten) walks down from the root again.

use crate::node::{Branch, Leaf, NodePtr, NodeRef, Slots};
use crate::{Entry, Range};

/// A node of the cursor's path, with its range and the slot the path takes.
struct At<'a, N> {
    node: &'a N,
    min: u64,
    max: u64,
    slot: usize,
}

impl<N> Clone for At<'_, N> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<N> Copy for At<'_, N> {}

/// A position at one range (empty or not) of a non-empty tree.
///
/// The cursor borrows nodes for `'a`; whoever makes one promises the nodes stay alive and
/// unchanged that long (an epoch guard, or the writer's access).
pub(crate) struct Cursor<'a, T> {
    root: NodePtr<T>,
    leaf: At<'a, Leaf<T>>,
    /// The branch above the leaf (`None`: the root is the leaf).
    parent: Option<At<'a, Branch<T>>>,
}

impl<'a, T> Cursor<'a, T> {
    /// A cursor at the range holding `index`.
    ///
    /// # Safety
    /// `root` and every node below it stay alive and unchanged for `'a`.
    pub(crate) unsafe fn seek(root: NodePtr<T>, index: u64) -> Self {
        let (mut node, mut min, mut max, mut parent) = (root, 0, u64::MAX, None);
        loop {
            // SAFETY: the caller keeps every node reachable from the root alive for 'a.
            match unsafe { node.get::<'a>() } {
                NodeRef::Leaf(leaf) => {
                    let leaf = At { node: leaf, min, max, slot: leaf.slot_of(index) };
                    return Cursor { root, leaf, parent };
                }
                NodeRef::Branch(branch) => {
                    let slot = branch.slot_of(index);
                    parent = Some(At { node: branch, min, max, slot });
                    (min, max, node) = (branch.first_of(slot, min), branch.last_of(slot, max), branch.child(slot));
                }
            }
        }
    }

    /// The range under the cursor and its value.
    #[inline]
    pub(crate) fn entry(&self) -> Entry<'a, T> {
        let At { node: leaf, min, max, slot } = self.leaf;
        Entry {
            range: Range { first: leaf.first_of(slot, min), last: leaf.last_of(slot, max) },
            value: leaf.value(slot),
        }
    }

    /// Moves to the next range; `false` (and no move) at the end of the index space.
    #[inline]
    pub(crate) fn step_forward(&mut self) -> bool {
        if self.leaf.slot + 1 < self.leaf.node.len() {
            self.leaf.slot += 1;
            return true;
        }
        self.cross(true)
    }

    /// Moves to the previous range; `false` (and no move) at index 0.
    #[inline]
    pub(crate) fn step_back(&mut self) -> bool {
        if self.leaf.slot > 0 {
            self.leaf.slot -= 1;
            return true;
        }
        self.cross(false)
    }

    /// Moves to the nearest slot holding a value, the cursor's own slot included: forward
    /// (towards higher indexes) or back. Reads only the leaves' occupied bits on the way.
    /// `false` when no value lies that way (the cursor is then at an end of the index space).
    #[inline]
    pub(crate) fn seek_value(&mut self, forward: bool) -> bool {
        loop {
            let (occupied, slot) = (u32::from(self.leaf.node.occupied()), self.leaf.slot);
            let ahead = if forward { occupied >> slot << slot } else { occupied & ((2 << slot) - 1) };
            if ahead != 0 {
                self.leaf.slot = if forward { ahead.trailing_zeros() } else { 31 - ahead.leading_zeros() } as usize;
                return true;
            }
            if !self.cross(forward) {
                return false;
            }
        }
    }

    /// Moves into the first slot of the next leaf (`forward`) or the last of the previous one.
    fn cross(&mut self, forward: bool) -> bool {
        let beyond = if forward { self.leaf.max.checked_add(1) } else { self.leaf.min.checked_sub(1) };
        let Some(index) = beyond else {
            return false;
        };
        match &mut self.parent {
            Some(parent) if (forward && parent.slot + 1 < parent.node.len()) || (!forward && parent.slot > 0) => {
                parent.slot = if forward { parent.slot + 1 } else { parent.slot - 1 };
                let (branch, slot) = (parent.node, parent.slot);
                // SAFETY: as in `seek`; the children of a leaf's parent are leaves.
                let NodeRef::Leaf(leaf) = (unsafe { branch.child(slot).get::<'a>() }) else {
                    unreachable!("a leaf's siblings are leaves")
                };
                let (min, max) = (branch.first_of(slot, parent.min), branch.last_of(slot, parent.max));
                self.leaf = At { node: leaf, min, max, slot: if forward { 0 } else { leaf.len() - 1 } };
            }
            // SAFETY: as in `seek`.
            _ => *self = unsafe { Cursor::seek(self.root, index) },
        }
        true
    }
}
