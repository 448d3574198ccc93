//! maple-mm: an address-space engine that manages virtual memory the way Linux does.
//!
//! The crates, re-exported here:
//! - [`maple`]: the range tree with lock-free snapshot reads;
//! - [`vma`]: virtual memory areas and the merge engine;
//! - [`mm`]: the address space.
//!
//! [`script`] reads op scripts and their output format and [`engine`] runs them; [`kernel`]
//! performs a script with real system calls; [`gen`] writes random scripts for differential
//! fuzzing. [`trace`] reads strace logs of real programs and [`replay`] replays them against
//! what Linux did. [`explain`] tells what each op did and counts the merge story; [`report`]
//! draws an address space's history as an HTML page.

pub use maple;
pub use mm;
pub use vma;

pub mod engine;
pub mod explain;
pub mod gen;
pub mod kernel;
pub mod replay;
pub mod report;
pub mod script;
pub mod trace;

/// `1 area`, `2 areas`: a count and its noun, for output text.
pub(crate) fn count(how_many: usize, thing: &str) -> String {
    format!("{how_many} {thing}{}", if how_many == 1 { "" } else { "s" })
}
