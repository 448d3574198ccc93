//! `Debug` output that shows the node structure.

use core::fmt::{self, Debug, Formatter};

use crate::node::{NodePtr, NodeRef, Slots};

/// Writes the tree below `root`, one node a line, children indented under their parent.
pub(crate) fn write_tree<T: Debug>(f: &mut Formatter<'_>, root: Option<NodePtr<T>>) -> fmt::Result {
    match root {
        None => writeln!(f, "(empty) [0x0, {:#x}]", u64::MAX),
        Some(root) => write_node(f, root, 0, u64::MAX, 0),
    }
}

fn write_node<T: Debug>(f: &mut Formatter<'_>, node: NodePtr<T>, min: u64, max: u64, depth: usize) -> fmt::Result {
    let indent = depth * 2;
    // SAFETY: called on the nodes of a live view.
    match unsafe { node.get() } {
        NodeRef::Leaf(leaf) => {
            writeln!(f, "{:indent$}leaf [{min:#x}, {max:#x}] {} slots", "", leaf.len())?;
            for slot in 0..leaf.len() {
                let (first, last) = (leaf.first_of(slot, min), leaf.last_of(slot, max));
                match leaf.value(slot) {
                    Some(value) => writeln!(f, "{:indent$}  [{first:#x}, {last:#x}] {value:?}", "")?,
                    None => writeln!(f, "{:indent$}  [{first:#x}, {last:#x}] empty", "")?,
                }
            }
            Ok(())
        }
        NodeRef::Branch(branch) => {
            writeln!(
                f,
                "{:indent$}branch [{min:#x}, {max:#x}] {} children, {} values, gaps {:?}",
                "",
                branch.len(),
                branch.count(),
                &branch.gaps()[..branch.len()]
            )?;
            for slot in 0..branch.len() {
                write_node(f, branch.child(slot), branch.first_of(slot, min), branch.last_of(slot, max), depth + 1)?;
            }
            Ok(())
        }
    }
}
