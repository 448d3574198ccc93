//! Property test: random new-range merges (mmap), modifies, unmaps, splits, first faults and
//! in-place extensions, with the invariants checked after each step against a page model.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use common::*;
use proptest::prelude::*;
use vma::{
    anon_vma_prepare, merge_extend, merge_new_range, split_vma, vma_modify, File, VmFlags, Vma, VmaChange,
    VmaMergeRequest, VmaTree, PAGE_SIZE,
};

const WINDOW: u64 = 48;

#[derive(Clone, Debug)]
enum Op {
    Map { page: u64, pages: u64, file: u8, base: u64, flags: u8 },
    Modify { page: u64, pages: u64, flags: u8 },
    Unmap { page: u64, pages: u64 },
    Split { page: u64 },
    Fault { page: u64 },
    Extend { page: u64, pages: u64 },
}

fn op() -> impl Strategy<Value = Op> {
    let page = 0..WINDOW;
    prop_oneof![
        4 => (page.clone(), 1..8u64, 0..3u8, 0..3u64, 0..4u8)
            .prop_map(|(page, pages, file, base, flags)| Op::Map { page, pages, file, base, flags }),
        3 => (page.clone(), 1..8u64, 0..4u8).prop_map(|(page, pages, flags)| Op::Modify { page, pages, flags }),
        1 => (page.clone(), 1..6u64).prop_map(|(page, pages)| Op::Unmap { page, pages }),
        1 => page.clone().prop_map(|page| Op::Split { page }),
        2 => page.clone().prop_map(|page| Op::Fault { page }),
        1 => (page, 1..6u64).prop_map(|(page, pages)| Op::Extend { page, pages }),
    ]
}

fn flag_choice(i: u8) -> VmFlags {
    [F, VmFlags::READ | VmFlags::MAYREAD | VmFlags::MAYWRITE, F | VmFlags::EXEC, F | VmFlags::SOFTDIRTY][i as usize]
}

/// What each mapped page must look like: its file page offset, flags (without sticky
/// bits), file (index), and whether it was faulted (so its VMA must have an anon_vma).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Page {
    pgoff: u64,
    flags: VmFlags,
    file: Option<usize>,
    faulted: bool,
}

struct World {
    tree: VmaTree,
    files: [Arc<File>; 2],
    model: BTreeMap<u64, Page>,
}

impl World {
    fn file_index(&self, vma: &Vma) -> Option<usize> {
        vma.file.as_ref().map(|f| self.files.iter().position(|g| Arc::ptr_eq(f, g)).unwrap())
    }

    fn unmap(&mut self, start: u64, end: u64) {
        let mut txn = self.tree.transaction();
        txn.clear(start * PAGE_SIZE, end * PAGE_SIZE).unwrap();
        txn.commit();
        for p in start..end {
            self.model.remove(&p);
        }
    }

    fn apply(&mut self, op: &Op) {
        match *op {
            Op::Map { page, pages, file, base, flags } => {
                let end = (page + pages).min(WINDOW);
                self.unmap(page, end);
                let flags = flag_choice(flags);
                let file = (file < 2).then(|| self.files[file as usize].clone());
                // anonymous: pgoff = address / page size; files: one of three bases.
                let pgoff = if file.is_some() { base * 16 + page } else { page };
                let (start, end_addr) = (page * PAGE_SIZE, end * PAGE_SIZE);
                let mut vmg = VmaMergeRequest::new_range(start, end_addr, pgoff, flags, file.clone());
                fill_neighbours(&self.tree, &mut vmg);
                if merge_new_range(&self.tree, &mut vmg).is_none() {
                    let mut v = Vma::new(start, end_addr, pgoff, flags);
                    v.file = file.clone();
                    self.tree.insert(v).unwrap();
                }
                let file = file.as_ref().map(|f| self.files.iter().position(|g| Arc::ptr_eq(f, g)).unwrap());
                for p in page..end {
                    let page = Page { pgoff: pgoff + (p - page), flags: flags.without_sticky(), file, faulted: false };
                    self.model.insert(p, page);
                }
            }
            Op::Modify { page, pages, flags } => {
                let Some(v) = self.tree.find(page * PAGE_SIZE) else { return };
                let start = page * PAGE_SIZE;
                let end = ((page + pages) * PAGE_SIZE).min(v.end);
                let flags = flag_choice(flags);
                let changed = vma_modify(&self.tree, &v, start, end, VmaChange::Flags(flags)).unwrap();
                assert!(changed.start <= start && end <= changed.end, "the returned VMA covers the range");
                assert_eq!(changed.flags.without_sticky(), flags.without_sticky());
                for p in start / PAGE_SIZE..end / PAGE_SIZE {
                    self.model.get_mut(&p).unwrap().flags = flags.without_sticky();
                }
            }
            Op::Unmap { page, pages } => self.unmap(page, (page + pages).min(WINDOW)),
            Op::Split { page } => {
                let Some(v) = self.tree.find(page * PAGE_SIZE) else { return };
                if v.start < page * PAGE_SIZE {
                    split_vma(&self.tree, &v, page * PAGE_SIZE, page % 2 == 0).unwrap();
                }
            }
            Op::Fault { page } => {
                let Some(v) = self.tree.find(page * PAGE_SIZE) else { return };
                let v = anon_vma_prepare(&self.tree, &v).unwrap();
                assert!(v.anon.is_some());
                self.model.get_mut(&page).unwrap().faulted = true;
            }
            Op::Extend { page, pages } => {
                let Some(v) = self.tree.find(page * PAGE_SIZE) else { return };
                let old_end = v.end / PAGE_SIZE;
                if let Some(grown) = merge_extend(&self.tree, &v, pages * PAGE_SIZE) {
                    assert_eq!(grown.id(), v.id());
                    for p in old_end..old_end + pages {
                        let file = self.file_index(&v);
                        let page = Page {
                            pgoff: v.pgoff_at(p * PAGE_SIZE),
                            flags: v.flags.without_sticky(),
                            file,
                            faulted: false,
                        };
                        self.model.insert(p, page);
                    }
                }
            }
        }
    }

    fn check(&self) {
        self.tree.validate().unwrap();
        let vmas = self.tree.vmas();
        assert_eq!(vmas.len(), self.tree.map_count());
        let mut ids = BTreeSet::new();
        for v in &vmas {
            assert!(ids.insert(v.id()), "two VMAs share an id");
            assert_eq!(self.tree.find(v.start).unwrap().id(), v.id());
            assert_eq!(self.tree.find(v.end - 1).unwrap().id(), v.id());
        }
        for pair in vmas.windows(2) {
            assert!(pair[0].end <= pair[1].start, "overlap");
        }
        let extent = vmas.last().map_or(0, |v| v.end / PAGE_SIZE).max(WINDOW + 8);
        for p in 0..extent {
            let found = self.tree.find(p * PAGE_SIZE);
            match (self.model.get(&p), found) {
                (None, None) => {}
                (Some(want), Some(v)) => {
                    assert_eq!(v.pgoff_at(p * PAGE_SIZE), want.pgoff, "pgoff of page {p}");
                    assert_eq!(v.flags.without_sticky(), want.flags, "flags of page {p}");
                    assert_eq!(self.file_index(&v), want.file, "file of page {p}");
                    if want.faulted {
                        assert!(v.anon.is_some(), "page {p} lost its anon_vma");
                    }
                }
                (want, found) => panic!("page {p}: model {want:?}, tree {:?}", found.map(|v| (v.start, v.end))),
            }
        }
    }
}

/// 1000 cases natively. Under Miri two short ones (an operation costs it a few tenths of a
/// second), and no failure persistence: looking up the regressions file needs the working
/// directory, which Miri's isolation refuses.
fn config() -> ProptestConfig {
    if cfg!(miri) {
        ProptestConfig { cases: 2, failure_persistence: None, ..ProptestConfig::default() }
    } else {
        ProptestConfig { cases: 1000, ..ProptestConfig::default() }
    }
}

/// Exclusive bound on a case's number of operations.
const LONG: usize = size(60, 12) as usize;

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_merges_and_modifies_keep_the_invariants(ops in proptest::collection::vec(op(), 1..LONG)) {
        let mut world = World { tree: VmaTree::new(), files: [File::new("a"), File::new("b")], model: BTreeMap::new() };
        for op in &ops {
            world.apply(op);
            world.check();
        }
    }
}
