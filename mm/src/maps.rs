//! `/proc/self/maps` and smaps `VmFlags` rendering.

use std::fmt::{self, Write};

use vma::{VmFlags, Vma, PAGE_SIZE};

use crate::mmap::SHARED_ANON_NAME;
use crate::{Mm, MmSnapshot};

/// The column names start at in `/proc/self/maps` (`25 + 6 * sizeof(void *) - 1`).
const NAME_COLUMN: usize = 72;

/// The smaps `VmFlags:` line of an area (mnemonics in the kernel's order, each followed
/// by a space).
///
/// ```
/// use vma::{Vma, VmFlags};
/// let v = Vma::new(0, 4096, 0, VmFlags::READ | VmFlags::MAYREAD);
/// assert_eq!(mm::vm_flags_line(&v), "VmFlags: rd mr \n");
/// ```
pub fn vm_flags_line(vma: &Vma) -> String {
    let mut line = String::from("VmFlags:");
    for mnemonic in vma.flags.mnemonics() {
        line.push(' ');
        line.push_str(mnemonic);
    }
    line.push_str(" \n");
    line
}

impl MmSnapshot<'_> {
    /// The areas as `/proc/self/maps` prints them. Files show their name and identity as
    /// the inode (device `00:00`, shared anonymous memory `00:01 ... /dev/zero (deleted)`);
    /// areas whose hooks name them (special mappings: `[vdso]`, `[vvar]`) show that name; the
    /// area overlapping `[start_brk, brk)` is `[heap]` (as in Linux, an area that only touches
    /// it is not: the bss before an empty heap); named anonymous areas are `[anon:name]`. `[stack]`, which comes from the process's `start_stack`, is named by
    /// [`Mm::maps`].
    ///
    /// ```
    /// use mm::{MapFlags, Mm, Prot};
    /// let mm = Mm::new();
    /// mm.mmap(0x40_0000, 4096, Prot::READ | Prot::EXEC, MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::FIXED, None, 0).unwrap();
    /// let maps = mm.snapshot().maps(None);
    /// assert_eq!(maps, "00400000-00401000 r-xp 00000000 00:00 0 \n");
    /// ```
    pub fn maps(&self, heap: Option<(u64, u64)>) -> String {
        self.maps_named(Names { heap, start_stack: 0 })
    }

    fn maps_named(&self, names: Names) -> String {
        let mut out = String::new();
        for vma in self.vmas() {
            maps_line(&mut out, vma, names);
        }
        out
    }
}

/// What names the kernel gives anonymous areas from the process's own state: `[heap]` for
/// the area overlapping `[start_brk, brk)`, `[stack]` for the one holding `start_stack`.
#[derive(Clone, Copy)]
struct Names {
    heap: Option<(u64, u64)>,
    start_stack: u64,
}

impl Mm {
    /// `/proc/self/maps` of the current state (see [`MmSnapshot::maps`]), with `[heap]`
    /// and, when the layout has a `start_stack`, `[stack]`.
    ///
    /// ```
    /// let mm = mm::Mm::new();
    /// let start = mm.brk(0);
    /// mm.brk(start + 4096);
    /// assert!(mm.maps().ends_with(" [heap]\n"));
    /// ```
    pub fn maps(&self) -> String {
        let heap = *self.lock.lock();
        let names = Names { heap: Some((heap.start_brk, heap.brk)), start_stack: self.layout.start_stack };
        self.snapshot().maps_named(names)
    }
}

fn maps_line(out: &mut String, vma: &Vma, names: Names) {
    let flag = |f: VmFlags, c: char| if vma.flags.contains(f) { c } else { '-' };
    let line_start = out.len();
    let (offset, dev, inode) = match &vma.file {
        Some(file) if file.name() == SHARED_ANON_NAME => (vma.pgoff * PAGE_SIZE, "00:01", file.id()),
        Some(file) => (vma.pgoff * PAGE_SIZE, "00:00", file.id()),
        None => (0, "00:00", 0),
    };
    let _ = write!(
        out,
        "{:08x}-{:08x} {}{}{}{} {:08x} {} {} ",
        vma.start,
        vma.end,
        flag(VmFlags::READ, 'r'),
        flag(VmFlags::WRITE, 'w'),
        flag(VmFlags::EXEC, 'x'),
        if vma.flags.contains(VmFlags::MAYSHARE) { 's' } else { 'p' },
        offset,
        dev,
        inode
    );
    if let Some(name) = area_name(vma, names) {
        while out.len() - line_start < NAME_COLUMN {
            out.push(' ');
        }
        out.push(' ');
        out.push_str(&name);
    }
    out.push('\n');
}

fn area_name(vma: &Vma, names: Names) -> Option<String> {
    if let Some(file) = &vma.file {
        return Some(match (file.name(), &vma.anon_name) {
            (SHARED_ANON_NAME, Some(name)) => format!("[anon_shmem:{name}]"),
            (SHARED_ANON_NAME, None) => format!("{SHARED_ANON_NAME} (deleted)"),
            (name, _) => name.to_string(),
        });
    }
    if let Some(name) = vma.ops.as_ref().and_then(|ops| ops.name()) {
        return Some(name.to_string());
    }
    if let Some((start_brk, brk)) = names.heap {
        if vma.start < brk && vma.end > start_brk {
            return Some("[heap]".to_string());
        }
    }
    let stack = names.start_stack;
    if stack != 0 && vma.start <= stack && vma.end >= stack {
        return Some("[stack]".to_string());
    }
    vma.anon_name.as_ref().map(|name| format!("[anon:{name}]"))
}

/// `Mm`'s `Debug`: the layout, the limits, the heap's bounds, the map count and the areas as
/// `/proc/self/maps` lines, one per entry.
///
/// ```
/// use mm::{MapFlags, Mm, Prot};
/// let mm = Mm::new();
/// mm.mmap(0x40_0000, 4096, Prot::READ, MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::FIXED, None, 0).unwrap();
/// let shown = format!("{mm:?}");
/// assert!(shown.contains("map_count: 1"));
/// assert!(shown.contains("areas: [00400000-00401000 r--p 00000000 00:00 0]"));
/// assert!(shown.contains("mmap_base: 0x7ffff7fff000"));
/// ```
impl fmt::Debug for Mm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let heap = *self.lock.lock();
        let snap = self.snapshot();
        f.debug_struct("Mm")
            .field("layout", &self.layout)
            .field("limits", &self.limits())
            .field("start_brk", &format_args!("{:#x}", heap.start_brk))
            .field("brk", &format_args!("{:#x}", heap.brk))
            .field("map_count", &snap.map_count())
            .field("areas", &MapsLines(snap.maps(Some((heap.start_brk, heap.brk)))))
            .finish()
    }
}

/// `MmSnapshot`'s `Debug`: the map count and the areas as `/proc/self/maps` lines (without
/// `[heap]`, which needs the heap's bounds: see [`Mm`]'s).
///
/// ```
/// let mm = mm::Mm::new();
/// assert_eq!(format!("{:?}", mm.snapshot()), "MmSnapshot { map_count: 0, areas: [] }");
/// ```
impl fmt::Debug for MmSnapshot<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MmSnapshot")
            .field("map_count", &self.map_count())
            .field("areas", &MapsLines(self.maps(None)))
            .finish()
    }
}

/// Maps output shown as a list with one line per entry, unquoted.
struct MapsLines(String);

/// One maps line, unquoted, without its trailing spaces.
struct MapsLine<'a>(&'a str);

impl fmt::Debug for MapsLines {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.lines().map(MapsLine)).finish()
    }
}

impl fmt::Debug for MapsLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.trim_end())
    }
}
