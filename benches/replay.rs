//! Replaying op scripts: the engine (`maple_mm::engine::run`) against the real kernel doing the
//! same script in a window of this process (`maple_mm::kernel::run`), in operations per
//! second (criterion reports elements/s; each script is parsed beforehand).
//!
//! Two workloads:
//! - `random`: 20 scripts of the differential fuzzer (every op of the format, windows of 64
//!   to 128 pages);
//! - `trace-mix`: what the recorded strace logs do at the start of a program (python, gcc,
//!   cargo, sqlite3, as strace logs of them show): a loader mapping shared libraries (a read-only
//!   map of the file, then fixed text, read-only and data parts over it, an anonymous bss,
//!   a write to the data part and an mprotect of its RELRO part), then an allocator's
//!   anonymous mappings: grown with mremap, some unmapped, some touched.
//!
//! And `strace`: the five real programs of `tests/traces/` replayed from their logs
//! (`maple_mm::replay`): building the initial layout from smaps and every memory call, in
//! memory calls per second (the logs are parsed beforehand).
//!
//! Both sides build the whole window's state and report it, so the kernel side also pays for a
//! fork and for reading `/proc/self/smaps` once per script: the ratio is per script, not per
//! call. `kernel-in-place` (trace-mix only: its scripts seal nothing, so they leave nothing
//! behind) runs the scripts in this process, without the fork.

use std::fmt::Write;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use maple_mm::gen::{random_script, GenConfig, Rng};
use maple_mm::script::{parse, Script};

fn random_scripts() -> Vec<Script> {
    (1..=20).map(|seed| parse(&random_script(seed, &GenConfig::default())).expect("generated scripts parse")).collect()
}

/// A loader and allocator script: `libs` libraries, then `allocs` anonymous mappings.
fn trace_mix(seed: u64, libs: u64, allocs: u64) -> String {
    let mut rng = Rng::new(seed);
    let window = 4096;
    let mut text = format!("window {window}\n");
    let mut page = 0;
    for lib in 1..=libs {
        // [ r ][ r-x text ][ r ][ rw data (relro + data) ][ bss ]
        let (head, code, rodata, data, bss) =
            (rng.between(1, 4), rng.between(8, 40), rng.between(4, 16), rng.between(2, 6), rng.between(1, 4));
        let file_pages = head + code + rodata + data;
        let _ = writeln!(text, "file {lib} {file_pages}");
        let _ = writeln!(text, "mmap {page} {} r file_private:{lib}:0", file_pages + bss);
        let _ = writeln!(text, "mmap {} {code} rx file_private:{lib}:{head} ro", page + head);
        let data_at = page + head + code + rodata;
        let _ = writeln!(text, "mmap {data_at} {data} rw file_private:{lib}:{}", head + code + rodata);
        let _ = writeln!(text, "mmap {} {bss} rw anon_private", data_at + data);
        let _ = writeln!(text, "touch {data_at} {data}");
        let _ = writeln!(text, "mprotect {data_at} 1 r");
        page += file_pages + bss + 1;
    }
    for _ in 0..allocs {
        let len = rng.between(1, 32);
        if page + len * 2 >= window {
            break;
        }
        let _ = writeln!(text, "mmap {page} {len} rw anon_private");
        let _ = writeln!(text, "touch {page} {}", len.min(4));
        if rng.chance(30) {
            let _ = writeln!(text, "mremap {page} {len} {}", len * 2);
            page += len;
        } else if rng.chance(30) {
            let _ = writeln!(text, "munmap {page} {len}");
        }
        page += len + rng.below(2);
    }
    text
}

fn trace_scripts() -> Vec<Script> {
    (1..=4).map(|seed| parse(&trace_mix(seed, 12, 60)).expect("trace mixes parse")).collect()
}

fn bench(c: &mut Criterion, name: &str, scripts: &[Script], in_place: bool) {
    let ops: usize = scripts.iter().map(|s| s.ops.len()).sum();
    let mut group = c.benchmark_group(format!("replay/{name}"));
    group.throughput(Throughput::Elements(ops as u64));
    group.sample_size(20);
    group.bench_function("engine", |b| {
        b.iter(|| {
            for script in scripts {
                black_box(maple_mm::engine::run(script).unwrap());
            }
        })
    });
    // The calls alone (no final report), without and with an observer that does nothing: the
    // cost of computing each call's change and telling it.
    for observed in [false, true] {
        let name = if observed { "engine-calls+noop-observer" } else { "engine-calls" };
        group.bench_function(name, |b| b.iter(|| replay_calls(scripts, observed)));
    }
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    group.bench_function("kernel", |b| {
        b.iter(|| {
            for script in scripts {
                black_box(maple_mm::kernel::run(script).expect("the kernel runner works here"));
            }
        })
    });
    // Without the fork per script: only for scripts that leave nothing behind (no mseal).
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    if in_place {
        group.bench_function("kernel-in-place", |b| {
            b.iter(|| {
                for script in scripts {
                    black_box(maple_mm::kernel::run_in_place(script).expect("the kernel runner works here"));
                }
            })
        });
    }
    group.finish();
}

/// An observer that is told every change and does nothing with it.
struct Noop;
impl mm::Observer for Noop {}

/// Every op of every script on a fresh engine, with a no-op observer when `observed`.
fn replay_calls(scripts: &[Script], observed: bool) {
    for script in scripts {
        let replay = maple_mm::engine::Replay::new(script).expect("within limits");
        if observed {
            replay.mm().observe(std::sync::Arc::new(Noop));
        }
        for op in &script.ops {
            black_box(replay.apply(op));
        }
    }
}

/// The five real programs: each log with its initial areas.
fn real_programs() -> Vec<(maple_mm::trace::Trace, Vec<maple_mm::trace::MapsArea>)> {
    ["py_threads", "py_mmap", "perl", "git", "cc1"]
        .iter()
        .map(|name| {
            let read = |ext: &str| {
                let path = format!("{}/tests/traces/{name}.{ext}", env!("CARGO_MANIFEST_DIR"));
                std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
            };
            let log = maple_mm::trace::parse(&read("strace")).expect("a bundled log reads");
            let areas = maple_mm::trace::parse_maps(&read("initial.smaps")).expect("a bundled smaps reads");
            (log, areas)
        })
        .collect()
}

fn strace(c: &mut Criterion) {
    use maple_mm::replay::{build, run, Faults};
    use maple_mm::trace::Action;
    let programs = real_programs();
    let calls = programs
        .iter()
        .flat_map(|(log, _)| &log.events)
        .filter(|event| matches!(event.action, Action::Memory { .. }))
        .count();
    let mut group = c.benchmark_group("replay/strace");
    group.throughput(Throughput::Elements(calls as u64));
    group.bench_function("engine", |b| {
        b.iter(|| {
            for (log, areas) in &programs {
                let initial = build(areas, 8 << 20, None).expect("a bundled layout builds");
                let done = run(log, initial, Faults::WriteNew);
                assert!(done.calls.iter().all(|call| call.agrees()));
                black_box(done);
            }
        })
    });
    group.finish();
}

fn replay(c: &mut Criterion) {
    bench(c, "random", &random_scripts(), false);
    bench(c, "trace-mix", &trace_scripts(), true);
    strace(c);
}

criterion_group!(benches, replay);
criterion_main!(benches);
