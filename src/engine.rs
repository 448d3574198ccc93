//! The engine runner: an op script replayed on an [`mm::Mm`], reported in the output format
//! of docs/opscript.md.
//!
//! The window `[0, W)` sits at [`WINDOW_BASE`]; one page below and one page above it are
//! inaccessible shared mappings of a file no script uses, so nothing in the window merges
//! with them, as in the kernel runner.

use std::collections::HashMap;
use std::sync::Arc;

use mm::{
    Access, Advice, Errno, MapFlags, MlockFlags, MlockallFlags, Mm, MremapFlags, MsealFlags, OpenFile, Prot as MmProt,
    Signal,
};
use vma::{File, VmFlags, Vma, PAGE_SIZE};

use crate::script::{
    mremap_maymove, Backing, Kind, LimitError, Mods, Op, OpLine, OpResult, Outcome, Perms, Prot, Script, VmaLine,
    MAX_WINDOW,
};

/// The address of page 0 of the window.
pub const WINDOW_BASE: u64 = 0x7e00_0000_0000;

// The largest window and its upper fence end below the task size of the default layout.
const _: () = assert!(WINDOW_BASE + (MAX_WINDOW + 1) * PAGE_SIZE <= (1 << 47) - PAGE_SIZE);

/// Replays `script` on a fresh engine address space and reports what each op did and the
/// VMAs of the window afterwards.
///
/// ```
/// use maple_mm::{engine, script};
/// let script = script::parse("window 16\nmmap 0 4 rw anon_private\nmmap 4 4 rw anon_private\n").unwrap();
/// let outcome = engine::run(&script).unwrap();
/// assert_eq!(outcome.vmas.len(), 1);
/// assert_eq!((outcome.vmas[0].start, outcome.vmas[0].end), (0, 8));
/// ```
///
/// A script built in code with numbers past their limits (see [`Script::check`]) is refused
/// with the same error the parser gives.
pub fn run(script: &Script) -> Result<Outcome, LimitError> {
    let replay = Replay::new(script)?;
    let ops = script
        .ops
        .iter()
        .enumerate()
        .map(|(index, op)| {
            let result = if op.leaves_window(script.window) { OpResult::SkipOutOfWindow } else { replay.apply(op) };
            OpLine { n: index + 1, result }
        })
        .collect();
    Ok(Outcome { ops, vmas: replay.window_vmas() })
}

/// A script's address space and its files: what [`run`] replays ops on, public so that
/// tests can replay ops one at a time while other threads read the address space.
///
/// ```
/// use maple_mm::engine::Replay;
/// use maple_mm::script::{parse, OpResult};
/// let script = parse("window 8\nmmap 0 2 r anon_private\ntouch 0\n").unwrap();
/// let replay = Replay::new(&script).unwrap();
/// assert_eq!(replay.apply(&script.ops[0]), OpResult::OkAt(0));
/// assert_eq!(replay.apply(&script.ops[1]), OpResult::Segv(0));
/// assert_eq!(replay.window_vmas().len(), 1);
/// assert_eq!(replay.mm().snapshot().map_count(), 3); // with the two fences
/// ```
pub struct Replay {
    mm: Mm,
    window: u64,
    /// The open file descriptions: per script file, one opened read-write and one
    /// read-only. Linux compares `vm_file` by pointer, so mappings through different opens
    /// of one file never merge; each is its own [`File`] here.
    files: HashMap<(u32, bool), Arc<File>>,
    /// Script file id of each file object id.
    file_ids: HashMap<u64, u32>,
}

impl Replay {
    /// A fresh address space with the script's window (fenced) and files; the script's
    /// numbers must be within their limits ([`Script::check`]).
    pub fn new(script: &Script) -> Result<Replay, LimitError> {
        script.check()?;
        let mm = Mm::new();
        let fence = OpenFile::read_write(File::with_pages("window-fence", 2));
        let shared_fixed = MapFlags::SHARED | MapFlags::FIXED;
        let above = WINDOW_BASE + script.window * PAGE_SIZE;
        for (addr, offset) in [(WINDOW_BASE - PAGE_SIZE, 0), (above, PAGE_SIZE)] {
            // Within MAX_WINDOW the whole window and its fences lie below the task size.
            mm.mmap(addr, PAGE_SIZE, MmProt::NONE, shared_fixed, Some(&fence), offset).expect("the window fences map");
        }
        let mut files = HashMap::new();
        let mut file_ids = HashMap::new();
        for id in script.file_ids() {
            for read_only in [false, true] {
                let file = File::with_pages(format!("file{id}"), script.file_pages(id));
                file_ids.insert(file.id(), id);
                files.insert((id, read_only), file);
            }
        }
        Ok(Replay { mm, window: script.window, files, file_ids })
    }

    /// The address space.
    pub fn mm(&self) -> &Mm {
        &self.mm
    }

    /// The address of window page `page`.
    pub fn addr(page: u64) -> u64 {
        WINDOW_BASE + page * PAGE_SIZE
    }

    /// Performs one op (whether or not it leaves the window) and reports its result.
    pub fn apply(&self, op: &Op) -> OpResult {
        let mm = &self.mm;
        let bytes = |npages: u64| npages * PAGE_SIZE;
        let done =
            |result: Result<(), Errno>| result.map_or_else(|e| OpResult::Err(e.name().into()), |()| OpResult::Ok);
        let landed = |result: Result<u64, Errno>| match result {
            Ok(addr) => OpResult::OkAt(addr.wrapping_sub(WINDOW_BASE) / PAGE_SIZE),
            Err(e) => OpResult::Err(e.name().into()),
        };
        match *op {
            Op::Mmap { page, npages, prot, kind, mods } => landed(self.mmap(page, npages, prot, kind, mods)),
            Op::Munmap { page, npages } => done(mm.munmap(Self::addr(page), bytes(npages))),
            Op::Mprotect { page, npages, prot } => done(mm.mprotect(Self::addr(page), bytes(npages), mm_prot(prot))),
            Op::Madvise { page, npages, advice } => done(self.madvise(page, npages, advice.number())),
            Op::Mlock { page, npages } => done(mm.mlock(Self::addr(page), bytes(npages))),
            Op::MlockOnfault { page, npages } => done(mm.mlock2(Self::addr(page), bytes(npages), MlockFlags::ONFAULT)),
            Op::Munlock { page, npages } => done(mm.munlock(Self::addr(page), bytes(npages))),
            Op::Mseal { page, npages } => done(mm.mseal(Self::addr(page), bytes(npages), MsealFlags::NONE)),
            Op::Mremap { old_page, old_npages, new_npages, maymove, fixed, dontunmap } => {
                let mut flags = MremapFlags::NONE;
                if mremap_maymove(maymove, fixed, dontunmap) {
                    flags |= MremapFlags::MAYMOVE;
                }
                if fixed.is_some() {
                    flags |= MremapFlags::FIXED;
                }
                if dontunmap {
                    flags |= MremapFlags::DONTUNMAP;
                }
                let target = fixed.map_or(0, Self::addr);
                let moved = mm.mremap(Self::addr(old_page), bytes(old_npages), bytes(new_npages), flags, target);
                match moved {
                    // Where a free move lands depends on the whole process; like the kernel
                    // runner, unmap it there and say so.
                    Ok(addr) if !(WINDOW_BASE..Self::addr(self.window)).contains(&addr) => {
                        let _ = mm.munmap(addr, bytes(new_npages));
                        OpResult::Err(crate::kernel::MOVED_OUT.into())
                    }
                    moved => landed(moved),
                }
            }
            Op::Touch { page, npages } => self.access(page, npages, Access::Write),
            Op::Read { page, npages } => self.access(page, npages, Access::Read),
            Op::Mlockall { current, future, onfault } => {
                let mut flags = MlockallFlags::NONE;
                for (on, flag) in [
                    (current, MlockallFlags::CURRENT),
                    (future, MlockallFlags::FUTURE),
                    (onfault, MlockallFlags::ONFAULT),
                ] {
                    if on {
                        flags |= flag;
                    }
                }
                done(mm.mlockall(flags))
            }
            Op::Munlockall => done(mm.munlockall()),
            Op::Fork => done(mm.fork().map(drop)),
        }
    }

    fn mmap(&self, page: u64, npages: u64, prot: Prot, kind: Kind, mods: Mods) -> Result<u64, Errno> {
        let mut flags = if mods.noreplace { MapFlags::FIXED_NOREPLACE } else { MapFlags::FIXED };
        for (on, flag) in [
            (mods.noreserve, MapFlags::NORESERVE),
            (mods.populate, MapFlags::POPULATE),
            (mods.locked, MapFlags::LOCKED),
            (mods.growsdown, MapFlags::GROWSDOWN),
            (mods.stack, MapFlags::STACK),
        ] {
            if on {
                flags |= flag;
            }
        }
        let (open, offset) = match kind {
            Kind::AnonPrivate => {
                flags |= MapFlags::PRIVATE | MapFlags::ANONYMOUS;
                (None, 0)
            }
            Kind::AnonShared => {
                flags |= MapFlags::SHARED | MapFlags::ANONYMOUS;
                (None, 0)
            }
            Kind::FilePrivate { file, pgoff } | Kind::FileShared { file, pgoff } => {
                let shared = matches!(kind, Kind::FileShared { .. });
                flags |= if shared { MapFlags::SHARED } else { MapFlags::PRIVATE };
                let object = self.files[&(file, mods.ro)].clone();
                let open = if mods.ro { OpenFile::read_only(object) } else { OpenFile::read_write(object) };
                // A byte offset past 64 bits cannot reach Linux; Script::check refuses it.
                (Some(open), pgoff.checked_mul(PAGE_SIZE).ok_or(Errno::EOVERFLOW)?)
            }
        };
        self.mm.mmap(Self::addr(page), npages * PAGE_SIZE, mm_prot(prot), flags, open.as_ref(), offset)
    }

    /// madvise with the script's advice number: a number Linux does not know is EINVAL, as
    /// `do_madvise` checks the advice before the address and the length.
    fn madvise(&self, page: u64, npages: u64, number: i32) -> Result<(), Errno> {
        let advice = Advice::from_number(number).ok_or(Errno::EINVAL)?;
        self.mm.madvise(Self::addr(page), npages * PAGE_SIZE, advice)
    }

    /// One access per page; the first signal ends the op.
    fn access(&self, page: u64, npages: u64, access: Access) -> OpResult {
        for p in page..page + npages {
            match self.mm.fault(Self::addr(p), access) {
                Ok(_) => {}
                Err(Signal::Segv) => return OpResult::Segv(p),
                Err(Signal::Bus) => return OpResult::Sigbus(p),
            }
        }
        OpResult::Ok
    }

    /// The VMA lines of the window, numbering shared anonymous objects as they appear.
    pub fn window_vmas(&self) -> Vec<VmaLine> {
        let snap = self.mm.snapshot();
        let mut shared_anon: HashMap<u64, u32> = HashMap::new();
        let end = Self::addr(self.window);
        snap.vmas_in(WINDOW_BASE, end).map(|vma| self.vma_line(vma, &mut shared_anon)).collect()
    }

    fn vma_line(&self, vma: &Vma, shared_anon: &mut HashMap<u64, u32>) -> VmaLine {
        let backing = match &vma.file {
            None => Backing::Anon,
            Some(file) => match self.file_ids.get(&file.id()) {
                Some(&id) => Backing::File(id),
                None => {
                    let next = shared_anon.len() as u32;
                    Backing::SharedAnon(*shared_anon.entry(file.id()).or_insert(next))
                }
            },
        };
        VmaLine {
            start: (vma.start - WINDOW_BASE) / PAGE_SIZE,
            end: (vma.end - WINDOW_BASE) / PAGE_SIZE,
            perms: Perms {
                read: vma.flags.contains(VmFlags::READ),
                write: vma.flags.contains(VmFlags::WRITE),
                exec: vma.flags.contains(VmFlags::EXEC),
                shared: vma.flags.contains(VmFlags::MAYSHARE),
            },
            pgoff: vma.file.as_ref().map(|_| vma.pgoff),
            backing,
            vmflags: vma.flags.mnemonics().map(str::to_string).collect(),
        }
    }
}

fn mm_prot(prot: Prot) -> MmProt {
    let mut out = MmProt::NONE;
    for (on, bit) in [(prot.read, MmProt::READ), (prot.write, MmProt::WRITE), (prot.exec, MmProt::EXEC)] {
        if on {
            out |= bit;
        }
    }
    out
}
