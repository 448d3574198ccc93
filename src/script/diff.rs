//! Comparing two outcomes line by line, as a unified diff.

use super::Outcome;

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

/// A unified-style diff of `a` against `b` (longest common subsequence, then hunks).
fn unified(a: &[&str], b: &[&str]) -> String {
    // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    // The edit script: (kind, line in a, line in b, text).
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
}
