//! From a call's name, arguments and result text to a typed event.

use super::args::{closing, fd, field, flags, number, split_args};
use super::{Action, ErrorKind, MemoryCall, ProcessCall, Ret};

/// Calls that change an address space in ways the replay does not model: a log holding one
/// cannot be replayed exactly, so it is refused with the line.
const UNMODELLED: &[&str] = &[
    "mbind",
    "set_mempolicy",
    "set_mempolicy_home_node",
    "migrate_pages",
    "move_pages",
    "remap_file_pages",
    "process_madvise",
    "process_mrelease",
    "shmat",
    "shmdt",
    "map_shadow_stack",
    "execveat",
    "mmap2",
];

/// Splits `args) = result` into the argument text and the result text, finding the
/// parenthesis that closes the call outside strings and brackets.
pub(super) fn split_result(rest: &str) -> Result<(&str, &str), ErrorKind> {
    let bad = || ErrorKind::BadArguments(rest.to_string());
    let at = closing(rest, 1).filter(|&at| rest.as_bytes()[at] == b')').ok_or_else(bad)?;
    let result = rest[at + 1..].trim_start().strip_prefix('=').ok_or_else(bad)?;
    Ok((&rest[..at], result.trim()))
}

/// A result as strace prints it: a number (`0`, `0x7f...`, a pid, a descriptor with its
/// path), `-1 ENOMEM (Cannot allocate memory)`, or `?` (the call did not return). A `-T`
/// duration and a trailing explanation are ignored.
///
/// ```
/// use maple_mm::trace::{result, Ret};
///
/// assert_eq!(result("0x7ffff7fc0000").unwrap(), Ret::Value(0x7fff_f7fc_0000));
/// assert_eq!(result("-1 EEXIST (File exists)").unwrap(), Ret::Error("EEXIST".into()));
/// assert_eq!(result("? <0.000010>").unwrap(), Ret::Unknown);
/// ```
pub fn result(text: &str) -> Result<Ret, ErrorKind> {
    let mut words = text.split_whitespace();
    let first = words.next().ok_or_else(|| ErrorKind::BadResult(text.to_string()))?;
    if first == "?" {
        return Ok(Ret::Unknown);
    }
    let value = match first.find('<') {
        Some(at) if at > 0 => &first[..at],
        _ => first,
    };
    let value = number(value).map_err(|_| ErrorKind::BadResult(text.to_string()))?;
    match words.next() {
        Some(errno) if value == u64::MAX && is_errno(errno) => Ok(Ret::Error(errno.to_string())),
        _ => Ok(Ret::Value(value)),
    }
}

fn is_errno(word: &str) -> bool {
    word.len() > 1 && word.starts_with('E') && word.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// The typed action of a finished call.
pub(super) fn action(name: &str, args_text: &str, ret: Ret) -> Result<Action, ErrorKind> {
    if UNMODELLED.contains(&name) {
        return Err(ErrorKind::UnmodelledCall(name.to_string()));
    }
    let args = split_args(args_text)?;
    let arg = |i: usize| args.get(i).copied().ok_or_else(|| ErrorKind::MissingArgument(name.to_string(), i + 1));
    let num = |i: usize| arg(i).and_then(number);
    let set = |i: usize| arg(i).and_then(flags);
    let memory = |call| Ok(Action::Memory { call, ret: ret.clone() });
    let process = |call| Ok(Action::Process { call, ret: ret.clone() });
    match name {
        "mmap" => memory(MemoryCall::Mmap {
            addr: num(0)?,
            len: num(1)?,
            prot: set(2)?,
            flags: set(3)?,
            fd: fd(arg(4)?)?,
            offset: num(5)?,
        }),
        "munmap" => memory(MemoryCall::Munmap { addr: num(0)?, len: num(1)? }),
        "mprotect" => memory(MemoryCall::Mprotect { addr: num(0)?, len: num(1)?, prot: set(2)? }),
        "pkey_mprotect" => {
            memory(MemoryCall::PkeyMprotect { addr: num(0)?, len: num(1)?, prot: set(2)?, pkey: num(3)? as i64 })
        }
        "brk" => memory(MemoryCall::Brk { addr: num(0)? }),
        "mremap" => memory(MemoryCall::Mremap {
            addr: num(0)?,
            old_len: num(1)?,
            new_len: num(2)?,
            flags: set(3)?,
            new_addr: args.get(4).map(|a| number(a)).transpose()?,
        }),
        "madvise" => memory(MemoryCall::Madvise { addr: num(0)?, len: num(1)?, advice: set(2)? }),
        "mlock" => memory(MemoryCall::Mlock { addr: num(0)?, len: num(1)? }),
        "mlock2" => memory(MemoryCall::Mlock2 { addr: num(0)?, len: num(1)?, flags: set(2)? }),
        "munlock" => memory(MemoryCall::Munlock { addr: num(0)?, len: num(1)? }),
        "mlockall" => memory(MemoryCall::Mlockall { flags: set(0)? }),
        "munlockall" => memory(MemoryCall::Munlockall),
        "msync" => memory(MemoryCall::Msync { addr: num(0)?, len: num(1)?, flags: set(2)? }),
        "mincore" => memory(MemoryCall::Mincore { addr: num(0)?, len: num(1)? }),
        "mseal" => memory(MemoryCall::Mseal { addr: num(0)?, len: num(1)?, flags: set(2)? }),
        "clone" => {
            let given = args.iter().find_map(|a| field(a, "flags")).ok_or_else(|| missing_flags(name))?;
            process(ProcessCall::Clone { flags: flags(given)? })
        }
        "clone3" => {
            let given = field(arg(0)?, "flags").ok_or_else(|| missing_flags(name))?;
            process(ProcessCall::Clone { flags: flags(given)? })
        }
        "fork" => process(ProcessCall::Fork),
        "vfork" => process(ProcessCall::Vfork),
        "execve" => process(ProcessCall::Execve { path: unquote(arg(0)?)? }),
        "exit" => process(ProcessCall::Exit { code: num(0)? as i64 }),
        "exit_group" => process(ProcessCall::ExitGroup { code: num(0)? as i64 }),
        _ => Ok(Action::Other { name: name.to_string(), ret }),
    }
}

fn missing_flags(name: &str) -> ErrorKind {
    ErrorKind::MissingArgument(name.to_string(), 1)
}

/// A quoted string argument without its quotes, with `\"` and `\\` unescaped (other escapes
/// are kept as written).
fn unquote(arg: &str) -> Result<String, ErrorKind> {
    let inner = arg
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"').or_else(|| rest.strip_suffix("\"...")))
        .ok_or_else(|| ErrorKind::BadArguments(arg.to_string()))?;
    Ok(inner.replace("\\\"", "\"").replace("\\\\", "\\"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_the_result_after_the_closing_parenthesis() {
        let (args, ret) = split_result(r#""a)b", [1, (2)], {x=")"}) = -1 ENOENT (No such file)"#).unwrap();
        assert_eq!(args, r#""a)b", [1, (2)], {x=")"}"#);
        assert_eq!(ret, "-1 ENOENT (No such file)");
        assert!(split_result("NULL").is_err());
        assert!(split_result("NULL) 0").is_err());
    }

    #[test]
    fn results_refuse_garbage() {
        for text in ["", "x", "0x", "-1x"] {
            assert!(result(text).is_err(), "{text}");
        }
        assert_eq!(result("3</etc/passwd>").unwrap(), Ret::Value(3));
        assert_eq!(result("0 (Timeout)").unwrap(), Ret::Value(0));
    }

    #[test]
    fn unmodelled_calls_are_refused_and_others_pass_through() {
        assert_eq!(action("mbind", "0, 0", Ret::Value(0)), Err(ErrorKind::UnmodelledCall("mbind".into())));
        assert_eq!(
            action("wait4", "-1, NULL, 0, NULL", Ret::Value(5)),
            Ok(Action::Other { name: "wait4".into(), ret: Ret::Value(5) })
        );
        assert_eq!(action("munmap", "0x1000", Ret::Value(0)), Err(ErrorKind::MissingArgument("munmap".into(), 2)));
    }

    #[test]
    fn reads_clone_flags_both_ways() {
        let clone =
            action("clone", "child_stack=NULL, flags=CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f", Ret::Value(9));
        let Ok(Action::Process { call: ProcessCall::Clone { flags }, .. }) = clone else { panic!("{clone:?}") };
        assert_eq!(flags.names, ["CLONE_CHILD_SETTID", "SIGCHLD"]);
        let clone3 =
            action("clone3", "{flags=CLONE_VM|CLONE_THREAD, exit_signal=0} => {parent_tid=[9]}, 88", Ret::Value(9));
        let Ok(Action::Process { call: ProcessCall::Clone { flags }, .. }) = clone3 else { panic!("{clone3:?}") };
        assert_eq!(flags.names, ["CLONE_VM", "CLONE_THREAD"]);
    }
}
