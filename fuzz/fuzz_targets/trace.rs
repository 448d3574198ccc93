//! strace logs and maps files as text: `trace::parse` and `trace::parse_maps` on anything.
//!
//! Checked for every input:
//! - nothing panics or hangs;
//! - a maps file that parses has its areas in increasing order, each non-empty;
//! - the result is the same when the same text is read again (no dependence on hash order);
//! - for a log that parses, every event names a line of the text that holds the call it
//!   came from, and the events are ordered as `parse` documents: by the line they took
//!   effect on, which is never before the line they start on;
//! - a log that parses replays from perl's initial layout (`maple-mm replay`'s work, the
//!   explanation included, and `maple-mm report`'s page) without panicking, every memory call
//!   either replayed or listed as not replayed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maple_mm::replay::{self, Faults};
use maple_mm::report::{self, History};
use maple_mm::trace::{self, Action};

/// The layout the replays start from: perl's at its first instruction.
const INITIAL: &str = include_str!("../../tests/traces/perl.initial.smaps");

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(areas) = trace::parse_maps(text) {
        assert!(areas.iter().all(|area| area.start < area.end), "an empty area: {areas:?}");
        assert!(areas.windows(2).all(|pair| pair[0].end <= pair[1].start), "areas out of order: {areas:?}");
    }
    let first = trace::parse(text);
    assert_eq!(first, trace::parse(text), "two readings of the same text differ");
    let Ok(parsed) = first else { return };
    let lines: Vec<&str> = text.lines().collect();
    for event in &parsed.events {
        let line = lines.get(event.line - 1).unwrap_or_else(|| panic!("event past the end: {event:?}"));
        let name = match &event.action {
            Action::Ended => "+++",
            Action::Other { name, .. } => name.as_str(),
            Action::Memory { .. } | Action::Process { .. } => "(",
        };
        assert!(line.contains(name), "event {event:?} names line {}: {line}", event.line);
    }
    let areas = trace::parse_maps(INITIAL).expect("the bundled smaps reads");
    let initial = replay::build(&areas, 8 << 20, None).expect("the bundled layout builds");
    let (history, done) = History::of_replay("fuzz", &parsed, (initial, Faults::WriteNew), None);
    let memory = parsed.events.iter().filter(|event| matches!(event.action, Action::Memory { .. })).count();
    assert_eq!(done.calls.len() + done.skipped.len(), memory, "a memory call neither replayed nor listed");
    let _ = replay::render(&done, None);
    assert!(report::page(&history).ends_with("</html>\n"));
});
