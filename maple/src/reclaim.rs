//! Deferred freeing of replaced nodes: epoch-based in normal builds, kept until the tree
//! drops under loom (so the models explore the publication protocol, not crossbeam's).

use crate::node::{NodePtr, NodeRef};
use crate::pool::Returns;
use crate::sync::Arc;

/// A published node that a transaction replaced.
pub(crate) enum Retired<T> {
    /// The node alone: its children (if any) live on in the new tree; a leaf's values go
    /// with it (the new tree holds clones).
    Node(NodePtr<T>),
    /// The node and everything below it.
    Subtree(NodePtr<T>),
}

/// Everything one commit replaced, freed together once no reader can reach it. The node
/// memory goes back to the tree's pool (`home`) for later writes, as a slab cache would.
pub(crate) struct Batch<T> {
    pub(crate) nodes: Vec<Retired<T>>,
    pub(crate) home: Arc<Returns<T>>,
}

// SAFETY: a batch owns unreachable nodes and the values in them; freeing them on another
// thread is fine when the values may be sent and shared.
unsafe impl<T: Send + Sync> Send for Batch<T> {}

impl<T> Drop for Batch<T> {
    fn drop(&mut self) {
        for retired in self.nodes.drain(..) {
            // SAFETY: a batch is dropped only after no reader can reach its nodes (the epoch
            // has moved on, or the tree itself is gone), and each node was retired once.
            unsafe {
                match retired {
                    Retired::Node(node) => self.home.give_back(node),
                    Retired::Subtree(node) => give_back_subtree(&self.home, node),
                }
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
        home.give_back(node);
    }
}

#[cfg(not(loom))]
pub(crate) use epoch::{Guard, Reclaimer};

#[cfg(not(loom))]
mod epoch {
    use super::Batch;

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

        /// Frees `batch` once every guard pinned now has dropped.
        pub(crate) fn retire<T: Send + Sync + 'static>(&self, batch: Batch<T>, _graveyard: &mut Graveyard<T>) {
            if batch.nodes.is_empty() {
                return;
            }
            let guard = self.pin();
            guard.0.defer(move || drop(batch));
            // Hand the batch to the global queue now, so it is freed (and its nodes come back
            // to the pool) as soon as the epoch allows rather than when this thread's bag fills.
            guard.0.flush();
        }
    }

    /// Unused outside loom: the collector keeps the garbage.
    pub(crate) struct Graveyard<T>(core::marker::PhantomData<T>);

    impl<T> Graveyard<T> {
        pub(crate) fn new() -> Self {
            Graveyard(core::marker::PhantomData)
        }
    }
}

#[cfg(not(loom))]
pub(crate) use epoch::Graveyard;

#[cfg(loom)]
pub(crate) use model::{Graveyard, Guard, Reclaimer};

#[cfg(loom)]
mod model {
    use super::Batch;

    /// Under loom nothing is freed while the tree lives, so a guard has nothing to hold.
    pub(crate) struct Guard;

    #[derive(Debug, Default)]
    pub(crate) struct Reclaimer;

    impl Reclaimer {
        pub(crate) fn pin(&self) -> Guard {
            Guard
        }

        pub(crate) fn retire<T: Send + Sync + 'static>(&self, batch: Batch<T>, graveyard: &mut Graveyard<T>) {
            graveyard.0.push(batch);
        }
    }

    /// Every batch retired during a model run, freed when the tree drops.
    pub(crate) struct Graveyard<T>(Vec<Batch<T>>);

    impl<T> Graveyard<T> {
        pub(crate) fn new() -> Self {
            Graveyard(Vec::new())
        }
    }
}
