//! The loop the performance issue names: `mmap` of 4 anonymous pages, `mprotect` of one of them,
//! `munmap` of all 4, with 2000 other areas present, on the `mm` engine and on the real
//! kernel (the same system calls in this process). Throughput counts calls, so criterion's
//! time per element is per call.
//!
//! Both sides start from 2000 one-page anonymous mappings placed by the kernel's (or the
//! engine's) top-down search with alternating protections, so that none merge: 2000 areas
//! beside the process's own. The loop's mapping lands below them, as on Linux.
//!
//! The `fork` group compares `Mm::fork` of a 1000-area address space with building that
//! address space by 1000 mmaps (the child and the built engine are dropped outside the
//! measurement).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mm::{MapFlags, Mm, Prot};

const AREAS: usize = 2000;
const PAGE: u64 = 4096;

fn protection(i: usize) -> Prot {
    if i % 2 == 0 {
        Prot::READ
    } else {
        Prot::READ | Prot::WRITE
    }
}

fn anon() -> MapFlags {
    MapFlags::PRIVATE | MapFlags::ANONYMOUS
}

/// An engine with `areas` separate one-page areas.
fn engine_with(areas: usize) -> Mm {
    let mm = Mm::new();
    for i in 0..areas {
        mm.mmap(0, PAGE, protection(i), anon(), None, 0).expect("room for the areas");
    }
    assert_eq!(mm.snapshot().map_count(), areas, "the areas stay apart");
    mm
}

fn engine() -> Mm {
    engine_with(AREAS)
}

/// One round on the engine: three calls.
fn engine_round(mm: &Mm) {
    let addr = mm.mmap(0, 4 * PAGE, Prot::READ | Prot::WRITE, anon(), None, 0).expect("mmap");
    mm.mprotect(addr + PAGE, PAGE, Prot::READ).expect("mprotect");
    mm.munmap(addr, 4 * PAGE).expect("munmap");
    black_box(addr);
}

/// An observer told of every change, doing nothing with it.
struct Noop;
impl mm::Observer for Noop {}

#[cfg(target_os = "linux")]
mod kernel {
    use super::{protection, AREAS, PAGE};
    use mm::Prot;

    fn prot_bits(prot: Prot) -> i32 {
        let mut bits = libc::PROT_READ;
        if prot.contains(Prot::WRITE) {
            bits |= libc::PROT_WRITE;
        }
        bits
    }

    fn map(len: u64, prot: i32) -> *mut libc::c_void {
        // SAFETY: an anonymous private mapping at an address the kernel picks touches no
        // existing memory.
        let addr = unsafe {
            libc::mmap(core::ptr::null_mut(), len as usize, prot, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0)
        };
        assert_ne!(addr, libc::MAP_FAILED, "mmap: {}", std::io::Error::last_os_error());
        addr
    }

    /// `AREAS` one-page mappings in this process, unmapped when dropped.
    pub(super) struct Areas(Vec<*mut libc::c_void>);

    impl Areas {
        pub(super) fn new() -> Self {
            Areas((0..AREAS).map(|i| map(PAGE, prot_bits(protection(i)))).collect())
        }
    }

    impl Drop for Areas {
        fn drop(&mut self) {
            for &addr in &self.0 {
                // SAFETY: each page was mapped by `Areas::new` and nothing else uses it.
                unsafe { libc::munmap(addr, PAGE as usize) };
            }
        }
    }

    /// One round of real system calls.
    pub(super) fn round() {
        let addr = map(4 * PAGE, libc::PROT_READ | libc::PROT_WRITE);
        // SAFETY: the pages were just mapped by this round and nothing else uses them.
        unsafe {
            let second = addr.cast::<u8>().add(PAGE as usize).cast();
            assert_eq!(libc::mprotect(second, PAGE as usize, libc::PROT_READ), 0);
            assert_eq!(libc::munmap(addr, 4 * PAGE as usize), 0);
        }
    }
}

fn syscalls(c: &mut Criterion) {
    let mut group = c.benchmark_group("syscalls");
    group.throughput(Throughput::Elements(3));
    let mm = engine();
    group.bench_function("engine", |b| b.iter(|| engine_round(&mm)));
    let observed = engine();
    observed.observe(std::sync::Arc::new(Noop));
    group.bench_function("engine+noop-observer", |b| b.iter(|| engine_round(&observed)));
    #[cfg(target_os = "linux")]
    {
        let areas = kernel::Areas::new();
        group.bench_function("kernel", |b| b.iter(kernel::round));
        drop(areas);
    }
    group.finish();
}

/// Areas of the fork comparison.
const FORKED: usize = 1000;

fn fork(c: &mut Criterion) {
    let mut group = c.benchmark_group("fork");
    group.throughput(Throughput::Elements(FORKED as u64));
    group.bench_function("build-by-mmap", |b| b.iter_with_large_drop(|| engine_with(FORKED)));
    let parent = engine_with(FORKED);
    group.bench_function("fork", |b| b.iter_with_large_drop(|| parent.fork().expect("fork")));
    group.finish();
}

criterion_group!(benches, syscalls, fork);
criterion_main!(benches);
