//! The `maple-mm` binary's command line: inputs, errors and exit statuses.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs `maple-mm` with `args`, feeding `stdin`.
fn maple_mm(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_maple-mm"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("maple-mm starts");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("stdin written");
    child.wait_with_output().expect("maple-mm ends")
}

/// [`maple_mm`] with arguments made at run time.
fn maple_mm_owned(args: &[String], stdin: &str) -> Output {
    maple_mm(&args.iter().map(String::as_str).collect::<Vec<_>>(), stdin)
}

/// A new directory of this test process for `name`'s files (the caller removes it).
fn scratch_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("maple-mm-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Checks that the command failed with exit status 2 and said `says` on standard error.
fn assert_refused(output: &Output, says: &str) {
    assert_eq!(output.status.code(), Some(2), "{}", stderr(output));
    assert!(stderr(output).contains(says), "{}", stderr(output));
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_missing_script_is_an_error() {
    for command in ["run", "kernel", "diff"] {
        let output = maple_mm(&[command, "/nonexistent/script.ops"], "");
        assert_eq!(output.status.code(), Some(2), "{command}");
        assert!(stderr(&output).contains("/nonexistent/script.ops"), "{command}: {}", stderr(&output));
        assert!(output.stdout.is_empty(), "{command}");
    }
}

#[test]
fn a_parse_error_names_its_line() {
    let dir = scratch_dir("script");
    let path = dir.join("bad.ops");
    std::fs::write(&path, "window 16\nmmap 0 4 rw anon_private\nmprotect 0 4 rwq\n").unwrap();
    for command in ["run", "kernel", "diff"] {
        let output = maple_mm(&[command, path.to_str().unwrap()], "");
        assert_eq!(output.status.code(), Some(2), "{command}");
        let message = stderr(&output);
        assert!(message.contains("line 3") && message.contains("bad prot `rwq`"), "{command}: {message}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_parse_error_on_stdin_names_its_line() {
    let output = maple_mm(&["kernel", "-"], "window 8\n\nfrobnicate 1\n");
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("<stdin>: line 3: unknown op `frobnicate`"), "{message}");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(maple_mm(&[], "").status.code(), Some(2));
    assert_eq!(maple_mm(&["frob"], "").status.code(), Some(2));
    assert_eq!(maple_mm(&["kernel"], "").status.code(), Some(2));
    assert_eq!(maple_mm(&["fuzz", "--window-min", "100", "--window-max", "50"], "").status.code(), Some(2));
}

#[test]
fn gen_prints_a_script_that_parses() {
    let output = maple_mm(&["gen", "--seed", "42"], "");
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let script = maple_mm::script::parse(&text).unwrap();
    assert!((40..=200).contains(&script.ops.len()));
    assert_eq!(text, maple_mm::gen::random_script(42, &maple_mm::gen::GenConfig::default()));
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn kernel_reads_the_script_from_stdin() {
    let output = maple_mm(&["kernel", "-"], "window 8\nmmap 0 2 rw anon_private\nmmap 2 2 r anon_private\ntouch 3\n");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "op 1 ok @0\nop 2 ok @2\nop 3 segv @3\nvma 0 2 rw-p - anon rd,wr,mr,mw,me,ac\nvma 2 4 r--p - anon rd,mr,mw,me\n"
    );
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn kernel_reports_out_of_window_ops_and_refuses_poisoning_advice() {
    let output = maple_mm(&["kernel", "-"], "window 8\nmmap 6 4 rw anon_private\nmremap 0 1 1 fixed 8\n");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(String::from_utf8(output.stdout).unwrap(), "op 1 skip out-of-window\nop 2 skip out-of-window\n");

    let output = maple_mm(&["kernel", "-"], "window 8\nmmap 0 4 rw anon_private\nmadvise 0 1 100\n");
    assert_refused(&output, "op 2: madvise advice 100 is refused");
}

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
#[test]
fn kernel_is_unsupported_here() {
    let output = maple_mm(&["kernel", "-"], "window 8\n");
    assert_refused(&output, "not supported");
}

#[test]
fn numbers_past_their_limits_get_one_answer_from_every_command() {
    let cases = [
        (
            "window 536870911\nmmap 0 4 rw anon_private\n",
            "line 1: window size 536870911 is above the limit 1048576 (4 GiB)",
        ),
        ("window 18446744073709551615\n", "line 1: window size 18446744073709551615 is above the limit 1048576"),
        ("window 18446744073709551616\n", "line 1: number `18446744073709551616` is too large for its field"),
        (
            "window 8\nfile 1 2251799813685248\n",
            "line 2: file size 2251799813685248 is above the limit 2251799813685247",
        ),
        ("window 8\nmmap 0 4 r file_private:1:4503599627370496\n", "line 2: file offset 4503599627370496 is above"),
        ("window 8\nmmap 0 4 r file_private:4294967296:0\n", "line 2: number `4294967296` is too large"),
    ];
    for (script, message) in cases {
        for command in ["run", "explain", "kernel", "diff"] {
            let output = maple_mm(&[command, "-"], script);
            assert_eq!(output.status.code(), Some(2), "{command} on {script:?}");
            assert!(output.stdout.is_empty(), "{command} on {script:?}");
            assert!(stderr(&output).contains(message), "{command} on {script:?}: {}", stderr(&output));
        }
    }
}

#[test]
fn gen_and_fuzz_refuse_shapes_past_their_limits() {
    for args in [
        ["gen", "--seed", "1", "--ops-max", "18446744073709551615"],
        ["fuzz", "--count", "1", "--ops-max", "100001"],
        ["gen", "--seed", "1", "--window-max", "1048577"],
    ] {
        let output = maple_mm(&args, "");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(stderr(&output).contains("is above the limit"), "{args:?}: {}", stderr(&output));
        assert!(output.stdout.is_empty(), "{args:?}");
    }
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn diff_exits_0_when_both_agree_and_2_when_one_cannot_run() {
    // The largest window and file offset: both runners answer, and agree.
    let edge = "window 1048576\nmmap 1048572 4 rw anon_private\ntouch 1048575\n\
                mmap 0 4 r file_private:1:4503599627370495\nmmap 4 4 r file_private:1:2251799813685243\nread 7\n";
    let output = maple_mm(&["diff", "-"], edge);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "kernel and engine agree: all 5 op results and all 2 areas of the window are identical\n"
    );
    let output = maple_mm(&["run", "-"], edge);
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.starts_with("op 1 ok @1048572\nop 2 ok\nop 3 err EOVERFLOW\nop 4 ok @4\nop 5 ok\n"), "{text}");

    // The kernel runner refuses advice that would poison real pages: diff cannot compare.
    let output = maple_mm(&["diff", "-"], "window 8\nmmap 0 4 rw anon_private\nmadvise 0 1 100\n");
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
}

/// An advice number Linux does not know is EINVAL before the range is looked at: with a zero
/// length (which is otherwise a no-op) and over a hole (otherwise ENOMEM), on both runners.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn unknown_advice_is_einval_before_the_range_on_both_runners() {
    let script =
        "window 8\nmmap 0 4 rw anon_private\nmadvise 0 0 7\nmadvise 6 1 99\nmadvise 0 1 -1\nmadvise 6 1 dontfork\n";
    let output = maple_mm(&["diff", "-"], script);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let output = maple_mm(&["run", "-"], script);
    let text = String::from_utf8(output.stdout).unwrap();
    let results = "op 1 ok @0\nop 2 err EINVAL\nop 3 err EINVAL\nop 4 err EINVAL\nop 5 err ENOMEM\n";
    assert!(text.starts_with(results), "{text}");
}

#[test]
fn a_closed_pipe_ends_the_program_quietly() {
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::os::unix::process::ExitStatusExt;

    let mut fds = [0; 2];
    // SAFETY: pipe fills the two descriptors when it returns 0.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors are fresh and owned here; the read end closes at once, so the
    // program's first write meets a closed pipe.
    let (read_end, write_end) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read_end);
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/scripts/demo.ops");
    let output = Command::new(env!("CARGO_BIN_EXE_maple-mm"))
        .args(["explain", demo])
        .stdout(Stdio::from(write_end))
        .stderr(Stdio::piped())
        .output()
        .expect("maple-mm runs");
    assert_eq!(output.status.signal(), Some(libc::SIGPIPE), "{:?}", output.status);
    assert!(output.stderr.is_empty(), "{}", stderr(&output));
}

/// Every line of `sample` but `...` appears in `printed`, in the same order.
fn printed_in_order(sample: &str, printed: &str) {
    let mut lines = printed.lines();
    for want in sample.lines().filter(|line| *line != "...") {
        assert!(lines.any(|line| line == want), "README line not printed (in this order): {want:?}");
    }
}

/// The `n`-th `text` sample of the README after `heading`.
fn readme_sample(heading: &str, n: usize) -> String {
    let readme = std::fs::read_to_string(format!("{}/README.md", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let section = readme.split(heading).nth(1).expect("the README's section");
    let sample = section.split("```text\n").nth(n + 1).and_then(|rest| rest.split("```").next()).expect("a sample");
    sample.to_string()
}

/// The README's sample of the main job's output is what the main job prints (the command as
/// the README gives it).
#[test]
fn the_readmes_sample_is_what_the_main_job_prints() {
    let root = env!("CARGO_MANIFEST_DIR");
    let output = maple_mm(
        &[
            "replay",
            &format!("{root}/tests/traces/py_threads.strace"),
            "--initial",
            &format!("{root}/tests/traces/py_threads.initial.smaps"),
            "--final",
            &format!("{root}/tests/traces/py_threads.final.smaps"),
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let printed = String::from_utf8(output.stdout).unwrap();
    printed_in_order(&readme_sample("### What the main job prints", 0), &printed);
}

/// The README's sample of the op-script demo is what `diff --explain` prints for it.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn the_readmes_op_script_sample_is_what_diff_explain_prints() {
    let root = env!("CARGO_MANIFEST_DIR");
    let output = maple_mm(&["diff", "--explain", &format!("{root}/examples/scripts/demo.ops")], "");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let printed = String::from_utf8(output.stdout).unwrap();
    printed_in_order(&readme_sample("### Op scripts: every merge rule, against the live kernel", 0), &printed);
}

/// A bundled trace's file, as an argument.
fn trace_file(name: &str) -> String {
    format!("{}/tests/traces/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn replay_of_a_bundled_program_is_identical_and_exits_0() {
    let (log, initial, last) =
        (trace_file("perl.strace"), trace_file("perl.initial.smaps"), trace_file("perl.final.smaps"));
    let output = maple_mm(&["replay", &log, "--initial", &initial, "--final", &last], "");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", stderr(&output));
    assert!(stdout.contains("  brk              556/556\n"), "{stdout}");
    assert!(stdout.ends_with("returns: 642/642 identical\nlayout: identical (51 areas)\n"), "{stdout}");
}

#[test]
fn replay_prints_each_difference_with_its_line_and_exits_1() {
    let (log, initial, last) =
        (trace_file("py_mmap.strace"), trace_file("py_mmap.initial.smaps"), trace_file("py_mmap.final.smaps"));
    let output = maple_mm(&["replay", &log, "--initial", &initial, "--final", &last, "--faults", "none"], "");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    let difference = "layout: Linux has       7ffff7668000-7ffff766c000 ---p 00000000  [mr mw me ac]\n        \
                      last changed by line 83: mprotect(0x7ffff7668000, 0x4000, PROT_NONE)\n        \
                      the area before: 7ffff7660000-7ffff7668000 rw-p 00000000  [rd wr mr mw me ac]\n        \
                      the area after:  7ffff766c000-7ffff7680000 rw-p 00000000  [rd wr mr mw me ac]\n";
    assert!(stdout.contains(difference), "{stdout}");
    assert!(stdout.ends_with("returns: 113/113 identical\nlayout: 1 of 70 areas differ\n"), "{stdout}");
}

#[test]
fn replay_of_unreadable_input_names_the_file_and_line_and_exits_2() {
    let dir = scratch_dir("replay");
    let log = dir.join("bad.strace");
    std::fs::write(&log, "7 brk(NULL) = 0x1000\n7 mmap(NULL, 4096, PROT_READ) = 0x2000\n").unwrap();
    let initial = trace_file("perl.initial.maps");
    let output = maple_mm(&["replay", log.to_str().unwrap(), "--initial", &initial], "");
    assert_refused(&output, "bad.strace: line 2: mmap: argument 4 is missing");
    assert!(output.stdout.is_empty());
    let output = maple_mm(&["replay", &trace_file("perl.strace"), "--initial", log.to_str().unwrap()], "");
    assert_refused(&output, "bad.strace: line 1: not a maps or smaps line");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn report_writes_a_page_and_refuses_an_unwritable_file() {
    let dir = scratch_dir("report");
    let page = dir.join("perl.html");
    let (log, initial) = (trace_file("perl.strace"), trace_file("perl.initial.smaps"));
    let output = maple_mm(&["report", &log, "--initial", &initial, "-o", page.to_str().unwrap()], "");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.starts_with("<!doctype html>") && html.contains("<h1>") && html.contains("642 memory calls, 51 areas")
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let kib = html.len().div_ceil(1024);
    assert!(
        stdout.ends_with(&format!("returns: 642/642 identical\nwrote {} ({kib} KiB)\n", page.display())),
        "{stdout}"
    );
    let nowhere = dir.join("no/such/dir/page.html");
    let output = maple_mm(&["report", &log, "--initial", &initial, "-o", nowhere.to_str().unwrap()], "");
    assert_refused(&output, "no/such/dir/page.html");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// An op script is a report's input too (no --initial); a script that cannot be read, or
/// --final without --initial, is an error and writes nothing.
#[test]
fn report_of_an_op_script() {
    let dir = scratch_dir("report-script");
    let page = dir.join("page.html");
    let script = dir.join("two.ops");
    std::fs::write(&script, "window 16\nmmap 0 4 rw anon_private\nmmap 4 4 rw anon_private\n").unwrap();
    let args =
        |input: &str| vec!["report".to_string(), input.to_string(), "-o".to_string(), page.display().to_string()];
    let output = maple_mm_owned(&args(script.to_str().unwrap()), "");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("2 ops; 1 area in the window at the end\nwrote "), "{stdout}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("An op script run on the maple-mm engine, op by op: 2 ops, 1 area in the window at the end."));
    std::fs::remove_file(&page).unwrap();
    std::fs::write(&script, "window 16\nmmap 0 4 rw\n").unwrap();
    let output = maple_mm_owned(&args(script.to_str().unwrap()), "");
    assert_refused(&output, "two.ops: line 2");
    let mut with_final = args(script.to_str().unwrap());
    with_final.extend(["--final".to_string(), trace_file("perl.final.smaps")]);
    let output = maple_mm_owned(&with_final, "");
    assert_refused(&output, "--initial");
    assert!(!page.exists(), "nothing written");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `report SCRIPT --kernel` performs the script on the kernel too and says whether the two
/// agree; `--kernel` is for op scripts only.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn report_of_an_op_script_against_the_kernel() {
    let dir = scratch_dir("report-kernel");
    let page = dir.join("page.html");
    let script = format!("{}/tests/kernel-cases/scenarios/04_mprotect_back_remerge.ops", env!("CARGO_MANIFEST_DIR"));
    let output = maple_mm(&["report", &script, "--kernel", "-o", page.to_str().unwrap()], "");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("kernel and engine agree: all 3 op results and all 1 area"), "{stdout}");
    assert!(std::fs::read_to_string(&page).unwrap().contains("<h3>Differences from Linux's final layout</h3>"));
    let (log, initial) = (trace_file("perl.strace"), trace_file("perl.initial.smaps"));
    let output = maple_mm(&["report", &log, "--initial", &initial, "--kernel", "-o", page.to_str().unwrap()], "");
    assert_refused(&output, "--kernel");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `report --help` says how to read the page.
#[test]
fn report_help_tells_how_to_read_the_page() {
    let output = maple_mm(&["report", "--help"], "");
    assert_eq!(output.status.code(), Some(0));
    let help = String::from_utf8_lossy(&output.stdout);
    for part in ["History chart", "The map", "Merge story", "merge_existing_range", "docs/report.md"] {
        assert!(help.contains(part), "{part} missing from:\n{help}");
    }
}
