//! The address space a traced program starts with, built from its maps or smaps at the first
//! instruction: each area installed as it is, the layout Linux gives the process.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use mm::{Layout, Limits, Mm};
use vma::{AnonRef, File, VmFlags, VmOps, Vma, PAGE_SIZE};

use crate::trace::{AreaName, MapsArea};

/// Why an initial layout cannot be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitialError {
    /// An smaps `VmFlags` code the engine does not know, on the area starting at the address.
    UnknownVmFlag(u64, String),
    /// The engine refused an area (out of range, overlapping): the area's start and errno.
    Refused(u64, mm::Errno),
    /// No file is mapped at all, so there is no executable to put the heap after.
    NoExecutable,
}

impl fmt::Display for InitialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InitialError::UnknownVmFlag(start, code) => write!(f, "area {start:#x}: unknown VmFlags code `{code}`"),
            InitialError::Refused(start, errno) => write!(f, "area {start:#x}: the engine refused it ({errno:?})"),
            InitialError::NoExecutable => write!(f, "no file is mapped: cannot tell where the heap starts"),
        }
    }
}

impl std::error::Error for InitialError {}

/// The address space at the first instruction, and the files its areas map (by path: one
/// open of each, as exec and the loader make them).
pub struct Initial {
    /// The address space.
    pub mm: Mm,
    /// The files of the installed areas, by path.
    pub files: HashMap<String, Arc<File>>,
}

/// Builds the address space `areas` describe, for a process whose stack limit is
/// `stack_limit` bytes, which places `mmap_base` as Linux does with randomisation off unless
/// `mmap_base` gives it.
///
/// The heap starts where Linux starts it: at the end of the executable's areas (its file
/// areas and the bss right after them); the executable is the lowest mapped file. A `[heap]`
/// in the layout is made by brk, from its start to its end (the break). `[stack]`
/// is named through `start_stack`; `[vdso]`, `[vvar]` and other bracketed names through a
/// special mapping's name hook; `[vsyscall]` is the gate area, outside the task, and is not
/// installed. Flags come from smaps' `VmFlags`; a maps file gets the flags Linux gives such
/// areas (see docs/traces.md). An area has an anon_vma when smaps shows anonymous pages in
/// it, or, without smaps, when it is private and writable.
pub fn build(areas: &[MapsArea], stack_limit: u64, mmap_base: Option<u64>) -> Result<Initial, InitialError> {
    let mut layout = Layout::for_stack_limit(stack_limit);
    layout.mmap_base = mmap_base.unwrap_or(layout.mmap_base);
    let heap = areas.iter().find(|area| is_named(area, "[heap]"));
    layout.brk_start = match heap {
        Some(heap) => heap.start,
        None => heap_start(areas).ok_or(InitialError::NoExecutable)?,
    };
    if let Some(stack) = areas.iter().find(|area| is_named(area, "[stack]")) {
        layout.start_stack = stack.end - 1;
    }
    let limits = Limits { stack: stack_limit, ..Limits::default() };
    let mm = Mm::with_layout(layout, limits);
    let mut files = HashMap::new();
    let installed = |area: &&MapsArea| !is_named(area, "[vsyscall]") && !is_named(area, "[heap]");
    for area in areas.iter().filter(installed) {
        let vma = area_vma(area, &mut files)?;
        mm.install(vma).map_err(|errno| InitialError::Refused(area.start, errno))?;
    }
    if let Some(heap) = heap {
        grow_heap(&mm, heap)?;
    }
    Ok(Initial { mm, files })
}

/// A heap already in the layout (a process caught after its start) is made as brk makes it,
/// so that the break is its end and later brk calls move it; written pages give it its
/// anon_vma.
fn grow_heap(mm: &Mm, heap: &MapsArea) -> Result<(), InitialError> {
    if mm.brk(heap.end) != heap.end {
        return Err(InitialError::Refused(heap.start, mm::Errno::ENOMEM));
    }
    let written = heap.anonymous_kb.is_none_or(|kb| kb > 0);
    if written {
        mm.fault(heap.start, mm::Access::Write).map_err(|_| InitialError::Refused(heap.start, mm::Errno::EFAULT))?;
    }
    Ok(())
}

fn is_named(area: &MapsArea, name: &str) -> bool {
    matches!(&area.name, AreaName::Special(special) if special == name)
}

/// The end of the executable's areas: its file areas from the lowest mapped file on, and an
/// anonymous area right after them (the bss).
fn heap_start(areas: &[MapsArea]) -> Option<u64> {
    let first = areas.iter().position(|area| matches!(area.name, AreaName::Path(_)))?;
    let mut end = areas[first].end;
    for area in &areas[first + 1..] {
        let same_file = area.name == areas[first].name;
        let bss = area.name == AreaName::Anonymous && area.start == end;
        if !(same_file || bss) {
            break;
        }
        end = area.end;
        if bss {
            break;
        }
    }
    Some(end)
}

fn area_vma(area: &MapsArea, files: &mut HashMap<String, Arc<File>>) -> Result<Vma, InitialError> {
    let flags = match &area.vm_flags {
        Some(codes) => {
            let unknown = |code: &String| VmFlags::parse(code).is_none();
            if let Some(code) = codes.iter().find(|code| unknown(code)) {
                return Err(InitialError::UnknownVmFlag(area.start, code.clone()));
            }
            VmFlags::parse(&codes.join(" ")).expect("every code was checked")
        }
        None => inferred_flags(area),
    };
    let pgoff = match area.name {
        AreaName::Path(_) => area.offset / PAGE_SIZE,
        _ => area.start / PAGE_SIZE,
    };
    let mut vma = Vma::new(area.start, area.end, pgoff, flags);
    match &area.name {
        AreaName::Path(path) => {
            let file = files.entry(path.clone()).or_insert_with(|| File::new(path.as_str()));
            vma = vma.with_file(file.clone());
        }
        AreaName::Special(name) if name != "[stack]" && name != "[heap]" => {
            vma = vma.with_ops(VmOps::new().with_name(name));
        }
        _ => {}
    }
    let written = match area.anonymous_kb {
        Some(kb) => kb > 0,
        None => !area.shared && area.write,
    };
    if written {
        vma = vma.with_anon(AnonRef::new());
    }
    Ok(vma)
}

/// The flags of an area known only from a maps line: its access, the `VM_MAY*` bits of a
/// private mapping (or a shared one's), `VM_GROWSDOWN` and `VM_ACCOUNT` for the stack,
/// `VM_ACCOUNT` for private writable memory, and the special mappings' own bits.
fn inferred_flags(area: &MapsArea) -> VmFlags {
    let mut flags = VmFlags::MAYREAD | VmFlags::MAYWRITE | VmFlags::MAYEXEC;
    for (on, flag) in [(area.read, VmFlags::READ), (area.write, VmFlags::WRITE), (area.exec, VmFlags::EXEC)] {
        if on {
            flags |= flag;
        }
    }
    if area.shared {
        flags |= VmFlags::SHARED | VmFlags::MAYSHARE;
    } else if area.write {
        flags |= VmFlags::ACCOUNT;
    }
    match &area.name {
        AreaName::Special(name) if name == "[stack]" => flags | VmFlags::GROWSDOWN,
        AreaName::Special(name) if name.starts_with("[vvar") => {
            VmFlags::READ | VmFlags::MAYREAD | VmFlags::IO | VmFlags::PFNMAP | VmFlags::DONTEXPAND | VmFlags::DONTDUMP
        }
        AreaName::Special(name) if name == "[vdso]" => {
            VmFlags::READ
                | VmFlags::EXEC
                | VmFlags::MAYREAD
                | VmFlags::MAYWRITE
                | VmFlags::MAYEXEC
                | VmFlags::DONTEXPAND
        }
        _ => flags,
    }
}
