//! `maple-mm report`'s page for the five bundled programs (tests/traces/): one `area` element
//! per area of the final layout, with its bounds, and nothing fetched from anywhere.

use maple_mm::replay::{build, run, Faults};
use maple_mm::report::page;
use maple_mm::trace::{parse, parse_maps};

const PROGRAMS: [&str; 5] = ["py_threads", "py_mmap", "perl", "git", "cc1"];

fn data(file: &str) -> String {
    let path = format!("{}/tests/traces/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// The `data-start` / `data-end` pairs of the page's `area` elements, in order.
fn drawn_areas(html: &str) -> Vec<(u64, u64)> {
    let attribute = |element: &str, name: &str| {
        let value = element.split(&format!("{name}=\"")).nth(1)?.split('"').next()?;
        u64::from_str_radix(value, 16).ok()
    };
    html.split("<rect class=\"area ")
        .skip(1)
        .map(|element| (attribute(element, "data-start").unwrap(), attribute(element, "data-end").unwrap()))
        .collect()
}

#[test]
fn the_page_draws_each_final_area_once_and_is_self_contained() {
    for name in PROGRAMS {
        let log = parse(&data(&format!("{name}.strace"))).unwrap();
        let areas = parse_maps(&data(&format!("{name}.initial.smaps"))).unwrap();
        let done = run(&log, build(&areas, 8 << 20, None).unwrap(), Faults::WriteNew);
        let html = page(name, &done);
        // The areas of the real final layout (less the gate area, which no process maps).
        let real: Vec<(u64, u64)> = parse_maps(&data(&format!("{name}.final.maps")))
            .unwrap()
            .iter()
            .filter(|area| area.start < 0x8000_0000_0000)
            .map(|area| (area.start, area.end))
            .collect();
        let drawn = drawn_areas(&html);
        // `[stack]`'s lower end is not the real one (faults grow it); every other bound is.
        assert_eq!(drawn.len(), real.len(), "{name}");
        assert_eq!(drawn[..drawn.len() - 1], real[..real.len() - 1], "{name}");
        assert_eq!(drawn.last().unwrap().1, real.last().unwrap().1, "{name}");
        for external in ["http:", "https:", "<link", " src=", "@import", "url("] {
            assert!(!html.contains(external), "{name}: the page refers to `{external}`");
        }
        assert!(html.len() < 300_000, "{name}: {} bytes", html.len());
        assert!(html.starts_with("<!doctype html>") && html.ends_with("</html>\n"));
    }
}
