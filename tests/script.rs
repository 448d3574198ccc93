//! The op-script parsers against the kernel's recorded cases in `tests/kernel-cases`.

use std::fs;
use std::path::{Path, PathBuf};

use maple_mm::script::{parse, parse_outcome, Advice, Backing, ErrorKind, Kind, Mods, Op, OpResult, ParseError, Prot};

/// The recorded cases: every `.ops` file under `tests/kernel-cases`, sorted.
fn case_scripts() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kernel-cases");
    let mut scripts = Vec::new();
    for dir in ["scenarios", "fuzz"] {
        for entry in fs::read_dir(root.join(dir)).expect("kernel-cases directory") {
            let path = entry.expect("directory entry").path();
            if path.extension().is_some_and(|ext| ext == "ops") {
                scripts.push(path);
            }
        }
    }
    scripts.sort();
    scripts
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

#[test]
fn the_cases_are_all_there() {
    let scripts = case_scripts();
    let scenarios = scripts.iter().filter(|path| path.parent().unwrap().ends_with("scenarios")).count();
    assert_eq!(scenarios, 40);
    assert_eq!(scripts.len() - scenarios, 200);
}

/// Every script parses, every output parses, and the output has one `op` line per op,
/// numbered 1, 2, ... (annotations, `window` and `file` lines are not ops).
#[test]
fn every_case_parses_and_matches_its_output() {
    for ops_path in case_scripts() {
        let out_path = ops_path.with_extension("out");
        let script = parse(&read(&ops_path)).unwrap_or_else(|error| panic!("{}: {error}", ops_path.display()));
        let outcome = parse_outcome(&read(&out_path)).unwrap_or_else(|error| panic!("{}: {error}", out_path.display()));
        assert_eq!(script.ops.len(), outcome.ops.len(), "{}", ops_path.display());
        for (index, line) in outcome.ops.iter().enumerate() {
            assert_eq!(line.n, index + 1, "{}", out_path.display());
        }
        for vma in &outcome.vmas {
            assert!(vma.start < vma.end && vma.end <= script.window, "{}: {vma:?}", out_path.display());
        }
        for pair in outcome.vmas.windows(2) {
            assert!(pair[0].end <= pair[1].start, "{}: VMAs out of order", out_path.display());
        }
    }
}

/// The op count equals the number of lines whose first word is an op, counted independently.
#[test]
fn op_counts_match_a_plain_line_count() {
    for ops_path in case_scripts() {
        let text = read(&ops_path);
        let counted = text
            .lines()
            .filter_map(|line| line.split('#').next().unwrap().split_whitespace().next())
            .filter(|word| !matches!(*word, "window" | "file" | "expect" | "expect_op" | "expect_empty"))
            .count();
        assert_eq!(parse(&text).unwrap().ops.len(), counted, "{}", ops_path.display());
    }
}

#[test]
fn a_scenario_in_detail() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kernel-cases/scenarios");
    let script = parse(&read(&root.join("01_anon_adjacent_merge.ops"))).unwrap();
    assert_eq!(script.window, 16);
    let rw = Prot { read: true, write: true, exec: false };
    let mmap = |page| Op::Mmap { page, npages: 4, prot: rw, kind: Kind::AnonPrivate, mods: Mods::default() };
    assert_eq!(script.ops, vec![mmap(0), mmap(4)]);
    let outcome = parse_outcome(&read(&root.join("01_anon_adjacent_merge.out"))).unwrap();
    assert_eq!(outcome.ops[1].result, OpResult::OkAt(4));
    let vma = &outcome.vmas[0];
    assert_eq!((vma.start, vma.end, vma.pgoff, vma.backing), (0, 8, None, Backing::Anon));
    assert_eq!(vma.vmflags, ["rd", "wr", "mr", "mw", "me", "ac"]);
}

#[test]
fn every_op_form() {
    let text = "\
window 64
file 1 2
file 2 8
mmap 0 4 rwx file_shared:2:3 noreserve populate locked growsdown stack noreplace ro
mmap 4 1 none anon_shared
munmap 1 2
mprotect 1 2 x
madvise 0 4 dontneed_locked
madvise 0 4 25
mlock 0 1
mlock_onfault 0 2
munlock 0 3
mseal 0 4
mremap 0 4 8 dontunmap fixed 16 maymove
mremap 0 4 2
touch 3 5
read 7
fork
mlockall current future onfault
mlockall future
munlockall
expect_empty
";
    let script = parse(text).unwrap();
    assert_eq!(script.window, 64);
    assert_eq!(script.files.into_iter().collect::<Vec<_>>(), [(1, 2), (2, 8)]);
    let all =
        Mods { noreserve: true, populate: true, locked: true, growsdown: true, stack: true, noreplace: true, ro: true };
    let rwx = Prot { read: true, write: true, exec: true };
    let x = Prot { exec: true, ..Prot::default() };
    assert_eq!(
        script.ops,
        vec![
            Op::Mmap { page: 0, npages: 4, prot: rwx, kind: Kind::FileShared { file: 2, pgoff: 3 }, mods: all },
            Op::Mmap { page: 4, npages: 1, prot: Prot::default(), kind: Kind::AnonShared, mods: Mods::default() },
            Op::Munmap { page: 1, npages: 2 },
            Op::Mprotect { page: 1, npages: 2, prot: x },
            Op::Madvise { page: 0, npages: 4, advice: Advice::DontneedLocked },
            Op::Madvise { page: 0, npages: 4, advice: Advice::Number(25) },
            Op::Mlock { page: 0, npages: 1 },
            Op::MlockOnfault { page: 0, npages: 2 },
            Op::Munlock { page: 0, npages: 3 },
            Op::Mseal { page: 0, npages: 4 },
            Op::Mremap { old_page: 0, old_npages: 4, new_npages: 8, maymove: true, fixed: Some(16), dontunmap: true },
            Op::Mremap { old_page: 0, old_npages: 4, new_npages: 2, maymove: false, fixed: None, dontunmap: false },
            Op::Touch { page: 3, npages: 5 },
            Op::Read { page: 7, npages: 1 },
            Op::Fork,
            Op::Mlockall { current: true, future: true, onfault: true },
            Op::Mlockall { current: false, future: true, onfault: false },
            Op::Munlockall,
        ]
    );
    // Each op is printed back as a line that parses to it.
    for op in &script.ops {
        assert_eq!(parse(&op.to_string()).unwrap().ops, std::slice::from_ref(op), "{op}");
    }
}

/// mlockall needs at least one flag, each from `current`, `future`, `onfault`; munlockall
/// takes none.
#[test]
fn mlockall_flags() {
    assert_eq!(error("mlockall").kind, ErrorKind::MissingArgument("mlockall flags (current, future, onfault)"));
    assert_eq!(error("mlockall current now").kind, ErrorKind::BadModifier("now".into()));
    assert_eq!(error("munlockall current").kind, ErrorKind::ExtraArgument("current".into()));
}

#[test]
fn every_named_advice_parses() {
    for (name, advice) in Advice::NAMED {
        let script = parse(&format!("madvise 0 1 {name}")).unwrap();
        assert_eq!(script.ops, vec![Op::Madvise { page: 0, npages: 1, advice }]);
    }
}

/// The error of parsing `text`, which must fail.
fn error(text: &str) -> ParseError {
    parse(text).expect_err(text)
}

#[test]
fn unknown_op() {
    let failure = error("window 8\n# comment\n\nmmap 0 1 r anon_private\nmunmapp 0 1\n");
    assert_eq!(failure, ParseError { line: 5, kind: ErrorKind::UnknownOp("munmapp".into()) });
    assert_eq!(failure.to_string(), "line 5: unknown op `munmapp`");
}

#[test]
fn bad_prot() {
    let failure = error("mmap 0 1 r anon_private\nmprotect 0 1 rwq\n");
    assert_eq!(failure, ParseError { line: 2, kind: ErrorKind::BadProt("rwq".into()) });
    assert_eq!(error("mmap 0 1 RW anon_private").kind, ErrorKind::BadProt("RW".into()));
    assert_eq!(error("mmap 0 1 rr anon_private").kind, ErrorKind::BadProt("rr".into()));
}

#[test]
fn missing_argument() {
    assert_eq!(error("window 8\nmmap 0 4 rw\n"), ParseError { line: 2, kind: ErrorKind::MissingArgument("kind") });
    assert_eq!(error("fork\nfork\nmunmap 3").kind, ErrorKind::MissingArgument("npages"));
    assert_eq!(error("fork\nfork\nmunmap 3").line, 3);
    assert_eq!(error("mremap 0 4 8 fixed").kind, ErrorKind::MissingArgument("fixed target page"));
    assert_eq!(error("window").kind, ErrorKind::MissingArgument("window size"));
}

#[test]
fn bad_number() {
    let failure = error("window 8\nfork\n\ntouch 0x10\n");
    assert_eq!(failure, ParseError { line: 4, kind: ErrorKind::BadNumber("0x10".into()) });
    assert_eq!(failure.to_string(), "line 4: bad number `0x10`");
    assert_eq!(error("munmap -1 2").kind, ErrorKind::BadNumber("-1".into()));
    assert_eq!(error("mmap 0 1 r file_private:a:0").kind, ErrorKind::BadNumber("a".into()));
}

#[test]
fn other_errors() {
    assert_eq!(error("mmap 0 1 r anon").kind, ErrorKind::BadKind("anon".into()));
    assert_eq!(error("mmap 0 1 r anon_private huge").kind, ErrorKind::BadModifier("huge".into()));
    assert_eq!(error("mremap 0 1 2 fast").kind, ErrorKind::BadModifier("fast".into()));
    assert_eq!(error("madvise 0 1 dontneeed").kind, ErrorKind::BadAdvice("dontneeed".into()));
    assert_eq!(error("fork now").kind, ErrorKind::ExtraArgument("now".into()));
    assert_eq!(error("munmap 0 1 2").kind, ErrorKind::ExtraArgument("2".into()));
    assert_eq!(error("fork\nwindow 8"), ParseError { line: 2, kind: ErrorKind::MisplacedWindow });
    assert_eq!(error("window 8\nwindow 8").kind, ErrorKind::MisplacedWindow);
    assert_eq!(error("file 1 2\nfile 1 3"), ParseError { line: 2, kind: ErrorKind::DuplicateFile(1) });
}

#[test]
fn outcome_errors() {
    let error = |text: &str| parse_outcome(text).expect_err(text);
    assert_eq!(error("op 1 ok\nop 2 fine"), ParseError { line: 2, kind: ErrorKind::BadResult("fine".into()) });
    assert_eq!(error("op 1 ok @x").kind, ErrorKind::BadNumber("x".into()));
    assert_eq!(error("op 1 segv 3").kind, ErrorKind::BadResult("segv 3".into()));
    assert_eq!(error("\nvma 0 4 rw-x - anon -").line, 2);
    assert_eq!(error("vma 0 4 rw-x - anon -").kind, ErrorKind::BadPerms("rw-x".into()));
    assert_eq!(error("vma 0 4 rw-p - heap -").kind, ErrorKind::BadBacking("heap".into()));
    assert_eq!(error("vma 0 4 rw-p - anon").kind, ErrorKind::MissingArgument("vmflags"));
    assert_eq!(error("vma 0 4 rw-p - anon - x").kind, ErrorKind::ExtraArgument("x".into()));
    assert_eq!(error("map 0 4").kind, ErrorKind::UnknownLine("map".into()));
}

#[test]
fn outcome_ignores_the_echo() {
    let outcome =
        parse_outcome("op 1 skip out-of-window\t# munmap 60 8 extra words\nvma 1 2 ---p - anon -\t#").unwrap();
    assert_eq!(outcome.ops[0].result, OpResult::SkipOutOfWindow);
    assert!(outcome.vmas[0].vmflags.is_empty());
}
