//! The data a report's script draws from, as JSON: every version of every area once, and per
//! op the versions it added and removed, so that the page can rebuild the layout at any op
//! while staying a few hundred kilobytes for a real program's hundreds of calls.
//!
//! The format (docs/report.md has it with each field):
//!
//! ```text
//! { "title": "...", "window": null | address of page 0,
//!   "kinds": [[kind, colour], ...],
//!   "areas": [[start, end, perms, offset, name, kind, vmflags, born], ...],
//!   "initial": [area, ...],
//!   "steps": [[label, agrees, [added area, ...], [removed area, ...], merges, splits, text,
//!              [[case, times], ...]], ...],
//!   "cases": [text, ...], "rules": [text, ...], "pairs": [[left area, right area, rule], ...],
//!   "differs": [area, ...], "linuxOnly": [[start, end, perms, offset, name, vmflags], ...] }
//! ```

use std::collections::HashSet;
use std::fmt::Write;

use vma::{AnonRef, VmaId};

use super::history::{apart_rule, Area, History, Step};
use super::kinds::{kind, KINDS};
use super::story::{case_names, cases_of};
use crate::replay::Shown;
use crate::trace::{AreaName, MapsArea};

/// What tells two versions of an area apart: what smaps shows, the area's identity and its
/// anon_vma (which changes merges without changing what smaps shows).
#[derive(PartialEq, Eq)]
struct Identity<'a> {
    shown: &'a MapsArea,
    id: VmaId,
    anon: Option<(u64, usize)>,
}

impl<'a> Identity<'a> {
    fn of(area: &'a Area) -> Identity<'a> {
        let anon = area.vma.anon.as_ref().map(|link: &AnonRef| (link.anon_vma.id(), link.chain_len));
        Identity { shown: &area.shown, id: area.vma.id(), anon }
    }
}

/// The versions of the areas and how each op changed the set of them.
struct Versions<'h> {
    /// Each version and the op after which it appeared (0: it was there at the start).
    list: Vec<(&'h Area, usize)>,
    initial: Vec<usize>,
    /// Per op: the versions added, the versions removed.
    changes: Vec<(Vec<usize>, Vec<usize>)>,
    /// The versions at the end.
    last: Vec<usize>,
    /// The rule of each touching pair of versions, by rule number.
    pairs: Vec<(usize, usize, usize)>,
    rules: Vec<String>,
    /// The touching pairs already in `pairs`.
    seen: HashSet<(usize, usize)>,
}

impl<'h> Versions<'h> {
    fn of(history: &'h History) -> Versions<'h> {
        let mut versions = Versions {
            list: Vec::new(),
            initial: Vec::new(),
            changes: Vec::new(),
            last: Vec::new(),
            pairs: Vec::new(),
            rules: Vec::new(),
            seen: HashSet::new(),
        };
        let mut live: Vec<usize> = history.initial.iter().map(|area| versions.add(area, 0)).collect();
        versions.initial = live.clone();
        versions.note_pairs(&live);
        for (index, step) in history.steps.iter().enumerate() {
            let mut next = Vec::with_capacity(step.areas.len());
            let mut added = Vec::new();
            for area in &step.areas {
                let same = live.iter().copied().find(|&old| Identity::of(versions.list[old].0) == Identity::of(area));
                next.push(same.unwrap_or_else(|| {
                    let new = versions.add(area, index + 1);
                    added.push(new);
                    new
                }));
            }
            let removed = live.iter().copied().filter(|old| !next.contains(old)).collect();
            versions.changes.push((added, removed));
            versions.note_pairs(&next);
            live = next;
        }
        versions.last = live;
        versions
    }

    fn add(&mut self, area: &'h Area, born: usize) -> usize {
        self.list.push((area, born));
        self.list.len() - 1
    }

    /// Records the rule keeping each touching pair of `live` apart, once per pair.
    fn note_pairs(&mut self, live: &[usize]) {
        for pair in live.windows(2) {
            let (left, right) = (self.list[pair[0]].0, self.list[pair[1]].0);
            if left.vma.end != right.vma.start || !self.seen.insert((pair[0], pair[1])) {
                continue;
            }
            let rule = apart_rule(left, right);
            let number = match self.rules.iter().position(|known| *known == rule) {
                Some(number) => number,
                None => {
                    self.rules.push(rule);
                    self.rules.len() - 1
                }
            };
            self.pairs.push((pair[0], pair[1], number));
        }
    }
}

/// The report's data for `history`, as JSON safe to put inside a `<script>` element.
pub fn json(history: &History) -> String {
    let versions = Versions::of(history);
    let mut out = String::from("{\"title\":");
    string(&mut out, &history.title);
    let _ = write!(out, ",\"window\":{}", history.window.map_or("null".to_string(), |base| base.to_string()));
    out.push_str(",\"kinds\":[");
    list(&mut out, KINDS.iter(), |out, (name, colour)| {
        out.push('[');
        string(out, name);
        out.push(',');
        string(out, colour);
        out.push(']');
    });
    out.push_str("],\"areas\":[");
    list(&mut out, versions.list.iter(), |out, (area, born)| {
        out.push('[');
        area_fields(out, &area.shown);
        let _ = write!(out, ",{born}]");
    });
    out.push_str("],\"initial\":");
    numbers(&mut out, &versions.initial);
    out.push_str(",\"steps\":[");
    list(&mut out, history.steps.iter().zip(&versions.changes), |out, (step, changes)| step_fields(out, step, changes));
    out.push_str("],\"cases\":[");
    list(&mut out, case_names(), string);
    out.push_str("],\"rules\":[");
    list(&mut out, versions.rules.iter(), |out, rule| string(out, rule));
    out.push_str("],\"pairs\":[");
    list(&mut out, versions.pairs.iter(), |out, (left, right, rule)| {
        let _ = write!(out, "[{left},{right},{rule}]");
    });
    let (differs, linux_only) = differences(history, &versions);
    out.push_str("],\"differs\":");
    numbers(&mut out, &differs);
    out.push_str(",\"linuxOnly\":[");
    list(&mut out, linux_only.iter(), |out, area| shown_only(out, area));
    out.push_str("]}");
    out
}

/// `[label, agrees, added, removed, merges, splits, text, cases]` of one op.
fn step_fields(out: &mut String, step: &Step, (added, removed): &(Vec<usize>, Vec<usize>)) {
    out.push('[');
    string(out, &step.label);
    let agrees = match step.agrees {
        Some(true) => 1,
        Some(false) => 0,
        None => -1,
    };
    let _ = write!(out, ",{agrees},");
    numbers(out, added);
    out.push(',');
    numbers(out, removed);
    let _ = write!(out, ",{},{},", step.tally.merges(), step.tally.splits);
    string(out, &step.text);
    out.push_str(",[");
    list(out, cases_of(&step.tally), |out, (case, times)| {
        let _ = write!(out, "[{case},{times}]");
    });
    out.push_str("]]");
}

/// The versions at the end that Linux's final layout does not have, and Linux's areas the
/// engine's layout does not have.
fn differences<'d>(history: &'d History, versions: &Versions<'_>) -> (Vec<usize>, Vec<&'d Shown>) {
    let Some(differences) = &history.differences else { return (Vec::new(), Vec::new()) };
    let differs = differences.engine_only.iter().map(|&index| versions.last[index]).collect();
    (differs, differences.real_only.iter().collect())
}

/// `start, end, perms, offset, name, kind, vmflags`.
fn area_fields(out: &mut String, area: &MapsArea) {
    let _ = write!(out, "{},{},", area.start, area.end);
    string(out, &area.perms());
    let _ = write!(out, ",{},", area.offset);
    let name = match &area.name {
        AreaName::Path(path) => path.as_str(),
        AreaName::Special(name) => name.as_str(),
        AreaName::Anonymous => "",
    };
    string(out, name);
    out.push(',');
    string(out, kind(area));
    out.push(',');
    string(out, &area.vm_flags.as_ref().map_or(String::new(), |codes| codes.join(" ")));
}

/// A real area only Linux has: `[start, end, perms, offset, name, vmflags]` (start `null` for
/// `[stack]`, whose lower end is not compared).
fn shown_only(out: &mut String, area: &Shown) {
    let start = area.start.map_or("null".to_string(), |start| start.to_string());
    let _ = write!(out, "[{start},{},", area.end);
    string(out, &area.perms);
    let _ = write!(out, ",{},", area.offset);
    string(out, &area.name);
    out.push(',');
    string(out, area.vm_flags.as_deref().unwrap_or(""));
    out.push(']');
}

/// Items separated by commas.
fn list<T>(out: &mut String, items: impl Iterator<Item = T>, mut each: impl FnMut(&mut String, T)) {
    for (index, item) in items.enumerate() {
        if index > 0 {
            out.push(',');
        }
        each(out, item);
    }
}

fn numbers(out: &mut String, values: &[usize]) {
    out.push('[');
    list(out, values.iter(), |out, value| {
        let _ = write!(out, "{value}");
    });
    out.push(']');
}

/// A JSON string; `<` is escaped too, so no `</script>` can end the element early.
fn string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '<' => out.push_str("\\u003c"),
            c if u32::from(c) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::string;

    #[test]
    fn strings_are_json_and_cannot_close_the_script_element() {
        let mut out = String::new();
        string(&mut out, "a\"b\\c\nd</script>\u{1}");
        assert_eq!(out, r#""a\"b\\c\nd\u003c/script>\u0001""#);
    }
}
