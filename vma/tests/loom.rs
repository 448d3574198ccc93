//! loom models of the reader contract (docs/concurrency.md, section 1) for the VMA merge engine: a
//! reader racing one merge, split, unmap, expand or fault sees, through one snapshot, exactly
//! one complete committed state of the address space, in every lookup and in a full
//! iteration, and every VMA it sees is exactly one version of that area.
//!
//! Built only under `RUSTFLAGS="--cfg loom"` (see `scripts/loom.sh`); normal builds compile
//! this file to nothing. Under loom, maple keeps replaced nodes until the tree drops (no
//! epoch collector runs), so the models explore the publication protocol: the writer's
//! transaction, its one `Release` store of the root, and the readers' `Acquire` load.
//!
//! Each model:
//! - builds a few VMAs in a window of a few pages before any loom thread starts;
//! - runs one writer calling one engine operation (`merge_new_range`, `merge_existing_range`,
//!   `vma_modify`, `VmaTxn::clear`, `vma_expand`, `anon_vma_prepare`) against two readers;
//! - lists by hand, from docs/merging.md, every state a reader may see: the state before, the
//!   state after, and for `vma_modify`'s split in three (two transactions, as in the kernel)
//!   the state between them. Nothing of the expected states comes from the engine.
//!
//! A reader takes one snapshot (one root load) and checks, all through it:
//! - each VMA of a full iteration is stored over exactly `[start, end - 1]`, and its fields
//!   (id, bounds, pgoff, flags, anon_vma and chain, close hook) are exactly those of one
//!   version the model expects anywhere (no VMA mixes two versions);
//! - the iterated list is exactly one of the expected states, whole;
//! - the lookup of the first and last byte of every page of the window returns the very VMA
//!   of that state holding it (or the maximal gap), and a cursor walk finds the same VMAs;
//! - the snapshot passes maple's and vma's structural validation.
//!
//! Maple's nodes carry loom-tracked witness cells, so a publication that is not `Release`
//! (the `--cfg maple_canary` build) makes loom report a causality violation as soon as a
//! reader reaches a node of the new tree: every model here must fail under the canary.

#![cfg(loom)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use loom::thread;
use vma::{
    anon_vma_prepare, merge_existing_range, merge_new_range, validate_view, vma_expand, vma_modify, vma_modify_in,
    AnonRef, AnonVma, MergeState, VmFlags, VmOps, Vma, VmaChange, VmaCursor, VmaId, VmaMergeRequest, VmaTree,
    PAGE_SIZE,
};

/// read | write | mayread | maywrite: the flags of the kernel's userland merge tests.
const F: VmFlags = VmFlags::from_bits(
    VmFlags::READ.bits() | VmFlags::WRITE.bits() | VmFlags::MAYREAD.bits() | VmFlags::MAYWRITE.bits(),
);
/// read-only (what an mprotect to PROT_READ leaves): incompatible with `F`.
const R: VmFlags = VmFlags::from_bits(VmFlags::READ.bits() | VmFlags::MAYREAD.bits() | VmFlags::MAYWRITE.bits());
/// read | exec: incompatible with both, and not allowed to lend an anon_vma to either.
const RX: VmFlags = VmFlags::from_bits(R.bits() | VmFlags::EXEC.bits());

/// The label of an area that split off in the model's operation (a fresh id), or of an
/// anon_vma the operation allocated.
const NEW: &str = "new";

/// One version of one area, as the model names it: the area's label (its id), its bounds,
/// pgoff, flags, anon_vma label and chain length, and whether it has a close hook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct V {
    id: &'static str,
    start: u64,
    end: u64,
    pgoff: u64,
    flags: VmFlags,
    anon: Option<(&'static str, usize)>,
    close: bool,
}

/// An area version with flags `flags`, no anon_vma and no close hook.
const fn v(id: &'static str, start: u64, end: u64, pgoff: u64, flags: VmFlags) -> V {
    V { id, start, end, pgoff, flags, anon: None, close: false }
}

impl V {
    /// The same version linked to anon_vma `label` with a chain of one.
    const fn anon(self, label: &'static str) -> V {
        V { anon: Some((label, 1)), ..self }
    }

    /// The same version with a close hook.
    const fn close(self) -> V {
        V { close: true, ..self }
    }
}

/// A complete state of the window: its VMAs in address order.
type State = Vec<V>;

/// The objects one exploration (one loom iteration) built: the initial areas by label, and
/// the anon_vmas by label, so that what a reader sees can be named like the model's states.
struct World {
    areas: Vec<(&'static str, Arc<Vma>)>,
    anons: Vec<(&'static str, Arc<AnonVma>)>,
}

impl World {
    /// The initial version of area `label`.
    fn area(&self, label: &str) -> &Arc<Vma> {
        &self.areas.iter().find(|(l, _)| *l == label).expect("a labelled area").1
    }

    /// The label of an area id: one of the initial areas, or [`NEW`].
    fn id_label(&self, id: VmaId) -> &'static str {
        self.areas.iter().find(|(_, a)| a.id() == id).map_or(NEW, |(l, _)| l)
    }

    /// How the model names a VMA a reader found.
    fn describe(&self, vma: &Vma) -> V {
        V {
            id: self.id_label(vma.id()),
            start: vma.start,
            end: vma.end,
            pgoff: vma.pgoff,
            flags: vma.flags,
            anon: vma.anon.as_ref().map(|a| {
                let label = self.anons.iter().find(|(_, x)| Arc::ptr_eq(x, &a.anon_vma)).map_or(NEW, |(l, _)| l);
                (label, a.chain_len)
            }),
            close: vma.has_close(),
        }
    }
}

/// One model: the initial areas (the state before), the writer's operation, and every later
/// state a reader may see, in commit order (the last is the state after).
struct Model {
    name: &'static str,
    initial: State,
    later: Vec<State>,
    /// The writer: runs the operation (checking what it returns) on the tree.
    write: fn(&VmaTree, &World),
    readers: usize,
    /// Snapshots the first reader takes one after the other (later ones must not go back).
    snapshots: usize,
    /// One past the last address the readers look up (from 0, every page).
    window_end: u64,
}

/// How the readers of one model fared over the whole exploration.
struct Tally {
    iterations: AtomicUsize,
    /// Reader snapshots that showed each state (before, then `later` in order).
    saw: Vec<AtomicUsize>,
}

/// Builds the initial areas in `tree`, each with its own id, and names them.
fn build(tree: &VmaTree, initial: &State) -> World {
    let mut world = World { areas: Vec::new(), anons: Vec::new() };
    for spec in initial {
        let mut vma = Vma::new(spec.start, spec.end, spec.pgoff, spec.flags);
        if let Some((label, chain_len)) = spec.anon {
            let anon = match world.anons.iter().find(|(l, _)| *l == label) {
                Some((_, x)) => x.clone(),
                None => {
                    let x = AnonVma::new();
                    world.anons.push((label, x.clone()));
                    x
                }
            };
            vma = vma.with_anon(AnonRef::with(anon, chain_len));
        }
        if spec.close {
            vma = vma.with_ops(VmOps::new().with_close(|_| {}));
        }
        let handle = tree.insert(vma).expect("the initial areas do not overlap");
        world.areas.push((spec.id, handle));
    }
    world
}

/// The state `tree` shows now, named by `world`.
fn state_of(tree: &VmaTree, world: &World) -> State {
    tree.vmas().iter().map(|vma| world.describe(vma)).collect()
}

/// Takes one snapshot and checks it shows exactly one of `states`, whole, in every answer;
/// returns which.
fn read_one_snapshot(tree: &VmaTree, world: &World, model: &Model, states: &[State]) -> usize {
    let snap = tree.snapshot();

    // A full iteration: every VMA one expected version, stored over its own bounds.
    let mut seen: Vec<(V, &Arc<Vma>)> = Vec::new();
    for (range, vma) in snap.iter() {
        let named = world.describe(vma);
        assert_eq!(range, vma.range(), "{}: {named:?} stored over {range}", model.name);
        assert!(
            states.iter().flatten().any(|version| *version == named),
            "{}: a reader found {named:?}, which is no version of any area the model expects \
             (fields of two versions, or a half-made one)",
            model.name
        );
        seen.push((named, vma));
    }
    let names: State = seen.iter().map(|(named, _)| *named).collect();
    let which = states.iter().position(|state| *state == names).unwrap_or_else(|| {
        panic!("{}: a snapshot iterated {names:#?}, which is none of the committed states {states:#?}", model.name)
    });

    // Every page of the window, by its first and last byte: the VMA of that state holding
    // it (the very handle the iteration returned), or the maximal gap around it.
    for page in (0..model.window_end).step_by(PAGE_SIZE as usize) {
        for addr in [page, page + PAGE_SIZE - 1] {
            let holder = seen.iter().find(|(named, _)| named.start <= addr && addr < named.end);
            let entry = snap.load(addr);
            match (holder, entry.value) {
                (Some((named, expected)), Some(found)) => {
                    assert!(Arc::ptr_eq(expected, found), "{}: load({addr:#x}) found {found:?}", model.name);
                    assert_eq!((entry.range.first, entry.range.last), (named.start, named.end - 1));
                }
                (None, None) => {
                    let first = seen.iter().map(|(n, _)| n.end).filter(|&end| end <= addr).max().unwrap_or(0);
                    let last =
                        seen.iter().map(|(n, _)| n.start).filter(|&s| s > addr).min().map_or(u64::MAX, |s| s - 1);
                    assert_eq!(
                        (entry.range.first, entry.range.last),
                        (first, last),
                        "{}: load({addr:#x}) found a gap of the wrong extent",
                        model.name
                    );
                }
                (holder, found) => panic!(
                    "{}: load({addr:#x}) found {found:?} where the iterated state has {:?}",
                    model.name,
                    holder.map(|(named, _)| named)
                ),
            }
            let got = snap.get(addr);
            assert_eq!(got.map(Arc::as_ptr), holder.map(|(_, vma)| Arc::as_ptr(vma)), "{}: get({addr:#x})", model.name);
        }
    }

    // A cursor walk (find_vma, then next_vma) meets the same VMAs in the same order.
    let mut cursor = VmaCursor::new(&snap, 0);
    let mut walked = Vec::new();
    let mut at = cursor.find_vma(0);
    while let Some(vma) = at {
        walked.push(Arc::as_ptr(vma));
        at = cursor.next_vma();
    }
    let iterated: Vec<_> = seen.iter().map(|(_, vma)| Arc::as_ptr(vma)).collect();
    assert_eq!(walked, iterated, "{}: a cursor walk disagrees with the iteration", model.name);

    assert_eq!(snap.len(), seen.len(), "{}: a reader's snapshot counts other areas than it iterates", model.name);
    validate_view(&snap).unwrap_or_else(|e| panic!("{}: a reader's snapshot is invalid: {e}", model.name));
    which
}

impl Model {
    fn check(self) {
        let mut states = vec![self.initial.clone()];
        states.extend(self.later.iter().cloned());
        for (i, a) in states.iter().enumerate() {
            assert!(states[i + 1..].iter().all(|b| a != b), "{}: the states must differ", self.name);
        }
        let tally = Arc::new(Tally {
            iterations: AtomicUsize::new(0),
            saw: states.iter().map(|_| AtomicUsize::new(0)).collect(),
        });
        let model = Arc::new((self, states));

        let started = std::time::Instant::now();
        {
            let (model, tally) = (model.clone(), tally.clone());
            loom::model(move || {
                tally.iterations.fetch_add(1, Ordering::Relaxed);
                let (this, states) = &*model;

                let tree = VmaTree::new();
                let world = build(&tree, &this.initial);
                assert_eq!(state_of(&tree, &world), this.initial, "{}: the initial state", this.name);
                let shared = loom::sync::Arc::new((tree, world));

                let readers: Vec<_> = (0..this.readers)
                    .map(|r| {
                        let (shared, model, tally) = (shared.clone(), model.clone(), tally.clone());
                        thread::spawn(move || {
                            let (this, states) = &*model;
                            let (tree, world) = &*shared;
                            let snapshots = if r == 0 { this.snapshots } else { 1 };
                            let mut last = 0;
                            for _ in 0..snapshots {
                                let which = read_one_snapshot(tree, world, this, states);
                                assert!(which >= last, "{}: a later snapshot went back in time", this.name);
                                last = which;
                                tally.saw[which].fetch_add(1, Ordering::Relaxed);
                            }
                        })
                    })
                    .collect();
                let writer = {
                    let (shared, model) = (shared.clone(), model.clone());
                    thread::spawn(move || {
                        let (tree, world) = &*shared;
                        (model.0.write)(tree, world);
                    })
                };
                writer.join().unwrap();
                for reader in readers {
                    reader.join().unwrap();
                }

                let (tree, world) = &*shared;
                let after = states.last().unwrap();
                assert_eq!(state_of(tree, world), *after, "{}: the state after the operation", this.name);
                assert_eq!(tree.map_count(), after.len(), "{}: the map count after", this.name);
                tree.validate().unwrap();
            });
        }

        let (this, states) = &*model;
        let iterations = tally.iterations.load(Ordering::Relaxed);
        let saw: Vec<usize> = tally.saw.iter().map(|n| n.load(Ordering::Relaxed)).collect();
        println!(
            "loom model {}: {iterations} interleavings, reader snapshots per state (before .. after) {saw:?}, {:.2?}",
            this.name,
            started.elapsed()
        );
        assert_eq!(saw.len(), states.len());
        assert!(saw.iter().all(|&n| n > 0), "{}: the exploration must let readers see every state", this.name);
    }
}

/// A model with two readers, one snapshot each, over the window `[0, window_end)`.
fn model(name: &'static str, window_end: u64, initial: State, later: Vec<State>, write: fn(&VmaTree, &World)) -> Model {
    Model { name, initial, later, write, readers: 2, snapshots: 1, window_end }
}

/// Runs `merge_new_range` for `[start, end)` at `pgoff` with flags F between areas `prev` and
/// `next`, and checks it succeeded and returned area `target` covering the range.
fn merge_new(tree: &VmaTree, world: &World, (start, end, pgoff): (u64, u64, u64), target: &str) {
    let mut vmg = VmaMergeRequest::new_range(start, end, pgoff, F, None);
    vmg.prev = Some(world.area("P").clone());
    vmg.next = Some(world.area("N").clone());
    let merged = merge_new_range(tree, &mut vmg).expect("the new range merges");
    assert_eq!(vmg.state, MergeState::Success);
    assert_eq!(merged.id(), world.area(target).id());
    assert!(merged.start <= start && end <= merged.end);
}

/// Runs `merge_existing_range` for `[start, end)` of area `M` proposing flags F, and checks
/// it succeeded and returned area `target` covering the range.
fn merge_existing(tree: &VmaTree, world: &World, (start, end): (u64, u64), target: &str) {
    let mut vmg = VmaMergeRequest::existing(world.area("M"), start, end);
    vmg.flags = F;
    let merged = merge_existing_range(tree, &mut vmg).expect("the range merges");
    assert_eq!(vmg.state, MergeState::Success);
    assert_eq!(merged.id(), world.area(target).id());
    assert!(merged.start <= start && end <= merged.end);
}

// ---- A new range (docs/merging.md section 4) -------------------------------------------------

/// Left only: prev grows over the new range; next is not adjacent.
///
/// ```text
///   PPPPPPPP....    NNNN   ->   PPPPPPPPPPPP    NNNN
/// ```
#[test]
fn new_range_merge_left() {
    model(
        "new_range_merge_left",
        0x6000,
        vec![v("P", 0, 0x2000, 0, F), v("N", 0x4000, 0x5000, 4, F)],
        vec![vec![v("P", 0, 0x3000, 0, F), v("N", 0x4000, 0x5000, 4, F)]],
        |tree, world| merge_new(tree, world, (0x2000, 0x3000, 2), "P"),
    )
    .check();
}

/// Right only: next grows down over the new range and takes its pgoff; prev is incompatible.
///
/// ```text
///   PPPP    ....NNNNNNNN   ->   PPPP    NNNNNNNNNNNN
/// ```
#[test]
fn new_range_merge_right() {
    model(
        "new_range_merge_right",
        0x6000,
        vec![v("P", 0, 0x1000, 0, R), v("N", 0x3000, 0x5000, 3, F)],
        vec![vec![v("P", 0, 0x1000, 0, R), v("N", 0x2000, 0x5000, 2, F)]],
        |tree, world| merge_new(tree, world, (0x2000, 0x3000, 2), "N"),
    )
    .check();
}

/// Both: prev grows over the range and next; next is deleted and its anon_vma moves to prev.
///
/// ```text
///   PPPPPPPP....NNNNNNNN   ->   PPPPPPPPPPPPPPPPPPPP
/// ```
#[test]
fn new_range_merge_both() {
    model(
        "new_range_merge_both",
        0x6000,
        vec![v("P", 0, 0x2000, 0, F), v("N", 0x3000, 0x5000, 3, F).anon("X")],
        vec![vec![v("P", 0, 0x5000, 0, F).anon("X")]],
        |tree, world| merge_new(tree, world, (0x2000, 0x3000, 2), "P"),
    )
    .check();
}

/// Both, but next has a close hook and must not be deleted: prev grows to the range's end
/// only, and next stays as it was.
///
/// ```text
///   PPPPPPPP....NNNNNNNN(close)   ->   PPPPPPPPPPPPNNNNNNNN(close)
/// ```
#[test]
fn new_range_merge_both_close_fallback() {
    model(
        "new_range_merge_both_close_fallback",
        0x6000,
        vec![v("P", 0, 0x2000, 0, F), v("N", 0x3000, 0x5000, 3, F).close()],
        vec![vec![v("P", 0, 0x3000, 0, F), v("N", 0x3000, 0x5000, 3, F).close()]],
        |tree, world| merge_new(tree, world, (0x2000, 0x3000, 2), "P"),
    )
    .check();
}

// ---- Part of an existing VMA (docs/merging.md section 5) -------------------------------------

/// Both: all of middle becomes compatible with prev and next; prev absorbs both, middle and
/// next are deleted, and prev takes middle's anon_vma (next has none).
///
/// ```text
///   PPPPPPPP[MMMM]NNNNNNNN   ->   PPPPPPPPPPPPPPPPPPPP
/// ```
#[test]
fn existing_range_merge_both() {
    model(
        "existing_range_merge_both",
        0x6000,
        vec![v("P", 0, 0x2000, 0, F), v("M", 0x2000, 0x3000, 2, R).anon("X"), v("N", 0x3000, 0x5000, 3, F)],
        vec![vec![v("P", 0, 0x5000, 0, F).anon("X")]],
        |tree, world| merge_existing(tree, world, (0x2000, 0x3000), "P"),
    )
    .check();
}

/// Left, full: all of middle merges into prev (next is incompatible); middle is deleted.
///
/// ```text
///   PPPPPPPP[MMMM]nnnnnnnn   ->   PPPPPPPPPPPPnnnnnnnn
/// ```
#[test]
fn existing_range_merge_left_full() {
    model(
        "existing_range_merge_left_full",
        0x6000,
        vec![v("P", 0, 0x2000, 0, F), v("M", 0x2000, 0x3000, 2, R), v("N", 0x3000, 0x5000, 3, R)],
        vec![vec![v("P", 0, 0x3000, 0, F), v("N", 0x3000, 0x5000, 3, R)]],
        |tree, world| merge_existing(tree, world, (0x2000, 0x3000), "P"),
    )
    .check();
}

/// Left, partial: the lower part of middle merges into prev (which takes middle's
/// anon_vma); middle now starts at the range's end, its pgoff advanced.
///
/// ```text
///   PPPPPPPP[MMMM]MMMM   ->   PPPPPPPPPPPPMMMM
/// ```
#[test]
fn existing_range_merge_left_partial() {
    model(
        "existing_range_merge_left_partial",
        0x5000,
        vec![v("P", 0, 0x2000, 0, F), v("M", 0x2000, 0x4000, 2, R).anon("X")],
        vec![vec![v("P", 0, 0x3000, 0, F).anon("X"), v("M", 0x3000, 0x4000, 3, R).anon("X")]],
        |tree, world| merge_existing(tree, world, (0x2000, 0x3000), "P"),
    )
    .check();
}

/// Right, full: all of middle merges into next (prev is incompatible); next grows down and
/// takes middle's pgoff; middle is deleted.
///
/// ```text
///   pppp[MMMMMMMM]NNNNNNNN   ->   ppppNNNNNNNNNNNNNNNN
/// ```
#[test]
fn existing_range_merge_right_full() {
    model(
        "existing_range_merge_right_full",
        0x6000,
        vec![v("P", 0, 0x1000, 0, RX), v("M", 0x1000, 0x3000, 1, R), v("N", 0x3000, 0x5000, 3, F)],
        vec![vec![v("P", 0, 0x1000, 0, RX), v("N", 0x1000, 0x5000, 1, F)]],
        |tree, world| merge_existing(tree, world, (0x1000, 0x3000), "N"),
    )
    .check();
}

/// Right, partial: the upper part of middle merges into next (which takes middle's
/// anon_vma and moves its pgoff back); middle now ends at the range's start.
///
/// ```text
///   MMMMMMMM[MMMM]NNNN   ->   MMMMMMMMNNNNNNNN
/// ```
#[test]
fn existing_range_merge_right_partial() {
    model(
        "existing_range_merge_right_partial",
        0x6000,
        vec![v("M", 0x1000, 0x4000, 1, R).anon("X"), v("N", 0x4000, 0x5000, 4, F)],
        vec![vec![v("M", 0x1000, 0x3000, 1, R).anon("X"), v("N", 0x3000, 0x5000, 3, F).anon("X")]],
        |tree, world| merge_existing(tree, world, (0x3000, 0x4000), "N"),
    )
    .check();
}

// ---- Split, unmap, expand, fault -----------------------------------------------------------

/// `vma_modify` of the middle of an area: no merge, so it splits below, splits above and
/// changes the middle, all in one transaction: readers see the area whole or in three,
/// never split only once. The first reader takes two snapshots, which must not go back in
/// time.
///
/// ```text
///   VVVVVVVVVVVVVVVV   ->   aaaa|vvvvvvvv|bbbb
/// ```
#[test]
fn vma_modify_split_in_three() {
    Model {
        snapshots: 2,
        ..model(
            "vma_modify_split_in_three",
            0x6000,
            vec![v("V", 0x1000, 0x5000, 1, F)],
            vec![vec![v(NEW, 0x1000, 0x2000, 1, F), v("V", 0x2000, 0x4000, 2, R), v(NEW, 0x4000, 0x5000, 4, F)]],
            |tree, world| {
                let v = world.area("V");
                let mid = vma_modify(tree, v, 0x2000, 0x4000, VmaChange::Flags(R)).expect("the modify succeeds");
                assert_eq!((mid.id(), mid.start, mid.end, mid.flags), (v.id(), 0x2000, 0x4000, R));
            },
        )
    }
    .check();
}

/// Two areas changed in one transaction (`vma_modify_in` twice, the way mm publishes an
/// mprotect over several areas): readers see both unchanged or both changed.
///
/// ```text
///   AAAAAAAA BBBBBBBB   ->   aaaa|AAAA BBBB|bbbb    (A's upper and B's lower half read-only;
///                                                   the changed parts keep the ids)
/// ```
#[test]
fn two_areas_changed_in_one_transaction() {
    Model {
        snapshots: 2,
        ..model(
            "two_areas_changed_in_one_transaction",
            0x6000,
            vec![v("A", 0, 0x2000, 0, F), v("B", 0x3000, 0x5000, 3, F)],
            vec![vec![
                v(NEW, 0, 0x1000, 0, F),
                v("A", 0x1000, 0x2000, 1, R),
                v("B", 0x3000, 0x4000, 3, R),
                v(NEW, 0x4000, 0x5000, 4, F),
            ]],
            |tree, world| {
                let mut txn = tree.transaction();
                vma_modify_in(&mut txn, world.area("A"), 0x1000, 0x2000, VmaChange::Flags(R)).expect("A changes");
                vma_modify_in(&mut txn, world.area("B"), 0x3000, 0x4000, VmaChange::Flags(R)).expect("B changes");
                txn.commit();
            },
        )
    }
    .check();
}

/// munmap spanning four areas (`VmaTxn::clear`): the first is trimmed, two go, the last is
/// trimmed at its start (pgoff advanced). One transaction.
///
/// ```text
///   AAAAAAAABBBBCCCCDDDDDDDD   ->   AAAA................DDDD
///           [      unmap      ]
/// ```
#[test]
fn munmap_spanning() {
    model(
        "munmap_spanning",
        0x7000,
        vec![
            v("A", 0, 0x2000, 0, F),
            v("B", 0x2000, 0x3000, 0x20, R),
            v("C", 0x3000, 0x4000, 0x30, F).anon("X"),
            v("D", 0x4000, 0x6000, 0x40, F),
        ],
        vec![vec![v("A", 0, 0x1000, 0, F), v("D", 0x5000, 0x6000, 0x41, F)]],
        |tree, world| {
            let mut txn = tree.transaction();
            let removed = txn.clear(0x1000, 0x5000).expect("the unmap succeeds");
            let removed: Vec<_> = removed.iter().map(|vma| world.id_label(vma.id())).collect();
            assert_eq!(removed, ["B", "C"]);
            txn.commit();
        },
    )
    .check();
}

/// `vma_expand` of a target up to the end of the area after it: that area is deleted and
/// the target takes its anon_vma.
///
/// ```text
///   TTTT....NNNNNNNN   ->   TTTTTTTTTTTTTTTT
/// ```
#[test]
fn vma_expand_deletes_next() {
    model(
        "vma_expand_deletes_next",
        0x5000,
        vec![v("T", 0, 0x1000, 0, F), v("N", 0x2000, 0x4000, 2, F).anon("X")],
        vec![vec![v("T", 0, 0x4000, 0, F).anon("X")]],
        |tree, world| {
            let mut vmg = VmaMergeRequest::new_range(0, 0x4000, 0, F, None);
            vmg.target = Some(world.area("T").clone());
            let grown = vma_expand(tree, &mut vmg).expect("the expand succeeds");
            assert_eq!((grown.id(), grown.end, vmg.state), (world.area("T").id(), 0x4000, MergeState::Success));
        },
    )
    .check();
}

/// A first write fault on an area no neighbour can lend to: `anon_vma_prepare` allocates a
/// new anon_vma (chain of one) and publishes a new version of the area.
#[test]
fn fault_allocates_anon_vma() {
    model(
        "fault_allocates_anon_vma",
        0x4000,
        vec![v("A", 0, 0x1000, 0, RX), v("V", 0x1000, 0x3000, 1, F)],
        vec![vec![v("A", 0, 0x1000, 0, RX), v("V", 0x1000, 0x3000, 1, F).anon(NEW)]],
        |tree, world| {
            let faulted = anon_vma_prepare(tree, world.area("V")).expect("the fault succeeds");
            let anon = faulted.anon.as_ref().expect("an anon_vma");
            assert_eq!(anon.chain_len, 1);
        },
    )
    .check();
}

/// A first write fault next to a compatible area with an anon_vma of its own: that one is
/// lent (so the two may merge later) and published with the area's new version.
#[test]
fn fault_borrows_anon_vma() {
    model(
        "fault_borrows_anon_vma",
        0x4000,
        vec![v("A", 0, 0x1000, 0, R).anon("X"), v("V", 0x1000, 0x3000, 1, F)],
        vec![vec![v("A", 0, 0x1000, 0, R).anon("X"), v("V", 0x1000, 0x3000, 1, F).anon("X")]],
        |tree, world| {
            anon_vma_prepare(tree, world.area("V")).expect("the fault succeeds");
        },
    )
    .check();
}
