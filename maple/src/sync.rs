//! The one place the tree's concurrency primitives come from.
//!
//! Normal builds use std atomics, `parking_lot` and crossbeam-epoch; `--cfg loom` builds use
//! loom's, so the model checker sees every atomic access the publication protocol makes.
//! Nothing outside this module names `std::sync::atomic`, `parking_lot` or `loom` directly.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicPtr, Ordering};
#[cfg(loom)]
pub(crate) use loom::sync::Arc;
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicPtr, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::Arc;

/// The ordering of the store that publishes a new root.
///
/// `Release` makes every write to the nodes of the new tree happen before any reader that
/// loads the root with [`OBSERVE`]. The `maple_canary` build plants the classic bug on purpose
/// (a `Relaxed` publication) so the loom models can prove they would catch it.
#[cfg(not(maple_canary))]
pub(crate) const PUBLISH: Ordering = Ordering::Release;
#[cfg(maple_canary)]
pub(crate) const PUBLISH: Ordering = Ordering::Relaxed;

/// The ordering of a reader's root load, pairing with [`PUBLISH`].
pub(crate) const OBSERVE: Ordering = Ordering::Acquire;

/// Reads an atomic pointer through exclusive access (no other thread can see it).
pub(crate) fn load_exclusive<P>(atomic: &mut AtomicPtr<P>) -> *mut P {
    #[cfg(not(loom))]
    {
        *atomic.get_mut()
    }
    #[cfg(loom)]
    {
        atomic.with_mut(|p| *p)
    }
}

/// Writes an atomic pointer through exclusive access.
pub(crate) fn store_exclusive<P>(atomic: &mut AtomicPtr<P>, value: *mut P) {
    #[cfg(not(loom))]
    {
        *atomic.get_mut() = value;
    }
    #[cfg(loom)]
    {
        atomic.with_mut(|p| *p = value);
    }
}

/// The writers' mutex: one writer at a time per tree.
#[cfg(not(loom))]
pub(crate) type Mutex<T> = parking_lot::Mutex<T>;
/// A held writer lock.
#[cfg(not(loom))]
pub(crate) type MutexGuard<'a, T> = parking_lot::MutexGuard<'a, T>;

#[cfg(loom)]
pub(crate) use loom_mutex::{Mutex, MutexGuard};

#[cfg(loom)]
mod loom_mutex {
    /// loom's mutex with `parking_lot`'s shape (no poisoning in the signatures).
    #[derive(Debug)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);
    pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Self(loom::sync::Mutex::new(value))
        }
        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
        }
        pub(crate) fn get_mut(&mut self) -> &mut T {
            self.0.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner())
        }
    }
}

/// A witness of who last wrote a node, for the model checker.
///
/// In normal builds it is zero-sized and free. Under loom it is a tracked cell: the writer
/// marks every node it fills ([`Witness::wrote`]) and readers mark every node they visit
/// ([`Witness::saw`]); loom reports a causality violation when a reader reaches a node whose
/// last write does not happen before the visit, which is exactly a broken publication.
#[derive(Debug, Default)]
pub(crate) struct Witness {
    #[cfg(loom)]
    cell: loom::cell::UnsafeCell<()>,
}

impl Witness {
    /// Records a write to the node that owns this witness.
    #[inline(always)]
    pub(crate) fn wrote(&self) {
        #[cfg(loom)]
        self.cell.with_mut(|_| ());
    }

    /// Records a read of the node that owns this witness.
    #[inline(always)]
    pub(crate) fn saw(&self) {
        #[cfg(loom)]
        self.cell.with(|_| ());
    }
}
