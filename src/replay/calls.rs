//! One memory call of a log on the engine: strace's flag names to the call's arguments, the
//! engine's answer in the log's terms.

use std::collections::HashMap;
use std::sync::Arc;

use mm::{Advice, Errno, MapFlags, MlockFlags, MlockallFlags, Mm, MremapFlags, MsealFlags, OpenFile, Prot};
use vma::File;

use crate::trace::{Flags, MemoryCall, Ret};

/// The files a process has open, as far as its mappings show them: a descriptor's file is a
/// new open (a new [`File`], whose mappings merge with no other open's) whenever the
/// descriptor is seen with a different path than before.
#[derive(Clone, Default)]
pub struct FileTable {
    open: HashMap<i64, (String, Arc<File>)>,
}

impl FileTable {
    fn file(&mut self, number: i64, path: &str) -> Arc<File> {
        match self.open.get(&number) {
            Some((known, file)) if known == path => file.clone(),
            _ => {
                let file = File::new(path);
                self.open.insert(number, (path.to_string(), file.clone()));
                file
            }
        }
    }
}

/// Why a call was not performed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotPerformed {
    /// A flag or advice name the engine does not know.
    UnknownName(String),
    /// A file mapping whose descriptor strace printed without a path (`-y` missing).
    NoPath,
}

impl std::fmt::Display for NotPerformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotPerformed::UnknownName(name) => write!(f, "unknown flag or advice `{name}`"),
            NotPerformed::NoPath => write!(f, "a file mapping without the file's path (strace -y)"),
        }
    }
}

/// Performs `call` on `mm`, returning what the engine answered.
pub fn perform(mm: &Mm, files: &mut FileTable, call: &MemoryCall) -> Result<Ret, NotPerformed> {
    let done = |result: Result<(), Errno>| result.map(|()| 0);
    let result = match call {
        MemoryCall::Mmap { addr, len, prot, flags, fd, offset } => {
            let (prot, flags) = (prot_of(prot)?, map_flags_of(flags)?);
            let open = match flags.contains(MapFlags::ANONYMOUS) {
                true => None,
                false => {
                    let path = fd.path.as_deref().ok_or(NotPerformed::NoPath)?;
                    let writable = matches!(flags.bits() & 0x0f, 0x01 | 0x03) && prot.contains(Prot::WRITE);
                    let file = files.file(fd.number, path);
                    Some(OpenFile { file, readable: true, writable })
                }
            };
            mm.mmap(*addr, *len, prot, flags, open.as_ref(), *offset)
        }
        MemoryCall::Munmap { addr, len } => done(mm.munmap(*addr, *len)),
        MemoryCall::Mprotect { addr, len, prot } | MemoryCall::PkeyMprotect { addr, len, prot, .. } => {
            done(mm.mprotect(*addr, *len, prot_of(prot)?))
        }
        MemoryCall::Brk { addr } => Ok(mm.brk(*addr)),
        MemoryCall::Mremap { addr, old_len, new_len, flags, new_addr } => {
            mm.mremap(*addr, *old_len, *new_len, mremap_flags_of(flags)?, new_addr.unwrap_or(0))
        }
        MemoryCall::Madvise { addr, len, advice } => done(mm.madvise(*addr, *len, advice_of(advice)?)),
        MemoryCall::Mlock { addr, len } => done(mm.mlock(*addr, *len)),
        MemoryCall::Mlock2 { addr, len, flags } => done(mm.mlock2(*addr, *len, mlock_flags_of(flags)?)),
        MemoryCall::Munlock { addr, len } => done(mm.munlock(*addr, *len)),
        MemoryCall::Mseal { addr, len, flags } => done(mm.mseal(*addr, *len, MsealFlags::from_bits(bits_only(flags)?))),
        MemoryCall::Msync { addr, len, .. } | MemoryCall::Mincore { addr, len } => {
            done(whole_range_mapped(mm, *addr, *len))
        }
        MemoryCall::Mlockall { flags } => {
            done(mm.mlockall(MlockallFlags::from_bits(bits_from(flags, MLOCKALL)? as u32)))
        }
        MemoryCall::Munlockall => done(mm.munlockall()),
    };
    Ok(match result {
        Ok(value) => Ret::Value(value),
        Err(errno) => Ret::Error(format!("{errno:?}")),
    })
}

/// The new range a successful call gave the program: a mapping, a mremap's new place, or the
/// part a mremap grew in place. (brk's growth depends on the break before the call, which the
/// callers know.)
pub fn given_range(call: &MemoryCall, engine: &Ret) -> Option<(u64, u64)> {
    let Ret::Value(at) = *engine else { return None };
    match call {
        MemoryCall::Mmap { len, .. } => Some((at, at + len.next_multiple_of(vma::PAGE_SIZE))),
        MemoryCall::Mremap { addr, new_len, .. } if at != *addr => Some((at, at + new_len)),
        MemoryCall::Mremap { addr, old_len, new_len, .. } if new_len > old_len => {
            Some((addr + old_len, addr + new_len))
        }
        _ => None,
    }
}

/// `msync` and `mincore` change nothing the engine models; what they answer is whether the
/// range is wholly mapped (ENOMEM otherwise) after the alignment check (EINVAL).
fn whole_range_mapped(mm: &Mm, addr: u64, len: u64) -> Result<(), Errno> {
    if addr % vma::PAGE_SIZE != 0 {
        return Err(Errno::EINVAL);
    }
    let end = addr.checked_add(len.next_multiple_of(vma::PAGE_SIZE)).ok_or(Errno::ENOMEM)?;
    let mut covered = addr;
    for area in mm.snapshot().vmas().filter(|area| area.end > addr && area.start < end) {
        if area.start > covered {
            return Err(Errno::ENOMEM);
        }
        covered = area.end;
    }
    if covered < end {
        return Err(Errno::ENOMEM);
    }
    Ok(())
}

/// The value of a flag set from a name table: every name must be in it.
fn bits_from(flags: &Flags, table: &[(&str, u64)]) -> Result<u64, NotPerformed> {
    let mut bits = flags.bits;
    for name in &flags.names {
        let value = table.iter().find(|(known, _)| known == name).map(|(_, value)| *value);
        bits |= value.ok_or_else(|| NotPerformed::UnknownName(name.clone()))?;
    }
    Ok(bits)
}

fn bits_only(flags: &Flags) -> Result<u64, NotPerformed> {
    bits_from(flags, &[])
}

const PROT: &[(&str, u64)] = &[
    ("PROT_NONE", 0),
    ("PROT_READ", 0x1),
    ("PROT_WRITE", 0x2),
    ("PROT_EXEC", 0x4),
    ("PROT_SEM", 0x8),
    ("PROT_GROWSDOWN", 0x0100_0000),
    ("PROT_GROWSUP", 0x0200_0000),
];

const MAP: &[(&str, u64)] = &[
    ("MAP_SHARED", 0x01),
    ("MAP_PRIVATE", 0x02),
    ("MAP_SHARED_VALIDATE", 0x03),
    ("MAP_FIXED", 0x10),
    ("MAP_ANONYMOUS", 0x20),
    ("MAP_32BIT", 0x40),
    ("MAP_GROWSDOWN", 0x0100),
    ("MAP_DENYWRITE", 0x0800),
    ("MAP_EXECUTABLE", 0x1000),
    ("MAP_LOCKED", 0x2000),
    ("MAP_NORESERVE", 0x4000),
    ("MAP_POPULATE", 0x8000),
    ("MAP_NONBLOCK", 0x1_0000),
    ("MAP_STACK", 0x2_0000),
    ("MAP_HUGETLB", 0x4_0000),
    ("MAP_SYNC", 0x8_0000),
    ("MAP_FIXED_NOREPLACE", 0x10_0000),
    ("MAP_UNINITIALIZED", 0x400_0000),
];

const MREMAP: &[(&str, u64)] = &[("MREMAP_MAYMOVE", 0x1), ("MREMAP_FIXED", 0x2), ("MREMAP_DONTUNMAP", 0x4)];

const MLOCK: &[(&str, u64)] = &[("MLOCK_ONFAULT", 0x1)];

const MLOCKALL: &[(&str, u64)] = &[("MCL_CURRENT", 0x1), ("MCL_FUTURE", 0x2), ("MCL_ONFAULT", 0x4)];

const MADVISE: &[(&str, u64)] = &[
    ("MADV_NORMAL", 0),
    ("MADV_RANDOM", 1),
    ("MADV_SEQUENTIAL", 2),
    ("MADV_WILLNEED", 3),
    ("MADV_DONTNEED", 4),
    ("MADV_FREE", 8),
    ("MADV_REMOVE", 9),
    ("MADV_DONTFORK", 10),
    ("MADV_DOFORK", 11),
    ("MADV_MERGEABLE", 12),
    ("MADV_UNMERGEABLE", 13),
    ("MADV_HUGEPAGE", 14),
    ("MADV_NOHUGEPAGE", 15),
    ("MADV_DONTDUMP", 16),
    ("MADV_DODUMP", 17),
    ("MADV_WIPEONFORK", 18),
    ("MADV_KEEPONFORK", 19),
    ("MADV_COLD", 20),
    ("MADV_PAGEOUT", 21),
    ("MADV_POPULATE_READ", 22),
    ("MADV_POPULATE_WRITE", 23),
    ("MADV_DONTNEED_LOCKED", 24),
    ("MADV_COLLAPSE", 25),
    ("MADV_GUARD_INSTALL", 102),
    ("MADV_GUARD_REMOVE", 103),
];

fn prot_of(flags: &Flags) -> Result<Prot, NotPerformed> {
    Ok(Prot::from_bits(bits_from(flags, PROT)? as u32))
}

fn map_flags_of(flags: &Flags) -> Result<MapFlags, NotPerformed> {
    // `21<<MAP_HUGE_SHIFT`: a huge page size, meaningful only with MAP_HUGETLB.
    let sizes: Vec<String> = flags.names.iter().filter(|n| !n.contains("<<MAP_HUGE_SHIFT")).cloned().collect();
    let shift_free = Flags { names: sizes, bits: flags.bits };
    Ok(MapFlags::from_bits(bits_from(&shift_free, MAP)? as u32))
}

fn mremap_flags_of(flags: &Flags) -> Result<MremapFlags, NotPerformed> {
    Ok(MremapFlags::from_bits(bits_from(flags, MREMAP)? as u32))
}

fn mlock_flags_of(flags: &Flags) -> Result<MlockFlags, NotPerformed> {
    Ok(MlockFlags::from_bits(bits_from(flags, MLOCK)? as u32))
}

fn advice_of(flags: &Flags) -> Result<Advice, NotPerformed> {
    let number = bits_from(flags, MADVISE)?;
    let known = i32::try_from(number).ok().and_then(Advice::from_number);
    known.ok_or_else(|| NotPerformed::UnknownName(format!("advice {number}")))
}
