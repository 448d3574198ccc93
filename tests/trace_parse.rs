//! The strace reader on the five bundled real-program logs (tests/traces/, see
//! docs/traces.md): every line is read, and what it yields agrees with counts taken from the
//! raw text independently of the reader.

use maple_mm::trace::{parse, Action, MemoryCall, ProcessCall, Ret, Trace};

const PROGRAMS: [&str; 5] = ["py_threads", "py_mmap", "perl", "git", "cc1"];

fn log(name: &str) -> String {
    let path = format!("{}/tests/traces/{name}.strace", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn read(name: &str) -> Trace {
    parse(&log(name)).unwrap_or_else(|error| panic!("{name}: {error}"))
}

/// Lines that start a call named `call` (`PID call(`), whole or interrupted.
fn started(text: &str, call: &str) -> usize {
    let needle = format!(" {call}(");
    text.lines().filter(|line| line.contains(&needle) && !line.contains("resumed>")).count()
}

fn memory_calls<'a>(trace: &'a Trace, pick: impl Fn(&MemoryCall) -> bool + 'a) -> usize {
    trace.events.iter().filter(|event| matches!(&event.action, Action::Memory { call, .. } if pick(call))).count()
}

#[test]
fn every_line_of_every_log_is_read_and_every_call_is_one_event() {
    for name in PROGRAMS {
        let text = log(name);
        let trace = read(name);
        let is_call = |line: &&str| line.contains('(') && !line.contains("resumed>") && !line.contains(" --- ");
        let calls = text.lines().filter(is_call).count();
        let ended = text.lines().filter(|line| line.contains(" +++ ")).count();
        assert_eq!(trace.events.len(), calls + ended, "{name}");
    }
}

#[test]
fn memory_calls_match_the_raw_counts() {
    for name in PROGRAMS {
        let (text, trace) = (log(name), read(name));
        let count = |pick: fn(&MemoryCall) -> bool| memory_calls(&trace, pick);
        assert_eq!(count(|c| matches!(c, MemoryCall::Mmap { .. })), started(&text, "mmap"), "{name} mmap");
        assert_eq!(count(|c| matches!(c, MemoryCall::Munmap { .. })), started(&text, "munmap"), "{name} munmap");
        assert_eq!(count(|c| matches!(c, MemoryCall::Mprotect { .. })), started(&text, "mprotect"), "{name} mprotect");
        assert_eq!(count(|c| matches!(c, MemoryCall::Brk { .. })), started(&text, "brk"), "{name} brk");
        assert_eq!(count(|c| matches!(c, MemoryCall::Mremap { .. })), started(&text, "mremap"), "{name} mremap");
        assert_eq!(count(|c| matches!(c, MemoryCall::Madvise { .. })), started(&text, "madvise"), "{name} madvise");
    }
    // What the traces' README states.
    let perl = read("perl");
    assert_eq!(memory_calls(&perl, |c| matches!(c, MemoryCall::Brk { .. })), 556);
    assert_eq!(memory_calls(&perl, |c| matches!(c, MemoryCall::Mremap { .. })), 27);
}

#[test]
fn file_mappings_carry_their_paths() {
    let trace = read("py_threads");
    let Some(Action::Memory { call: MemoryCall::Mmap { fd, offset, prot, flags, .. }, ret }) =
        trace.events.iter().map(|event| &event.action).find(|action| {
            matches!(action, Action::Memory { call: MemoryCall::Mmap { addr: 0x7fff_f7ee_7000, .. }, .. })
        })
    else {
        panic!("libm's text mapping is missing");
    };
    assert_eq!(fd.path.as_deref(), Some("/usr/lib/x86_64-linux-gnu/libm.so.6"));
    assert_eq!(*offset, 0x10000);
    assert!(prot.has("PROT_EXEC") && flags.has("MAP_FIXED") && flags.has("MAP_DENYWRITE"));
    assert_eq!(*ret, Ret::Value(0x7fff_f7ee_7000));
}

#[test]
fn errors_threads_and_children_are_read() {
    let py_mmap = read("py_mmap");
    let errors: Vec<&str> = py_mmap
        .events
        .iter()
        .filter_map(|event| match &event.action {
            Action::Memory { ret: Ret::Error(errno), .. } => Some(errno.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(errors, ["EEXIST", "EFAULT"]);
    // The forked child's first call comes after the clone that made it.
    let clone =
        py_mmap.events.iter().position(|e| matches!(e.action, Action::Process { call: ProcessCall::Clone { .. }, .. }));
    let Action::Process { ret: Ret::Value(child), .. } = &py_mmap.events[clone.unwrap()].action else { panic!() };
    let first_of_child = py_mmap.events.iter().position(|e| e.pid == Some(*child as u32)).unwrap();
    assert!(clone.unwrap() < first_of_child);

    let threads = read("py_threads");
    let clones: Vec<bool> = threads
        .events
        .iter()
        .filter_map(|e| match &e.action {
            Action::Process { call: ProcessCall::Clone { flags }, .. } => Some(flags.has("CLONE_VM")),
            _ => None,
        })
        .collect();
    assert_eq!(clones, [true; 5]);
}

#[test]
fn an_interrupted_call_is_one_event_at_its_start_line() {
    let text = log("py_mmap");
    let start = text.lines().position(|line| line.contains("wait4(") && line.contains("<unfinished")).unwrap() + 1;
    let trace = read("py_mmap");
    let wait =
        trace.events.iter().find(|e| matches!(&e.action, Action::Other { name, .. } if name == "wait4")).unwrap();
    assert_eq!(wait.line, start);
    let Action::Other { ret, .. } = &wait.action else { unreachable!() };
    assert!(matches!(ret, Ret::Value(pid) if *pid > 0));
}

#[test]
fn a_bad_line_is_an_error_with_its_number() {
    use maple_mm::trace::ErrorKind;
    let error = |log: &str| parse(log).unwrap_err();
    let found = error("1 brk(NULL) = 0x1000\n\n1 mmap(NULL, 4096) = 0x2000\n");
    assert_eq!((found.line, found.kind), (3, ErrorKind::MissingArgument("mmap".into(), 3)));
    let found = error("1 <... mmap resumed>) = 0\n");
    assert_eq!((found.line, found.kind), (1, ErrorKind::ResumedWithoutStart("mmap".into())));
    let found = error("1 mmap(NULL <unfinished ...>\n1 brk(NULL <unfinished ...>\n");
    assert_eq!((found.line, found.kind), (2, ErrorKind::StartedTwice("mmap".into())));
    let found = error("1 mbind(0x1000, 4096, MPOL_BIND, [1], 2, 0) = 0\n");
    assert_eq!((found.line, found.kind), (1, ErrorKind::UnmodelledCall("mbind".into())));
    // Of two calls left unfinished with bad arguments, the earlier is the one reported.
    assert_eq!(error("1 munmap(0x1000 <unfinished ...>\n2 mprotect(0x2000 <unfinished ...>\n").line, 1);
}

#[test]
fn a_call_left_unfinished_is_kept_with_an_unknown_result() {
    let trace = parse("1 brk(NULL) = 0x1000\n1 exit_group(0 <unfinished ...>\n1 +++ exited with 0 +++\n").unwrap();
    let Action::Process { call: ProcessCall::ExitGroup { code: 0 }, ret: Ret::Unknown } = &trace.events[1].action
    else {
        panic!("{:?}", trace.events);
    };
    assert_eq!(trace.events[2].action, Action::Ended);
}

#[test]
fn maps_and_smaps_of_every_program_agree() {
    use maple_mm::trace::parse_maps;
    for name in PROGRAMS {
        for when in ["initial", "final"] {
            let file = |ext: &str| {
                let path = format!("{}/tests/traces/{name}.{when}.{ext}", env!("CARGO_MANIFEST_DIR"));
                std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
            };
            let (maps_text, smaps_text) = (file("maps"), file("smaps"));
            let maps = parse_maps(&maps_text).unwrap_or_else(|e| panic!("{name}.{when}.maps: {e}"));
            let smaps = parse_maps(&smaps_text).unwrap_or_else(|e| panic!("{name}.{when}.smaps: {e}"));
            assert_eq!(maps.len(), maps_text.lines().count(), "{name}.{when}");
            assert_eq!(smaps.len(), smaps_text.lines().filter(|l| l.starts_with("VmFlags:")).count());
            assert!(maps.iter().all(|area| area.vm_flags.is_none()));
            assert!(smaps.iter().all(|area| area.anonymous_kb.is_some()));
            let without_flags =
                smaps.into_iter().map(|area| maple_mm::trace::MapsArea { vm_flags: None, anonymous_kb: None, ..area });
            assert!(without_flags.eq(maps), "{name}.{when}: maps and smaps differ");
        }
    }
}
