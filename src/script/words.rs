//! The words of an op line: protections, mapping kinds, mmap modifiers and madvise advice,
//! each read with `FromStr` and written back with `Display`.

use std::fmt;

use super::parse::{number, ErrorKind};
use super::{LimitError, MAX_PGOFF};

/// A protection: `none` or letters from `r`, `w`, `x`.
///
/// ```
/// use maple_mm::script::Prot;
///
/// assert_eq!("rx".parse::<Prot>(), Ok(Prot { read: true, write: false, exec: true }));
/// assert_eq!("none".parse::<Prot>(), Ok(Prot::default()));
/// assert!("q".parse::<Prot>().is_err());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Prot {
    /// PROT_READ.
    pub read: bool,
    /// PROT_WRITE.
    pub write: bool,
    /// PROT_EXEC.
    pub exec: bool,
}

impl std::str::FromStr for Prot {
    type Err = ErrorKind;

    fn from_str(text: &str) -> Result<Self, ErrorKind> {
        if text == "none" {
            return Ok(Prot::default());
        }
        let bad = || ErrorKind::BadProt(text.to_string());
        if text.is_empty() {
            return Err(bad());
        }
        let mut prot = Prot::default();
        for letter in text.chars() {
            let flag = match letter {
                'r' => &mut prot.read,
                'w' => &mut prot.write,
                'x' => &mut prot.exec,
                _ => return Err(bad()),
            };
            if *flag {
                return Err(bad());
            }
            *flag = true;
        }
        Ok(prot)
    }
}

impl fmt::Display for Prot {
    /// Renders `none` or the letters in `rwx` order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Prot::default() {
            return f.write_str("none");
        }
        for (set, letter) in [(self.read, "r"), (self.write, "w"), (self.exec, "x")] {
            if set {
                f.write_str(letter)?;
            }
        }
        Ok(())
    }
}

/// What an mmap maps.
///
/// ```
/// use maple_mm::script::Kind;
///
/// assert_eq!("anon_shared".parse::<Kind>(), Ok(Kind::AnonShared));
/// assert_eq!("file_private:1:4".parse::<Kind>(), Ok(Kind::FilePrivate { file: 1, pgoff: 4 }));
/// assert!("file_private:1".parse::<Kind>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `anon_private`.
    AnonPrivate,
    /// `anon_shared`.
    AnonShared,
    /// `file_private:<id>:<pgoff>`.
    FilePrivate {
        /// File id.
        file: u32,
        /// File offset in pages.
        pgoff: u64,
    },
    /// `file_shared:<id>:<pgoff>`.
    FileShared {
        /// File id.
        file: u32,
        /// File offset in pages.
        pgoff: u64,
    },
}

impl std::str::FromStr for Kind {
    type Err = ErrorKind;

    fn from_str(text: &str) -> Result<Self, ErrorKind> {
        let bad = || ErrorKind::BadKind(text.to_string());
        match text {
            "anon_private" => return Ok(Kind::AnonPrivate),
            "anon_shared" => return Ok(Kind::AnonShared),
            _ => {}
        }
        let parts: Vec<&str> = text.split(':').collect();
        let [name, file, pgoff] = parts[..] else { return Err(bad()) };
        let file = number(file)?;
        let pgoff = LimitError::check("file offset", number(pgoff)?, MAX_PGOFF).map_err(ErrorKind::TooLarge)?;
        match name {
            "file_private" => Ok(Kind::FilePrivate { file, pgoff }),
            "file_shared" => Ok(Kind::FileShared { file, pgoff }),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::AnonPrivate => f.write_str("anon_private"),
            Kind::AnonShared => f.write_str("anon_shared"),
            Kind::FilePrivate { file, pgoff } => write!(f, "file_private:{file}:{pgoff}"),
            Kind::FileShared { file, pgoff } => write!(f, "file_shared:{file}:{pgoff}"),
        }
    }
}

/// The modifiers of an mmap: `noreserve populate locked growsdown stack noreplace ro`.
///
/// ```
/// use maple_mm::script::{parse, Op};
///
/// let script = parse("mmap 0 4 rw file_shared:1:0 ro noreplace").unwrap();
/// let Op::Mmap { mods, .. } = &script.ops[0] else { panic!() };
/// assert!(mods.ro && mods.noreplace && !mods.locked);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Mods {
    /// MAP_NORESERVE.
    pub noreserve: bool,
    /// MAP_POPULATE.
    pub populate: bool,
    /// MAP_LOCKED.
    pub locked: bool,
    /// MAP_GROWSDOWN.
    pub growsdown: bool,
    /// MAP_STACK.
    pub stack: bool,
    /// MAP_FIXED_NOREPLACE instead of MAP_FIXED.
    pub noreplace: bool,
    /// The file is opened read-only.
    pub ro: bool,
}

impl Mods {
    /// Sets the modifier named `word`.
    ///
    /// ```
    /// let mut mods = maple_mm::script::Mods::default();
    /// mods.set("stack").unwrap();
    /// assert!(mods.stack);
    /// assert!(mods.set("huge").is_err());
    /// ```
    pub fn set(&mut self, word: &str) -> Result<(), ErrorKind> {
        let flag = match word {
            "noreserve" => &mut self.noreserve,
            "populate" => &mut self.populate,
            "locked" => &mut self.locked,
            "growsdown" => &mut self.growsdown,
            "stack" => &mut self.stack,
            "noreplace" => &mut self.noreplace,
            "ro" => &mut self.ro,
            _ => return Err(ErrorKind::BadModifier(word.to_string())),
        };
        *flag = true;
        Ok(())
    }
}

impl Mods {
    /// The modifier words that are set, in the order of docs/opscript.md.
    ///
    /// ```
    /// let mods = maple_mm::script::Mods { ro: true, noreserve: true, ..Default::default() };
    /// assert_eq!(mods.words().collect::<Vec<_>>(), ["noreserve", "ro"]);
    /// ```
    pub fn words(&self) -> impl Iterator<Item = &'static str> {
        [
            (self.noreserve, "noreserve"),
            (self.populate, "populate"),
            (self.locked, "locked"),
            (self.growsdown, "growsdown"),
            (self.stack, "stack"),
            (self.noreplace, "noreplace"),
            (self.ro, "ro"),
        ]
        .into_iter()
        .filter_map(|(set, word)| set.then_some(word))
    }
}

/// A madvise advice: one of the named ones, or a raw number.
///
/// ```
/// use maple_mm::script::Advice;
///
/// assert_eq!("guard_install".parse::<Advice>(), Ok(Advice::GuardInstall));
/// assert_eq!("99".parse::<Advice>(), Ok(Advice::Number(99)));
/// assert!("nonsense".parse::<Advice>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Advice {
    /// MADV_NORMAL.
    Normal,
    /// MADV_RANDOM.
    Random,
    /// MADV_SEQUENTIAL.
    Sequential,
    /// MADV_WILLNEED.
    Willneed,
    /// MADV_DONTNEED.
    Dontneed,
    /// MADV_FREE.
    Free,
    /// MADV_REMOVE.
    Remove,
    /// MADV_DONTFORK.
    Dontfork,
    /// MADV_DOFORK.
    Dofork,
    /// MADV_MERGEABLE.
    Mergeable,
    /// MADV_UNMERGEABLE.
    Unmergeable,
    /// MADV_HUGEPAGE.
    Hugepage,
    /// MADV_NOHUGEPAGE.
    Nohugepage,
    /// MADV_DONTDUMP.
    Dontdump,
    /// MADV_DODUMP.
    Dodump,
    /// MADV_WIPEONFORK.
    Wipeonfork,
    /// MADV_KEEPONFORK.
    Keeponfork,
    /// MADV_COLD.
    Cold,
    /// MADV_PAGEOUT.
    Pageout,
    /// MADV_POPULATE_READ.
    PopulateRead,
    /// MADV_POPULATE_WRITE.
    PopulateWrite,
    /// MADV_DONTNEED_LOCKED.
    DontneedLocked,
    /// MADV_COLLAPSE.
    Collapse,
    /// MADV_GUARD_INSTALL.
    GuardInstall,
    /// MADV_GUARD_REMOVE.
    GuardRemove,
    /// A raw advice number, passed through as is.
    Number(i32),
}

impl Advice {
    /// Every named advice with its script name, in the order of docs/opscript.md.
    ///
    /// ```
    /// use maple_mm::script::Advice;
    ///
    /// assert_eq!(Advice::NAMED.len(), 25);
    /// assert_eq!(Advice::NAMED[0], ("normal", Advice::Normal));
    /// ```
    pub const NAMED: [(&'static str, Advice); 25] = [
        ("normal", Advice::Normal),
        ("random", Advice::Random),
        ("sequential", Advice::Sequential),
        ("willneed", Advice::Willneed),
        ("dontneed", Advice::Dontneed),
        ("free", Advice::Free),
        ("remove", Advice::Remove),
        ("dontfork", Advice::Dontfork),
        ("dofork", Advice::Dofork),
        ("mergeable", Advice::Mergeable),
        ("unmergeable", Advice::Unmergeable),
        ("hugepage", Advice::Hugepage),
        ("nohugepage", Advice::Nohugepage),
        ("dontdump", Advice::Dontdump),
        ("dodump", Advice::Dodump),
        ("wipeonfork", Advice::Wipeonfork),
        ("keeponfork", Advice::Keeponfork),
        ("cold", Advice::Cold),
        ("pageout", Advice::Pageout),
        ("populate_read", Advice::PopulateRead),
        ("populate_write", Advice::PopulateWrite),
        ("dontneed_locked", Advice::DontneedLocked),
        ("collapse", Advice::Collapse),
        ("guard_install", Advice::GuardInstall),
        ("guard_remove", Advice::GuardRemove),
    ];

    /// The `MADV_*` number (Linux uapi); a raw number as given.
    ///
    /// ```
    /// use maple_mm::script::Advice;
    ///
    /// assert_eq!(Advice::GuardInstall.number(), 102);
    /// assert_eq!(Advice::Number(7).number(), 7);
    /// ```
    pub fn number(self) -> i32 {
        match self {
            Advice::Normal => 0,
            Advice::Random => 1,
            Advice::Sequential => 2,
            Advice::Willneed => 3,
            Advice::Dontneed => 4,
            Advice::Free => 8,
            Advice::Remove => 9,
            Advice::Dontfork => 10,
            Advice::Dofork => 11,
            Advice::Mergeable => 12,
            Advice::Unmergeable => 13,
            Advice::Hugepage => 14,
            Advice::Nohugepage => 15,
            Advice::Dontdump => 16,
            Advice::Dodump => 17,
            Advice::Wipeonfork => 18,
            Advice::Keeponfork => 19,
            Advice::Cold => 20,
            Advice::Pageout => 21,
            Advice::PopulateRead => 22,
            Advice::PopulateWrite => 23,
            Advice::DontneedLocked => 24,
            Advice::Collapse => 25,
            Advice::GuardInstall => 102,
            Advice::GuardRemove => 103,
            Advice::Number(number) => number,
        }
    }
}

impl std::str::FromStr for Advice {
    type Err = ErrorKind;

    fn from_str(text: &str) -> Result<Self, ErrorKind> {
        if let Some(&(_, advice)) = Advice::NAMED.iter().find(|(name, _)| *name == text) {
            return Ok(advice);
        }
        text.parse().map(Advice::Number).map_err(|_| ErrorKind::BadAdvice(text.to_string()))
    }
}

impl fmt::Display for Advice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Advice::Number(number) = self {
            return write!(f, "{number}");
        }
        let name = Advice::NAMED.iter().find(|(_, advice)| advice == self).map_or("?", |(name, _)| name);
        f.write_str(name)
    }
}
