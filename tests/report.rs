//! `maple-mm report`'s page: its data, rebuilt op by op as the page's script rebuilds it, ends
//! at the real kernel's layout (the bundled programs' final maps, the recorded scenarios'
//! kernel outcomes) and starts at the real initial one; its merge story matches cases worked
//! out by hand; differences from Linux are marked; nothing is fetched from anywhere.
//! tests/browser.rs loads the pages in a real browser.

mod pages;

use maple_mm::replay::Faults;
use maple_mm::script::parse_outcome;
use pages::{data, program, real_areas, scenario, PROGRAMS};
use serde_json::Value;

/// The address of window page 0 in an op script's address space.
const WINDOW: u64 = maple_mm::engine::WINDOW_BASE;

/// The recorded scenarios, by name.
fn scenarios() -> Vec<String> {
    let dir = format!("{}/tests/kernel-cases/scenarios", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|entry| entry.unwrap().file_name().into_string().ok()?.strip_suffix(".ops").map(str::to_string))
        .collect();
    names.sort();
    names
}

/// The JSON the page's script draws from.
fn page_data(html: &str) -> Value {
    let marker = "<script type=\"application/json\" id=\"data\">";
    let start = html.find(marker).expect("a data element") + marker.len();
    let end = start + html[start..].find("</script>").expect("the data element's end");
    serde_json::from_str(&html[start..end]).expect("the data is JSON")
}

fn number(value: &Value) -> u64 {
    value.as_u64().unwrap_or_else(|| panic!("{value} is not a number"))
}

/// The areas after op `step` (0: at the start) as `[start, end, perms, name]`: the initial
/// versions, then each op's removed versions taken out and its added ones put in.
fn areas_at(data: &Value, step: usize) -> Vec<(u64, u64, String, String)> {
    let mut live: Vec<u64> = data["initial"].as_array().unwrap().iter().map(number).collect();
    for op in &data["steps"].as_array().unwrap()[..step] {
        let removed: Vec<u64> = op[3].as_array().unwrap().iter().map(number).collect();
        live.retain(|version| !removed.contains(version));
        live.extend(op[2].as_array().unwrap().iter().map(number));
    }
    let mut areas: Vec<_> = live
        .iter()
        .map(|&version| {
            let area = &data["areas"][version as usize];
            (
                number(&area[0]),
                number(&area[1]),
                area[2].as_str().unwrap().to_string(),
                area[4].as_str().unwrap().to_string(),
            )
        })
        .collect();
    areas.sort();
    areas
}

/// A maps area as `[start, end, perms, name]`.
fn described(area: &maple_mm::trace::MapsArea) -> (u64, u64, String, String) {
    let name = match &area.name {
        maple_mm::trace::AreaName::Path(path) => path.clone(),
        maple_mm::trace::AreaName::Special(name) => name.clone(),
        maple_mm::trace::AreaName::Anonymous => String::new(),
    };
    (area.start, area.end, area.perms(), name)
}

#[test]
fn each_program_page_starts_and_ends_at_the_real_layouts() {
    for name in PROGRAMS {
        let (history, html) = program(name, Faults::WriteNew);
        let data = page_data(&html);
        let steps = data["steps"].as_array().unwrap().len();
        assert_eq!(steps, history.steps.len(), "{name}");
        let initial: Vec<_> = real_areas(&format!("traces/{name}.initial.smaps")).iter().map(described).collect();
        assert_eq!(areas_at(&data, 0), initial, "{name}: the start");
        let real: Vec<_> = real_areas(&format!("traces/{name}.final.smaps")).iter().map(described).collect();
        let drawn = areas_at(&data, steps);
        // `[stack]`'s lower end is not the real one (faults grow it); every other bound is.
        assert_eq!(drawn.len(), real.len(), "{name}");
        assert_eq!(drawn[..drawn.len() - 1], real[..real.len() - 1], "{name}");
        let (last, real_last) = (drawn.last().unwrap(), real.last().unwrap());
        assert_eq!((last.1, &last.2, &last.3), (real_last.1, &real_last.2, &real_last.3), "{name}");
        assert_eq!(data["differs"], serde_json::json!([]), "{name}");
        assert_eq!(data["linuxOnly"], serde_json::json!([]), "{name}");
        let same = format!("None: {} areas identical", real.len());
        assert!(html.contains(&same), "{name}: the story says the layouts are identical");
    }
}

#[test]
fn each_scenario_page_ends_at_the_kernel_layout() {
    let names = scenarios();
    assert!(names.len() >= 36, "{} scenarios", names.len());
    for name in names {
        let (_, html) = scenario(&name);
        let data = page_data(&html);
        let kernel = parse_outcome(&data_file(&name)).unwrap();
        let steps = data["steps"].as_array().unwrap().len();
        assert_eq!(steps, kernel.ops.len(), "{name}");
        let page = |address: u64| (address - WINDOW) / 4096;
        let drawn: Vec<_> =
            areas_at(&data, steps).into_iter().map(|(start, end, perms, _)| (page(start), page(end), perms)).collect();
        let expected: Vec<_> = kernel.vmas.iter().map(|vma| (vma.start, vma.end, vma.perms.to_string())).collect();
        assert_eq!(drawn, expected, "{name}");
    }
}

fn data_file(name: &str) -> String {
    data(&format!("kernel-cases/scenarios/{name}.out"))
}

/// Scenario 4: `mmap 0 12 rw`, `mprotect 4 4 r`, `mprotect 4 4 rw`. The mapping is an area of
/// its own; the first mprotect splits it in three (two new areas beside the changed middle);
/// the second makes the middle compatible again and the area before absorbs it and the area
/// after (merge_existing_range's "both" case), leaving one area.
#[test]
fn the_story_of_a_split_and_a_remerge() {
    let (history, html) = scenario("04_mprotect_back_remerge");
    // The script's comment shows with the op after it.
    assert!(
        history.steps[0].text.starts_with("# mprotect of the middle, then mprotect back"),
        "{}",
        history.steps[0].text
    );
    let tallies: Vec<_> = history.steps.iter().map(|step| step.tally).collect();
    assert_eq!(tallies[0].created, 1);
    assert_eq!((tallies[1].splits, tallies[1].merges()), (2, 0));
    assert_eq!((tallies[2].existing.both, tallies[2].merges(), tallies[2].splits), (1, 1, 0));
    let data = page_data(&html);
    let marks: Vec<(u64, u64)> =
        data["steps"].as_array().unwrap().iter().map(|op| (number(&op[4]), number(&op[5]))).collect();
    assert_eq!(marks, [(0, 0), (0, 2), (1, 0)], "merges and splits per op");
    // Each op's cases, named as the story's table names them.
    let cases: Vec<Vec<(String, u64)>> = data["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|op| {
            let named = |case: &Value| {
                (data["cases"][number(&case[0]) as usize].as_str().unwrap().to_string(), number(&case[1]))
            };
            op[7].as_array().unwrap().iter().map(named).collect()
        })
        .collect();
    assert_eq!(cases[0], [("new range, an area of its own (merged with nothing)".to_string(), 1)]);
    assert_eq!(cases[1], [("splits of an existing area".to_string(), 2)]);
    let both = "changed range: the area before absorbed it and the area after (merge_existing_range, both)";
    assert_eq!(cases[2], [(both.to_string(), 1)]);
    assert_eq!(areas_at(&data, 1).len(), 1);
    assert_eq!(areas_at(&data, 2).len(), 3);
    assert_eq!(areas_at(&data, 3).len(), 1);
    let row = html.split("<tr>").find(|row| row.contains("(merge_existing_range, both)")).unwrap();
    assert!(row.contains("<td class=\"count\">1</td>") && row.contains("data-step=\"3\""), "{row}");
    let row = html.split("<tr>").find(|row| row.contains("splits of an existing area")).unwrap();
    assert!(row.contains("<td class=\"count\">2</td>") && row.contains("data-step=\"2\""), "{row}");
}

/// Scenario 2: `mmap 0 4 rw` then `mmap 4 4 r` beside it: the two stay apart because their
/// flags differ (only the writable one has `wr` and, being private and writable, `ac`).
#[test]
fn touching_areas_left_apart_name_their_rule() {
    let (_, html) = scenario("02_anon_diff_prot_no_merge");
    assert!(html.contains("<li><b>flags differ: only left has wr,ac</b> (1 pair): <code>[0,4) and [4,8)</code></li>"));
    let data = page_data(&html);
    let rules: Vec<&str> = data["rules"].as_array().unwrap().iter().map(|rule| rule.as_str().unwrap()).collect();
    let pairs = data["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 1);
    assert_eq!(rules[number(&pairs[0][2]) as usize], "flags differ: only left has wr,ac");
}

/// py_mmap under the `none` fault model: one area (written, then made PROT_NONE) lacks the
/// `ac` Linux kept on it, since no write was modelled. The page marks that area and draws
/// Linux's version beside it.
#[test]
fn differences_from_linux_are_marked_on_the_map() {
    let (_, html) = program("py_mmap", Faults::None);
    let data = page_data(&html);
    let differs = data["differs"].as_array().unwrap();
    let linux_only = data["linuxOnly"].as_array().unwrap();
    assert_eq!((differs.len(), linux_only.len()), (1, 1));
    let engine = &data["areas"][number(&differs[0]) as usize];
    let linux = &linux_only[0];
    assert_eq!((&engine[0], &engine[1]), (&linux[0], &linux[1]), "the same range");
    let has_ac = |flags: &Value| flags.as_str().unwrap().split(' ').any(|code| code == "ac");
    assert!(has_ac(&linux[5]) && !has_ac(&engine[6]), "{linux} / {engine}");
    assert!(html.contains("<h3>Differences from Linux's final layout</h3>"));
}

/// An op script compared with a kernel's output: scenario 4's recorded output (Linux 6.18's)
/// gives no difference; the same output doctored (op 2 failed, the final area lacks `ac`) is
/// marked: the op, the engine's area, and the kernel's area beside it.
#[test]
fn an_op_script_against_the_kernel() {
    use maple_mm::report::{page, History};
    use maple_mm::script::OpResult;
    let name = "04_mprotect_back_remerge";
    let script = maple_mm::script::parse(&data(&format!("kernel-cases/scenarios/{name}.ops"))).unwrap();
    let recorded = parse_outcome(&data_file(name)).unwrap();
    let history = History::of_script(name, &script, Some(&recorded)).unwrap();
    assert!(history.steps.iter().all(|step| step.agrees == Some(true)));
    assert!(history.differences.as_ref().unwrap().is_empty());
    assert_eq!(
        history.verdict,
        "kernel and engine agree: all 3 op results and all 1 area of the window are identical\n"
    );
    assert!(page(&history).contains("None: 1 area identical"));

    let mut doctored = recorded.clone();
    doctored.ops[1].result = OpResult::Err("ENOMEM".into());
    doctored.vmas[0].vmflags.retain(|flag| flag != "ac");
    let history = History::of_script(name, &script, Some(&doctored)).unwrap();
    let agrees: Vec<Option<bool>> = history.steps.iter().map(|step| step.agrees).collect();
    assert_eq!(agrees, [Some(true), Some(false), Some(true)]);
    let html = page(&history);
    let data = page_data(&html);
    assert_eq!(data["steps"][1][1], 0, "op 2 marked as differing");
    let differs = data["differs"].as_array().unwrap();
    assert_eq!(differs.len(), 1);
    let engine = &data["areas"][number(&differs[0]) as usize];
    assert_eq!((number(&engine[0]), number(&engine[1])), (WINDOW, WINDOW + 12 * 4096));
    let kernel = &data["linuxOnly"].as_array().unwrap()[0];
    assert_eq!((&kernel[0], &kernel[1], &kernel[5]), (&engine[0], &engine[1], &serde_json::json!("rd wr mr mw me")));
    assert!(html.contains("<li><code>the kernel has vma 0 12 rw-p - anon rd,wr,mr,mw,me</code></li>"));
    assert!(html.contains("<li><code>the engine has vma 0 12 rw-p - anon rd,wr,mr,mw,me,ac</code></li>"));
    assert!(history.verdict.contains("op 2"), "{}", history.verdict);
}

#[test]
fn pages_are_self_contained_and_small() {
    let mut pages: Vec<(String, String)> =
        PROGRAMS.iter().map(|name| (name.to_string(), program(name, Faults::WriteNew).1)).collect();
    pages.push(("scenario 13".to_string(), scenario("13_mmap_fixed_over_middle").1));
    for (name, html) in pages {
        // (The SVG namespace, `http://www.w3.org/2000/svg`, is a name, not a fetch.)
        for external in
            ["href=\"http", "href=\"//", "<link", " src=", "@import", "url(", "fetch(", "XMLHttpRequest", "import("]
        {
            assert!(!html.contains(external), "{name}: the page refers to `{external}`");
        }
        // A few hundred kilobytes at most (perl's 642 calls, each with its explanation, are
        // the largest: 316 KiB).
        assert!(html.len() < 400_000, "{name}: {} bytes", html.len());
        assert!(html.starts_with("<!doctype html>") && html.ends_with("</html>\n"), "{name}");
        assert_eq!(html.matches("<script").count(), 2, "{name}: the data and the script, nothing else");
        assert_eq!(html.matches("</script>").count(), 2, "{name}");
    }
}

/// A title with markup in it stays text: escaped in the HTML, and unable to end the data's
/// script element.
#[test]
fn titles_cannot_inject_markup() {
    let script = maple_mm::script::parse("window 8\nmmap 0 2 rw anon_private\n").unwrap();
    let history = maple_mm::report::History::of_script("</script><b>x</b>", &script, None).unwrap();
    let html = maple_mm::report::page(&history);
    assert!(!html.contains("<b>x</b>"));
    assert_eq!(html.matches("</script>").count(), 2);
    assert_eq!(page_data(&html)["title"], "</script><b>x</b>");
}
