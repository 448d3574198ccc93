//! A process address space with Linux semantics, on the [`vma`] merge engine.
//!
//! [`Mm`] mirrors the memory-management system calls of Linux 6.18: [`Mm::mmap`],
//! [`Mm::munmap`], [`Mm::mprotect`], [`Mm::madvise`], [`Mm::mlock`] / [`Mm::mlock2`] /
//! [`Mm::munlock`], [`Mm::mseal`], [`Mm::brk`], [`Mm::mremap`], [`Mm::fork`] and page
//! faults ([`Mm::fault`]), with the kernel's errno values ([`Errno`]), its limits
//! ([`Limits`], changed at run time by [`Mm::setrlimit`]) and layout ([`Layout`]), and
//! `/proc/self/maps` output ([`Mm::maps`]).
//! Writers are serialised by one lock; readers take lock-free snapshots ([`Mm::snapshot`])
//! that always show whole VMA-tree commits.
//!
//! What is modelled: areas, their flags, files, anon_vmas, guard markers, the heap. What
//! is not: page tables and page contents (a fault changes only what the layout can
//! show: anon_vmas and stack expansion).
//!
//! ```
//! use mm::{Access, MapFlags, Mm, Prot};
//! let mm = Mm::new();
//! let rw = Prot::READ | Prot::WRITE;
//! let anon = MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::FIXED;
//! mm.mmap(0x10_0000, 0x4000, rw, anon, None, 0).unwrap();
//! mm.mmap(0x10_4000, 0x4000, rw, anon, None, 0).unwrap();
//! assert_eq!(mm.snapshot().map_count(), 1); // merged
//! mm.fault(0x10_0000, Access::Write).unwrap(); // the area gets an anon_vma
//! mm.mprotect(0x10_2000, 0x1000, Prot::READ).unwrap();
//! assert_eq!(mm.snapshot().map_count(), 3);
//! ```

mod args;
mod brk;
mod errno;
mod fault;
mod file;
mod fork;
mod install;
mod layout;
mod madvise;
mod maps;
mod mlock;
mod mm;
mod mmap;
mod mprotect;
mod mremap;
mod observe;
mod placement;
mod request;
mod rlimit;

pub use args::{Access, Advice, MapFlags, MlockFlags, MlockallFlags, MremapFlags, MsealFlags, Prot};
pub use errno::{Errno, Signal};
pub use fault::{Backing, Fault};
pub use file::OpenFile;
pub use layout::{HardLimits, Layout, Limits};
pub use maps::vm_flags_line;
pub use mm::{Mm, MmSnapshot};
pub use observe::{Change, ChangeLog, Move, Observer};
pub use request::MapRequest;
pub use rlimit::{Resource, Rlimit, RLIM_INFINITY};
