//! `maple-mm report`'s pages in a real browser: headless Chromium loads each page from disk,
//! runs its script, and the DOM it leaves is read back (`--dump-dom`). The script must have
//! drawn everything (`<body data-state="drawn">`, no error shown), with one `.area` element
//! per area of the layout at the op the page opens at (the last, or the one `#op=N` names); a
//! screenshot of each page is kept in `target/report-browser/`.
//!
//! These tests need Debian's `chromium` (or the browser `MAPLE_CHROMIUM` names), so `cargo
//! test` leaves them out; `.ci/run` installs Chromium and runs them with
//! `cargo test --test browser -- --ignored`.

mod pages;

use std::path::{Path, PathBuf};
use std::process::Command;

use maple_mm::replay::Faults;
use maple_mm::script::parse_outcome;
use pages::{data, program, real_areas, scenario, PROGRAMS};

/// Where the pages and screenshots go.
fn out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/report-browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Chromium, started as the issue and the machine notes ask: headless, no sandbox (CI runs
/// as root), no GPU, no first-run or background network traffic, a fresh profile each time.
fn chromium(profile: &Path) -> Command {
    let browser = std::env::var("MAPLE_CHROMIUM").unwrap_or_else(|_| "chromium".to_string());
    let _ = std::fs::remove_dir_all(profile);
    let mut command = Command::new("timeout");
    command.args(["120", &browser]).args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--hide-scrollbars",
    ]);
    command.arg(format!("--user-data-dir={}", profile.display()));
    command
}

/// The DOM of `page` (a file) at `#op=N` (or at its last op), after its scripts ran.
fn dom(page: &Path, op: Option<usize>) -> String {
    let url = format!("file://{}{}", page.display(), op.map_or(String::new(), |op| format!("#op={op}")));
    let output =
        chromium(&page.with_extension("profile")).args(["--dump-dom", &url]).output().unwrap_or_else(|error| {
            panic!("chromium could not start ({error}): install Debian's chromium or set MAPLE_CHROMIUM")
        });
    assert!(output.status.success(), "chromium failed on {url}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// Checks the DOM shows a finished drawing with `areas` area elements, in the map and in the
/// overview.
fn assert_drawn(dom: &str, areas: usize, what: &str) {
    assert!(dom.contains("<body data-state=\"drawn\">"), "{what}: the script did not finish drawing");
    assert!(dom.contains("<pre id=\"errors\" hidden=\"\"></pre>"), "{what}: the script reported an error");
    assert_eq!(dom.matches("<rect class=\"area ").count(), areas, "{what}: area elements");
    assert_eq!(dom.matches("<rect class=\"overview-area ").count(), areas, "{what}: areas in the overview");
}

/// Writes the page, checks it at its last op (and at each op of `also`, with its area count),
/// and saves a screenshot.
fn check(name: &str, html: &str, last_areas: usize, also: &[(usize, usize)]) {
    let page = out_dir().join(format!("{name}.html"));
    std::fs::write(&page, html).unwrap();
    assert_drawn(&dom(&page, None), last_areas, name);
    for &(op, areas) in also {
        assert_drawn(&dom(&page, Some(op)), areas, &format!("{name} at op {op}"));
    }
    let shot = page.with_extension("png");
    let _ = std::fs::remove_file(&shot);
    let status = chromium(&page.with_extension("profile"))
        .args(["--window-size=1400,1800", &format!("--screenshot={}", shot.display())])
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(status.status.success(), "{name}: screenshot");
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000, "{name}: {} bytes of screenshot", png.len());
}

/// Each program's page at its end and start (as many areas as the real final and initial
/// smaps have) and at a third and two thirds of its calls (as many as the engine's address
/// space had then).
#[test]
#[ignore = "needs Chromium: .ci/run installs it and runs this with --ignored"]
fn program_pages_draw_every_area_in_chromium() {
    for name in PROGRAMS {
        let (history, html) = program(name, Faults::WriteNew);
        let last = real_areas(&format!("traces/{name}.final.smaps")).len();
        let first = real_areas(&format!("traces/{name}.initial.smaps")).len();
        let calls = history.steps.len();
        let then = |op: usize| (op, history.steps[op - 1].areas.len());
        check(name, &html, last, &[(0, first), then(calls / 3), then(2 * calls / 3)]);
    }
}

/// Scenario 4 (`mmap 0 12 rw`, `mprotect 4 4 r`, `mprotect 4 4 rw`): one area at the end as
/// the kernel left it, three after the middle's mprotect.
#[test]
#[ignore = "needs Chromium: .ci/run installs it and runs this with --ignored"]
fn scenario_pages_redraw_at_any_op_in_chromium() {
    let name = "04_mprotect_back_remerge";
    let (_, html) = scenario(name);
    let kernel = parse_outcome(&data(&format!("kernel-cases/scenarios/{name}.out"))).unwrap();
    check(name, &html, kernel.vmas.len(), &[(2, 3)]);
}
