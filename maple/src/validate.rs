//! The validator: every structural invariant of the tree, checked node by node.

use core::fmt;

use crate::node::{NodePtr, NodeRef, Slots, BRANCH_MIN, BRANCH_SLOTS, LEAF_MIN, LEAF_SLOTS};
use crate::View;

/// A broken invariant, with where it was found: what [`View::validate`] reports.
///
/// A tree built through this crate's API is always valid; the validator exists so tests can
/// check that after every step.
///
/// ```
/// let tree = maple::Tree::<u8>::new();
/// let result: Result<maple::Shape, maple::Invalid> = tree.snapshot().validate();
/// assert!(result.is_ok());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid(pub String);

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid tree: {}", self.0)
    }
}

impl std::error::Error for Invalid {}

/// What a valid tree is made of, as counted by [`View::validate`].
///
/// ```
/// let mut tree = maple::Tree::new();
/// tree.store(0, 9, 7u64).unwrap();
/// let shape = tree.snapshot().validate().unwrap();
/// assert_eq!((shape.height, shape.leaves, shape.values, shape.empty_ranges), (1, 1, 1, 1));
/// assert_eq!(shape.node_bytes, 256); // one leaf of pointer-sized values
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shape {
    /// Levels of nodes (0 for a tree without nodes).
    pub height: usize,
    /// Leaf nodes.
    pub leaves: usize,
    /// Branch nodes.
    pub branches: usize,
    /// Ranges that hold a value.
    pub values: usize,
    /// Empty ranges stored in leaves.
    pub empty_ranges: usize,
    /// Bytes of node memory (leaves and branches; not what values point to).
    pub node_bytes: usize,
}

impl<T> View<'_, T> {
    /// Checks every structural invariant and counts the tree's nodes.
    ///
    /// Pivots strictly increase inside each node's range and unused pivots are `u64::MAX`;
    /// every node but the root has at least 6 (leaf) or 4 (branch) slots; the root is not a
    /// one-child branch nor a leaf that is one empty range; all leaves are at one depth; each
    /// branch's gap value for a child is exactly the largest empty run below it, and unused
    /// gap entries are zero; each branch's value count is the sum of its children's (so
    /// [`View::len`] is the number of values); no two empty ranges are adjacent, within a
    /// leaf or across two; a leaf ends in an empty range only at `u64::MAX`.
    ///
    /// ```
    /// let mut tree = maple::Tree::new();
    /// for i in 0..1000u64 {
    ///     tree.store(i * 2, i * 2, i).unwrap();
    /// }
    /// let shape = tree.snapshot().validate().unwrap();
    /// assert_eq!(shape.values, 1000);
    /// assert!(shape.height >= 3);
    /// ```
    pub fn validate(&self) -> Result<Shape, Invalid> {
        let mut check = Checker { shape: Shape::default(), leaf_depth: None, previous_tail_empty: false };
        if let Some(root) = self.root() {
            check.node(root, 0, u64::MAX, 0)?;
            check.shape.height = check.leaf_depth.map_or(0, |depth| depth + 1);
        }
        Ok(check.shape)
    }
}

struct Checker {
    shape: Shape,
    leaf_depth: Option<usize>,
    /// Whether the last slot of the previous leaf (in index order) was empty.
    previous_tail_empty: bool,
}

fn fail<R>(message: String) -> Result<R, Invalid> {
    Err(Invalid(message))
}

impl Checker {
    /// Checks the subtree of `node` over `[min, max]`; returns its largest empty run and the
    /// number of values in it.
    fn node<T>(&mut self, node: NodePtr<T>, min: u64, max: u64, depth: usize) -> Result<(u64, u64), Invalid> {
        // SAFETY: the validator only runs over a live view.
        match unsafe { node.get() } {
            NodeRef::Leaf(leaf) => {
                self.shape.leaves += 1;
                self.shape.node_bytes += core::mem::size_of_val(leaf);
                let len = leaf.len();
                let at = format!("leaf [{min:#x}, {max:#x}] at depth {depth}");
                check_len(len, LEAF_SLOTS, if depth == 0 { 1 } else { LEAF_MIN }, &at)?;
                check_pivots(&leaf.pivots()[..], len, min, max, &at)?;
                if (len..LEAF_SLOTS).any(|slot| leaf.is_occupied(slot)) {
                    return fail(format!("{at}: an unused slot holds a value"));
                }
                if (0..LEAF_SLOTS).any(|slot| leaf.is_borrowed(slot) && !leaf.is_occupied(slot)) {
                    return fail(format!("{at}: an empty slot is marked borrowed"));
                }
                if depth == 0 && len == 1 && leaf.value(0).is_none() {
                    return fail(format!("{at}: a root leaf that is one empty range"));
                }
                match self.leaf_depth {
                    Some(expected) if expected != depth => {
                        return fail(format!("{at}: leaves at depths {expected} and {depth}"))
                    }
                    _ => self.leaf_depth = Some(depth),
                }
                let mut values = 0;
                for slot in 0..len {
                    let empty = leaf.value(slot).is_none();
                    if empty && self.previous_tail_empty {
                        return fail(format!("{at}: slot {slot} is empty after an empty range"));
                    }
                    self.previous_tail_empty = empty;
                    if empty {
                        self.shape.empty_ranges += 1;
                    } else {
                        self.shape.values += 1;
                        values += 1;
                    }
                }
                if self.previous_tail_empty && max != u64::MAX {
                    return fail(format!("{at}: ends in an empty range below u64::MAX"));
                }
                Ok((leaf.largest_gap(min, max), values))
            }
            NodeRef::Branch(branch) => {
                self.shape.branches += 1;
                self.shape.node_bytes += core::mem::size_of_val(branch);
                let len = branch.len();
                let at = format!("branch [{min:#x}, {max:#x}] at depth {depth}");
                check_len(len, BRANCH_SLOTS, if depth == 0 { 2 } else { BRANCH_MIN }, &at)?;
                check_pivots(&branch.pivots()[..], len, min, max, &at)?;
                if branch.gaps()[len..].iter().any(|&gap| gap != 0) {
                    return fail(format!("{at}: an unused gap entry is not zero"));
                }
                let (mut largest, mut values) = (0, 0);
                for slot in 0..len {
                    let (gap, below) = self.node(
                        branch.child(slot),
                        branch.first_of(slot, min),
                        branch.last_of(slot, max),
                        depth + 1,
                    )?;
                    if branch.gap(slot) != gap {
                        return fail(format!(
                            "{at}: child {slot} has gap {gap:#x}, the branch says {:#x}",
                            branch.gap(slot)
                        ));
                    }
                    if branch.child(slot).is_fresh() != branch.is_fresh_child(slot) {
                        return fail(format!("{at}: child {slot}'s fresh mark disagrees with the child"));
                    }
                    largest = largest.max(gap);
                    values += below;
                }
                if branch.count() != values {
                    return fail(format!("{at}: {values} values below, the branch counts {}", branch.count()));
                }
                Ok((largest, values))
            }
        }
    }
}

fn check_len(len: usize, capacity: usize, fewest: usize, at: &str) -> Result<(), Invalid> {
    if len < fewest || len > capacity {
        return fail(format!("{at}: {len} slots used, allowed {fewest} to {capacity}"));
    }
    Ok(())
}

/// Pivot `i` ends slot `i`: strictly increasing from `min`, below `max` (the last slot ends
/// there), and `u64::MAX` where unused.
fn check_pivots(pivots: &[u64], len: usize, min: u64, max: u64, at: &str) -> Result<(), Invalid> {
    let mut first = min;
    for (slot, &pivot) in pivots[..len - 1].iter().enumerate() {
        if pivot < first || pivot >= max {
            return fail(format!("{at}: pivot {slot} = {pivot:#x} outside [{first:#x}, {max:#x})"));
        }
        first = pivot + 1;
    }
    if pivots[len - 1..].iter().any(|&pivot| pivot != u64::MAX) {
        return fail(format!("{at}: an unused pivot is not u64::MAX"));
    }
    Ok(())
}
