//! A tour of the `maple` range tree, using it the way an address space does.
//!
//! Run it with `cargo run --release --example tour`. It maps 2,000 VMA-like areas with random
//! sizes and holes (a fixed seed, so every run prints the same layout), then shows:
//!
//! - lookups: the area (or the hole) holding an address;
//! - one transaction that unmaps twenty areas, maps two new ones and splits a third, published
//!   at one instant while a reader thread keeps reading an older snapshot;
//! - gap searches, lowest and highest, the way `get_unmapped_area` finds room;
//! - an O(n) clone (what `fork` uses), and the tree's shape as the validator counts it, grown
//!   by writes and bulk-built.
//!
//! Until the `maple-mm` binary exists, this is the project's main job.

use std::sync::mpsc;
use std::sync::Arc;
use std::time::Instant;

use maple_mm::maple::{Error, Range, Snapshot, Tree, View};

/// Bytes in a page.
const PAGE: u64 = 0x1000;
/// Where the first area starts (somewhere in a typical mmap region).
const BASE: u64 = 0x7f00_0000_0000;
/// How many areas the tour maps.
const AREAS: usize = 2_000;

/// What an address space would keep per area; the tree stores an `Arc` to it, a pointer-sized
/// value, so the nodes are exactly the 256-byte layout.
#[derive(Debug)]
struct Area {
    id: u32,
    prot: &'static str,
}

type Handle = Arc<Area>;

/// splitmix64: a tiny deterministic generator, so the layout is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The inclusive range of `pages` pages starting at `start`.
fn pages(start: u64, pages: u64) -> Range {
    Range { first: start, last: start + pages * PAGE - 1 }
}

/// An address range as `/proc/self/maps` shows it (half-open there).
fn show(range: Range) -> String {
    match range.last.checked_add(1) {
        Some(end) => format!("{:x}-{end:x}", range.first),
        None => format!("{:x}-(top of the index space)", range.first),
    }
}

/// What a view holds at `address`, in one line.
fn describe(view: &View<'_, Handle>, address: u64) -> String {
    let entry = view.load(address);
    match entry.value {
        Some(area) => format!("area #{} {} {}", area.id, area.prot, show(entry.range)),
        None if entry.range.last == u64::MAX => format!("hole {}", show(entry.range)),
        None => format!("hole {} ({} pages)", show(entry.range), entry.range.len() / PAGE),
    }
}

/// Areas and mapped pages in a view, counted by walking all of it.
fn census(view: &View<'_, Handle>) -> (usize, u64) {
    view.iter().fold((0, 0), |(areas, bytes), (range, _)| (areas + 1, bytes + range.len()))
}

fn census_line(snapshot: &Snapshot<'_, Handle>) -> String {
    let (areas, bytes) = census(snapshot);
    format!("{areas} areas, {} pages mapped", bytes / PAGE)
}

fn main() {
    let mut rng = Rng(0x6d61_706c_652d_6d6d);
    let prots = ["r--p", "rw-p", "r-xp", "rw-s"];

    // ---- Build: one insert per area, through `&mut Tree`. No reader can exist, so nothing is
    // kept for readers: leaves change in place, replaced nodes go straight back to the pool.
    let mut tree: Tree<Handle> = Tree::new();
    let mut areas = Vec::with_capacity(AREAS);
    let mut next = BASE;
    let started = Instant::now();
    for id in 0..AREAS as u32 {
        // A quarter of the areas sit right against the one before, as VMAs with different
        // permissions do; the rest leave a hole of 1 to 32 pages.
        if rng.below(4) != 0 {
            next += (1 + rng.below(32)) * PAGE;
        }
        let range = pages(next, 1 + rng.below(64));
        let area = Arc::new(Area { id, prot: prots[rng.below(4) as usize] });
        tree.insert(range.first, range.last, area).expect("areas do not overlap");
        areas.push(range);
        next = range.last + 1;
    }
    let built = started.elapsed();
    let end = next;

    println!("maple tour: {AREAS} areas in one address space");
    println!();
    println!("Build");
    println!(
        "  inserted {AREAS} areas (through &mut Tree) in {:.2} ms, from {BASE:#x} to {end:#x}",
        built.as_secs_f64() * 1e3
    );
    let shape = tree.snapshot().validate().expect("a valid tree");
    println!(
        "  shape: height {}, {} leaves + {} branches, {} values and {} empty ranges",
        shape.height, shape.leaves, shape.branches, shape.values, shape.empty_ranges
    );
    println!(
        "  memory: {} KiB of nodes, {:.1} bytes per range",
        shape.node_bytes / 1024,
        shape.node_bytes as f64 / shape.values as f64
    );

    // ---- Lookups: what holds an address, empty ranges included.
    println!();
    println!("Lookups (one snapshot: one epoch pin, one root load)");
    {
        let snap = tree.snapshot();
        let inside = areas[42].first + PAGE;
        let hole = (1..AREAS).find(|&i| areas[i].first > areas[i - 1].last + 1).expect("some hole");
        let in_hole = areas[hole - 1].last + 1;
        for (what, address) in [("inside area #42", inside), ("in a hole", in_hole), ("past the last area", end + PAGE)]
        {
            println!("  {address:#x} {what:<18} -> {}", describe(&snap, address));
        }
        if let Some((range, area)) = snap.next(inside) {
            println!("  next area after #42          -> area #{} {}", area.id, show(range));
        }

        let probes: Vec<u64> = (0..1_000_000).map(|_| BASE + rng.below(end - BASE)).collect();
        let started = Instant::now();
        let hits = probes.iter().filter(|&&address| snap.get(address).is_some()).count();
        let took = started.elapsed();
        println!(
            "  {} random lookups: {:.1} ns each, {:.1}% landed in an area",
            probes.len(),
            took.as_secs_f64() * 1e9 / probes.len() as f64,
            hits as f64 * 100.0 / probes.len() as f64
        );
    }

    // ---- Gap search before the transaction.
    let window = Range { first: BASE, last: end - 1 };
    println!();
    println!("Gap search inside the mapped region {}", show(window));
    for size in [16, 64] {
        gap_report(&tree.snapshot(), window, size);
    }

    // ---- One transaction, many changes, one instant. A reader pins a snapshot first and
    // keeps it across the commit.
    println!();
    println!("Transaction (a reader thread pinned its snapshot before it began)");
    let unmapped = Range { first: areas[500].first, last: areas[519].last };
    let split_id = (1000..AREAS).find(|&i| areas[i].len() >= 3 * PAGE).expect("an area of 3 pages or more");
    let split = areas[split_id];
    let fixed = pages(unmapped.first, 8);
    let probes = [
        ("old area #505", areas[505].first),
        ("start of the unmapped span", fixed.first),
        ("first page of split area", split.first),
        ("second page of split area", split.first + PAGE),
    ];

    let (pinned_tx, pinned_rx) = mpsc::channel();
    let (committed_tx, committed_rx) = mpsc::channel();
    let tree = &tree;
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            let old = tree.snapshot();
            let before = census_line(&old);
            pinned_tx.send(()).expect("main is waiting");
            committed_rx.recv().expect("main commits");
            // The commit has happened; this snapshot still reads the state it pinned.
            let mut report =
                vec![format!("  reader, old snapshot after the commit: {} (was {before})", census_line(&old))];
            report
                .extend(probes.iter().map(|(what, address)| format!("      {what:<26} {}", describe(&old, *address))));
            old.validate().expect("the old state is whole");
            let new = tree.snapshot();
            report.push(format!("  reader, new snapshot: {}", census_line(&new)));
            report
                .extend(probes.iter().map(|(what, address)| format!("      {what:<26} {}", describe(&new, *address))));
            new.validate().expect("the new state is whole");
            report
        });

        pinned_rx.recv().expect("the reader pins");
        let mut txn = tree.transaction();
        // munmap of twenty areas: one clear over a span that crosses several leaves.
        txn.clear(unmapped.first, unmapped.last).expect("a valid range");
        // mmap(MAP_FIXED) of 8 pages at the start of the new hole.
        txn.insert(fixed.first, fixed.last, Arc::new(Area { id: 9000, prot: "rw-p" })).expect("the hole is free");
        // mprotect of one page in the middle of an area: the area splits in three.
        txn.store(split.first + PAGE, split.first + 2 * PAGE - 1, Arc::new(Area { id: 9001, prot: "r--p" }))
            .expect("a valid range");
        // mmap without a hint: the lowest hole of 40 pages, as the transaction sees the tree.
        let anywhere = txn.lowest_gap(window, 40 * PAGE).expect("the unmapped span has room");
        txn.insert(anywhere.first, anywhere.last, Arc::new(Area { id: 9002, prot: "rw-p" })).expect("the gap is free");

        let (areas_txn, bytes_txn) = census(&txn);
        println!("  unmapped {} (areas #500..=#519), mapped #9000 at {}", show(unmapped), show(fixed));
        println!("  split area #{split_id} {} with #9001 over its second page", show(split));
        println!("  mapped #9002 (40 pages) at the lowest free window: {}", show(anywhere));
        println!("  before commit, the transaction sees: {areas_txn} areas, {} pages mapped", bytes_txn / PAGE);
        println!("  before commit, a new snapshot sees:  {}", census_line(&tree.snapshot()));
        txn.validate().expect("the transaction's tree is valid");
        txn.commit();
        committed_tx.send(()).expect("the reader waits");

        for line in reader.join().expect("the reader finishes") {
            println!("{line}");
        }
    });

    // ---- Gap search after the transaction: the unmapped span is room again.
    println!();
    println!("Gap search after the transaction");
    for size in [16, 64] {
        gap_report(&tree.snapshot(), window, size);
    }

    // ---- fork: copy the tree node by node.
    println!();
    println!("Clone (what fork uses)");
    let started = Instant::now();
    let mut child = tree.try_clone().expect("memory for the copy");
    let took = started.elapsed();
    child.clear(BASE, end - 1).expect("a valid range");
    println!(
        "  try_clone copied the tree node by node in {:.1} us; then the copy was cleared:",
        took.as_secs_f64() * 1e6
    );
    println!("      original: {}", census_line(&tree.snapshot()));
    println!("      copy:     {}", census_line(&child.snapshot()));

    // ---- The shape the validator counts: the tree as grown by writes, and the same ranges
    // bulk-built into full nodes.
    let snap = tree.snapshot();
    let grown = snap.validate().expect("a valid tree");
    let packed =
        Tree::from_sorted(snap.iter().map(|(range, area)| (range, Arc::clone(area)))).expect("ranges in order");
    let built = packed.snapshot().validate().expect("a valid tree");
    println!();
    println!("Shape (validator: ok)");
    for (what, shape) in [("grown by writes", grown), ("bulk-built", built)] {
        println!(
            "  {what:<16} height {}, {:>3} nodes, {:>5.1} bytes per range",
            shape.height,
            shape.leaves + shape.branches,
            shape.node_bytes as f64 / shape.values as f64
        );
    }
}

/// Prints the lowest and highest free window of `size` pages inside `window`.
fn gap_report(snapshot: &Snapshot<'_, Handle>, window: Range, size: u64) {
    let found = |result: Result<Range, Error>| match result {
        Ok(range) => show(range),
        Err(Error::NoSpace) => "none fits".to_string(),
        Err(error) => format!("error: {error}"),
    };
    println!(
        "  {size:>3} pages: lowest {:<27} highest {}",
        found(snapshot.lowest_gap(window, size * PAGE)),
        found(snapshot.highest_gap(window, size * PAGE))
    );
}
