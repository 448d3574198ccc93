//! Op scripts as text: parse (errors are fine), then what `maple-mm run` and `maple-mm
//! explain` do with a script that parses, and the printers' round trips.
//!
//! Checked for every script that parses:
//! - nothing panics or hangs in `script::parse`, `engine::run`, `Outcome::render`,
//!   `explain::explain` and the report (`report::History::of_script`, `report::page`);
//! - the printer round-trips: `parse(script.to_string()) == script`, and
//!   `parse_outcome(outcome.to_string()) == outcome`;
//! - `explain` agrees with `run`: the same result on every op line, the same final VMA lines;
//!   the report's last areas are as many as run's.
//!
//! The one bound beyond the parser's limits is [`ACCESS_BUDGET`].
#![no_main]

use libfuzzer_sys::fuzz_target;
use maple_mm::script::{self, Op, OpLine, Outcome, Script};
use maple_mm::{engine, explain, report};

/// The most pages the `touch` and `read` ops of one script may access in all. The CLI has
/// no such bound (reported): `touch 0 N` in a window of N pages makes N faults, one by one,
/// so a short script can run for hours; this keeps every input fast without hiding a
/// panic (the work per page is the same for the first page and the millionth).
const ACCESS_BUDGET: u64 = 1 << 16;

fn accessed_pages(script: &Script) -> u64 {
    script
        .ops
        .iter()
        .filter(|op| !op.leaves_window(script.window))
        .map(|op| match *op {
            Op::Touch { npages, .. } | Op::Read { npages, .. } => npages,
            _ => 0,
        })
        .fold(0u64, u64::saturating_add)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(script) = script::parse(text) else { return };

    // The printer writes what the parser reads back.
    let printed = script.to_string();
    let reparsed = script::parse(&printed).unwrap_or_else(|e| panic!("printed script does not parse: {e}\n{printed}"));
    assert_eq!(reparsed, script, "printed script parses to a different script:\n{printed}");

    if accessed_pages(&script) > ACCESS_BUDGET {
        return;
    }

    // `maple-mm run`: a script that parsed is within every limit (`Script::check`).
    let outcome = engine::run(&script).unwrap_or_else(|e| panic!("a parsed script over a limit: {e}"));
    let _ = outcome.render(Some(&script));
    let rendered = outcome.to_string();
    let back = script::parse_outcome(&rendered).unwrap_or_else(|e| panic!("output does not parse: {e}\n{rendered}"));
    assert_eq!(back, outcome, "output parses to a different outcome:\n{rendered}");
    assert_eq!(outcome.ops.len(), script.ops.len());

    // `maple-mm explain`
    let explained = explain::explain(&script).unwrap_or_else(|e| panic!("a parsed script over a limit: {e}"));
    let op_lines: Vec<&str> = explained.lines().filter(|line| line.starts_with("op ")).collect();
    let expected: Vec<String> = outcome
        .ops
        .iter()
        .zip(&script.ops)
        .map(|(line, op)| format!("{}\t# {op}", OpLine { n: line.n, result: line.result.clone() }))
        .collect();
    assert_eq!(op_lines, expected, "explain and run disagree on op results");
    let final_vmas = Outcome { ops: Vec::new(), vmas: outcome.vmas.clone() }.to_string();
    assert!(explained.ends_with(&final_vmas), "explain and run disagree on the final areas:\n{explained}");

    // `maple-mm report`: the page's history ends with run's areas.
    let history = report::History::of_script("fuzz", &script, None).unwrap_or_else(|e| panic!("a parsed script over a limit: {e}"));
    assert_eq!(history.last().len(), outcome.vmas.len(), "report and run disagree on the final areas");
    assert!(report::page(&history).ends_with("</html>\n"));
});
