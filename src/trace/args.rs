//! strace's argument syntax: the arguments of one call split at their commas, and the typed
//! readings of one argument (numbers, flag sets, descriptors with paths, struct fields).

use super::{ErrorKind, Fd, Flags};

/// Splits a call's argument text at the commas outside quotes, brackets, braces and
/// parentheses, dropping `/* ... */` comments; each argument comes back trimmed.
///
/// ```
/// use maple_mm::trace::split_args;
///
/// let args = split_args(r#"3</a,b>, "x,\"y", {flags=A|B, n=[1, 2]} /* 2 vars */, 7"#).unwrap();
/// assert_eq!(args, ["3</a,b>", r#""x,\"y""#, "{flags=A|B, n=[1, 2]}", "7"]);
/// ```
pub fn split_args(text: &str) -> Result<Vec<&str>, ErrorKind> {
    let mut args = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let end = arg_end(rest)?;
        args.push(strip_comments(&rest[..end]));
        rest = rest[end..].strip_prefix(',').unwrap_or(&rest[end..]).trim_start();
    }
    Ok(args.into_iter().filter(|arg| !arg.is_empty()).collect())
}

/// The byte index of the first comma at nesting depth zero, or the text's length.
fn arg_end(text: &str) -> Result<usize, ErrorKind> {
    let bytes = text.as_bytes();
    let (mut depth, mut at) = (0usize, 0);
    while at < bytes.len() {
        match bytes[at] {
            b'"' => at = string_end(text, at)?,
            b'/' if bytes.get(at + 1) == Some(&b'*') => {
                at = text[at..].find("*/").map(|end| at + end + 1).ok_or_else(|| unbalanced(text))?;
            }
            // A descriptor's path, `3</some/path>`, may hold commas and brackets.
            b'<' if is_fd_number(&text[..at]) && bytes.get(at + 1) != Some(&b'<') => {
                at = text[at..].find('>').map(|end| at + end).ok_or_else(|| unbalanced(text))?;
            }
            b'[' | b'{' | b'(' => depth += 1,
            b']' | b'}' | b')' => depth = depth.checked_sub(1).ok_or_else(|| unbalanced(text))?,
            b',' if depth == 0 => return Ok(at),
            _ => {}
        }
        at += 1;
    }
    if depth != 0 {
        return Err(unbalanced(text));
    }
    Ok(at)
}

/// Whether an argument's text so far is a descriptor number (what `-y` appends a path to).
fn is_fd_number(before: &str) -> bool {
    let digits = before.trim_start();
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The index of the closing quote of the string opening at `start`.
fn string_end(text: &str, start: usize) -> Result<usize, ErrorKind> {
    let bytes = text.as_bytes();
    let mut at = start + 1;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b'"' => return Ok(at),
            _ => at += 1,
        }
    }
    Err(unbalanced(text))
}

fn unbalanced(text: &str) -> ErrorKind {
    ErrorKind::BadArguments(text.to_string())
}

/// The argument without the comments strace adds (`/* 6 vars */`), trimmed.
fn strip_comments(arg: &str) -> &str {
    match arg.find("/*") {
        Some(at) if !arg[..at].contains('"') => arg[..at].trim(),
        _ => arg.trim(),
    }
}

/// A number as strace prints it: decimal, `0x` hexadecimal, negative decimal (taken as its
/// 64-bit two's complement, as the kernel sees it), or `NULL`.
///
/// ```
/// use maple_mm::trace::number;
///
/// assert_eq!(number("0x7ffff7fc0000").unwrap(), 0x7fff_f7fc_0000);
/// assert_eq!(number("NULL").unwrap(), 0);
/// assert_eq!(number("-1").unwrap(), u64::MAX);
/// assert!(number("PROT_READ").is_err());
/// ```
pub fn number(arg: &str) -> Result<u64, ErrorKind> {
    let bad = || ErrorKind::BadNumber(arg.to_string());
    if arg == "NULL" {
        return Ok(0);
    }
    if let Some(hex) = arg.strip_prefix("0x") {
        return u64::from_str_radix(hex, 16).map_err(|_| bad());
    }
    if let Some(negative) = arg.strip_prefix('-') {
        let magnitude: u64 = negative.parse().map_err(|_| bad())?;
        return Ok(magnitude.wrapping_neg());
    }
    arg.parse().map_err(|_| bad())
}

/// A flag set: names joined by `|`, with any numeric parts (bits strace has no name for, or
/// a whole set printed as a number) gathered into `bits`. `0` is the empty set.
///
/// ```
/// use maple_mm::trace::flags;
///
/// let set = flags("MAP_PRIVATE|MAP_ANONYMOUS|0x40000000").unwrap();
/// assert_eq!(set.names, ["MAP_PRIVATE", "MAP_ANONYMOUS"]);
/// assert_eq!(set.bits, 0x4000_0000);
/// assert!(flags("0").unwrap().names.is_empty());
/// ```
pub fn flags(arg: &str) -> Result<Flags, ErrorKind> {
    let mut set = Flags::default();
    for part in arg.split('|').map(str::trim) {
        // A name, or a shifted field such as `21<<MAP_HUGE_SHIFT`, kept as written.
        let word = |w: &str| w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        let is_name = match part.split_once("<<") {
            Some((count, shift)) => count.parse::<u8>().is_ok() && !shift.is_empty() && word(shift),
            None => part.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') && word(part),
        };
        match part {
            "NULL" => {}
            _ if is_name => set.names.push(part.to_string()),
            _ => set.bits |= number(part).map_err(|_| ErrorKind::BadFlags(arg.to_string()))?,
        }
    }
    Ok(set)
}

/// A file descriptor, with the path strace's `-y` appends: `3</usr/lib/libc.so.6>`, or a
/// bare number (`-1` for none).
///
/// ```
/// use maple_mm::trace::fd;
///
/// let found = fd("3</usr/lib/x86_64-linux-gnu/libc.so.6>").unwrap();
/// assert_eq!((found.number, found.path.as_deref()), (3, Some("/usr/lib/x86_64-linux-gnu/libc.so.6")));
/// assert_eq!(fd("-1").unwrap().number, -1);
/// ```
pub fn fd(arg: &str) -> Result<Fd, ErrorKind> {
    let bad = || ErrorKind::BadFd(arg.to_string());
    let (digits, path) = match arg.find('<') {
        Some(at) => (&arg[..at], Some(arg[at + 1..].strip_suffix('>').ok_or_else(bad)?.to_string())),
        None => (arg, None),
    };
    let number = digits.parse().map_err(|_| bad())?;
    Ok(Fd { number, path })
}

/// The value of field `name` of a struct argument (`{flags=A|B, stack=0x7f00, ...}`), or of a
/// `name=value` argument itself (as strace prints `clone`'s).
///
/// ```
/// use maple_mm::trace::field;
///
/// assert_eq!(field("{flags=CLONE_VM|CLONE_FS, exit_signal=0} => {parent_tid=[7]}", "flags"), Some("CLONE_VM|CLONE_FS"));
/// assert_eq!(field("flags=CLONE_CHILD_SETTID|SIGCHLD", "flags"), Some("CLONE_CHILD_SETTID|SIGCHLD"));
/// assert_eq!(field("{stack=NULL}", "flags"), None);
/// ```
pub fn field<'a>(arg: &'a str, name: &str) -> Option<&'a str> {
    let inner = match arg.strip_prefix('{') {
        // Only the struct the call was given: strace shows what the kernel wrote after `=>`.
        Some(_) => &arg[1..closing(arg, 0)?],
        None => arg,
    };
    split_args(inner).ok()?.into_iter().find_map(|part| part.strip_prefix(name)?.strip_prefix('='))
}

/// The index of the bracket that closes `open` brackets already open before the text (strings
/// skipped): with 0, the one closing the bracket the text starts with; with 1, the first
/// closing bracket outside those the text opens itself.
pub(super) fn closing(text: &str, open: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let (mut depth, mut at) = (open, 0);
    while at < bytes.len() {
        match bytes[at] {
            b'"' => at = string_end(text, at).ok()?,
            b'{' | b'[' | b'(' => depth += 1,
            b'}' | b']' | b')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(at);
                }
            }
            _ => {}
        }
        at += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_nested_and_quoted_arguments() {
        let text = r#""/usr/bin/python3", ["/usr/bin/python3", "/tmp/x"...], 0x7fffffffecd8 /* 6 vars */"#;
        assert_eq!(
            split_args(text).unwrap(),
            [r#""/usr/bin/python3""#, r#"["/usr/bin/python3", "/tmp/x"...]"#, "0x7fffffffecd8"]
        );
        assert_eq!(split_args("").unwrap(), Vec::<&str>::new());
        assert_eq!(split_args("NULL").unwrap(), ["NULL"]);
    }

    #[test]
    fn unbalanced_text_is_an_error() {
        for text in ["{a=1", "[1, 2", r#""open"#, "a)", "1 /* no end"] {
            assert!(matches!(split_args(text), Err(ErrorKind::BadArguments(_))), "{text}");
        }
    }

    #[test]
    fn numbers_refuse_what_is_not_one() {
        for bad in ["", "0x", "0xg", "--1", "1e3", "PROT_READ", "18446744073709551616"] {
            assert!(number(bad).is_err(), "{bad}");
        }
        assert_eq!(number("18446744073709551615").unwrap(), u64::MAX);
    }

    #[test]
    fn flags_and_fds_refuse_garbage() {
        assert!(flags("MAP_PRIVATE|?").is_err());
        assert!(fd("3</path").is_err());
        assert!(fd("x").is_err());
        assert_eq!(fd("3</a>b>").unwrap().path.as_deref(), Some("/a>b"));
        let huge = flags("MAP_PRIVATE|MAP_HUGETLB|21<<MAP_HUGE_SHIFT").unwrap();
        assert_eq!(huge.names, ["MAP_PRIVATE", "MAP_HUGETLB", "21<<MAP_HUGE_SHIFT"]);
        assert_eq!(split_args("MAP_HUGETLB|21<<MAP_HUGE_SHIFT, 3</p>").unwrap().len(), 2);
    }

    #[test]
    fn fields_come_from_the_struct_passed_in() {
        let arg = "{flags=CLONE_VM, child_tid=0x1} => {flags=WRONG}";
        assert_eq!(field(arg, "flags"), Some("CLONE_VM"));
        assert_eq!(field(arg, "child_tid"), Some("0x1"));
        assert_eq!(field("{", "flags"), None);
    }
}
