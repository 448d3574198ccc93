//! Per-area data: a value a runtime attaches to an area, which follows every piece of it.
//!
//! The value is shared (`Arc`), so splitting an area costs one reference count. Each piece
//! knows its page offset into the value: the offset rides on the area's pgoff (which every
//! split, trim and merge of this crate already keeps right), as `offset = pgoff - base`. The
//! value is dropped when the last area version holding it is gone and no reader can still
//! see one (the tree reclaims versions through its epoch).

use core::any::Any;
use core::fmt;
use std::sync::Arc;

/// What a runtime's per-area value decides: whether two areas carrying values may merge, and
/// what a fork's child gets. Both have defaults, so `impl AreaValue for MyType {}` is enough.
///
/// ```
/// use vma::{AreaValue, Fork};
/// /// Host memory backing guest pages: `host` is the host address of offset 0.
/// struct Host { host: u64 }
/// impl AreaValue for Host {
///     // Merge when the host pages continue too, even across two reservations.
///     fn continues(&self, end_offset: u64, next: &Host, next_offset: u64) -> bool {
///         self.host + end_offset * 4096 == next.host + next_offset * 4096
///     }
///     fn on_fork(&self) -> Fork<Host> {
///         Fork::Drop // the child gets its own host memory, attached later
///     }
/// }
/// let a = Host { host: 0x7000_0000 };
/// let b = Host { host: 0x7000_2000 };
/// assert!(a.continues(2, &b, 0));
/// assert!(!a.continues(1, &b, 0));
/// ```
pub trait AreaValue: Any + Send + Sync {
    /// Whether an area whose data is `self`, ending at page `end_offset` of it, may merge
    /// with the area right after it, whose data is `next` starting at page `next_offset`.
    /// The merged area keeps the data of the area that survives the merge (the left one
    /// when it grows, the right one when it grows down), with offsets continuing from it.
    ///
    /// The default: the same value (the same `Arc`), and contiguous offsets.
    ///
    /// ```
    /// use vma::AreaValue;
    /// struct Plain;
    /// impl AreaValue for Plain {}
    /// let v = Plain;
    /// assert!(v.continues(3, &v, 3));
    /// assert!(!v.continues(3, &v, 4));
    /// assert!(!v.continues(3, &Plain, 3));
    /// ```
    fn continues(&self, end_offset: u64, next: &Self, next_offset: u64) -> bool
    where
        Self: Sized,
    {
        core::ptr::eq(self, next) && end_offset == next_offset
    }

    /// What the child's copy of an area carrying this value gets at fork. The default
    /// shares the value.
    ///
    /// ```
    /// use vma::AreaValue;
    /// struct Plain;
    /// impl AreaValue for Plain {}
    /// assert!(matches!(Plain.on_fork(), vma::Fork::Share));
    /// ```
    fn on_fork(&self) -> Fork<Self>
    where
        Self: Sized,
    {
        Fork::Share
    }
}

/// The fork rule's answer for one area: what the child's area carries.
///
/// ```
/// let keep: vma::Fork<u32> = vma::Fork::Share;
/// assert!(matches!(keep, vma::Fork::Share));
/// ```
#[derive(Debug)]
pub enum Fork<T> {
    /// The child's area holds the same value.
    Share,
    /// The child's area holds this new value (at the same offsets).
    Copy(T),
    /// The child's area has no data.
    Drop,
}

/// The type-erased face of an [`AreaValue`], so areas can hold any runtime's type.
trait Erased: Send + Sync {
    fn as_any(&self) -> &dyn Any;
    fn continues_erased(&self, end_offset: u64, next: &dyn Erased, next_offset: u64) -> bool;
    fn fork_erased(&self) -> Fork<Arc<dyn Erased>>;
}

impl<T: AreaValue> Erased for T {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn continues_erased(&self, end_offset: u64, next: &dyn Erased, next_offset: u64) -> bool {
        next.as_any().downcast_ref::<T>().is_some_and(|next| self.continues(end_offset, next, next_offset))
    }

    fn fork_erased(&self) -> Fork<Arc<dyn Erased>> {
        match self.on_fork() {
            Fork::Share => Fork::Share,
            Fork::Copy(value) => Fork::Copy(Arc::new(value)),
            Fork::Drop => Fork::Drop,
        }
    }
}

/// A runtime's value attached to an area, and where the area lies in it.
///
/// Build one with [`AreaData::new`] and attach it with [`Vma::with_data`](crate::Vma::with_data)
/// (or `mm`'s `MapRequest::data`); read it back with [`Vma::data`](crate::Vma::data) and
/// [`Vma::data_offset`](crate::Vma::data_offset). Attaching places the data by the offset
/// set with [`AreaData::at_offset`] (0 by default), whatever areas it was on before.
///
/// ```
/// use vma::{AreaData, AreaValue, Vma, VmFlags};
/// struct Backing(&'static str);
/// impl AreaValue for Backing {}
/// let v = Vma::new(0x10_0000, 0x10_4000, 0x100, VmFlags::READ).with_data(AreaData::new(Backing("memfd 3")));
/// assert_eq!(v.data::<Backing>().unwrap().0, "memfd 3");
/// assert_eq!(v.data_offset(0x10_2000), Some(2));
/// ```
#[derive(Clone)]
pub struct AreaData {
    value: Arc<dyn Erased>,
    /// The data offset of the first page of the area it is attached to.
    start_offset: u64,
    /// Once attached: the area's pgoff at data offset 0 (wrapping), so `offset = pgoff - base`.
    base: u64,
}

impl AreaData {
    /// `value`, not yet attached (its offset 0 will be the start of the area it goes on).
    ///
    /// ```
    /// struct Plain;
    /// impl vma::AreaValue for Plain {}
    /// let data = vma::AreaData::new(Plain);
    /// assert!(data.get::<Plain>().is_some());
    /// ```
    pub fn new<T: AreaValue>(value: T) -> AreaData {
        AreaData::shared(Arc::new(value))
    }

    /// A value the runtime keeps a handle to as well.
    ///
    /// ```
    /// use std::sync::Arc;
    /// struct Plain;
    /// impl vma::AreaValue for Plain {}
    /// let value = Arc::new(Plain);
    /// let data = vma::AreaData::shared(value.clone());
    /// assert!(std::ptr::eq(data.get::<Plain>().unwrap(), &*value));
    /// ```
    pub fn shared<T: AreaValue>(value: Arc<T>) -> AreaData {
        AreaData { value: value as Arc<dyn Erased>, start_offset: 0, base: 0 }
    }

    /// This data with page `offset` of it at the start of the area it is attached to (0
    /// unless set): a runtime mapping the next part of the same value next to an area that
    /// holds its first pages, so that the two may merge.
    ///
    /// ```
    /// use vma::{AreaData, AreaValue, Vma, VmFlags};
    /// struct Tag;
    /// impl AreaValue for Tag {}
    /// let v = Vma::new(0, 0x2000, 0, VmFlags::READ).with_data(AreaData::new(Tag).at_offset(6));
    /// assert_eq!(v.data_offset(0x1000), Some(7));
    /// ```
    pub fn at_offset(mut self, offset: u64) -> AreaData {
        self.start_offset = offset;
        self
    }

    /// The value, when it is a `T`.
    ///
    /// ```
    /// struct Plain;
    /// impl vma::AreaValue for Plain {}
    /// assert!(vma::AreaData::new(Plain).get::<u32>().is_none());
    /// ```
    pub fn get<T: Any>(&self) -> Option<&T> {
        self.value.as_any().downcast_ref()
    }

    /// Whether both hold the same value (the same allocation).
    ///
    /// ```
    /// struct Plain;
    /// impl vma::AreaValue for Plain {}
    /// let a = vma::AreaData::new(Plain);
    /// assert!(a.same_value(&a.clone()));
    /// assert!(!a.same_value(&vma::AreaData::new(Plain)));
    /// ```
    pub fn same_value(&self, other: &AreaData) -> bool {
        core::ptr::addr_eq(Arc::as_ptr(&self.value), Arc::as_ptr(&other.value))
    }

    /// This data placed on an area whose pgoff at its start is `pgoff`.
    pub(crate) fn placed_at(mut self, pgoff: u64) -> AreaData {
        self.base = pgoff.wrapping_sub(self.start_offset);
        self
    }

    /// The same offsets for an area whose pgoff at a given address changes from `old` to
    /// `new` (mremap moving an area that has never been faulted takes a new pgoff).
    pub(crate) fn repgoffed(&self, old: u64, new: u64) -> AreaData {
        AreaData { base: self.base.wrapping_add(new.wrapping_sub(old)), ..self.clone() }
    }

    /// The data offset of the page at file offset `pgoff`.
    pub(crate) fn offset(&self, pgoff: u64) -> u64 {
        pgoff.wrapping_sub(self.base)
    }

    /// The fork rule applied ([`AreaValue::on_fork`]): what the child's copy of the area
    /// carries, at the same offsets.
    ///
    /// ```
    /// use vma::{AreaData, AreaValue, Fork};
    /// struct Private(u32);
    /// impl AreaValue for Private {
    ///     fn on_fork(&self) -> Fork<Private> { Fork::Copy(Private(self.0 + 1)) }
    /// }
    /// let parent = AreaData::new(Private(1));
    /// let child = parent.forked().unwrap();
    /// assert_eq!(child.get::<Private>().unwrap().0, 2);
    /// assert!(!child.same_value(&parent));
    /// ```
    pub fn forked(&self) -> Option<AreaData> {
        match self.value.fork_erased() {
            Fork::Share => Some(self.clone()),
            Fork::Copy(value) => Some(AreaData { value, ..self.clone() }),
            Fork::Drop => None,
        }
    }
}

/// Whether the data of an area ending at `left_end_pgoff` continues into the data of the area
/// starting at `right_pgoff` (both none counts as continuing; one none does not).
pub(crate) fn data_continues(
    left: Option<&AreaData>,
    left_end_pgoff: u64,
    right: Option<&AreaData>,
    right_pgoff: u64,
) -> bool {
    match (left, right) {
        (None, None) => true,
        (Some(l), Some(r)) => l.value.continues_erased(l.offset(left_end_pgoff), &*r.value, r.offset(right_pgoff)),
        _ => false,
    }
}

impl fmt::Debug for AreaData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AreaData").field("value", &Arc::as_ptr(&self.value)).field("base", &self.base).finish()
    }
}
