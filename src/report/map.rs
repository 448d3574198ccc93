//! The map of an address space as inline SVG: one row per area, its height growing with the
//! logarithm of its size, and the gaps between areas compressed to a marked band.

use std::fmt::Write;

use crate::trace::{AreaName, MapsArea};

/// Width of the drawing, in pixels.
const WIDTH: u32 = 960;
/// Where the bars start (the addresses are written to their left).
const BAR_X: u32 = 190;
/// Width of the bars.
const BAR_WIDTH: u32 = 360;
/// Height of a band standing for a gap.
const GAP_HEIGHT: u32 = 14;

/// The kinds of area the map tells apart (see [`kind`]) and their colours.
///
/// ```
/// assert_eq!(maple_mm::report::KINDS[0], ("file", "#4e79a7"));
/// ```
pub const KINDS: [(&str, &str); 6] = [
    ("file", "#4e79a7"),
    ("shared", "#b07aa1"),
    ("anonymous", "#59a14f"),
    ("stack", "#f28e2b"),
    ("heap", "#e1b12c"),
    ("special", "#8c8c8c"),
];

/// The colour of an area's kind.
fn colour(kind: &str) -> &'static str {
    KINDS.iter().find(|(known, _)| *known == kind).map_or(KINDS[2].1, |(_, colour)| colour)
}

/// What backs an area, as the map colours it: `file`, `shared`, `anonymous`, `stack`,
/// `heap` or `special` (the kernel's own mappings).
///
/// ```
/// let areas = maple_mm::trace::parse_maps("7ffff7fc8000-7ffff7fca000 r-xp 00000000 00:00 0 [vdso]\n").unwrap();
/// assert_eq!(maple_mm::report::kind(&areas[0]), "special");
/// ```
pub fn kind(area: &MapsArea) -> &'static str {
    match &area.name {
        AreaName::Special(name) if name == "[stack]" => "stack",
        AreaName::Special(name) if name == "[heap]" => "heap",
        AreaName::Special(name) if name.starts_with("[anon") => "anonymous",
        AreaName::Special(_) => "special",
        _ if area.shared => "shared",
        AreaName::Path(_) => "file",
        AreaName::Anonymous => "anonymous",
    }
}

/// A size in bytes the way people say it (`4 KiB`, `1.5 MiB`).
///
/// ```
/// assert_eq!(maple_mm::report::size_text(4096), "4 KiB");
/// assert_eq!(maple_mm::report::size_text(3 << 19), "1.5 MiB");
/// ```
pub fn size_text(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if value.fract() == 0.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// The row height of an area of `bytes`: 10 pixels for a page, 3 more for each doubling,
/// at most 60.
fn height(bytes: u64) -> u32 {
    let pages = (bytes / 4096).max(1);
    (10 + 3 * (63 - pages.leading_zeros())).min(60)
}

/// Characters that must be escaped in SVG text and attributes.
///
/// ```
/// assert_eq!(maple_mm::report::escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
/// ```
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The areas as an SVG drawing, lowest address at the top. `notes` gives each area a line for
/// its hover text (what last changed it), by index.
///
/// ```
/// let areas = maple_mm::trace::parse_maps("1000-3000 rw-p 00000000 00:00 0\n9000-a000 r--p 00000000 00:00 0\n").unwrap();
/// let drawing = maple_mm::report::svg(&areas, &[]);
/// assert_eq!(drawing.matches("<rect class=\"area ").count(), 2);
/// assert!(drawing.contains("24 KiB unmapped (compressed)"));
/// ```
pub fn svg(areas: &[MapsArea], notes: &[String]) -> String {
    let mut body = String::new();
    let mut y = 10;
    for (index, area) in areas.iter().enumerate() {
        if let Some(previous) = index.checked_sub(1).map(|i| &areas[i]) {
            if area.start > previous.end {
                gap(&mut body, y, area.start - previous.end);
                y += GAP_HEIGHT;
            }
        }
        let note = notes.get(index).map_or("", String::as_str);
        y += row(&mut body, y, area, note);
    }
    format!(
        "<svg class=\"map\" width=\"{WIDTH}\" height=\"{}\" viewBox=\"0 0 {WIDTH} {}\" role=\"img\">\n{body}</svg>\n",
        y + 10,
        y + 10
    )
}

/// A compressed gap: a dashed band with its size.
fn gap(out: &mut String, y: u32, bytes: u64) {
    let middle = y + GAP_HEIGHT / 2;
    let _ = writeln!(
        out,
        "<g class=\"gap\"><line x1=\"{BAR_X}\" y1=\"{middle}\" x2=\"{}\" y2=\"{middle}\" stroke-dasharray=\"4 3\"/>\
         <text x=\"{}\" y=\"{}\">{} unmapped (compressed)</text></g>",
        BAR_X + BAR_WIDTH,
        BAR_X + BAR_WIDTH + 8,
        middle + 4,
        size_text(bytes)
    );
}

/// One area's row; returns its height.
fn row(out: &mut String, y: u32, area: &MapsArea, note: &str) -> u32 {
    let bytes = area.end - area.start;
    let h = height(bytes);
    let kind = kind(area);
    let perms = area.perms();
    let opacity = match (area.read, area.write) {
        (_, true) => "0.9",
        (true, false) => "0.6",
        (false, false) => "0.25",
    };
    let name = match &area.name {
        AreaName::Path(path) => path.rsplit('/').next().unwrap_or(path).to_string(),
        AreaName::Special(name) => name.clone(),
        AreaName::Anonymous => String::new(),
    };
    let flags = area.vm_flags.as_ref().map_or(String::new(), |codes| format!("\nVmFlags: {}", codes.join(" ")));
    let line = maps_line(area);
    let title = escape(&format!("{line}\n{} {kind}{flags}{}", size_text(bytes), note_line(note)));
    let exec = if area.exec { " exec" } else { "" };
    let _ = writeln!(
        out,
        "<g class=\"row\"><rect class=\"area {kind}{exec}\" data-start=\"{:x}\" data-end=\"{:x}\" x=\"{BAR_X}\" y=\"{y}\" \
         width=\"{BAR_WIDTH}\" height=\"{}\" fill=\"{}\" fill-opacity=\"{opacity}\"><title>{title}</title></rect>\
         <text class=\"address\" x=\"{}\" y=\"{}\">{:x}</text><text class=\"label\" x=\"{}\" y=\"{}\">{perms} {} {}</text></g>",
        area.start,
        area.end,
        h - 1,
        colour(kind),
        BAR_X - 6,
        y + h.min(14) - 3,
        area.start,
        BAR_X + BAR_WIDTH + 8,
        y + h.min(14) - 3,
        escape(&name),
        size_text(bytes)
    );
    h
}

fn note_line(note: &str) -> String {
    if note.is_empty() {
        String::new()
    } else {
        format!("\n{note}")
    }
}

/// The area's `/proc/PID/maps` line, without device and inode.
fn maps_line(area: &MapsArea) -> String {
    let name = match &area.name {
        AreaName::Path(path) => path.as_str(),
        AreaName::Special(name) => name.as_str(),
        AreaName::Anonymous => "",
    };
    format!("{:08x}-{:08x} {} {:08x} {name}", area.start, area.end, area.perms(), area.offset)
}
