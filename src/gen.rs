//! Random op scripts for differential fuzzing of the engine against the kernel.
//!
//! [`random_script`] writes a script from a seed: the same seed and configuration give the same
//! script on every machine. It uses every op of the script format, every mapping kind and
//! modifier and every named madvise advice, with ranges mostly inside the window, biased
//! towards the areas it mapped so that ops meet existing VMAs, and some leaving the window.
//!
//! ```
//! use maple_mm::gen::{random_script, GenConfig};
//!
//! let text = random_script(7, &GenConfig::default());
//! assert_eq!(text, random_script(7, &GenConfig::default()));
//! let script = maple_mm::script::parse(&text).unwrap();
//! assert!((64..=128).contains(&script.window));
//! assert!((40..=200).contains(&script.ops.len()));
//! ```

use crate::script::{Advice, Kind, Mods, Op, Prot, MAX_WINDOW};

/// The most ops a generated script may have: a mismatch in a longer script could not be read,
/// and the text grows by about 30 bytes an op.
///
/// ```
/// assert_eq!(maple_mm::gen::MAX_OPS, 100_000);
/// ```
pub const MAX_OPS: usize = 100_000;

/// The shape of generated scripts: window size and op count ranges (inclusive).
///
/// ```
/// let config = maple_mm::gen::GenConfig::default();
/// assert_eq!((config.window_min, config.window_max, config.ops_min, config.ops_max), (64, 128, 40, 200));
/// assert!(config.check().is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenConfig {
    /// Smallest window, in pages.
    pub window_min: u64,
    /// Largest window, in pages.
    pub window_max: u64,
    /// Fewest ops.
    pub ops_min: usize,
    /// Most ops.
    pub ops_max: usize,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig { window_min: 64, window_max: 128, ops_min: 40, ops_max: 200 }
    }
}

impl GenConfig {
    /// Checks that the ranges are not empty, that the window has at least 8 pages and at most
    /// [`MAX_WINDOW`], and that a script has at most [`MAX_OPS`] ops.
    ///
    /// ```
    /// use maple_mm::gen::GenConfig;
    ///
    /// assert!(GenConfig { window_min: 100, window_max: 50, ..Default::default() }.check().is_err());
    /// let error = GenConfig { ops_max: usize::MAX, ..Default::default() }.check().unwrap_err();
    /// assert_eq!(error, "--ops-max 18446744073709551615 is above the limit 100000");
    /// ```
    pub fn check(&self) -> Result<(), String> {
        if self.window_min < 8 || self.window_min > self.window_max {
            return Err(format!("bad window range {}..={} (at least 8 pages)", self.window_min, self.window_max));
        }
        if self.window_max > MAX_WINDOW {
            return Err(format!("--window-max {} is above the limit {MAX_WINDOW}", self.window_max));
        }
        if self.ops_min > self.ops_max {
            return Err(format!("bad op count range {}..={}", self.ops_min, self.ops_max));
        }
        if self.ops_max > MAX_OPS {
            return Err(format!("--ops-max {} is above the limit {MAX_OPS}", self.ops_max));
        }
        Ok(())
    }
}

/// A small deterministic PRNG (splitmix64).
///
/// ```
/// use maple_mm::gen::Rng;
///
/// let mut a = Rng::new(1);
/// let mut b = Rng::new(1);
/// assert_eq!(a.next_u64(), b.next_u64());
/// assert!(a.below(10) < 10);
/// ```
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    ///
    /// ```
    /// let mut rng = maple_mm::gen::Rng::new(0);
    /// assert_ne!(rng.next_u64(), rng.next_u64());
    /// ```
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    ///
    /// ```
    /// assert_eq!(maple_mm::gen::Rng::new(3).next_u64(), maple_mm::gen::Rng::new(3).next_u64());
    /// ```
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound` > 0).
    ///
    /// ```
    /// let mut rng = maple_mm::gen::Rng::new(5);
    /// assert!((0..100).all(|_| rng.below(3) < 3));
    /// ```
    pub fn below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }

    /// A number in `low..=high`.
    ///
    /// ```
    /// let mut rng = maple_mm::gen::Rng::new(5);
    /// assert!((0..100).all(|_| (4..=6).contains(&rng.between(4, 6))));
    /// ```
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high - low + 1)
    }

    /// True with probability `percent` / 100.
    ///
    /// ```
    /// let mut rng = maple_mm::gen::Rng::new(5);
    /// assert!(!rng.chance(0) && rng.chance(100));
    /// ```
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One of `items` (not empty).
    ///
    /// ```
    /// let mut rng = maple_mm::gen::Rng::new(5);
    /// assert!([1, 2, 3].contains(&rng.pick(&[1, 2, 3])));
    /// ```
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// Shuffles `items` in place (Fisher-Yates).
    ///
    /// ```
    /// let mut items = [1, 2, 3, 4];
    /// maple_mm::gen::Rng::new(5).shuffle(&mut items);
    /// items.sort();
    /// assert_eq!(items, [1, 2, 3, 4]);
    /// ```
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

/// Raw advice numbers the generator sometimes uses: unused numbers (EINVAL) and named ones by
/// number. Never 100 or 101 (MADV_HWPOISON, MADV_SOFT_OFFLINE).
const ADVICE_NUMBERS: [i32; 9] = [0, 4, 5, 6, 7, 14, 26, 99, 104];

/// What the generator knows of the script so far.
struct Generator {
    rng: Rng,
    window: u64,
    /// Ranges mapped by the script's mmaps (and mremap targets), newest last.
    mapped: Vec<(u64, u64)>,
}

impl Generator {
    /// A length in pages: mostly small, sometimes larger.
    fn length(&mut self) -> u64 {
        match self.rng.below(100) {
            0..=69 => self.rng.between(1, 8),
            70..=94 => self.rng.between(1, 16),
            _ => self.rng.between(1, 32),
        }
    }

    /// A range for an op: inside a mapped area, across its edges, anywhere in the window, or
    /// (rarely) leaving it.
    fn range(&mut self) -> (u64, u64) {
        let w = self.window;
        let roll = self.rng.below(100);
        if roll < 4 {
            // Leaves the window at the top.
            let page = self.rng.between(w.saturating_sub(8), w);
            return (page, w - page + self.rng.between(1, 8));
        }
        if roll < 5 {
            return (0, 0);
        }
        if roll < 60 && !self.mapped.is_empty() {
            let recent = self.mapped.len().min(12);
            let index = self.mapped.len() - 1 - self.rng.below(recent as u64) as usize;
            let (start, len) = self.mapped[index];
            let (page, npages) = match self.rng.below(4) {
                // The whole area.
                0 => (start, len),
                // Inside it.
                1 => {
                    let page = start + self.rng.below(len);
                    (page, self.rng.between(1, start + len - page))
                }
                // Across its start.
                2 => {
                    let page = start.saturating_sub(self.rng.between(1, 4));
                    (page, self.length() + (start - page))
                }
                // Across its end.
                _ => {
                    let page = start + self.rng.below(len);
                    (page, start + len - page + self.rng.between(1, 6))
                }
            };
            return clamp(page, npages, w);
        }
        let page = self.rng.below(w);
        let npages = self.length();
        clamp(page, npages, w)
    }

    fn prot(&mut self) -> Prot {
        let text = match self.rng.below(100) {
            0..=44 => "rw",
            45..=56 => "r",
            57..=68 => "rx",
            69..=78 => "rwx",
            79..=92 => "none",
            93..=95 => "w",
            96..=97 => "x",
            _ => "wx",
        };
        text.parse().expect("a valid protection")
    }

    fn kind(&mut self, page: u64) -> Kind {
        let file = if self.rng.chance(85) { self.rng.between(1, 2) as u32 } else { 3 };
        // Mostly pgoff = page, so that neighbouring mappings of a file are contiguous.
        let pgoff = match self.rng.below(10) {
            0..=5 => page,
            6..=7 => self.rng.below(2 * self.window),
            _ => page + self.window,
        };
        match self.rng.below(100) {
            0..=54 => Kind::AnonPrivate,
            55..=64 => Kind::AnonShared,
            65..=84 => Kind::FilePrivate { file, pgoff },
            _ => Kind::FileShared { file, pgoff },
        }
    }

    fn mods(&mut self, kind: Kind) -> Mods {
        let file = matches!(kind, Kind::FilePrivate { .. } | Kind::FileShared { .. });
        Mods {
            noreserve: self.rng.chance(7),
            populate: self.rng.chance(4),
            locked: self.rng.chance(4),
            growsdown: self.rng.chance(if file { 1 } else { 5 }),
            stack: self.rng.chance(5),
            noreplace: self.rng.chance(6),
            ro: file && self.rng.chance(25),
        }
    }

    fn advice(&mut self) -> Advice {
        if self.rng.chance(3) {
            return Advice::Number(self.rng.pick(&ADVICE_NUMBERS));
        }
        // The guard advice a little more often: it has the most unusual rules.
        if self.rng.chance(8) {
            return if self.rng.chance(60) { Advice::GuardInstall } else { Advice::GuardRemove };
        }
        self.rng.pick(&Advice::NAMED).1
    }

    fn mmap(&mut self) -> Op {
        let (page, npages) = self.range();
        let kind = self.kind(page);
        let mods = self.mods(kind);
        if page + npages <= self.window && npages > 0 {
            self.mapped.push((page, npages));
        }
        Op::Mmap { page, npages, prot: self.prot(), kind, mods }
    }

    fn mremap(&mut self) -> Op {
        let (old_page, old_npages) = self.range();
        let w = self.window;
        let (new_npages, maymove, fixed, dontunmap) = match self.rng.below(100) {
            // Shrink in place (maymove is harmless: a shrink never moves).
            0..=19 => (self.rng.between(1, old_npages.max(1)), self.rng.chance(30), None, false),
            // Grow in place: without maymove (a moving mremap could leave the window).
            20..=44 => (old_npages + self.rng.between(1, 8), false, None, false),
            // Move to a fixed target, same size or not.
            45..=84 => {
                let new_npages = if self.rng.chance(60) { old_npages } else { self.rng.between(1, old_npages + 8) };
                let target = self.rng.below(w);
                (new_npages, self.rng.chance(50), Some(target), false)
            }
            // Keep the source mapped.
            _ => {
                let target = self.rng.below(w);
                let new_npages = if self.rng.chance(85) { old_npages } else { old_npages + 1 };
                (new_npages, self.rng.chance(50), Some(target), true)
            }
        };
        if let Some(target) = fixed {
            if target + new_npages <= w && new_npages > 0 {
                self.mapped.push((target, new_npages));
            }
        }
        Op::Mremap { old_page, old_npages, new_npages, maymove, fixed, dontunmap }
    }

    fn op(&mut self) -> Op {
        match self.rng.below(1000) {
            0..=279 => self.mmap(),
            280..=339 => {
                let (page, npages) = self.range();
                Op::Munmap { page, npages }
            }
            340..=479 => {
                let (page, npages) = self.range();
                Op::Mprotect { page, npages, prot: self.prot() }
            }
            480..=609 => {
                let (page, npages) = self.range();
                Op::Madvise { page, npages, advice: self.advice() }
            }
            610..=639 => {
                let (page, npages) = self.range();
                Op::Mlock { page, npages }
            }
            640..=654 => {
                let (page, npages) = self.range();
                Op::MlockOnfault { page, npages }
            }
            655..=684 => {
                let (page, npages) = self.range();
                Op::Munlock { page, npages }
            }
            685..=689 => {
                let (page, npages) = self.range();
                Op::Mseal { page, npages }
            }
            690..=769 => self.mremap(),
            770..=909 => {
                let (page, _) = self.range();
                Op::Touch { page, npages: self.rng.between(1, 4) }
            }
            910..=981 => {
                let (page, _) = self.range();
                Op::Read { page, npages: self.rng.between(1, 4) }
            }
            // Rare: mlockall locks (and populates) the whole window, or every later mapping.
            982..=986 => {
                let (current, future) = match self.rng.below(3) {
                    0 => (true, false),
                    1 => (false, true),
                    _ => (true, true),
                };
                // onfault alone now and then: EINVAL.
                let (current, future) = if self.rng.chance(5) { (false, false) } else { (current, future) };
                Op::Mlockall { current, future, onfault: self.rng.chance(30) || (!current && !future) }
            }
            987..=989 => Op::Munlockall,
            _ => Op::Fork,
        }
    }
}

/// Shortens a range that leaves the window so that it ends at the window's end, except
/// sometimes (then the op is skipped as out of window).
fn clamp(page: u64, npages: u64, window: u64) -> (u64, u64) {
    if page + npages > window && page < window && npages > 1 && (page + npages) % 5 != 0 {
        return (page, window - page);
    }
    (page, npages)
}

/// A random script for `seed`: a comment naming the seed, the `window` line, sometimes a
/// `file` line with a small size (so that some accesses run past the end of the file), then
/// the ops.
///
/// ```
/// use maple_mm::gen::{random_script, GenConfig};
///
/// let config = GenConfig { window_min: 16, window_max: 16, ops_min: 5, ops_max: 5 };
/// let text = random_script(1, &config);
/// assert!(text.starts_with("# generated: maple-mm fuzz --seed 1"));
/// assert_eq!(maple_mm::script::parse(&text).unwrap().ops.len(), 5);
/// ```
pub fn random_script(seed: u64, config: &GenConfig) -> String {
    let mut rng = Rng::new(seed);
    let window = rng.between(config.window_min, config.window_max);
    let nops = rng.between(config.ops_min as u64, config.ops_max as u64) as usize;
    let mut text = format!(
        "# generated: maple-mm fuzz --seed {seed} --window-min {} --window-max {} --ops-min {} --ops-max {}\n",
        config.window_min, config.window_max, config.ops_min, config.ops_max
    );
    text.push_str(&format!("window {window}\n"));
    if rng.chance(30) {
        text.push_str(&format!("file {} {}\n", rng.between(1, 3), rng.between(1, window)));
    }
    let mut generator = Generator { rng, window, mapped: Vec::new() };
    for _ in 0..nops {
        text.push_str(&format!("{}\n", generator.op()));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::parse;

    /// Over a few hundred scripts every op, kind, modifier and named advice appears, and some
    /// ops leave the window.
    #[test]
    fn the_generator_uses_everything() {
        let mut seen = std::collections::BTreeSet::new();
        let mut skipped = 0;
        for seed in 0..300 {
            let text = random_script(seed, &GenConfig::default());
            let script = parse(&text).unwrap_or_else(|error| panic!("seed {seed}: {error}\n{text}"));
            for (index, op) in script.ops.iter().enumerate() {
                skipped += usize::from(script.op_leaves_window(index));
                let line = op.to_string();
                let words: Vec<&str> = line.split_whitespace().collect();
                seen.insert(words[0].to_string());
                match op {
                    Op::Mmap { kind, mods, .. } => {
                        seen.insert(kind.to_string().split(':').next().unwrap().to_string());
                        seen.extend(mods.words().map(str::to_string));
                    }
                    Op::Madvise { advice, .. } => {
                        seen.insert(format!(
                            "advice {}",
                            if matches!(advice, Advice::Number(_)) { "number".to_string() } else { advice.to_string() }
                        ));
                    }
                    Op::Mremap { maymove, fixed, dontunmap, new_npages, old_npages, .. } => {
                        seen.insert(format!("maymove {maymove}"));
                        seen.insert(format!("fixed {}", fixed.is_some()));
                        seen.insert(format!("dontunmap {dontunmap}"));
                        seen.insert(format!("grow {}", new_npages > old_npages));
                        seen.insert(format!("shrink {}", new_npages < old_npages));
                    }
                    Op::Mlockall { .. } => seen.extend(words[1..].iter().map(|flag| format!("mlockall {flag}"))),
                    _ => {}
                }
            }
            if !script.files.is_empty() {
                seen.insert("file".to_string());
            }
        }
        let mut wanted: Vec<String> = [
            "mmap",
            "munmap",
            "mprotect",
            "madvise",
            "mlock",
            "mlock_onfault",
            "munlock",
            "mseal",
            "mremap",
            "touch",
            "read",
            "fork",
            "mlockall",
            "mlockall current",
            "mlockall future",
            "mlockall onfault",
            "munlockall",
            "file",
            "anon_private",
            "anon_shared",
            "file_private",
            "file_shared",
            "noreserve",
            "populate",
            "locked",
            "growsdown",
            "stack",
            "noreplace",
            "ro",
            "advice number",
            "maymove true",
            "fixed true",
            "dontunmap true",
            "grow true",
            "shrink true",
        ]
        .iter()
        .map(|word| word.to_string())
        .collect();
        wanted.extend(Advice::NAMED.iter().map(|(name, _)| format!("advice {name}")));
        for word in wanted {
            assert!(seen.contains(&word), "never generated: {word}");
        }
        assert!(skipped > 0);
    }

    #[test]
    fn refused_advice_is_never_generated() {
        for seed in 0..200 {
            let script = parse(&random_script(seed, &GenConfig::default())).unwrap();
            for op in &script.ops {
                if let Op::Madvise { advice: Advice::Number(number), .. } = op {
                    assert!(!crate::kernel::REFUSED_ADVICE.contains(number));
                }
            }
        }
    }
}
