//! One reader and one writer on 10^4 ranges at once: maple (snapshots and transactions)
//! against `parking_lot::RwLock<BTreeMap>` and `scc::TreeIndex`.
//!
//! - `reader/<peer>`: the measured thread looks up 1000 random addresses, one lookup at a
//!   time as a runtime would (maple: a snapshot per lookup; `RwLock`: a read lock per lookup;
//!   scc: a guard per lookup), while a writer thread splits ranges in three and restores them
//!   without pause. Throughput is per lookup.
//! - `writer/<peer>`: the measured thread splits a range in three and restores it (maple: two
//!   transactions; `RwLock`: the same edits under two write locks; scc: removes and inserts,
//!   which its readers may see half done), while a reader thread looks up without pause.
//!   Throughput is per write (two per iteration).
//!
//! The background thread starts before the measurement (a barrier) and stops after it (a
//! flag), and the tree is checked to be restored at the end.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Barrier;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use maple::Tree;
use parking_lot::RwLock;

#[allow(dead_code)] // this benchmark uses only part of the shared fixtures
mod support;
use support::{btree_batch, btree_random, maple_random, scc_batch, scc_random, Layout, SccIndex, PAGE};

const RANGES: usize = 10_000;
const LOOKUPS: usize = 1000;
const TARGETS: usize = 4096;
const SPLIT_VALUE: u64 = u64::MAX;

type Locked = RwLock<BTreeMap<u64, (u64, u64)>>;

/// The peers, each able to look up and to split and restore a range.
trait Peer: Sync {
    fn lookups(&self, addrs: &[u64]) -> u64;
    /// Splits `[first, last]` (3+ pages, value `value`) in three, then restores it.
    fn split_and_restore(&self, first: u64, last: u64, value: u64);
}

impl Peer for Tree<u64> {
    fn lookups(&self, addrs: &[u64]) -> u64 {
        addrs.iter().map(|&addr| support::maple_batch(&self.snapshot(), &[addr])).fold(0, u64::wrapping_add)
    }

    fn split_and_restore(&self, first: u64, last: u64, value: u64) {
        let mut txn = self.transaction();
        txn.store(first + PAGE, first + 2 * PAGE - 1, SPLIT_VALUE).unwrap();
        txn.commit();
        let mut txn = self.transaction();
        txn.store(first, last, value).unwrap();
        txn.commit();
    }
}

impl Peer for Locked {
    fn lookups(&self, addrs: &[u64]) -> u64 {
        addrs.iter().map(|&addr| btree_batch(&self.read(), &[addr])).fold(0, u64::wrapping_add)
    }

    fn split_and_restore(&self, first: u64, last: u64, value: u64) {
        {
            let mut map = self.write();
            map.insert(first, (first + PAGE - 1, value));
            map.insert(first + PAGE, (first + 2 * PAGE - 1, SPLIT_VALUE));
            map.insert(first + 2 * PAGE, (last, value));
        }
        let mut map = self.write();
        map.remove(&(first + PAGE));
        map.remove(&(first + 2 * PAGE));
        map.insert(first, (last, value));
    }
}

impl Peer for SccIndex {
    fn lookups(&self, addrs: &[u64]) -> u64 {
        addrs.iter().map(|&addr| scc_batch(self, &[addr])).fold(0, u64::wrapping_add)
    }

    fn split_and_restore(&self, first: u64, last: u64, value: u64) {
        // Keyed by range end: [first, last] becomes [first, a-1] [a, b] [b+1, last] and back.
        let (a, b) = (first + PAGE, first + 2 * PAGE - 1);
        self.remove_sync(&last);
        let _ = self.insert_sync(a - 1, (first, value));
        let _ = self.insert_sync(b, (a, SPLIT_VALUE));
        let _ = self.insert_sync(last, (b + 1, value));
        self.remove_sync(&(a - 1));
        self.remove_sync(&b);
        self.remove_sync(&last);
        let _ = self.insert_sync(last, (first, value));
    }
}

/// The ranges of 3+ pages the writers cycle through, as `(first, last, value)`.
fn targets(layout: &Layout) -> Vec<(u64, u64, u64)> {
    let picks = layout.picks(TARGETS, 0x007a_46e7, |first, last| last - first + 1 >= 3 * PAGE);
    picks.iter().map(|&i| (layout.ranges[i].0, layout.ranges[i].1, i as u64)).collect()
}

/// Runs `background` in a loop on another thread while `measured` is benchmarked.
fn with_background<P: Peer>(peer: &P, background: impl Fn(&P, usize) + Sync, measured: impl FnOnce()) {
    let (started, stop) = (Barrier::new(2), AtomicBool::new(false));
    std::thread::scope(|s| {
        s.spawn(|| {
            started.wait();
            let mut round = 0;
            while !stop.load(Ordering::Relaxed) {
                background(peer, round);
                round += 1;
            }
        });
        started.wait();
        measured();
        stop.store(true, Ordering::Relaxed);
    });
}

fn bench_peer<P: Peer>(c: &mut Criterion, name: &str, peer: &P, addrs: &[u64], targets: &[(u64, u64, u64)]) {
    let writes = |peer: &P, round: usize| {
        let (first, last, value) = targets[round % targets.len()];
        peer.split_and_restore(first, last, value);
    };
    let mut group = c.benchmark_group("concurrent");
    group.throughput(Throughput::Elements(LOOKUPS as u64));
    with_background(peer, writes, || {
        group.bench_function(BenchmarkId::new("reader", name), |b| b.iter(|| black_box(peer.lookups(addrs))));
    });
    group.throughput(Throughput::Elements(2));
    let mut round = 0;
    with_background(
        peer,
        |peer, _| _ = black_box(peer.lookups(&addrs[..16])),
        || {
            group.bench_function(BenchmarkId::new("writer", name), |b| {
                b.iter(|| {
                    writes(peer, round);
                    round += 1;
                })
            });
        },
    );
    group.finish();
}

fn concurrent(c: &mut Criterion) {
    let layout = Layout::random(RANGES, 0x6d61_706c_6521 ^ RANGES as u64);
    let addrs = layout.addresses(LOOKUPS, 0xadd5);
    let targets = targets(&layout);
    let maple = maple_random(&layout);
    let locked = RwLock::new(btree_random(&layout));
    let scc = scc_random(&layout);
    let expected = locked.lookups(&addrs);
    assert_eq!(maple.lookups(&addrs), expected, "maple and BTreeMap agree");
    assert_eq!(scc.lookups(&addrs), expected, "scc and BTreeMap agree");
    bench_peer(c, "maple", &maple, &addrs, &targets);
    bench_peer(c, "rwlock_btreemap", &locked, &addrs, &targets);
    bench_peer(c, "scc_treeindex", &scc, &addrs, &targets);
    // Every split was restored: the same answers as before.
    assert_eq!(maple.lookups(&addrs), expected, "maple restored");
    assert_eq!(locked.lookups(&addrs), expected, "BTreeMap restored");
    assert_eq!(scc.lookups(&addrs), expected, "scc restored");
}

criterion_group!(benches, concurrent);
criterion_main!(benches);
