//! `maple-mm report`: an address space and how it got there, as one self-contained HTML page
//! (inline SVG, CSS and script; nothing fetched). docs/report.md tells how to read it.
//!
//! - [`History`] is what the page is drawn from: the areas at the start and after each op of an
//!   op script or each memory call of a replayed real program, with each op's explanation.
//! - The page's script ([`page`]) draws the history chart (areas and mapped bytes across ops,
//!   merges and splits marked) and the map (one SVG `rect` of class `area` per area, with
//!   `data-start` and `data-end` in hexadecimal) at the op a slider picks, the last by default.
//! - The merge story is plain HTML: merges by case, splits, unmaps, the touching areas left
//!   apart at the end and why, and the differences from Linux's final layout.

mod data;
mod history;
mod kinds;
mod story;

pub use history::{apart_rule, Area, Differences, History, Step};

use crate::count;
pub use kinds::{kind, KINDS};

use std::fmt::Write;

/// The page's style.
const STYLE: &str = include_str!("page.css");
/// The page's script: the chart, the map and the step control.
const SCRIPT: &str = include_str!("page.js");

/// What the page says about reading it, under its last heading.
const HELP: &str = "\
<p><b>The history chart</b>: the number of areas (solid, left scale) and the bytes mapped (dashed, right scale) \
after each op, from the start on the left to the last op on the right. Marks below the plot: a green tick where an \
op merged areas, an orange one where it split an area; a red dot above where a replayed call's result differed from \
Linux's. Click the chart to go to that op.</p>
<p><b>The step control</b>: the slider, the buttons and the left and right arrow keys pick an op; the map is redrawn \
as the address space was right after it, and the op's text and its effect (as <code>maple-mm explain</code> prints \
it) show beside the map. Links to ops in the merge story go there too, and the page opens at the op its address \
names (<code>report.html#op=12</code>).</p>
<p><b>The overview</b>: the areas to scale along one line, except that each unmapped stretch over 64 MiB is \
cut out and marked &#x2248; (hover it for its size); each run of areas between cuts is labelled with its start and \
span.</p>
<p><b>The map</b>: one bar per area, lowest address at the top, the start address (or window page) on the left, \
permissions, name and size on the right. Bar heights grow with the logarithm of the size, so a 4 KiB page and a \
1 GiB area both stay readable; an unmapped gap is a dashed line with its size (compressed: not to scale). Colours \
tell the kind of area; paler bars are read-only, faint ones inaccessible, a red outline is executable. A thick black \
outline marks the areas the picked op created or changed. A small circle between two touching bars means they stayed \
apart; hover it for the merge rule that keeps them apart. Hover a bar for its maps line, VmFlags, size and the op that \
last changed it. At the last op of a replay given Linux's final layout, an area Linux does not have is outlined in \
red dashes, and an area only Linux has is drawn as an empty red dashed bar.</p>";

/// The report page of `history`.
///
/// ```
/// use maple_mm::{report::{page, History}, script::parse};
/// let script = parse("window 16\nmmap 0 4 rw anon_private\nmmap 8 4 r anon_private\n").unwrap();
/// let html = page(&History::of_script("two areas", &script, None).unwrap());
/// assert!(html.starts_with("<!doctype html>"));
/// assert!(html.contains("<script>"));
/// ```
pub fn page(history: &History) -> String {
    let steps = history.steps.len();
    let title = escape(&history.title);
    let mut html = String::new();
    let _ = write!(
        html,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>maple-mm report: {title}</title>\n\
         <style>\n{STYLE}</style>\n</head>\n<body>\n<h1>{title}</h1>\n<p class=\"lead\">{}</p>\n\
         <pre class=\"verdict\">{}</pre>\n<pre id=\"errors\" hidden></pre>\n\
         <noscript><p>The chart, the map and the step control are drawn by the page's script; the merge story below \
         needs none.</p></noscript>\n\
         <h2>History</h2>\n<svg id=\"chart\" width=\"960\" height=\"190\" viewBox=\"0 0 960 190\" role=\"img\" \
         aria-label=\"areas and mapped bytes after each op\"></svg>\n\
         <div class=\"controls\" id=\"controls\"><button id=\"first\" title=\"the start\">&laquo;</button>\
         <button id=\"prev\" title=\"the op before (left arrow)\">&#x25C0;</button>\
         <input id=\"step\" type=\"range\" min=\"0\" max=\"{steps}\" value=\"{steps}\" aria-label=\"op\">\
         <button id=\"next\" title=\"the next op (right arrow)\">&#x25B6;</button>\
         <button id=\"last\" title=\"the last op\">&raquo;</button><span id=\"position\"></span></div>\n\
         <div class=\"columns\">\n<section>\n<h2>The map</h2>\n{}\
         <p class=\"note\">To scale, with each unmapped stretch over 64 MiB cut out (&#x2248;):</p>\n\
         <svg id=\"overview\" class=\"overview\" width=\"960\" height=\"56\" viewBox=\"0 0 960 56\" role=\"img\" \
         aria-label=\"the areas to scale\"></svg>\n\
         <p class=\"note\">One bar per area (heights grow with the logarithm of the size; gaps compressed):</p>\n\
         <svg id=\"map\" class=\"map\" width=\"960\" height=\"20\" role=\"img\" aria-label=\"the areas\"></svg>\n</section>\n\
         <aside class=\"step-column\">\n<h2>The op</h2>\n<p id=\"step-label\"></p>\n<pre id=\"step-text\"></pre>\n</aside>\n</div>\n\
         <h2>The merge story</h2>\n{}\
         <h2>How to read this page</h2>\n{HELP}\n\
         <script type=\"application/json\" id=\"data\">{}</script>\n<script>\n{SCRIPT}</script>\n</body>\n</html>\n",
        lead(history),
        escape(&history.verdict),
        legend(),
        story::story(history),
        data::json(history),
    );
    html
}

/// The sentence under the title.
fn lead(history: &History) -> String {
    let areas = history.last().len();
    match history.window {
        Some(_) => format!(
            "An op script run on the maple-mm engine, op by op: {}, {} in the window at the end.",
            count(history.steps.len(), "op"),
            count(areas, "area")
        ),
        None => format!(
            "A real program's strace log replayed on the maple-mm engine: the main process's {}, {} at its exit.",
            count(history.steps.len(), "memory call"),
            count(areas, "area")
        ),
    }
}

/// The legend of the colours and marks.
fn legend() -> String {
    let mut out = String::from("<p class=\"legend\">");
    for (kind, colour) in KINDS {
        let _ = write!(out, "<span><i style=\"background:{colour}\"></i>{kind}</span>");
    }
    out.push_str("<span>paler: read-only, faint: no access, red outline: executable, thick outline: changed by the op</span></p>\n");
    out
}

/// Characters that must be escaped in HTML text and attributes.
///
/// ```
/// assert_eq!(maple_mm::report::escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
/// ```
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
