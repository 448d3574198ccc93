//! Heap bytes per range at 10^5 random ranges: maple vs `BTreeMap` (and `rangemap`).
//!
//! A counting global allocator measures the live heap bytes each structure holds after it is
//! built (by random-order inserts, or by bulk build from sorted input), divided by the number
//! of ranges. The ranges are those of the benchmarks (1-64 pages, gaps 0-64 pages, fixed
//! seed); each carries a `u64` value. The target is at most 20 bytes of tree per range.
//!
//! Run with `cargo run --release --example bytes_per_range`.

use std::alloc::{GlobalAlloc, Layout as AllocLayout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

#[allow(dead_code)] // the example uses only part of the benchmarks' fixtures
#[path = "../benches/support/mod.rs"]
mod support;

use support::{btree_collect, btree_random, maple_random, maple_sorted, rangemap_random, Layout};

/// Forwards to the system allocator and counts the bytes live.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call forwards to `System` with the caller's arguments unchanged, so `System`'s
// guarantees are ours; the counter only observes sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: AllocLayout) -> *mut u8 {
        // SAFETY: forwarded as is; the caller upholds `alloc`'s contract.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: AllocLayout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: AllocLayout) {
        // SAFETY: forwarded as is; `ptr` came from this allocator with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: AllocLayout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            LIVE.fetch_add(new_size, Ordering::Relaxed);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const RANGES: usize = 100_000;

/// Builds a structure and returns it with the heap bytes it added.
fn measure<T>(build: impl FnOnce() -> T) -> (T, usize) {
    let before = LIVE.load(Ordering::Relaxed);
    let built = build();
    let after = LIVE.load(Ordering::Relaxed);
    (built, after.saturating_sub(before))
}

fn row(name: &str, bytes: usize) {
    println!("| {name:<32} | {bytes:>12} | {:>13.1} |", bytes as f64 / RANGES as f64);
}

fn main() {
    let layout = Layout::random(RANGES, 0x6d61_706c_6521 ^ RANGES as u64);
    println!("{RANGES} ranges of 1-64 pages, gaps 0-64 pages, u64 values\n");
    println!("| {:<32} | {:>12} | {:>13} |", "structure", "heap bytes", "bytes / range");
    println!("|{:-<34}|{:->14}|{:->15}|", "", "", "");

    let (random, bytes) = measure(|| maple_random(&layout));
    row("maple, random inserts", bytes);
    let (sorted, bytes) = measure(|| maple_sorted(&layout));
    row("maple, from_sorted", bytes);
    let (map, bytes) = measure(|| btree_random(&layout));
    row("BTreeMap, random inserts", bytes);
    drop(map);
    let (map, bytes) = measure(|| btree_collect(&layout));
    row("BTreeMap, collect", bytes);
    drop(map);
    let (map, bytes) = measure(|| rangemap_random(&layout));
    row("rangemap, random inserts", bytes);
    drop(map);

    // The same range sizes laid back to back: no empty range between two values, so maple
    // spends one slot per range instead of two (as for a run of adjacent VMAs).
    let packed = back_to_back(&layout);
    println!("\nthe same ranges laid back to back (no gaps):\n");
    println!("| {:<32} | {:>12} | {:>13} |", "structure", "heap bytes", "bytes / range");
    println!("|{:-<34}|{:->14}|{:->15}|", "", "", "");
    let (tree, bytes) = measure(|| maple_random(&packed));
    row("maple, random inserts", bytes);
    drop(tree);
    let (tree, bytes) = measure(|| maple_sorted(&packed));
    row("maple, from_sorted", bytes);
    drop(tree);
    let (map, bytes) = measure(|| btree_collect(&packed));
    row("BTreeMap, collect", bytes);
    drop(map);

    println!("\nmaple shape (node bytes only, as the validator counts them):\n");
    println!(
        "| {:<22} | {:>6} | {:>7} | {:>8} | {:>7} | {:>12} | {:>10} | {:>12} |",
        "build", "height", "leaves", "branches", "values", "empty ranges", "node bytes", "bytes/value"
    );
    println!("|{:-<24}|{:->8}|{:->9}|{:->10}|{:->9}|{:->14}|{:->12}|{:->14}|", "", "", "", "", "", "", "", "");
    for (name, tree) in [("random inserts", &random), ("from_sorted", &sorted)] {
        let shape = tree.snapshot().validate().expect("a valid tree");
        println!(
            "| {:<22} | {:>6} | {:>7} | {:>8} | {:>7} | {:>12} | {:>10} | {:>12.1} |",
            name,
            shape.height,
            shape.leaves,
            shape.branches,
            shape.values,
            shape.empty_ranges,
            shape.node_bytes,
            shape.node_bytes as f64 / shape.values as f64
        );
    }
}

/// `layout`'s ranges, same sizes and insert order, laid back to back from the same base.
fn back_to_back(layout: &Layout) -> Layout {
    let mut next = layout.ranges[0].0;
    let ranges = layout
        .ranges
        .iter()
        .map(|&(first, last)| {
            let range = (next, next + (last - first));
            next = range.1 + 1;
            range
        })
        .collect();
    Layout { ranges, order: layout.order.clone() }
}
