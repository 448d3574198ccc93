//! The arguments of the system calls: protection bits, mmap/mremap/mlock flags and advice,
//! with their Linux x86_64 values.

use core::ops::{BitOr, BitOrAssign};

macro_rules! bit_set {
    // The bits are a `u32` unless the set names another type (`Name: u64 { ... }`).
    ($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $flag:ident = $value:expr;)* }) => {
        bit_set! { $(#[$doc])* $name: u32 { $($(#[$fdoc])* $flag = $value;)* } }
    };
    ($(#[$doc:meta])* $name:ident: $bits:ty { $($(#[$fdoc:meta])* $flag:ident = $value:expr;)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        pub struct $name($bits);

        impl $name {
            $($(#[$fdoc])* pub const $flag: $name = $name($value);)*

            #[doc = concat!("No bits.\n\n```\nassert_eq!(mm::", stringify!($name), "::NONE.bits(), 0);\n```")]
            pub const NONE: $name = $name(0);

            #[doc = concat!(
                "The raw bits, as the system call takes them.\n\n```\n",
                "assert_eq!(mm::", stringify!($name), "::from_bits(0x10).bits(), 0x10);\n```"
            )]
            pub const fn bits(self) -> $bits {
                self.0
            }

            #[doc = concat!(
                "A value from raw bits, unknown bits included (the call checks them).\n\n```\n",
                "let raw = mm::", stringify!($name), "::from_bits(1 << 30);\n",
                "assert_ne!(raw, mm::", stringify!($name), "::NONE);\n```"
            )]
            pub const fn from_bits(bits: $bits) -> $name {
                $name(bits)
            }

            #[doc = concat!(
                "Whether every bit of `other` is set.\n\n```\n",
                "use mm::", stringify!($name), " as Bits;\n",
                "assert!(Bits::from_bits(3).contains(Bits::from_bits(1)));\n",
                "assert!(!Bits::from_bits(1).contains(Bits::from_bits(3)));\n```"
            )]
            pub const fn contains(self, other: $name) -> bool {
                self.0 & other.0 == other.0
            }

            #[doc = concat!(
                "`self` without the bits of `other`.\n\n```\n",
                "use mm::", stringify!($name), " as Bits;\n",
                "assert_eq!(Bits::from_bits(3).without(Bits::from_bits(1)), Bits::from_bits(2));\n```"
            )]
            pub const fn without(self, other: $name) -> $name {
                $name(self.0 & !other.0)
            }

            #[doc = concat!(
                "The bits of `self` and of `other`: what `|` gives, usable in constants.\n\n```\n",
                "use mm::", stringify!($name), " as Bits;\n",
                "const BOTH: Bits = Bits::from_bits(1).union(Bits::from_bits(2));\n",
                "assert_eq!(BOTH, Bits::from_bits(1) | Bits::from_bits(2));\n```"
            )]
            pub const fn union(self, other: $name) -> $name {
                $name(self.0 | other.0)
            }
        }

        impl BitOr for $name {
            type Output = $name;
            fn bitor(self, other: $name) -> $name {
                self.union(other)
            }
        }

        impl BitOrAssign for $name {
            fn bitor_assign(&mut self, other: $name) {
                self.0 |= other.0;
            }
        }
    };
}

bit_set! {
    /// `PROT_*` bits of mmap and mprotect.
    ///
    /// ```
    /// use mm::Prot;
    /// let rw = Prot::READ | Prot::WRITE;
    /// assert!(rw.contains(Prot::WRITE) && !rw.contains(Prot::EXEC));
    /// assert_eq!(rw.bits(), 3);
    ///
    /// // In constants, `union` is `|`:
    /// const RW: Prot = Prot::READ.union(Prot::WRITE);
    /// assert_eq!(RW, rw);
    /// ```
    Prot {
        /// `PROT_READ`.
        READ = 0x1;
        /// `PROT_WRITE`.
        WRITE = 0x2;
        /// `PROT_EXEC`.
        EXEC = 0x4;
        /// `PROT_SEM` (accepted and ignored).
        SEM = 0x8;
        /// `PROT_GROWSDOWN` (mprotect: extend the change down to the start of a growsdown area).
        GROWSDOWN = 0x0100_0000;
        /// `PROT_GROWSUP` (not supported on x86: EINVAL with GROWSDOWN).
        GROWSUP = 0x0200_0000;
    }
}

bit_set! {
    /// `MAP_*` flags of mmap. Exactly one of `SHARED`, `PRIVATE` or `SHARED_VALIDATE` (the
    /// type bits) must be given.
    ///
    /// ```
    /// use mm::MapFlags;
    /// let flags = MapFlags::PRIVATE | MapFlags::ANONYMOUS | MapFlags::FIXED;
    /// assert_eq!(flags.bits(), 0x32);
    /// const ANON: MapFlags = MapFlags::PRIVATE.union(MapFlags::ANONYMOUS);
    /// assert_eq!(ANON.union(MapFlags::FIXED), flags);
    /// ```
    MapFlags {
        /// `MAP_SHARED`.
        SHARED = 0x01;
        /// `MAP_PRIVATE`.
        PRIVATE = 0x02;
        /// `MAP_SHARED_VALIDATE`: shared, with unknown flags refused.
        SHARED_VALIDATE = 0x03;
        /// `MAP_FIXED`: map exactly at the address, replacing what is there.
        FIXED = 0x10;
        /// `MAP_ANONYMOUS`: no file.
        ANONYMOUS = 0x20;
        /// `MAP_GROWSDOWN`: a stack that grows down on faults below it.
        GROWSDOWN = 0x0100;
        /// `MAP_LOCKED`: lock the pages (and populate them).
        LOCKED = 0x2000;
        /// `MAP_NORESERVE`: no commit accounting.
        NORESERVE = 0x4000;
        /// `MAP_POPULATE`: fault the pages in.
        POPULATE = 0x8000;
        /// `MAP_NONBLOCK`: with POPULATE, do not populate.
        NONBLOCK = 0x10000;
        /// `MAP_STACK`: a thread stack (no transparent huge pages).
        STACK = 0x20000;
        /// `MAP_FIXED_NOREPLACE`: exactly at the address, EEXIST if anything is there.
        FIXED_NOREPLACE = 0x10_0000;
    }
}

impl MapFlags {
    /// The type bits (`MAP_TYPE`).
    pub(crate) const TYPE: MapFlags = MapFlags(0x0f);
    /// Every flag mmap knows (the legacy mask MAP_SHARED_VALIDATE checks against).
    pub(crate) const KNOWN: MapFlags = MapFlags(
        0x0f | 0x10
            | 0x20
            | 0x0100
            | 0x0800
            | 0x1000
            | 0x2000
            | 0x4000
            | 0x8000
            | 0x10000
            | 0x20000
            | 0x40000
            | 0x10_0000
            | 0xfc00_0000,
    );

    /// The type bits alone.
    pub(crate) fn map_type(self) -> MapFlags {
        MapFlags(self.0 & Self::TYPE.0)
    }
}

bit_set! {
    /// `MREMAP_*` flags.
    ///
    /// ```
    /// use mm::MremapFlags;
    /// assert_eq!((MremapFlags::MAYMOVE | MremapFlags::FIXED).bits(), 3);
    /// ```
    MremapFlags {
        /// `MREMAP_MAYMOVE`: the area may move if it cannot grow in place.
        MAYMOVE = 0x1;
        /// `MREMAP_FIXED`: move to exactly `new_addr` (needs MAYMOVE).
        FIXED = 0x2;
        /// `MREMAP_DONTUNMAP`: leave the source mapped (needs MAYMOVE, same size).
        DONTUNMAP = 0x4;
    }
}

bit_set! {
    /// `mlock2` flags.
    ///
    /// ```
    /// assert_eq!(mm::MlockFlags::ONFAULT.bits(), 1);
    /// ```
    MlockFlags {
        /// `MLOCK_ONFAULT`: lock pages as they are faulted in, populate nothing now.
        ONFAULT = 0x1;
    }
}

bit_set! {
    /// `mlockall` flags.
    ///
    /// ```
    /// use mm::MlockallFlags;
    /// assert_eq!((MlockallFlags::CURRENT | MlockallFlags::FUTURE).bits(), 3);
    /// ```
    MlockallFlags {
        /// `MCL_CURRENT`: lock every page mapped now.
        CURRENT = 0x1;
        /// `MCL_FUTURE`: lock every page mapped from now on.
        FUTURE = 0x2;
        /// `MCL_ONFAULT`: with the others, lock pages as they are faulted in and populate
        /// nothing.
        ONFAULT = 0x4;
    }
}

bit_set! {
    /// `mseal` flags (an `unsigned long` in the system call). Linux 6.18 defines none: any
    /// bit is EINVAL. [`MsealFlags::from_bits`] passes raw bits through for the call to check.
    ///
    /// ```
    /// use mm::MsealFlags;
    /// assert_eq!(MsealFlags::NONE.bits(), 0);
    /// assert_eq!(MsealFlags::from_bits(1 << 40).bits(), 1 << 40);
    /// ```
    MsealFlags: u64 {}
}

/// A fault's access type.
///
/// ```
/// assert_ne!(mm::Access::Read, mm::Access::Write);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    /// A load.
    Read,
    /// A store.
    Write,
    /// An instruction fetch.
    Exec,
}

/// `madvise` advice, with the Linux numbers.
///
/// ```
/// use mm::Advice;
/// assert_eq!(Advice::DontNeed.number(), 4);
/// assert_eq!(Advice::from_number(102), Some(Advice::GuardInstall));
/// assert_eq!(Advice::from_number(7), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Advice {
    /// `MADV_NORMAL` (0): no read-ahead hint.
    Normal,
    /// `MADV_RANDOM` (1).
    Random,
    /// `MADV_SEQUENTIAL` (2).
    Sequential,
    /// `MADV_WILLNEED` (3).
    WillNeed,
    /// `MADV_DONTNEED` (4): drop the pages.
    DontNeed,
    /// `MADV_FREE` (8): lazily free anonymous pages.
    Free,
    /// `MADV_REMOVE` (9): punch a hole in the shared backing.
    Remove,
    /// `MADV_DONTFORK` (10).
    DontFork,
    /// `MADV_DOFORK` (11).
    DoFork,
    /// `MADV_MERGEABLE` (12): KSM may merge the pages.
    Mergeable,
    /// `MADV_UNMERGEABLE` (13).
    Unmergeable,
    /// `MADV_HUGEPAGE` (14).
    HugePage,
    /// `MADV_NOHUGEPAGE` (15).
    NoHugePage,
    /// `MADV_DONTDUMP` (16).
    DontDump,
    /// `MADV_DODUMP` (17).
    DoDump,
    /// `MADV_WIPEONFORK` (18).
    WipeOnFork,
    /// `MADV_KEEPONFORK` (19).
    KeepOnFork,
    /// `MADV_COLD` (20).
    Cold,
    /// `MADV_PAGEOUT` (21).
    PageOut,
    /// `MADV_POPULATE_READ` (22).
    PopulateRead,
    /// `MADV_POPULATE_WRITE` (23).
    PopulateWrite,
    /// `MADV_DONTNEED_LOCKED` (24).
    DontNeedLocked,
    /// `MADV_COLLAPSE` (25).
    Collapse,
    /// `MADV_GUARD_INSTALL` (102).
    GuardInstall,
    /// `MADV_GUARD_REMOVE` (103).
    GuardRemove,
}

const ADVICE: [(Advice, i32); 25] = [
    (Advice::Normal, 0),
    (Advice::Random, 1),
    (Advice::Sequential, 2),
    (Advice::WillNeed, 3),
    (Advice::DontNeed, 4),
    (Advice::Free, 8),
    (Advice::Remove, 9),
    (Advice::DontFork, 10),
    (Advice::DoFork, 11),
    (Advice::Mergeable, 12),
    (Advice::Unmergeable, 13),
    (Advice::HugePage, 14),
    (Advice::NoHugePage, 15),
    (Advice::DontDump, 16),
    (Advice::DoDump, 17),
    (Advice::WipeOnFork, 18),
    (Advice::KeepOnFork, 19),
    (Advice::Cold, 20),
    (Advice::PageOut, 21),
    (Advice::PopulateRead, 22),
    (Advice::PopulateWrite, 23),
    (Advice::DontNeedLocked, 24),
    (Advice::Collapse, 25),
    (Advice::GuardInstall, 102),
    (Advice::GuardRemove, 103),
];

impl Advice {
    /// The advice's number (`MADV_*`).
    ///
    /// ```
    /// assert_eq!(mm::Advice::Collapse.number(), 25);
    /// ```
    pub fn number(self) -> i32 {
        ADVICE.iter().find(|row| row.0 == self).expect("every advice has a number").1
    }

    /// The advice with number `number`; `None` for numbers madvise refuses with EINVAL
    /// (the memory-failure injection advice, 100 and 101, is not modelled).
    ///
    /// ```
    /// assert_eq!(mm::Advice::from_number(0), Some(mm::Advice::Normal));
    /// ```
    pub fn from_number(number: i32) -> Option<Advice> {
        ADVICE.iter().find(|row| row.1 == number).map(|row| row.0)
    }
}
