//! `/proc/PID/maps` and `/proc/PID/smaps` files: the areas of a real address space, with
//! their `VmFlags` when the file is an smaps.

use std::fmt;

/// One area as `/proc/PID/maps` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapsArea {
    /// The first address.
    pub start: u64,
    /// One past the last address.
    pub end: u64,
    /// Readable, writable, executable.
    pub read: bool,
    /// See `read`.
    pub write: bool,
    /// See `read`.
    pub exec: bool,
    /// Shared (`s`) rather than private (`p`).
    pub shared: bool,
    /// The file offset in bytes (0 for anonymous areas).
    pub offset: u64,
    /// The device, `major:minor` in hexadecimal as printed.
    pub device: String,
    /// The inode (0 for anonymous areas).
    pub inode: u64,
    /// What backs it.
    pub name: AreaName,
    /// The `VmFlags` of an smaps file (two-letter codes such as `rd`, `wr`, `ac`), `None` for
    /// a maps file.
    pub vm_flags: Option<Vec<String>>,
    /// The `Anonymous:` size of an smaps file in kB (anonymous pages present: the area has an
    /// anon_vma), `None` for a maps file.
    pub anonymous_kb: Option<u64>,
}

impl MapsArea {
    /// The permissions column: `rwxp` with `-` for what is missing, `s` for shared.
    ///
    /// ```
    /// let areas = maple_mm::trace::parse_maps("1000-2000 r-xs 00000000 00:00 0\n").unwrap();
    /// assert_eq!(areas[0].perms(), "r-xs");
    /// ```
    pub fn perms(&self) -> String {
        let flag = |on: bool, c: char| if on { c } else { '-' };
        [flag(self.read, 'r'), flag(self.write, 'w'), flag(self.exec, 'x'), if self.shared { 's' } else { 'p' }]
            .into_iter()
            .collect()
    }
}

/// The name column of a maps line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AreaName {
    /// No name: anonymous memory.
    Anonymous,
    /// A file's path (as printed, ` (deleted)` included).
    Path(String),
    /// A kernel-named area: `[heap]`, `[stack]`, `[vdso]`, `[vvar]`, `[vvar_vclock]`,
    /// `[vsyscall]`, `[anon:NAME]`, ... (with the brackets).
    Special(String),
}

/// A line of a maps or smaps file that cannot be read: its 1-based number and the text.
///
/// ```
/// let error = maple_mm::trace::parse_maps("1000-2000 r--p 0 00:00 0\nnonsense").unwrap_err();
/// assert_eq!(error.to_string(), "line 2: not a maps or smaps line: `nonsense`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapsError {
    /// The 1-based line number.
    pub line: usize,
    /// The line.
    pub text: String,
}

impl fmt::Display for MapsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: not a maps or smaps line: `{}`", self.line, self.text)
    }
}

impl std::error::Error for MapsError {}

/// Reads a maps or smaps file: an area per maps line, and in smaps the `Key: value` lines
/// after it, of which `VmFlags` and `Anonymous` are kept. Areas must be in increasing order without overlap,
/// as the kernel prints them.
///
/// ```
/// use maple_mm::trace::{parse_maps, AreaName};
///
/// let smaps = "\
/// 7ffff7fc8000-7ffff7fca000 r-xp 00000000 00:00 0                          [vdso]
/// Size:                  8 kB
/// Anonymous:             0 kB
/// VmFlags: rd ex mr mw me de sd
/// 7ffff7fca000-7ffff7fcb000 r--p 00000000 fe:00 325843  /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
/// ";
/// let areas = parse_maps(smaps).unwrap();
/// assert_eq!(areas[0].name, AreaName::Special("[vdso]".into()));
/// assert_eq!(areas[0].vm_flags.as_ref().unwrap()[1], "ex");
/// assert_eq!(areas[0].anonymous_kb, Some(0));
/// assert_eq!((areas[1].start, areas[1].exec, areas[1].vm_flags.is_some()), (0x7fff_f7fc_a000, false, false));
/// ```
pub fn parse_maps(text: &str) -> Result<Vec<MapsArea>, MapsError> {
    let mut areas: Vec<MapsArea> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let bad = || MapsError { line: index + 1, text: line.to_string() };
        if line.trim().is_empty() {
            continue;
        }
        if let Some(area) = area_line(line) {
            let in_order = areas.last().is_none_or(|last| last.end <= area.start);
            if !in_order {
                return Err(bad());
            }
            areas.push(area);
            continue;
        }
        let (key, value) = line.split_once(':').ok_or_else(bad)?;
        let is_key = !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        let last = areas.last_mut().filter(|_| is_key).ok_or_else(bad)?;
        match key {
            "VmFlags" => last.vm_flags = Some(value.split_whitespace().map(str::to_string).collect()),
            "Anonymous" => last.anonymous_kb = Some(kilobytes(value).ok_or_else(bad)?),
            _ => {}
        }
    }
    Ok(areas)
}

/// An area's header line, or `None` when the line is not one.
fn area_line(line: &str) -> Option<MapsArea> {
    let mut fields = line.splitn(6, ' ');
    let (range, perms, offset, device, inode) =
        (fields.next()?, fields.next()?, fields.next()?, fields.next()?, fields.next()?);
    let (start, end) = range.split_once('-')?;
    let (start, end) = (hex(start)?, hex(end)?);
    let perms = perms.as_bytes();
    let flag = |at: usize, set: u8| match perms.get(at) {
        Some(&b) if b == set => Some(true),
        Some(b'-') => Some(false),
        _ => None,
    };
    let shared = match perms.get(3) {
        Some(b's') => true,
        Some(b'p') => false,
        _ => return None,
    };
    let valid_device =
        device.split_once(':').is_some_and(|(major, minor)| hex(major).is_some() && hex(minor).is_some());
    if perms.len() != 4 || start >= end || !valid_device {
        return None;
    }
    let name = fields.next().unwrap_or("").trim_start();
    let name = match name {
        "" => AreaName::Anonymous,
        special if special.starts_with('[') && special.ends_with(']') => AreaName::Special(special.to_string()),
        path => AreaName::Path(path.to_string()),
    };
    Some(MapsArea {
        start,
        end,
        read: flag(0, b'r')?,
        write: flag(1, b'w')?,
        exec: flag(2, b'x')?,
        shared,
        offset: hex(offset)?,
        device: device.to_string(),
        inode: inode.parse().ok()?,
        name,
        vm_flags: None,
        anonymous_kb: None,
    })
}

/// A size field of smaps: `   4 kB`.
fn kilobytes(value: &str) -> Option<u64> {
    value.trim().strip_suffix("kB")?.trim().parse().ok()
}

fn hex(text: &str) -> Option<u64> {
    let valid = !text.is_empty() && text.bytes().all(|b| b.is_ascii_hexdigit());
    valid.then(|| u64::from_str_radix(text, 16).ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_kind_of_name() {
        let text = "\
5555558f5000-5555558fb000 rw-p 00000000 00:00 0 
7ffff7fc2000-7ffff7fc6000 r--p 00000000 00:00 0                          [vvar]
7ffff7fca000-7ffff7fcb000 r--s 00001000 fe:00 325843                     /tmp/a file (deleted)
";
        let areas = parse_maps(text).unwrap();
        assert_eq!(areas[0].name, AreaName::Anonymous);
        assert_eq!(areas[1].name, AreaName::Special("[vvar]".into()));
        assert_eq!(areas[2].name, AreaName::Path("/tmp/a file (deleted)".into()));
        assert!(areas[2].shared && areas[2].read && !areas[2].write);
        assert_eq!(areas[2].offset, 0x1000);
    }

    #[test]
    fn refuses_what_is_not_a_maps_file() {
        let good = "1000-2000 r--p 00000000 00:00 0";
        for (text, line) in [
            ("1000-2000 r--q 00000000 00:00 0", 1),
            ("2000-1000 r--p 00000000 00:00 0", 1),
            ("1000-2000 rw 00000000 00:00 0", 1),
            ("1000-2000 r--p 00000000 0000 0", 1),
            ("Size: 4 kB", 1),
            (&format!("{good}\n0-1000 r--p 00000000 00:00 0"), 2),
            (&format!("{good}\nno colon here"), 2),
        ] {
            assert_eq!(parse_maps(text).unwrap_err().line, line, "{text}");
        }
    }
}
