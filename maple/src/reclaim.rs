//! Deferred freeing of replaced nodes: epoch-based in normal builds, kept until the tree
//! drops under loom (so the models explore the publication protocol, not crossbeam's).

use crate::node::{Kind, NodePtr, NodeRef};
use crate::pool::Returns;
use crate::sync::Arc;

/// A published node that a transaction replaced.
pub(crate) enum Retired<T> {
    /// The node alone, of the kind given (so that taking it back need not read it): its
    /// children (if any) live on in the new tree; a leaf's values go with it (the new tree
    /// holds clones).
    Node(NodePtr<T>, Kind),
    /// A leaf whose values all live on in the new tree, moved bitwise (see
    /// [`Leaf::borrow_from`](crate::node::Leaf::borrow_from)): only its memory is freed.
    Shell(NodePtr<T>),
    /// The node and everything below it.
    Subtree(NodePtr<T>),
}

// SAFETY: a list of retired nodes lives in the writer's state, filled by an open transaction
// (which holds the writer lock's guard and so cannot leave its thread) and emptied before the
// lock is released, or inside a `Retiring`, which asks for `T: Send + Sync` itself. Moving the
// writer's state to another thread therefore never moves a retired node that readers share.
unsafe impl<T: Send> Send for Retired<T> {}

/// A replaced node on its way back to its tree's pool (`home`), once no reader can reach it.
/// The node memory is reused by later writes, as a slab cache would.
///
/// Small enough (three words) for the epoch collector to keep inline in its per-thread bag:
/// retiring a node allocates nothing.
pub(crate) struct Retiring<T> {
    pub(crate) node: Retired<T>,
    pub(crate) home: Arc<Returns<T>>,
}

// SAFETY: a retiring node is unreachable and owned here with the values in it; freeing it on
// another thread is fine when the values may be sent and shared.
unsafe impl<T: Send + Sync> Send for Retiring<T> {}

impl<T> Drop for Retiring<T> {
    fn drop(&mut self) {
        // SAFETY: dropped only after no reader can reach the node (the epoch has moved on, or
        // the tree itself is gone), and each node is retired once.
        unsafe {
            match self.node {
                Retired::Node(node, kind) => self.home.give_back(node, kind, true),
                Retired::Shell(node) => self.home.give_back(node, Kind::Leaf, false),
                Retired::Subtree(node) => give_back_subtree(&self.home, node),
            }
        }
    }
}

/// Gives back a node and everything below it, children first.
///
/// # Safety
/// Nobody can reach any node of the subtree any more.
unsafe fn give_back_subtree<T>(home: &Returns<T>, node: NodePtr<T>) {
    // SAFETY: the caller owns the whole subtree.
    unsafe {
        if let NodeRef::Branch(branch) = node.get() {
            for child in branch.children() {
                give_back_subtree(home, child);
            }
        }
        home.give_back(node, node.kind(), true);
    }
}

#[cfg(not(loom))]
pub(crate) use epoch::{Guard, Reclaimer};

#[cfg(not(loom))]
mod epoch {
    use core::mem::ManuallyDrop;

    use super::{Retired, Retiring, Returns};
    use crate::sync::Arc;

    /// A pinned epoch: nodes reachable when it was taken stay alive until it drops.
    pub(crate) struct Guard(#[allow(dead_code)] crossbeam_epoch::Guard);

    /// The epoch collector a tree retires its garbage to.
    #[derive(Debug, Default)]
    pub(crate) struct Reclaimer {
        /// `None`: crossbeam's global collector.
        collector: Option<crossbeam_epoch::Collector>,
    }

    impl Reclaimer {
        pub(crate) fn with_collector(collector: crossbeam_epoch::Collector) -> Self {
            Reclaimer { collector: Some(collector) }
        }

        pub(crate) fn pin(&self) -> Guard {
            Guard(match &self.collector {
                None => crossbeam_epoch::pin(),
                Some(collector) => collector.register().pin(),
            })
        }

        /// Frees each of `nodes` and drops each of `values` (emptying the lists) once every
        /// guard pinned now has dropped. The nodes join this thread's epoch bag; every `FLUSH_EVERY` nodes the bag
        /// goes to the collector's queue and the collector runs, so retired nodes come back
        /// to the pool while their memory is still warm, without paying for a queue push
        /// (a 2 KiB bag copied into a new allocation) on every commit.
        pub(crate) fn retire<T: Send + Sync + 'static>(
            &self,
            nodes: &mut Vec<Retired<T>>,
            values: &mut Vec<ManuallyDrop<T>>,
            home: &Arc<Returns<T>>,
            graveyard: &mut Graveyard<T>,
        ) {
            if nodes.is_empty() && values.is_empty() {
                return;
            }
            let guard = self.pin();
            graveyard.since_flush += nodes.len() + values.len();
            for node in nodes.drain(..) {
                let retiring = Retiring { node, home: Arc::clone(home) };
                guard.0.defer(move || drop(retiring));
            }
            for value in values.drain(..) {
                let value = ManuallyDrop::into_inner(value);
                guard.0.defer(move || drop(value));
            }
            if graveyard.since_flush >= FLUSH_EVERY {
                graveyard.since_flush = 0;
                guard.0.flush();
            }
        }
    }

    /// Nodes retired between two flushes of the epoch bag.
    const FLUSH_EVERY: usize = 32;

    /// Outside loom the collector keeps the garbage; this counts what it was given since the
    /// last flush.
    pub(crate) struct Graveyard<T> {
        since_flush: usize,
        _values: core::marker::PhantomData<T>,
    }

    impl<T> Graveyard<T> {
        pub(crate) fn new() -> Self {
            Graveyard { since_flush: 0, _values: core::marker::PhantomData }
        }
    }
}

#[cfg(not(loom))]
pub(crate) use epoch::Graveyard;

#[cfg(loom)]
pub(crate) use model::{Graveyard, Guard, Reclaimer};

#[cfg(loom)]
mod model {
    use core::mem::ManuallyDrop;

    use super::{Retired, Retiring, Returns};
    use crate::sync::Arc;

    /// Under loom nothing is freed while the tree lives, so a guard has nothing to hold.
    pub(crate) struct Guard;

    #[derive(Debug, Default)]
    pub(crate) struct Reclaimer;

    impl Reclaimer {
        pub(crate) fn pin(&self) -> Guard {
            Guard
        }

        pub(crate) fn retire<T: Send + Sync + 'static>(
            &self,
            nodes: &mut Vec<Retired<T>>,
            values: &mut Vec<ManuallyDrop<T>>,
            home: &Arc<Returns<T>>,
            graveyard: &mut Graveyard<T>,
        ) {
            graveyard.nodes.extend(nodes.drain(..).map(|node| Retiring { node, home: Arc::clone(home) }));
            graveyard.values.extend(values.drain(..).map(ManuallyDrop::into_inner));
        }
    }

    /// Every node and value retired during a model run, freed when the tree drops.
    pub(crate) struct Graveyard<T> {
        nodes: Vec<Retiring<T>>,
        values: Vec<T>,
    }

    impl<T> Graveyard<T> {
        pub(crate) fn new() -> Self {
            Graveyard { nodes: Vec::new(), values: Vec::new() }
        }
    }
}
