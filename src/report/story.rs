//! The merge story, as HTML: the merges by case with the ops where each happened, the splits
//! and unmaps, the touching areas left apart at the end with the rule that keeps them apart,
//! and the differences from Linux's final layout.

use std::fmt::Write;

use super::escape;
use super::history::{apart_rule, Area, History, Step};
use crate::count;
use crate::explain::{Addresses, Summary};

/// How many op links a row lists before it says how many more there are.
const LINKS: usize = 24;

/// One row of the table: what happened, and how many times each op made it happen.
type Case = (&'static str, fn(&Summary) -> usize);

/// The rows of the merge table.
const CASES: [Case; 11] = [
    ("new range, an area of its own (merged with nothing)", |s| s.created),
    ("new range merged with the area before it (merge_new_range, left)", |s| s.joined_left),
    ("new range merged with the area after it (merge_new_range, right)", |s| s.joined_right),
    ("new range merged with both neighbours (merge_new_range, both)", |s| s.joined_both),
    ("changed range: the area before absorbed it and the area after (merge_existing_range, both)", |s| s.existing.both),
    ("changed range: the area before absorbed all of the middle area (left, whole)", |s| s.existing.left_full),
    ("changed range: the area before absorbed the start of the middle area (left, part)", |s| s.existing.left_partial),
    ("changed range: the area after absorbed all of the middle area (right, whole)", |s| s.existing.right_full),
    ("changed range: the area after absorbed the end of the middle area (right, part)", |s| s.existing.right_partial),
    ("splits of an existing area", |s| s.splits),
    ("areas unmapped", |s| s.unmapped),
];

/// The names of the table's cases, in order.
pub(super) fn case_names() -> impl Iterator<Item = &'static str> {
    CASES.iter().map(|(what, _)| *what)
}

/// The cases of the table that `tally` (one op's share of the story) counts: each case's
/// number and how many times the op made it happen.
pub(super) fn cases_of(tally: &Summary) -> impl Iterator<Item = (usize, usize)> + '_ {
    CASES.iter().enumerate().map(move |(number, (_, count))| (number, count(tally))).filter(|(_, times)| *times > 0)
}

/// The story's HTML.
pub fn story(history: &History) -> String {
    let mut out =
        String::from("<table class=\"cases\">\n<tr><th>what happened</th><th>times</th><th>at op</th></tr>\n");
    for (what, count) in CASES {
        let at: Vec<usize> = (0..history.steps.len()).filter(|&index| count(&history.steps[index].tally) > 0).collect();
        let _ = writeln!(
            out,
            "<tr><td>{what}</td><td class=\"count\">{}</td><td>{}</td></tr>",
            count(&history.summary),
            links(&history.steps, &at)
        );
    }
    out.push_str("</table>\n");
    kept_apart(&mut out, history, history.steps.len());
    differences(&mut out, history);
    out
}

/// Links to ops: the op's number, its label as hover text.
fn links(steps: &[Step], at: &[usize]) -> String {
    let mut out = String::new();
    for &index in at.iter().take(LINKS) {
        let _ = write!(
            out,
            "<a href=\"#\" data-step=\"{}\" title=\"{}\">{}</a> ",
            index + 1,
            escape(&steps[index].label),
            index + 1
        );
    }
    if at.len() > LINKS {
        let _ = write!(out, "and {} more", at.len() - LINKS);
    }
    out
}

/// The touching pairs of the final layout, grouped by the rule that keeps them apart; areas
/// written as `explain` writes them (`[start,end)`, in window pages for an op script).
fn kept_apart(out: &mut String, history: &History, steps: usize) {
    let at = match history.window {
        Some(_) => Addresses::WindowPages,
        None => Addresses::Hex,
    };
    let range = |area: &Area| format!("[{},{})", at.show(area.vma.start), at.show(area.vma.end));
    let mut rules: Vec<(String, Vec<String>)> = Vec::new();
    for pair in history.last().windows(2).filter(|pair| pair[0].vma.end == pair[1].vma.start) {
        let rule = apart_rule(&pair[0], &pair[1]);
        let text = format!("{} and {}", range(&pair[0]), range(&pair[1]));
        match rules.iter_mut().find(|(known, _)| *known == rule) {
            Some((_, pairs)) => pairs.push(text),
            None => rules.push((rule, vec![text])),
        }
    }
    let _ = writeln!(
        out,
        "<h3>Touching areas left apart at the end (<a href=\"#\" data-step=\"{steps}\">op {steps}</a>)</h3>"
    );
    if rules.is_empty() {
        out.push_str("<p>None: every two touching areas merged.</p>\n");
        return;
    }
    out.push_str("<ul class=\"apart\">\n");
    for (rule, pairs) in rules {
        let _ = writeln!(
            out,
            "<li><b>{}</b> ({}): <code>{}</code></li>",
            escape(&rule),
            count(pairs.len(), "pair"),
            pairs.join(", ")
        );
    }
    out.push_str("</ul>\n");
}

/// The areas the engine and Linux do not share at the end, when Linux's layout was given.
fn differences(out: &mut String, history: &History) {
    let Some(differences) = &history.differences else { return };
    out.push_str("<h3>Differences from Linux's final layout</h3>\n");
    if differences.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"same\">None: {} identical, VmFlags included where both sides have them.</p>",
            count(differences.expected, "area")
        );
        return;
    }
    out.push_str("<ul class=\"differences\">\n");
    for line in &differences.lines {
        let _ = writeln!(out, "<li><code>{}</code></li>", escape(line));
    }
    out.push_str("</ul>\n");
}
