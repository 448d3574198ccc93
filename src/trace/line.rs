//! One line of an strace log: who (the pid prefix), and what: a call (whole, or the start or
//! the end of an interrupted one), a task's end, a signal, or a note of strace's own.

use super::ErrorKind;

/// What one line says.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Body<'a> {
    /// `name(args) = result`: the text after the opening parenthesis, result included.
    Call { name: &'a str, rest: &'a str },
    /// `name(args <unfinished ...>`: the arguments printed so far.
    Unfinished { name: &'a str, args: &'a str },
    /// `<... name resumed>rest`: the rest of the arguments, the parenthesis and the result.
    Resumed { name: &'a str, rest: &'a str },
    /// `+++ exited with N +++` or `+++ killed by SIG... +++`.
    Ended,
    /// `--- SIGCHLD {...} ---`.
    Signal,
    /// A line of strace's own (`strace: Process 5 attached`), or a task detached mid-call.
    Note,
}

/// Splits a line into its pid (`None` when strace printed none: the first process) and body.
/// The pid comes as `1234 ` (strace -f -o FILE) or `[pid  1234] ` (strace -f to a terminal); a
/// timestamp of `-t`, `-tt`, `-ttt` or `-r` may follow it.
pub(super) fn split(line: &str) -> Result<(Option<u32>, Body<'_>), ErrorKind> {
    let (pid, rest) = pid_prefix(line)?;
    let rest = skip_timestamp(rest);
    Ok((pid, body(rest)?))
}

fn pid_prefix(line: &str) -> Result<(Option<u32>, &str), ErrorKind> {
    let bad = || ErrorKind::BadPid(line.to_string());
    if let Some(tagged) = line.strip_prefix("[pid") {
        let (digits, rest) = tagged.split_once(']').ok_or_else(bad)?;
        return Ok((Some(digits.trim().parse().map_err(|_| bad())?), rest.trim_start()));
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && line[digits..].starts_with(char::is_whitespace) {
        return Ok((Some(line[..digits].parse().map_err(|_| bad())?), line[digits..].trim_start()));
    }
    Ok((None, line))
}

/// Drops a leading timestamp: `12:34:56`, `12:34:56.123456`, or seconds `1700000000.123456`.
fn skip_timestamp(text: &str) -> &str {
    let word = text.split_whitespace().next().unwrap_or("");
    let clock = word.split(':').count() == 3 && word.split(':').all(is_decimal);
    let seconds = word.contains('.') && is_decimal(word);
    if clock || seconds {
        text[word.len()..].trim_start()
    } else {
        text
    }
}

fn is_decimal(word: &str) -> bool {
    let mut parts = word.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let fraction = parts.next().unwrap_or("0");
    !whole.is_empty() && (whole.bytes().chain(fraction.bytes())).all(|b| b.is_ascii_digit())
}

fn body(text: &str) -> Result<Body<'_>, ErrorKind> {
    let text = text.trim_end();
    if text.starts_with("+++ ") && text.ends_with(" +++") {
        return Ok(Body::Ended);
    }
    if text.starts_with("--- ") && text.ends_with(" ---") {
        return Ok(Body::Signal);
    }
    if text.starts_with("strace: ") || text == "<detached ...>" || text.ends_with("<detached ...>") {
        return Ok(Body::Note);
    }
    if let Some(resumed) = text.strip_prefix("<... ") {
        let (name, rest) = resumed.split_once(" resumed>").ok_or_else(|| unrecognised(text))?;
        return Ok(Body::Resumed { name: call_name(name, text)?, rest });
    }
    let (name, rest) = text.split_once('(').ok_or_else(|| unrecognised(text))?;
    let name = call_name(name, text)?;
    match rest.strip_suffix("<unfinished ...>") {
        Some(args) => Ok(Body::Unfinished { name, args }),
        None => Ok(Body::Call { name, rest }),
    }
}

fn call_name<'a>(name: &'a str, line: &str) -> Result<&'a str, ErrorKind> {
    let valid = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    valid.then_some(name).ok_or_else(|| unrecognised(line))
}

fn unrecognised(text: &str) -> ErrorKind {
    ErrorKind::UnrecognisedLine(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_prefixes_users_produce() {
        let call = Body::Call { name: "brk", rest: "NULL) = 0xaca000" };
        assert_eq!(split("25450 brk(NULL) = 0xaca000").unwrap(), (Some(25450), call));
        let call = Body::Call { name: "brk", rest: "NULL) = 0xaca000" };
        assert_eq!(split("[pid   812] brk(NULL) = 0xaca000").unwrap(), (Some(812), call));
        let call = Body::Call { name: "brk", rest: "NULL) = 0xaca000" };
        assert_eq!(split("brk(NULL) = 0xaca000").unwrap(), (None, call));
        let call = Body::Call { name: "brk", rest: "NULL) = 0xaca000" };
        assert_eq!(split("7 12:00:01.123456 brk(NULL) = 0xaca000").unwrap(), (Some(7), call));
        let call = Body::Call { name: "brk", rest: "NULL) = 0xaca000" };
        assert_eq!(split("1700000000.000001 brk(NULL) = 0xaca000").unwrap(), (None, call));
    }

    #[test]
    fn reads_interrupted_calls_and_events() {
        assert_eq!(
            split("25677 wait4(25678,  <unfinished ...>").unwrap().1,
            Body::Unfinished { name: "wait4", args: "25678,  " }
        );
        assert_eq!(
            split("25677 <... wait4 resumed>[{WIFEXITED(s)}], 0, NULL) = 25678").unwrap().1,
            Body::Resumed { name: "wait4", rest: "[{WIFEXITED(s)}], 0, NULL) = 25678" }
        );
        assert_eq!(split("31389 +++ exited with 0 +++").unwrap().1, Body::Ended);
        assert_eq!(split("9 +++ killed by SIGKILL +++").unwrap().1, Body::Ended);
        assert_eq!(split("25677 --- SIGCHLD {si_signo=SIGCHLD} ---").unwrap().1, Body::Signal);
        assert_eq!(split("strace: Process 25451 attached").unwrap().1, Body::Note);
    }

    #[test]
    fn refuses_what_is_not_a_log_line() {
        for line in ["hello world", "25450 (NULL) = 0", "25450 my call(1) = 0", "[pid x] brk(NULL) = 0", "<... brk>"] {
            assert!(split(line).is_err(), "{line}");
        }
    }
}
