//! The host mirror: a real window of this process kept equal to the window of an [`mm::Mm`]
//! using only the engine's change notifications, and the check that it is (see
//! docs/host_mirror.md).
//!
//! [`HostMirror`](mirror::HostMirror) is an [`mm::Observer`]. It reserves a window of its own process as large
//! as the script's window and, on every [`mm::Change`], makes the host follow with real
//! system calls: `mremap` for the moves, `mmap(MAP_FIXED)` for new mappings and for holes,
//! `mprotect` where a page stays backed the same way (so its contents stay, as a real
//! runtime needs), `madvise(MADV_REMOVE)` for punched ranges and `madvise(MADV_DONTNEED)`
//! for the other discarded ranges, and `madvise(MADV_GUARD_INSTALL / MADV_GUARD_REMOVE)`
//! for guard markers.
//!
//! [`run`] replays generated scripts on the engine with a mirror attached and, after every
//! op, compares `/proc/self/smaps` and `/proc/self/pagemap` for the host window with the
//! engine's areas page by page.
//!
//! The module root of `examples/host_mirror/`, included with `#[path]` by the example
//! (`examples/host_mirror.rs`) and the test (`tests/host_mirror.rs`):
//!
//! - `host.rs`: raw host system calls and constants (memfd, descriptors, errno text);
//! - `mirror.rs`: the observer, and how each change becomes host calls, with its submodule
//!   `reconcile.rs`: making a run of host pages what the engine's areas ask (mmap, mprotect,
//!   guard markers);
//! - `compare.rs`: reading `/proc/self/smaps` and `/proc/self/pagemap`, the per-page check;
//! - `run.rs`: the runner over scripts, and its totals.
//!
//! Everything here is for Linux on x86_64 with 4 KiB pages (6.15 or later for guard markers
//! on file mappings and in pagemap).

mod compare;
mod host;
mod mirror;
mod run;

// The example uses `run` only, the test all three.
#[allow(unused_imports)]
pub use run::{check_script, run, Totals};
