//! A B-tree range map in the style of the Linux kernel's maple tree, with lock-free snapshot
//! reads and atomic multi-range write transactions.
//!
//! - Every `u64` index maps to one value or to nothing. Values are stored over inclusive
//!   ranges `[first, last]`; storing over a range overwrites and trims its neighbours;
//!   adjacent empty ranges are always one range.
//! - Nodes are 256 bytes (for pointer-sized values): leaves hold 16 slots, branches 10
//!   children with the largest empty run below each, so the lowest or highest free window
//!   of a size is found in O(log n) ([`View::lowest_gap`], [`View::highest_gap`]).
//! - Readers take a [`Snapshot`] (an epoch pin and one root load) and never lock or wait;
//!   everything they see through it is one committed state.
//! - A writer opens a [`Transaction`], makes any number of changes (copying only the nodes
//!   it touches), and commits them with one `Release` store of the new root. Replaced nodes
//!   and values are freed once no snapshot can reach them.
//!
//! ```
//! use maple::{Range, Tree};
//!
//! let tree = Tree::new();
//! let mut txn = tree.transaction();
//! for i in 0..100u64 {
//!     txn.insert(i * 0x10, i * 0x10 + 0x7, i).unwrap();
//! }
//! txn.commit();
//!
//! let snap = tree.snapshot();
//! assert_eq!(snap.get(0x123), Some(&0x12));
//! assert_eq!(snap.get(0x128), None);
//! let hole = snap.lowest_gap(Range::new(0, u64::MAX).unwrap(), 0x10).unwrap();
//! assert_eq!(hole.first, 0x638); // just past the last range, 99 * 0x10 + 0x7
//! snap.validate().unwrap();
//! ```

mod build;
mod cursor;
mod debug;
mod error;
mod iter;
mod node;
mod pool;
mod range;
mod reclaim;
mod search;
mod sync;
mod tree;
mod txn;
mod validate;
mod view;
mod write;

pub use error::Error;
pub use iter::{Iter, Ranges};
pub use pool::AllocHook;
pub use range::{Entry, Range};
pub use tree::{Snapshot, Tree};
pub use txn::{Savepoint, Transaction};
pub use validate::{Invalid, Shape};
pub use view::View;
