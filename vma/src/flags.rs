//! VMA flags: one bit per property, laid out as on Linux x86_64, with the `/proc/PID/smaps`
//! mnemonics.
//!
//! smaps prints `VmFlags:` by walking the bits from 0 upwards and printing the two-letter
//! name of each set bit that has one, so the kernel's order is simply bit order. The bit
//! numbers below are the x86_64 ones of Linux 6.18 (bit 11 is the maybe-guard bit, bit 42
//! the sealed bit); bits without a mnemonic (the protection-key bits) are never printed.

use core::fmt;
use core::ops::{BitAnd, BitAndAssign, BitOr, BitOrAssign, BitXor, Not, Sub};

/// A set of VMA flags (the kernel's `vm_flags`), as a bit set over `u64`.
///
/// ```
/// use vma::VmFlags;
/// let f = VmFlags::READ | VmFlags::WRITE | VmFlags::MAYREAD | VmFlags::MAYWRITE;
/// assert!(f.contains(VmFlags::READ | VmFlags::WRITE));
/// assert_eq!(f.to_string(), "rd wr mr mw");
/// assert_eq!(VmFlags::parse("rd wr mr mw"), Some(f));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct VmFlags(u64);

/// One row of the flag table: bit, Rust name, smaps mnemonic ("" when smaps prints none).
struct FlagInfo {
    bit: u32,
    name: &'static str,
    mnemonic: &'static str,
}

macro_rules! vm_flags {
    ($($(#[$doc:meta])* $name:ident = $bit:expr, $mn:expr;)*) => {
        impl VmFlags {
            $(
                $(#[$doc])*
                ///
                #[doc = concat!("Bit ", stringify!($bit), ".")]
                ///
                /// ```
                #[doc = concat!("let flag = vma::VmFlags::", stringify!($name), ";")]
                #[doc = concat!("assert_eq!(flag.bits(), 1 << ", stringify!($bit), ");")]
                #[doc = concat!("assert_eq!(flag.to_string(), ", stringify!($mn), ");")]
                /// ```
                pub const $name: VmFlags = VmFlags(1u64 << $bit);
            )*
        }

        /// Every known flag in bit order, which is also the order smaps prints them in.
        const TABLE: &[FlagInfo] = &[$(FlagInfo { bit: $bit, name: stringify!($name), mnemonic: $mn }),*];
    };
}

vm_flags! {
    /// Readable (`rd`).
    READ = 0, "rd";
    /// Writable (`wr`).
    WRITE = 1, "wr";
    /// Executable (`ex`).
    EXEC = 2, "ex";
    /// Shared mapping (`sh`).
    SHARED = 3, "sh";
    /// May be made readable (`mr`).
    MAYREAD = 4, "mr";
    /// May be made writable (`mw`).
    MAYWRITE = 5, "mw";
    /// May be made executable (`me`).
    MAYEXEC = 6, "me";
    /// May be shared (`ms`).
    MAYSHARE = 7, "ms";
    /// Stack that grows down (`gd`).
    GROWSDOWN = 8, "gd";
    /// userfaultfd tracks missing pages (`um`).
    UFFD_MISSING = 9, "um";
    /// Pure PFN mapping, no struct pages (`pf`). Special: never merges.
    PFNMAP = 10, "pf";
    /// The area may contain guard regions (`gu`). Sticky: ignored by merge comparisons.
    MAYBE_GUARD = 11, "gu";
    /// userfaultfd write-protect tracking (`uw`).
    UFFD_WP = 12, "uw";
    /// Pages are locked in memory (`lo`).
    LOCKED = 13, "lo";
    /// Memory-mapped I/O (`io`). Special: never merges.
    IO = 14, "io";
    /// Sequential read advice (`sr`).
    SEQ_READ = 15, "sr";
    /// Random read advice (`rr`).
    RAND_READ = 16, "rr";
    /// Not copied on fork (`dc`).
    DONTCOPY = 17, "dc";
    /// Cannot be expanded by mremap (`de`). Special: never merges.
    DONTEXPAND = 18, "de";
    /// Lock pages when they are faulted in (`lf`).
    LOCKONFAULT = 19, "lf";
    /// Charged to the commit accounting (`ac`).
    ACCOUNT = 20, "ac";
    /// No swap reservation (`nr`).
    NORESERVE = 21, "nr";
    /// hugetlbfs mapping (`ht`).
    HUGETLB = 22, "ht";
    /// Synchronous page faults (`sf`).
    SYNC = 23, "sf";
    /// Architecture flag 1; page attribute table mapping on x86 (`ar`).
    ARCH_1 = 24, "ar";
    /// Zeroed in the child on fork (`wf`).
    WIPEONFORK = 25, "wf";
    /// Left out of core dumps (`dd`).
    DONTDUMP = 26, "dd";
    /// Soft-dirty tracking (`sd`). Sticky: ignored by merge comparisons.
    SOFTDIRTY = 27, "sd";
    /// Mixed PFN and page mapping (`mm`). Special: never merges.
    MIXEDMAP = 28, "mm";
    /// Transparent huge pages advised (`hg`).
    HUGEPAGE = 29, "hg";
    /// Transparent huge pages refused (`nh`).
    NOHUGEPAGE = 30, "nh";
    /// KSM may merge its pages (`mg`).
    MERGEABLE = 31, "mg";
    /// Protection key bit 0 (shown by smaps as `ProtectionKey`, not in `VmFlags`).
    PKEY_BIT0 = 32, "";
    /// Protection key bit 1.
    PKEY_BIT1 = 33, "";
    /// Protection key bit 2.
    PKEY_BIT2 = 34, "";
    /// Protection key bit 3.
    PKEY_BIT3 = 35, "";
    /// x86 user shadow stack (`ss`).
    SHADOW_STACK = 37, "ss";
    /// Any uncached mapping allowed (no mnemonic).
    ALLOW_ANY_UNCACHED = 39, "";
    /// Pages may be dropped under memory pressure (`dp`).
    DROPPABLE = 40, "dp";
    /// userfaultfd minor-fault tracking (`ui`).
    UFFD_MINOR = 41, "ui";
    /// Sealed by mseal (`sl`).
    SEALED = 42, "sl";
}

impl VmFlags {
    /// No flags.
    ///
    /// ```
    /// assert!(vma::VmFlags::EMPTY.is_empty());
    /// ```
    pub const EMPTY: VmFlags = VmFlags(0);

    /// Flags that make an area "special": such areas never merge (IO, DONTEXPAND, PFNMAP,
    /// MIXEDMAP).
    ///
    /// ```
    /// use vma::VmFlags;
    /// assert!(VmFlags::SPECIAL.contains(VmFlags::PFNMAP));
    /// ```
    pub const SPECIAL: VmFlags = VmFlags(Self::IO.0 | Self::DONTEXPAND.0 | Self::PFNMAP.0 | Self::MIXEDMAP.0);

    /// Sticky flags (Linux 6.18): ignored when deciding whether two areas may merge, and
    /// the survivor of a merge gets the union of all parts' sticky flags.
    ///
    /// ```
    /// use vma::VmFlags;
    /// assert_eq!(VmFlags::STICKY, VmFlags::SOFTDIRTY | VmFlags::MAYBE_GUARD);
    /// ```
    pub const STICKY: VmFlags = VmFlags(Self::SOFTDIRTY.0 | Self::MAYBE_GUARD.0);

    /// The access bits (read, write, exec), which may differ between two areas that share
    /// an anon_vma.
    ///
    /// ```
    /// use vma::VmFlags;
    /// assert!(VmFlags::ACCESS.contains(VmFlags::EXEC));
    /// ```
    pub const ACCESS: VmFlags = VmFlags(Self::READ.0 | Self::WRITE.0 | Self::EXEC.0);

    /// Flags from raw bits, keeping unknown bits as they are.
    ///
    /// ```
    /// assert_eq!(vma::VmFlags::from_bits(0x3), vma::VmFlags::READ | vma::VmFlags::WRITE);
    /// ```
    pub const fn from_bits(bits: u64) -> VmFlags {
        VmFlags(bits)
    }

    /// The raw bits.
    ///
    /// ```
    /// assert_eq!(vma::VmFlags::EXEC.bits(), 0x4);
    /// ```
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// Every flag of `self` and of `other`: `|` for constants.
    ///
    /// ```
    /// use vma::VmFlags;
    /// const RW: VmFlags = VmFlags::READ.union(VmFlags::WRITE);
    /// assert_eq!(RW, VmFlags::READ | VmFlags::WRITE);
    /// ```
    pub const fn union(self, other: VmFlags) -> VmFlags {
        VmFlags(self.0 | other.0)
    }

    /// Whether no flag is set.
    ///
    /// ```
    /// assert!(!vma::VmFlags::READ.is_empty());
    /// ```
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every flag of `other` is set.
    ///
    /// ```
    /// use vma::VmFlags;
    /// assert!(!VmFlags::READ.contains(VmFlags::READ | VmFlags::WRITE));
    /// ```
    pub const fn contains(self, other: VmFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any flag of `other` is set.
    ///
    /// ```
    /// use vma::VmFlags;
    /// assert!((VmFlags::READ | VmFlags::IO).intersects(VmFlags::SPECIAL));
    /// ```
    pub const fn intersects(self, other: VmFlags) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether the set has a special flag (IO, DONTEXPAND, PFNMAP or MIXEDMAP).
    ///
    /// ```
    /// assert!(vma::VmFlags::MIXEDMAP.is_special());
    /// ```
    pub const fn is_special(self) -> bool {
        self.intersects(Self::SPECIAL)
    }

    /// The set without its sticky flags: what merge comparisons look at.
    ///
    /// ```
    /// use vma::VmFlags;
    /// assert_eq!((VmFlags::READ | VmFlags::SOFTDIRTY).without_sticky(), VmFlags::READ);
    /// ```
    pub const fn without_sticky(self) -> VmFlags {
        VmFlags(self.0 & !Self::STICKY.0)
    }

    /// Only the sticky flags of the set.
    ///
    /// ```
    /// use vma::VmFlags;
    /// assert_eq!((VmFlags::READ | VmFlags::MAYBE_GUARD).sticky(), VmFlags::MAYBE_GUARD);
    /// ```
    pub const fn sticky(self) -> VmFlags {
        VmFlags(self.0 & Self::STICKY.0)
    }

    /// The smaps mnemonics of the set flags, in the kernel's order (bit order).
    ///
    /// ```
    /// use vma::VmFlags;
    /// let f = VmFlags::ACCOUNT | VmFlags::READ | VmFlags::MAYBE_GUARD;
    /// assert_eq!(f.mnemonics().collect::<Vec<_>>(), ["rd", "gu", "ac"]);
    /// ```
    pub fn mnemonics(self) -> impl Iterator<Item = &'static str> {
        TABLE
            .iter()
            .filter(move |info| !info.mnemonic.is_empty() && self.0 & (1u64 << info.bit) != 0)
            .map(|info| info.mnemonic)
    }

    /// The flags whose mnemonics are given, separated by spaces or commas; `None` on an
    /// unknown mnemonic. `"-"` and the empty string are the empty set.
    ///
    /// ```
    /// use vma::VmFlags;
    /// assert_eq!(VmFlags::parse("rd,wr,ac"), Some(VmFlags::READ | VmFlags::WRITE | VmFlags::ACCOUNT));
    /// assert_eq!(VmFlags::parse("zz"), None);
    /// ```
    pub fn parse(text: &str) -> Option<VmFlags> {
        let mut flags = VmFlags::EMPTY;
        for word in text.split([' ', ',']).filter(|w| !w.is_empty() && *w != "-") {
            let info = TABLE.iter().find(|info| !info.mnemonic.is_empty() && info.mnemonic == word)?;
            flags.0 |= 1u64 << info.bit;
        }
        Some(flags)
    }
}

impl fmt::Display for VmFlags {
    /// The mnemonics joined by single spaces (smaps prints the same words, each followed by
    /// a space).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, word) in self.mnemonics().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(word)?;
        }
        Ok(())
    }
}

impl fmt::Debug for VmFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VmFlags(")?;
        let mut rest = self.0;
        let mut first = true;
        for info in TABLE {
            let bit = 1u64 << info.bit;
            if rest & bit != 0 {
                if !first {
                    f.write_str(" | ")?;
                }
                f.write_str(info.name)?;
                rest &= !bit;
                first = false;
            }
        }
        if rest != 0 {
            if !first {
                f.write_str(" | ")?;
            }
            write!(f, "{rest:#x}")?;
        }
        f.write_str(")")
    }
}

impl BitOr for VmFlags {
    type Output = VmFlags;
    fn bitor(self, rhs: VmFlags) -> VmFlags {
        VmFlags(self.0 | rhs.0)
    }
}

impl BitOrAssign for VmFlags {
    fn bitor_assign(&mut self, rhs: VmFlags) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for VmFlags {
    type Output = VmFlags;
    fn bitand(self, rhs: VmFlags) -> VmFlags {
        VmFlags(self.0 & rhs.0)
    }
}

impl BitAndAssign for VmFlags {
    fn bitand_assign(&mut self, rhs: VmFlags) {
        self.0 &= rhs.0;
    }
}

impl BitXor for VmFlags {
    type Output = VmFlags;
    fn bitxor(self, rhs: VmFlags) -> VmFlags {
        VmFlags(self.0 ^ rhs.0)
    }
}

impl Sub for VmFlags {
    type Output = VmFlags;
    /// The flags of `self` that are not in `rhs`.
    fn sub(self, rhs: VmFlags) -> VmFlags {
        VmFlags(self.0 & !rhs.0)
    }
}

impl Not for VmFlags {
    type Output = VmFlags;
    fn not(self) -> VmFlags {
        VmFlags(!self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_in_bit_order_and_unique() {
        for pair in TABLE.windows(2) {
            assert!(pair[0].bit < pair[1].bit, "{} before {}", pair[0].name, pair[1].name);
        }
        let mut words: Vec<_> = TABLE.iter().map(|i| i.mnemonic).filter(|m| !m.is_empty()).collect();
        let n = words.len();
        words.sort_unstable();
        words.dedup();
        assert_eq!(words.len(), n);
    }

    #[test]
    fn renders_like_the_kernel() {
        // Lines recorded from Linux 6.18 smaps (kernel-cases, traces).
        for line in [
            "rd wr mr mw me gu ac",
            "rd wr mr mw me ac sl",
            "rd mr pf io de dd",
            "rd ex mr mw me lo dc ac",
            "rd wr ex mr mw me ac dd nh",
            "mr mw me lo ac wf mg",
            "rd wr mr mw me gd ac",
        ] {
            let flags = VmFlags::parse(line).unwrap();
            assert_eq!(flags.to_string(), line);
        }
        assert_eq!(VmFlags::EMPTY.to_string(), "");
        assert_eq!(format!("{:?}", VmFlags::READ | VmFlags::from_bits(1 << 50)), "VmFlags(READ | 0x4000000000000)");
    }
}
