//! The kinds of area a report tells apart by colour.

use crate::trace::{AreaName, MapsArea};

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
