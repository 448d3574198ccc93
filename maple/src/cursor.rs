//! A read cursor: the path from the root to one leaf slot, stepping over ranges in order.

use core::marker::PhantomData;

use arrayvec::ArrayVec;

use crate::node::{NodePtr, NodeRef, Slots, MAX_HEIGHT};
use crate::{Entry, Range};

/// One node on the path, with the range it covers and the slot the path goes through.
struct Frame<T> {
    node: NodePtr<T>,
    min: u64,
    max: u64,
    slot: usize,
    /// Slots in use in `node`, kept so a step within a node reads nothing from it.
    len: usize,
}

/// A position at one range (empty or not) of a non-empty tree.
///
/// The cursor borrows nodes for `'a`; whoever makes one promises the nodes stay alive and
/// unchanged that long (an epoch guard, or the writer's access).
pub(crate) struct Cursor<'a, T> {
    path: ArrayVec<Frame<T>, MAX_HEIGHT>,
    _nodes: PhantomData<&'a T>,
}

impl<'a, T> Cursor<'a, T> {
    /// A cursor at the range holding `index`.
    ///
    /// # Safety
    /// `root` and every node below it stay alive and unchanged for `'a`.
    pub(crate) unsafe fn seek(root: NodePtr<T>, index: u64) -> Self {
        let mut cursor = Cursor { path: ArrayVec::new(), _nodes: PhantomData };
        cursor.descend(root, 0, u64::MAX, index);
        cursor
    }

    /// Walks down from `node` (covering `[min, max]`) to the leaf slot holding `target`
    /// clamped into that range: 0 walks to the first slot, `u64::MAX` to the last.
    fn descend(&mut self, mut node: NodePtr<T>, mut min: u64, mut max: u64, target: u64) {
        loop {
            let index = target.clamp(min, max);
            // SAFETY: the cursor's creator keeps every node reachable from the root alive.
            match unsafe { node.get::<'a>() } {
                NodeRef::Leaf(leaf) => {
                    let slot = leaf.slot_of(index);
                    self.path.push(Frame { node, min, max, slot, len: leaf.len() });
                    return;
                }
                NodeRef::Branch(branch) => {
                    let slot = branch.slot_of(index);
                    self.path.push(Frame { node, min, max, slot, len: branch.len() });
                    (min, max, node) = (branch.first_of(slot, min), branch.last_of(slot, max), branch.child(slot));
                }
            }
        }
    }

    /// The range under the cursor and its value.
    #[inline]
    pub(crate) fn entry(&self) -> Entry<'a, T> {
        let frame = self.path.last().expect("a cursor always has a leaf");
        // SAFETY: as in `descend`; the last frame is always a leaf.
        let NodeRef::Leaf(leaf) = (unsafe { frame.node.get::<'a>() }) else {
            unreachable!("cursor paths end at a leaf")
        };
        let range = Range { first: leaf.first_of(frame.slot, frame.min), last: leaf.last_of(frame.slot, frame.max) };
        Entry { range, value: leaf.value(frame.slot) }
    }

    /// Moves to the next range; `false` (and no move) at the end of the index space.
    #[inline]
    pub(crate) fn step_forward(&mut self) -> bool {
        let leaf = self.path.last_mut().expect("a cursor always has a leaf");
        if leaf.slot + 1 < leaf.len {
            leaf.slot += 1;
            return true;
        }
        self.cross_forward()
    }

    /// [`Cursor::step_forward`] out of the last slot of a leaf: up to the nearest ancestor
    /// with a slot to the right, and down its left edge.
    fn cross_forward(&mut self) -> bool {
        let Some(depth) = self.path.iter().rposition(|frame| frame.slot + 1 < frame.len) else {
            return false;
        };
        self.path.truncate(depth + 1);
        let frame = self.path.pop().expect("depth is in the path");
        let slot = frame.slot + 1;
        self.resume(frame, slot, 0);
        true
    }

    /// Moves to the previous range; `false` (and no move) at index 0.
    #[inline]
    pub(crate) fn step_back(&mut self) -> bool {
        let leaf = self.path.last_mut().expect("a cursor always has a leaf");
        if leaf.slot > 0 {
            leaf.slot -= 1;
            return true;
        }
        self.cross_back()
    }

    /// [`Cursor::step_back`] out of the first slot of a leaf.
    fn cross_back(&mut self) -> bool {
        let Some(depth) = self.path.iter().rposition(|frame| frame.slot > 0) else {
            return false;
        };
        self.path.truncate(depth + 1);
        let frame = self.path.pop().expect("depth is in the path");
        let slot = frame.slot - 1;
        self.resume(frame, slot, u64::MAX);
        true
    }

    /// Re-enters `frame`'s node at `slot` and walks down towards `target`.
    fn resume(&mut self, frame: Frame<T>, slot: usize, target: u64) {
        // SAFETY: as in `descend`.
        match unsafe { frame.node.get::<'a>() } {
            NodeRef::Leaf(_) => self.path.push(Frame { slot, ..frame }),
            NodeRef::Branch(branch) => {
                let (min, max) = (branch.first_of(slot, frame.min), branch.last_of(slot, frame.max));
                let child = branch.child(slot);
                self.path.push(Frame { slot, ..frame });
                self.descend(child, min, max, target);
            }
        }
    }
}
