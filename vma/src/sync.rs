//! The one place this crate's atomics come from: std normally, loom under `cfg(loom)`, as in
//! `maple`, so a model checker sees every atomic the engine shares between threads.
//!
//! Identity counters (`VmaId`, file and anon_vma identities) are the exception: they are
//! process-wide statics that only hand out unique numbers and order nothing, and loom cannot
//! hold atomics in statics, so [`next_identity`] uses std's in both builds.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicUsize, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicUsize, Ordering};

/// A process-wide source of unique identities.
pub(crate) struct IdentitySource(std::sync::atomic::AtomicU64);

impl IdentitySource {
    /// A source whose first identity is 1.
    pub(crate) const fn new() -> Self {
        IdentitySource(std::sync::atomic::AtomicU64::new(1))
    }
}

/// The next unused identity from `source` (never 0, never repeated).
pub(crate) fn next_identity(source: &IdentitySource) -> u64 {
    source.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}
