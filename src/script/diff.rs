//! Comparing two outcomes line by line, as a unified diff.

use super::Outcome;

/// What `maple-mm diff` says when the kernel's outcome and the engine's `outcome` are equal.
///
/// ```
/// use maple_mm::script::{agreement, parse_outcome};
/// let outcome = parse_outcome("op 1 ok @0\nvma 0 8 rw-p - anon rd,wr\n").unwrap();
/// assert_eq!(agreement(&outcome), "kernel and engine agree: all 1 op result and all 1 area of the window are identical");
/// ```
pub fn agreement(outcome: &Outcome) -> String {
    format!(
        "kernel and engine agree: all {} and all {} of the window are identical",
        crate::count(outcome.ops.len(), "op result"),
        crate::count(outcome.vmas.len(), "area")
    )
}

/// Lines of context around each change in [`diff_outcomes`].
const DIFF_CONTEXT: usize = 3;

/// Compares two outcomes line by line; `None` when they are equal, else a unified-style diff
/// (`-` lines only in `left`, `+` lines only in `right`, up to three lines of context, hunks
/// introduced by `@@ -<left line> +<right line> @@`).
///
/// ```
/// use maple_mm::script::{diff_outcomes, parse_outcome};
///
/// let kernel = parse_outcome("op 1 ok @0\nvma 0 8 rw-p - anon rd,wr\n").unwrap();
/// let engine = parse_outcome("op 1 ok @0\nvma 0 4 rw-p - anon rd,wr\nvma 4 8 rw-p - anon rd,wr\n").unwrap();
/// assert_eq!(diff_outcomes(&kernel, &kernel, "kernel", "engine"), None);
/// let diff = diff_outcomes(&kernel, &engine, "kernel", "engine").unwrap();
/// assert!(diff.starts_with("--- kernel\n+++ engine\n"));
/// assert!(diff.contains("\n-vma 0 8 rw-p - anon rd,wr\n+vma 0 4 rw-p - anon rd,wr\n+vma 4 8 rw-p - anon rd,wr\n"));
/// ```
pub fn diff_outcomes(left: &Outcome, right: &Outcome, left_name: &str, right_name: &str) -> Option<String> {
    if left == right {
        return None;
    }
    let left_text = left.to_string();
    let right_text = right.to_string();
    let a: Vec<&str> = left_text.lines().collect();
    let b: Vec<&str> = right_text.lines().collect();
    Some(format!("--- {left_name}\n+++ {right_name}\n{}", unified(&a, &b)))
}

/// One line of an edit script.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Edit {
    Same,
    Removed,
    Added,
}

/// The most cells of the longest-common-subsequence table: a middle part with more lines than
/// that allows (after the common head and tail are set aside) is shown as removed then added.
const LCS_CELLS: usize = 1 << 22;

/// One entry of an edit script: what happened, the line's index in `a` and in `b`, its text.
type EditLine<'t> = (Edit, usize, usize, &'t str);

/// The edit script turning `a` into `b`: the common head and tail as they are, the middle by
/// longest common subsequence when it is small enough ([`LCS_CELLS`]).
fn edit_script<'t>(a: &[&'t str], b: &[&'t str]) -> Vec<EditLine<'t>> {
    let head = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let tail = a[head..].iter().rev().zip(b[head..].iter().rev()).take_while(|(x, y)| x == y).count();
    let (mid_a, mid_b) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let mut edits: Vec<EditLine<'t>> = (0..head).map(|i| (Edit::Same, i, i, a[i])).collect();
    if (mid_a.len() + 1).saturating_mul(mid_b.len() + 1) <= LCS_CELLS {
        edits.extend(lcs_edits(mid_a, mid_b).into_iter().map(|(kind, i, j, line)| (kind, head + i, head + j, line)));
    } else {
        edits.extend(mid_a.iter().enumerate().map(|(i, &line)| (Edit::Removed, head + i, head, line)));
        let end_a = head + mid_a.len();
        edits.extend(mid_b.iter().enumerate().map(|(j, &line)| (Edit::Added, end_a, head + j, line)));
    }
    let (tail_a, tail_b) = (a.len() - tail, b.len() - tail);
    edits.extend((0..tail).map(|k| (Edit::Same, tail_a + k, tail_b + k, a[tail_a + k])));
    edits
}

/// The edit script of `a` against `b` by longest common subsequence (quadratic space).
fn lcs_edits<'t>(a: &[&'t str], b: &[&'t str]) -> Vec<EditLine<'t>> {
    // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let mut edits = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            edits.push((Edit::Same, i, j, a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            edits.push((Edit::Removed, i, j, a[i]));
            i += 1;
        } else {
            edits.push((Edit::Added, i, j, b[j]));
            j += 1;
        }
    }
    edits
}

/// A unified-style diff of `a` against `b`: the edit script, then hunks with context.
fn unified(a: &[&str], b: &[&str]) -> String {
    let edits = edit_script(a, b);
    let changed: Vec<usize> = (0..edits.len()).filter(|&k| edits[k].0 != Edit::Same).collect();
    let mut text = String::new();
    let mut k = 0;
    while k < changed.len() {
        let start = changed[k].saturating_sub(DIFF_CONTEXT);
        let mut end = changed[k];
        while k < changed.len() && changed[k] <= end + 2 * DIFF_CONTEXT + 1 {
            end = changed[k];
            k += 1;
        }
        let end = (end + DIFF_CONTEXT + 1).min(edits.len());
        let (_, first_a, first_b, _) = edits[start];
        text.push_str(&format!("@@ -{} +{} @@\n", first_a + 1, first_b + 1));
        for &(kind, _, _, line) in &edits[start..end] {
            let mark = match kind {
                Edit::Same => ' ',
                Edit::Removed => '-',
                Edit::Added => '+',
            };
            text.push(mark);
            text.push_str(line);
            text.push('\n');
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_hunks_keep_three_lines_of_context() {
        let left: Vec<String> = (0..20).map(|n| format!("op {n} ok")).collect();
        let mut right = left.clone();
        right[2] = "op 2 err ENOMEM".to_string();
        right[15] = "op 15 err EPERM".to_string();
        let a: Vec<&str> = left.iter().map(String::as_str).collect();
        let b: Vec<&str> = right.iter().map(String::as_str).collect();
        let diff = unified(&a, &b);
        let expected = "\
@@ -1 +1 @@
 op 0 ok
 op 1 ok
-op 2 ok
+op 2 err ENOMEM
 op 3 ok
 op 4 ok
 op 5 ok
@@ -13 +13 @@
 op 12 ok
 op 13 ok
 op 14 ok
-op 15 ok
+op 15 err EPERM
 op 16 ok
 op 17 ok
 op 18 ok
";
        assert_eq!(diff, expected);
        assert_eq!(unified(&a, &a), "");
    }

    #[test]
    fn long_outcomes_diff_in_bounded_space() {
        // 200,000 lines on each side differing in one place and in a block too large for the
        // quadratic table: the common head and tail are set aside, the rest shown whole.
        let left: Vec<String> = (0..200_000).map(|n| format!("op {n} ok")).collect();
        let mut right = left.clone();
        right[7] = "op 7 err EPERM".to_string();
        right[150_000] = "op 150000 err EPERM".to_string();
        let a: Vec<&str> = left.iter().map(String::as_str).collect();
        let b: Vec<&str> = right.iter().map(String::as_str).collect();
        let diff = unified(&a, &b);
        assert!(diff.starts_with("@@ -5 +5 @@\n op 4 ok\n op 5 ok\n op 6 ok\n-op 7 ok\n"), "{}", &diff[..200]);
        assert!(diff.contains("+op 7 err EPERM\n"));
        assert!(diff.contains("-op 150000 ok\n"));
        assert!(diff.ends_with("+op 150000 err EPERM\n op 150001 ok\n op 150002 ok\n op 150003 ok\n"));
        // Every line between the two changes appears once removed and once added.
        assert_eq!(diff.lines().filter(|line| line.starts_with('-')).count(), 150_000 - 7 + 1);
    }
}
