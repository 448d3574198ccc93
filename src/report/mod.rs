//! `maple-mm report`: an address space as one self-contained HTML page (inline SVG and CSS, no
//! network access). This first part draws the final layout of a replayed real program: one
//! SVG element of class `area` per area, with `data-start` and `data-end` (hexadecimal),
//! coloured by kind and access, the gaps between areas compressed and marked; hovering an area
//! shows its maps line, `VmFlags`, size and the log line that last changed it.

mod map;

pub use map::{escape, kind, size_text, svg, KINDS};

use std::fmt::Write;

use crate::replay::{call_text, touches, Replay};
use crate::trace::{parse_maps, MapsArea};

/// The page's style: the map's text, bars and gap bands.
const STYLE: &str = "\
body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; }
.map text { font: 11px ui-monospace, monospace; fill: #333; }
.map .address { text-anchor: end; }
.map .gap line { stroke: #aaa; }
.map .gap text { fill: #888; font-style: italic; }
.map rect.exec { stroke: #c0392b; stroke-width: 2; }
.legend span { display: inline-block; margin-right: 1.2em; }
.legend i { display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.3em; vertical-align: -0.1em; }
";

/// The report page of a replay: a title, a legend and the main process's final layout.
///
/// ```no_run
/// # let trace = maple_mm::trace::parse("").unwrap();
/// # let areas = maple_mm::trace::parse_maps("").unwrap();
/// let initial = maple_mm::replay::build(&areas, 8 << 20, None).unwrap();
/// let replay = maple_mm::replay::run(&trace, initial, Default::default());
/// let page = maple_mm::report::page("a program", &replay);
/// assert!(page.starts_with("<!doctype html>"));
/// ```
pub fn page(title: &str, replay: &Replay) -> String {
    let areas = parse_maps(&replay.final_maps).expect("the engine's smaps output reads back");
    let notes: Vec<String> = areas.iter().map(|area| last_change(replay, area)).collect();
    let mut html = String::new();
    let _ = write!(
        html,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\n{STYLE}</style>\n\
         </head>\n<body>\n<h1>{}</h1>\n<p>The main process's {} areas when it exited, lowest address first. Bar heights grow \
         with the logarithm of the size; gaps are compressed to a dashed band with their size. Hover an area for its maps \
         line, VmFlags and the call that last changed it.</p>\n{}{}</body>\n</html>\n",
        escape(title),
        escape(title),
        areas.len(),
        legend(),
        svg(&areas, &notes)
    );
    html
}

/// The legend of the colours and marks.
fn legend() -> String {
    let mut out = String::from("<p class=\"legend\">");
    for (kind, colour) in KINDS {
        let _ = write!(out, "<span><i style=\"background:{colour}\"></i>{kind}</span>");
    }
    out.push_str("<span>paler: read-only, faint: no access, red outline: executable</span></p>\n");
    out
}

/// The log line of the last replayed call whose range met `area`, as hover text.
fn last_change(replay: &Replay, area: &MapsArea) -> String {
    replay
        .calls
        .iter()
        .rev()
        .find(|call| touches(call, area.start, area.end))
        .map_or(String::new(), |call| format!("last changed by line {}: {}", call.line, call_text(&call.call)))
}
