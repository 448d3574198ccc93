//! What one op or call did to a list of areas, as lines of text and counts: areas new,
//! changed and gone, and for each touching pair left apart, the merge rule that keeps them
//! apart ([`vma::merge_blocker`]).

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;

use vma::{merge_blocker, VmFlags, Vma, VmaId, PAGE_SIZE};

use crate::engine::WINDOW_BASE;

/// How addresses are written: a script's window pages, or a real program's hexadecimal
/// addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Addresses {
    /// Page numbers in the op-script window.
    WindowPages,
    /// Addresses in hexadecimal, as `/proc/PID/maps` writes them.
    Hex,
}

impl Addresses {
    /// `addr` written this way.
    ///
    /// ```
    /// use maple_mm::explain::Addresses;
    /// assert_eq!(Addresses::Hex.show(0x7f0000001000), "7f0000001000");
    /// assert_eq!(Addresses::WindowPages.show(maple_mm::engine::WINDOW_BASE + 0x3000), "3");
    /// ```
    pub fn show(self, addr: u64) -> String {
        match self {
            Addresses::WindowPages => ((addr - WINDOW_BASE) / PAGE_SIZE).to_string(),
            Addresses::Hex => format!("{addr:x}"),
        }
    }
}

/// `[start,end) perms`.
fn label(vma: &Vma, at: Addresses) -> String {
    let flag = |f: VmFlags, c: char| if vma.flags.contains(f) { c } else { '-' };
    format!(
        "[{},{}) {}{}{}{}",
        at.show(vma.start),
        at.show(vma.end),
        flag(VmFlags::READ, 'r'),
        flag(VmFlags::WRITE, 'w'),
        flag(VmFlags::EXEC, 'x'),
        if vma.flags.contains(VmFlags::MAYSHARE) { 's' } else { 'p' }
    )
}

/// Whether two versions of an area differ in anything the output or merging sees.
fn same_version(a: &Vma, b: &Vma) -> bool {
    let anon = |v: &Vma| v.anon.as_ref().map(|x| (x.anon_vma.id(), x.chain_len));
    (a.start, a.end, a.pgoff, a.flags) == (b.start, b.end, b.pgoff, b.flags) && anon(a) == anon(b)
}

/// What one call did to the areas, in counts (see [`describe`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Effect {
    /// Areas that are new.
    pub created: usize,
    /// Areas that changed (grew, shrank, got flags or an anon_vma).
    pub changed: usize,
    /// Areas that merged into another.
    pub merged_away: usize,
    /// Areas that went away otherwise (unmapped, or replaced by a mapping over them).
    pub gone: usize,
    /// Touching pairs the call left apart.
    pub kept_apart: usize,
}

/// Writes the lines for one call: areas new (`+`), changed (`~`) and gone (`-`: merged into an
/// area that was there before, replaced by a new one mapped over it, or unmapped), then the touching pairs it left apart with the rule that keeps them apart (`|`);
/// returns the counts.
///
/// ```
/// use maple_mm::explain::{describe, Addresses};
/// use vma::{VmFlags, Vma};
/// use std::sync::Arc;
/// let left = Arc::new(Vma::new(0x1000, 0x2000, 1, VmFlags::READ));
/// let right = Arc::new(Vma::new(0x2000, 0x3000, 2, VmFlags::READ | VmFlags::WRITE));
/// let mut out = String::new();
/// let effect = describe(&mut out, &[left.clone()], &[left, right], Addresses::Hex);
/// assert_eq!(effect.created, 1);
/// assert!(out.contains("+ [2000,3000) rw-p new"));
/// assert!(out.contains("stay apart: flags differ"));
/// ```
pub fn describe(out: &mut String, before: &[Arc<Vma>], after: &[Arc<Vma>], at: Addresses) -> Effect {
    let mut effect = Effect::default();
    let old: HashMap<VmaId, &Arc<Vma>> = before.iter().map(|v| (v.id(), v)).collect();
    let new_ids: HashMap<VmaId, &Arc<Vma>> = after.iter().map(|v| (v.id(), v)).collect();
    let mut touched = Vec::new();
    for vma in after {
        match old.get(&vma.id()) {
            None => {
                let _ = writeln!(out, "  + {} new", label(vma, at));
                touched.push(vma.id());
                effect.created += 1;
            }
            Some(was) if !same_version(was, vma) => {
                let _ = writeln!(out, "  ~ {}", change(was, vma, at));
                touched.push(vma.id());
                effect.changed += 1;
            }
            Some(_) => {}
        }
    }
    for gone in before.iter().filter(|v| !new_ids.contains_key(&v.id())) {
        // An area that existed before and now covers this one absorbed it; a new one mapped
        // over it replaced it.
        let into = after.iter().find(|v| v.start <= gone.start && gone.end <= v.end && v.id() != gone.id());
        match into {
            Some(survivor) if old.contains_key(&survivor.id()) => {
                let _ = writeln!(out, "  - {} merged into {}", label(gone, at), label(survivor, at));
                effect.merged_away += 1;
            }
            Some(survivor) => {
                let _ = writeln!(out, "  - {} replaced by {}", label(gone, at), label(survivor, at));
                effect.gone += 1;
            }
            None => {
                let _ = writeln!(out, "  - {} gone", label(gone, at));
                effect.gone += 1;
            }
        }
    }
    for pair in after.windows(2) {
        let (left, right) = (&pair[0], &pair[1]);
        if left.end != right.start || !(touched.contains(&left.id()) || touched.contains(&right.id())) {
            continue;
        }
        let why = match merge_blocker(left, right) {
            Some(blocker) => blocker.to_string(),
            None => {
                "compatible, but this op does not merge them (only a range an op maps or changes is merged)".to_string()
            }
        };
        let _ = writeln!(out, "  | {} and {} stay apart: {why}", label(left, at), label(right, at));
        effect.kept_apart += 1;
    }
    effect
}

/// How one area changed.
fn change(was: &Vma, now: &Vma, at: Addresses) -> String {
    let mut text = label(was, at);
    let mut parts = Vec::new();
    if (was.start, was.end) != (now.start, now.end) {
        let verb = if now.end - now.start > was.end - was.start { "grew" } else { "shrank" };
        parts.push(format!("{verb} to [{},{})", at.show(now.start), at.show(now.end)));
    }
    let (added, removed) = (now.flags - was.flags, was.flags - now.flags);
    for (sign, flags) in [('+', added), ('-', removed)] {
        if !flags.is_empty() {
            parts.extend(flags.mnemonics().map(|m| format!("{sign}{m}")));
        }
    }
    match (&was.anon, &now.anon) {
        (None, Some(_)) => parts.push("anon_vma attached".to_string()),
        (Some(_), None) => parts.push("anon_vma dropped".to_string()),
        (Some(a), Some(b)) if !a.same(b) => parts.push("anon_vma replaced".to_string()),
        _ => {}
    }
    if was.pgoff != now.pgoff && was.start == now.start {
        parts.push(format!("pgoff {} -> {}", was.pgoff, now.pgoff));
    }
    text.push_str(": ");
    text.push_str(&parts.join(", "));
    text
}
