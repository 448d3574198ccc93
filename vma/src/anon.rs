//! anon_vmas: who an area's anonymous pages belong to, and the two rules merging needs.
//!
//! An area gets an anon_vma on its first write fault. The [`AnonVma`] is shared (identity
//! by pointer); each area links to it with a chain whose length says whether the area took
//! part in a fork: a chain of one entry means the anon_vma is the area's own, anything else
//! means pages may be shared with a parent or child ("forked").
//!
//! - [`dup_anon_vma`]: when a merge makes an area without an anon_vma absorb one that has
//!   one, the survivor must take the absorbed area's anon_vma, or the absorbed pages would
//!   lose their reverse mapping.
//! - [`anon_vma_prepare`] (first fault): an adjacent, compatible area whose chain has one
//!   entry lends its anon_vma, so the two areas can merge later; otherwise a new one.

use crate::sync::{next_identity, IdentitySource};
use std::sync::Arc;

use maple::View;

use crate::vma::same_object;
use crate::{MemPolicy, VmFlags, Vma, VmaError, VmaTree, VmaTxn};

static NEXT_ANON: IdentitySource = IdentitySource::new();

/// A shared anon_vma object; two areas have "the same" anon_vma when they hold the same
/// `Arc`.
///
/// ```
/// use std::sync::Arc;
/// let a = vma::AnonVma::new();
/// assert!(Arc::ptr_eq(&a, &a.clone()));
/// assert_ne!(a.id(), vma::AnonVma::new().id());
/// ```
#[derive(Debug)]
pub struct AnonVma {
    id: u64,
}

impl AnonVma {
    /// A new anon_vma.
    ///
    /// ```
    /// assert!(vma::AnonVma::new().id() > 0);
    /// ```
    pub fn new() -> Arc<AnonVma> {
        Arc::new(AnonVma { id: next_identity(&NEXT_ANON) })
    }

    /// A number unique to this anon_vma, for display.
    ///
    /// ```
    /// let a = vma::AnonVma::new();
    /// assert_eq!(a.id(), a.id());
    /// ```
    pub fn id(&self) -> u64 {
        self.id
    }
}

/// An area's link to its anon_vma: the object and the length of the area's chain.
///
/// ```
/// use vma::AnonRef;
/// let own = AnonRef::new();
/// assert_eq!(own.chain_len, 1);
/// let child = own.forked();
/// assert_eq!(child.chain_len, 2);
/// assert!(!own.same(&child)); // a forked child links a new anon_vma, plus the parent's
/// ```
#[derive(Clone, Debug)]
pub struct AnonRef {
    /// The anon_vma new anonymous pages of the area go to.
    pub anon_vma: Arc<AnonVma>,
    /// How many anon_vmas the area's chain links (1: its own only).
    pub chain_len: usize,
}

impl AnonRef {
    /// A new anon_vma with a chain of one entry (an area's first fault).
    ///
    /// ```
    /// assert_eq!(vma::AnonRef::new().chain_len, 1);
    /// ```
    pub fn new() -> AnonRef {
        AnonRef { anon_vma: AnonVma::new(), chain_len: 1 }
    }

    /// A link to `anon_vma` with a chain of `chain_len` entries.
    ///
    /// ```
    /// let x = vma::AnonVma::new();
    /// let r = vma::AnonRef::with(x.clone(), 3);
    /// assert!(std::sync::Arc::ptr_eq(&r.anon_vma, &x));
    /// ```
    pub fn with(anon_vma: Arc<AnonVma>, chain_len: usize) -> AnonRef {
        AnonRef { anon_vma, chain_len }
    }

    /// What a fork gives the child's copy of this area: a new anon_vma of its own, and a
    /// chain one longer (it also links every anon_vma of the parent's chain).
    ///
    /// ```
    /// assert_eq!(vma::AnonRef::new().forked().forked().chain_len, 3);
    /// ```
    pub fn forked(&self) -> AnonRef {
        AnonRef { anon_vma: AnonVma::new(), chain_len: self.chain_len + 1 }
    }

    /// Whether both link the same anon_vma object.
    ///
    /// ```
    /// let a = vma::AnonRef::new();
    /// assert!(a.same(&a.clone()));
    /// ```
    pub fn same(&self, other: &AnonRef) -> bool {
        Arc::ptr_eq(&self.anon_vma, &other.anon_vma)
    }
}

impl Default for AnonRef {
    fn default() -> Self {
        AnonRef::new()
    }
}

/// Whether two optional links name the same anon_vma (two nones count as the same).
///
/// ```
/// let a = vma::AnonRef::new();
/// assert!(vma::same_anon(None, None));
/// assert!(!vma::same_anon(Some(&a), None));
/// ```
pub fn same_anon(a: Option<&AnonRef>, b: Option<&AnonRef>) -> bool {
    same_object(a.map(|a| &a.anon_vma), b.map(|b| &b.anon_vma))
}

/// The anon_vma link `dst` must carry after a merge makes it absorb (part of) `src`.
///
/// It acts only when `src` has an anon_vma and `dst` has none: then `dst` takes `src`'s link
/// (the same object, and the same chain, as the kernel's clone of the chain). Otherwise
/// `dst` keeps its own (which may be none).
///
/// ```
/// use vma::{dup_anon_vma, AnonRef, Vma, VmFlags};
/// let x = AnonRef::new();
/// let dst = Vma::new(0, 0x1000, 0, VmFlags::READ);
/// let src = Vma::new(0x1000, 0x2000, 1, VmFlags::READ).with_anon(x.clone());
/// assert!(dup_anon_vma(&dst, src.anon.as_ref()).unwrap().same(&x));
/// assert!(dup_anon_vma(&src, None).unwrap().same(&x));
/// ```
pub fn dup_anon_vma(dst: &Vma, src: Option<&AnonRef>) -> Option<AnonRef> {
    match (&dst.anon, src) {
        (Some(own), _) => Some(own.clone()),
        (None, Some(theirs)) => Some(theirs.clone()),
        (None, None) => None,
    }
}

/// Whether `lender` may lend its anon_vma to `vma` on `vma`'s first fault.
///
/// The two are adjacent (`lender` right below or right above), map the same file with
/// contiguous pgoffs, have equal policies, and differ in flags at most in the access bits
/// (read, write, exec) and the sticky bits; and `lender`'s chain has exactly one entry.
///
/// ```
/// use vma::{can_lend_anon_vma, AnonRef, Vma, VmFlags};
/// let rw = VmFlags::READ | VmFlags::WRITE;
/// let lender = Vma::new(0, 0x1000, 0, rw).with_anon(AnonRef::new());
/// let faulting = Vma::new(0x1000, 0x2000, 1, VmFlags::READ);
/// assert!(can_lend_anon_vma(&lender, &faulting));
/// let mut forked = lender.clone();
/// forked.anon = Some(AnonRef::new().forked());
/// assert!(!can_lend_anon_vma(&forked, &faulting));
/// ```
pub fn can_lend_anon_vma(lender: &Vma, vma: &Vma) -> bool {
    let Some(anon) = &lender.anon else { return false };
    if anon.chain_len != 1 {
        return false;
    }
    let (low, high) = if lender.end == vma.start {
        (lender, vma)
    } else if vma.end == lender.start {
        (vma, lender)
    } else {
        return false;
    };
    let ignored = VmFlags::ACCESS | VmFlags::STICKY;
    MemPolicy::same(low.policy.as_ref(), high.policy.as_ref())
        && same_object(low.file.as_ref(), high.file.as_ref())
        && (low.flags ^ high.flags) - ignored == VmFlags::EMPTY
        && low.end_pgoff() == high.pgoff
}

/// The anon_vma an adjacent area would lend `vma` on its first fault: the next area is
/// asked first, then the previous one.
///
/// ```
/// use std::sync::Arc;
/// use vma::{find_mergeable_anon_vma, AnonRef, Vma, VmaTree, VmFlags};
/// let tree = VmaTree::new();
/// let x = AnonRef::new();
/// tree.insert(Vma::new(0, 0x1000, 0, VmFlags::READ).with_anon(x.clone())).unwrap();
/// let v = tree.insert(Vma::new(0x1000, 0x2000, 1, VmFlags::READ)).unwrap();
/// let lent = find_mergeable_anon_vma(&tree.snapshot(), &v).unwrap();
/// assert!(Arc::ptr_eq(&lent, &x.anon_vma));
/// ```
pub fn find_mergeable_anon_vma(view: &View<'_, Arc<Vma>>, vma: &Vma) -> Option<Arc<AnonVma>> {
    // Neighbours:   [ prev ][ vma ][ next ]   (only touching ones can lend)
    let next = view.get(vma.end).filter(|next| next.start == vma.end);
    let prev = vma.start.checked_sub(1).and_then(|below| view.get(below));
    [next, prev]
        .into_iter()
        .flatten()
        .find(|lender| can_lend_anon_vma(lender, vma))
        .and_then(|lender| lender.anon.as_ref().map(|a| a.anon_vma.clone()))
}

/// Gives `vma` an anon_vma if it has none (the first write fault on private memory):
/// one lent by an adjacent compatible area, or a new one, with a chain of one entry. One
/// transaction; returns the current version of the area.
///
/// ```
/// use vma::{anon_vma_prepare, Vma, VmaTree, VmFlags};
/// let tree = VmaTree::new();
/// let a = tree.insert(Vma::new(0, 0x1000, 0, VmFlags::READ | VmFlags::WRITE)).unwrap();
/// let b = tree.insert(Vma::new(0x1000, 0x2000, 1, VmFlags::READ)).unwrap();
/// let a = anon_vma_prepare(&tree, &a).unwrap();
/// let b = anon_vma_prepare(&tree, &b).unwrap();
/// assert!(a.anon.as_ref().unwrap().same(b.anon.as_ref().unwrap()));
/// ```
pub fn anon_vma_prepare(tree: &VmaTree, vma: &Arc<Vma>) -> Result<Arc<Vma>, VmaError> {
    tree.write(|txn| anon_vma_prepare_in(txn, vma))
}

/// [`anon_vma_prepare`] inside the caller's transaction; on an error the transaction is as
/// it was.
///
/// ```
/// use vma::{anon_vma_prepare_in, Vma, VmaTree, VmFlags};
/// let tree = VmaTree::new();
/// let a = tree.insert(Vma::new(0, 0x1000, 0, VmFlags::READ | VmFlags::WRITE)).unwrap();
/// let mut txn = tree.transaction();
/// assert!(anon_vma_prepare_in(&mut txn, &a).unwrap().anon.is_some());
/// ```
pub fn anon_vma_prepare_in(txn: &mut VmaTxn<'_>, vma: &Arc<Vma>) -> Result<Arc<Vma>, VmaError> {
    let current = txn.current(vma)?.clone();
    if current.anon.is_some() {
        return Ok(current);
    }
    let anon = match find_mergeable_anon_vma(txn, &current) {
        Some(lent) => AnonRef::with(lent, 1),
        None => AnonRef::new(),
    };
    let version = Arc::new(Vma { anon: Some(anon), ..(*current).clone() });
    txn.replace(version.clone())?;
    Ok(version)
}
