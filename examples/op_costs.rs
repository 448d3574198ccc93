//! Runs `n` operations of one kind on the `store` benchmark's 10^4-range tree, for counting
//! instructions per operation with valgrind (`scripts/instructions.sh` runs it twice, with `n`
//! and with 0, and divides the difference): counts repeat exactly on a noisy machine, where
//! times do not.
//!
//! ```sh
//! cargo run --release --example op_costs -- txn_exact 10000
//! ```
//!
//! Kinds: `mut_exact`, `txn_exact`, `mut_split`, `txn_split`, `mut_churn`, `txn_churn` (as in
//! the `store` group: each leaves the tree as it found it), `lookup` (one lookup of a random
//! address) and `iterate` (one step of a full walk).

use std::hint::black_box;

#[allow(dead_code)] // the example uses only part of the benchmarks' fixtures
#[path = "../benches/support/mod.rs"]
mod support;

use maple::Tree;
use support::{maple_random, Layout, PAGE};

const RANGES: usize = 10_000;
const SPLIT_VALUE: u64 = u64::MAX;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(kind), Some(Ok(n))) = (args.get(1), args.get(2).map(|n| n.parse::<usize>())) else {
        eprintln!("usage: op_costs KIND N   (KIND: mut_exact, txn_exact, mut_split, txn_split, mut_churn, txn_churn, lookup, iterate)");
        std::process::exit(2);
    };
    let layout = Layout::random(RANGES, 0x6d61_706c_6521 ^ RANGES as u64);
    let mut tree = maple_random(&layout);
    let targets: Vec<(u64, u64, u64)> = layout
        .picks(4096, 0x007a_46e7, |first, last| last - first + 1 >= 3 * PAGE)
        .iter()
        .map(|&i| (layout.ranges[i].0, layout.ranges[i].1, i as u64))
        .collect();
    let addrs = layout.addresses(4096, 0xadd5);
    for i in 0..n {
        let (first, last, value) = targets[i % targets.len()];
        match kind.as_str() {
            "mut_exact" => tree.store(first, last, value).unwrap(),
            "txn_exact" => in_txn(&tree, |txn| txn.store(first, last, value).unwrap()),
            "mut_split" => {
                tree.store(first + PAGE, first + 2 * PAGE - 1, SPLIT_VALUE).unwrap();
                tree.store(first, last, value).unwrap();
            }
            "txn_split" => {
                in_txn(&tree, |txn| txn.store(first + PAGE, first + 2 * PAGE - 1, SPLIT_VALUE).unwrap());
                in_txn(&tree, |txn| txn.store(first, last, value).unwrap());
            }
            "mut_churn" => {
                tree.erase(first).unwrap();
                tree.insert(first, last, value).unwrap();
            }
            "txn_churn" => {
                in_txn(&tree, |txn| {
                    txn.erase(first).unwrap();
                });
                in_txn(&tree, |txn| txn.insert(first, last, value).unwrap());
            }
            "lookup" => {
                black_box(tree.snapshot().load(addrs[i % addrs.len()]).value.copied());
            }
            "iterate" => {}
            other => {
                eprintln!("op_costs: unknown kind {other}");
                std::process::exit(2);
            }
        }
    }
    if kind == "iterate" {
        // Whole walks, then part of one: `n` steps in all.
        let snap = tree.snapshot();
        let mut sum = 0u64;
        for _ in 0..n / RANGES {
            sum = snap.iter().fold(sum, |sum, (_, value)| sum.wrapping_add(*value));
        }
        sum = snap.iter().take(n % RANGES).fold(sum, |sum, (_, value)| sum.wrapping_add(*value));
        black_box(sum);
    }
    black_box(&tree);
}

fn in_txn(tree: &Tree<u64>, edit: impl FnOnce(&mut maple::Transaction<'_, u64>)) {
    let mut txn = tree.transaction();
    edit(&mut txn);
    txn.commit();
}
