//! Node layout: 256-byte leaves and gap-tracking branches, and the raw pointers between them.
//!
//! A node covers an inclusive index range `[min, max]` that it does not store: the parent's
//! pivots (or, for the root, the whole `u64` space) say what it is. Slot `i` covers
//! `[first_of(i), last_of(i)]`, where pivot `i` is the last index of slot `i` and the last used
//! slot ends at the node's `max`. Pivots past the last used one hold `u64::MAX`, so a lookup
//! can count the pivots below an index over the whole fixed array, without a length check and
//! in a form the compiler vectorises.
//!
//! Published nodes are immutable. A writer changes only nodes that no reader can reach: nodes
//! of the open transaction (`fresh`), or any node when it holds the tree exclusively.

use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::ptr::NonNull;

use arrayvec::ArrayVec;

use crate::sync::Witness;

/// Slots in a leaf.
pub(crate) const LEAF_SLOTS: usize = 16;
/// Slots (children) in a branch.
pub(crate) const BRANCH_SLOTS: usize = 10;
/// Fewest slots a leaf other than the root may use.
pub(crate) const LEAF_MIN: usize = 6;
/// Fewest children a branch other than the root may have.
pub(crate) const BRANCH_MIN: usize = 4;
/// Deepest tree the cursors can walk. Branches hold at least four children, so a tree this
/// tall would need more than 4^22 leaves (petabytes of nodes): no real tree gets near it.
pub(crate) const MAX_HEIGHT: usize = 24;

/// Which of the two node layouts a pointer leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Kind {
    Leaf,
    Branch,
}

/// The fields every node starts with.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct Header {
    kind: Kind,
    /// Slots in use, 1 ..= the layout's capacity.
    len: u8,
    /// Set while the node belongs to an open transaction and no reader can reach it.
    fresh: bool,
    /// Leaves: bit `i` is set when slot `i` holds a value.
    occupied: u16,
    /// Branches: bit `i` is set when child `i` is fresh, so that sealing or discarding a
    /// transaction's nodes visits only those, never the headers of the children it kept.
    /// Leaves: bit `i` is set when slot `i`'s value is borrowed: a bitwise copy of a value that
    /// a published (or sealed) leaf still owns. A commit hands ownership to the copy and
    /// clears the marks; a discard forgets borrowed values instead of dropping them.
    marks: u16,
    witness: Witness,
}

/// A leaf: 15 pivots and 16 value slots (256 bytes for pointer-sized values).
///
/// Nodes have their fields' natural alignment, not the cache line's: an over-aligned
/// allocation takes the allocator's slow path (glibc's `memalign`) and spreads the nodes
/// out, which cost clones and builds 2.5x and cold lookups 20% more than the occasional
/// extra line a lookup touches (docs/benchmarks.md, "Node alignment").
#[repr(C)]
pub(crate) struct Leaf<T> {
    head: Header,
    pivots: [u64; LEAF_SLOTS - 1],
    slots: [MaybeUninit<T>; LEAF_SLOTS],
}

/// A branch: 9 pivots, 10 children, per child the largest empty run below it, and the
/// number of values in its whole subtree.
///
/// The children follow the pivots, so a lookup reads the header, the pivots and the child
/// pointer from the first two or three cache lines; the gaps, read only by gap searches and
/// writers, and the count, come last.
#[repr(C)]
pub(crate) struct Branch<T> {
    head: Header,
    pivots: [u64; BRANCH_SLOTS - 1],
    children: [Option<NodePtr<T>>; BRANCH_SLOTS],
    gaps: [u64; BRANCH_SLOTS],
    /// Values (ranges holding a value) in the subtree: the sum of the children's counts.
    count: u64,
}

/// A pointer to a leaf or a branch of a tree of `T`.
pub(crate) struct NodePtr<T> {
    ptr: NonNull<Header>,
    _marker: PhantomData<*const T>,
}

impl<T> Clone for NodePtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for NodePtr<T> {}
impl<T> PartialEq for NodePtr<T> {
    fn eq(&self, other: &Self) -> bool {
        self.ptr == other.ptr
    }
}
impl<T> Eq for NodePtr<T> {}
impl<T> core::fmt::Debug for NodePtr<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:p}", self.ptr)
    }
}

/// A shared view of a node, typed by its layout.
pub(crate) enum NodeRef<'a, T> {
    Leaf(&'a Leaf<T>),
    Branch(&'a Branch<T>),
}

/// One slot of a leaf being built: the range's last index and its value (`None`: empty).
/// The range's first index is the previous item's last plus one.
pub(crate) struct Item<T> {
    pub(crate) last: u64,
    pub(crate) value: Option<T>,
}

/// One child of a branch being built: the last index of its range, its largest empty run,
/// the number of values below it, and the node.
pub(crate) struct Child<T> {
    pub(crate) last: u64,
    pub(crate) gap: u64,
    pub(crate) count: u64,
    pub(crate) node: NodePtr<T>,
}

impl<T> Clone for Child<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Child<T> {}

/// What leaves and branches share: slots delimited by `P` pivots, and the arithmetic that
/// turns them into ranges.
pub(crate) trait Slots<const P: usize> {
    fn head(&self) -> &Header;
    fn pivots(&self) -> &[u64; P];

    /// Slots in use.
    fn len(&self) -> usize {
        usize::from(self.head().len)
    }

    /// The slot holding `index` (which must lie in the node's range): the number of pivots
    /// strictly below it, counted over the whole fixed array (unused pivots are `u64::MAX`).
    #[inline(always)]
    fn slot_of(&self, index: u64) -> usize {
        self.pivots().iter().map(|&p| usize::from(p < index)).sum()
    }

    /// The first index of `slot` in a node whose range starts at `min`.
    #[inline(always)]
    fn first_of(&self, slot: usize, min: u64) -> u64 {
        if slot == 0 {
            min
        } else {
            self.pivots()[slot - 1] + 1
        }
    }

    /// The last index of `slot` in a node whose range ends at `max`.
    #[inline(always)]
    fn last_of(&self, slot: usize, max: u64) -> u64 {
        if slot + 1 < self.len() {
            self.pivots()[slot]
        } else {
            max
        }
    }
}

impl<T> Slots<{ LEAF_SLOTS - 1 }> for Leaf<T> {
    fn head(&self) -> &Header {
        &self.head
    }

    fn pivots(&self) -> &[u64; LEAF_SLOTS - 1] {
        &self.pivots
    }
}

impl<T> Slots<{ BRANCH_SLOTS - 1 }> for Branch<T> {
    fn head(&self) -> &Header {
        &self.head
    }

    fn pivots(&self) -> &[u64; BRANCH_SLOTS - 1] {
        &self.pivots
    }
}

/// The number of indexes in `[first, last]`, saturating at `u64::MAX` for the whole space.
pub(crate) fn span(first: u64, last: u64) -> u64 {
    (last - first).saturating_add(1)
}

impl<T> NodePtr<T> {
    pub(crate) fn from_leaf(leaf: NonNull<Leaf<T>>) -> Self {
        Self { ptr: leaf.cast(), _marker: PhantomData }
    }

    pub(crate) fn from_branch(branch: NonNull<Branch<T>>) -> Self {
        Self { ptr: branch.cast(), _marker: PhantomData }
    }

    pub(crate) fn as_raw(self) -> *mut Header {
        self.ptr.as_ptr()
    }

    /// # Safety
    /// `raw` is null or points to a live node of a tree of `T`.
    pub(crate) unsafe fn from_raw(raw: *mut Header) -> Option<Self> {
        NonNull::new(raw).map(|ptr| Self { ptr, _marker: PhantomData })
    }

    fn header(&self) -> &Header {
        // SAFETY: every NodePtr points to a live, initialised node (the callers of the
        // constructors promise it) and the header is its first field under `repr(C)`.
        unsafe { self.ptr.as_ref() }
    }

    /// Reads the node.
    ///
    /// # Safety
    /// The node must stay alive and unchanged for `'a`: it is published and the caller holds
    /// an epoch guard, or the caller has the writer's access to it.
    #[inline(always)]
    pub(crate) unsafe fn get<'a>(self) -> NodeRef<'a, T> {
        // SAFETY: the caller keeps the node alive for 'a; the header names its layout.
        unsafe {
            let head = &*self.ptr.as_ptr();
            head.witness.saw();
            match head.kind {
                Kind::Leaf => NodeRef::Leaf(&*self.ptr.as_ptr().cast::<Leaf<T>>()),
                Kind::Branch => NodeRef::Branch(&*self.ptr.as_ptr().cast::<Branch<T>>()),
            }
        }
    }

    /// Asks the processor to start loading the node's first cache line (its header and
    /// first pivots), so that a walk over many nodes overlaps their memory latencies.
    #[inline(always)]
    pub(crate) fn prefetch(self) {
        #[cfg(all(target_arch = "x86_64", not(miri), not(loom)))]
        // SAFETY: a prefetch is a hint: it reads nothing the program sees and never faults,
        // whatever the address.
        unsafe {
            core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(self.ptr.as_ptr().cast())
        };
    }

    pub(crate) fn kind(self) -> Kind {
        self.header().kind
    }

    /// The number of values in the node's subtree: the occupied slots of a leaf, the stored
    /// count of a branch. O(1).
    ///
    /// # Safety
    /// As for [`get`](Self::get), for the duration of the call.
    #[inline]
    pub(crate) unsafe fn count(self) -> u64 {
        // SAFETY: the caller keeps the node alive and unchanged while it is read.
        match unsafe { self.get() } {
            NodeRef::Leaf(leaf) => leaf.count(),
            NodeRef::Branch(branch) => branch.count(),
        }
    }

    pub(crate) fn is_fresh(self) -> bool {
        self.header().fresh
    }

    /// # Safety
    /// The node is a leaf and the caller has the writer's access to it (no reader can reach it).
    pub(crate) unsafe fn leaf_mut<'a>(self) -> &'a mut Leaf<T> {
        debug_assert_eq!(self.kind(), Kind::Leaf);
        // SAFETY: the caller promises a leaf that nobody else can reach.
        unsafe { &mut *self.ptr.as_ptr().cast::<Leaf<T>>() }
    }

    /// # Safety
    /// The node is a branch and the caller has the writer's access to it.
    pub(crate) unsafe fn branch_mut<'a>(self) -> &'a mut Branch<T> {
        debug_assert_eq!(self.kind(), Kind::Branch);
        // SAFETY: the caller promises a branch that nobody else can reach.
        unsafe { &mut *self.ptr.as_ptr().cast::<Branch<T>>() }
    }

    /// Clears the `fresh` mark of this node and of every fresh node below it, making the
    /// subtree ready for publication, and calls `sealed` with each node it seals.
    ///
    /// # Safety
    /// The caller has the writer's access to every fresh node below.
    pub(crate) unsafe fn seal_with(self, sealed: &mut impl FnMut(NodePtr<T>)) {
        if !self.is_fresh() {
            return;
        }
        // SAFETY: fresh nodes are private to the writer; a fresh node's children are either
        // fresh (private) or sealed or published (left alone).
        unsafe {
            let head = &mut *self.ptr.as_ptr();
            head.fresh = false;
            head.witness.wrote();
            if head.kind == Kind::Branch {
                let branch = self.branch_mut();
                for child in branch.fresh_children() {
                    child.seal_with(sealed);
                }
                branch.head.marks = 0;
            }
        }
        sealed(self);
    }
}

impl Header {
    fn new(kind: Kind, fresh: bool) -> Self {
        Self { kind, len: 0, fresh, occupied: 0, marks: 0, witness: Witness::default() }
    }
}

impl<T> Leaf<T> {
    /// An empty leaf (no slots in use yet).
    pub(crate) fn new(fresh: bool) -> Self {
        Self {
            head: Header::new(Kind::Leaf, fresh),
            pivots: [u64::MAX; LEAF_SLOTS - 1],
            slots: [const { MaybeUninit::uninit() }; LEAF_SLOTS],
        }
    }

    pub(crate) fn is_occupied(&self, slot: usize) -> bool {
        self.head.occupied & (1 << slot) != 0
    }

    /// Bit `i` set: slot `i` holds a value.
    #[inline(always)]
    pub(crate) fn occupied(&self) -> u16 {
        self.head.occupied
    }

    /// The number of slots holding a value.
    pub(crate) fn count(&self) -> u64 {
        u64::from(self.head.occupied.count_ones())
    }

    /// The value in `slot`, or `None` for an empty range.
    #[inline(always)]
    pub(crate) fn value(&self, slot: usize) -> Option<&T> {
        if self.is_occupied(slot) {
            // SAFETY: the occupied bit says the slot was initialised and not taken since.
            Some(unsafe { self.slots[slot].assume_init_ref() })
        } else {
            None
        }
    }

    /// The largest empty run in the leaf, in indexes.
    pub(crate) fn largest_gap(&self, min: u64, max: u64) -> u64 {
        let in_use = (1u32 << self.len()) - 1;
        let mut empty = !u32::from(self.head.occupied) & in_use;
        let mut largest = 0;
        while empty != 0 {
            let slot = empty.trailing_zeros() as usize;
            empty &= empty - 1;
            largest = largest.max(span(self.first_of(slot, min), self.last_of(slot, max)));
        }
        largest
    }

    /// Moves the value out of `slot`, leaving it empty.
    pub(crate) fn take(&mut self, slot: usize) -> Option<T> {
        if !self.is_occupied(slot) {
            return None;
        }
        self.head.occupied &= !(1 << slot);
        self.head.marks &= !(1 << slot);
        // SAFETY: the bit was set, so the slot is initialised; clearing it first means the
        // value is read out exactly once.
        Some(unsafe { self.slots[slot].assume_init_read() })
    }

    /// Whether slot `slot`'s value is borrowed (see the header's marks).
    pub(crate) fn is_borrowed(&self, slot: usize) -> bool {
        self.head.marks & (1 << slot) != 0
    }

    /// Drops every value the leaf owns; borrowed values are forgotten (their owner drops them).
    pub(crate) fn drop_values(&mut self) {
        for slot in 0..self.len() {
            let borrowed = self.is_borrowed(slot);
            if let Some(value) = self.take(slot) {
                if borrowed {
                    core::mem::forget(value);
                }
            }
        }
    }

    /// Takes ownership of the borrowed values (their old owner has become a shell).
    pub(crate) fn own_borrowed(&mut self) {
        self.head.marks = 0;
    }

    /// Fills an emptied leaf with `items` (at most 16; the last ends at the leaf's max).
    pub(crate) fn fill(&mut self, items: impl ExactSizeIterator<Item = Item<T>>) {
        debug_assert_eq!(self.head.occupied, 0, "fill needs an emptied leaf");
        let len = items.len();
        debug_assert!((1..=LEAF_SLOTS).contains(&len));
        self.pivots = [u64::MAX; LEAF_SLOTS - 1];
        for (slot, item) in items.enumerate() {
            if slot + 1 < len {
                self.pivots[slot] = item.last;
            }
            if let Some(value) = item.value {
                self.slots[slot].write(value);
                self.head.occupied |= 1 << slot;
            }
        }
        self.head.len = len as u8;
        self.head.witness.wrote();
    }

    /// Replaces slots `cut` with `pieces` (at most three), keeping the slots before and after
    /// where they are in order: the edit of a store that stays inside this leaf. The replaced
    /// slots must hold no values (the caller takes them first). The result must fit: `len - cut.len() + pieces.len()`
    /// slots at most 16, and a last piece that becomes the leaf's last slot ends at its max.
    pub(crate) fn splice(&mut self, cut: core::ops::Range<usize>, pieces: ArrayVec<Item<T>, 3>) {
        let (len, added) = (self.len(), pieces.len());
        let new_len = len - cut.len() + added;
        debug_assert!(cut.start < cut.end && cut.end <= len && new_len <= LEAF_SLOTS);
        debug_assert!(cut.clone().all(|slot| !self.is_occupied(slot)), "the caller takes the cut values");
        if added == cut.len() {
            self.overwrite(cut.start, pieces);
            return;
        }
        // Slot i ends at lasts[i]; the last slot's end is implicit (its pivot is u64::MAX).
        let mut lasts = [u64::MAX; LEAF_SLOTS];
        lasts[..LEAF_SLOTS - 1].copy_from_slice(&self.pivots);
        let below = (1 << cut.start) - 1;
        let kept_below = u32::from(self.head.occupied) & below;
        let after = u32::from(self.head.occupied) >> cut.end;
        let borrowed =
            (u32::from(self.head.marks) & below) | ((u32::from(self.head.marks) >> cut.end) << (cut.start + added));
        let to = cut.start + added;
        // Move the slots after the cut next to the pieces: the emptied slots rotate out of the
        // way (moving, never copying or dropping, the values).
        if to < cut.end {
            self.slots[to..len].rotate_left(cut.end - to);
        } else if to > cut.end {
            self.slots[cut.end..new_len].rotate_right(to - cut.end);
        }
        lasts.copy_within(cut.end..len, to);
        let mut occupied = kept_below | (after << to);
        for (offset, piece) in pieces.into_iter().enumerate() {
            let slot = cut.start + offset;
            lasts[slot] = piece.last;
            if let Some(value) = piece.value {
                self.slots[slot].write(value);
                occupied |= 1 << slot;
            }
        }
        lasts[new_len - 1..].fill(u64::MAX);
        self.pivots.copy_from_slice(&lasts[..LEAF_SLOTS - 1]);
        self.head.occupied = occupied as u16;
        self.head.marks = borrowed as u16;
        self.head.len = new_len as u8;
        self.head.witness.wrote();
    }

    /// Puts `value` in `slot`, whose range stays as it is; the slot must hold no value (the
    /// caller takes the old one first).
    pub(crate) fn put(&mut self, slot: usize, value: T) {
        debug_assert!(slot < self.len() && !self.is_occupied(slot));
        self.slots[slot].write(value);
        self.head.occupied |= 1 << slot;
        self.head.witness.wrote();
    }

    /// Replaces as many slots as there are `pieces`, from `first` on: no slot moves.
    fn overwrite(&mut self, first: usize, pieces: ArrayVec<Item<T>, 3>) {
        for (slot, piece) in (first..).zip(pieces) {
            if slot + 1 < self.len() {
                self.pivots[slot] = piece.last;
            }
            if let Some(value) = piece.value {
                self.slots[slot].write(value);
                self.head.occupied |= 1 << slot;
            }
        }
        self.head.witness.wrote();
    }

    /// Makes this emptied leaf a copy of `old` whose values are borrowed: bitwise copies that
    /// `old` still owns, so that no value is cloned (or, later, dropped) to copy a leaf.
    ///
    /// # Safety
    /// `old` must stay alive, with its values, while the copy's marks say they are borrowed:
    /// until a commit hands them over (and retires `old` as a shell) or the copy is discarded.
    pub(crate) unsafe fn borrow_from(&mut self, old: &Leaf<T>) {
        debug_assert_eq!(self.head.occupied, 0, "borrow_from needs an emptied leaf");
        self.pivots = old.pivots;
        self.head.len = old.head.len;
        // SAFETY: both arrays hold LEAF_SLOTS possibly-uninitialised slots; copying their bytes
        // duplicates no ownership, since the copies are marked borrowed.
        unsafe { core::ptr::copy_nonoverlapping(old.slots.as_ptr(), self.slots.as_mut_ptr(), LEAF_SLOTS) };
        self.head.occupied = old.head.occupied;
        self.head.marks = old.head.occupied;
        self.head.witness.wrote();
    }

    /// Makes this emptied leaf a copy of `old` with every value cloned. If a clone panics,
    /// the leaf holds the values cloned so far and drops them as usual.
    pub(crate) fn clone_from_leaf(&mut self, old: &Leaf<T>)
    where
        T: Clone,
    {
        debug_assert_eq!(self.head.occupied, 0, "clone_from_leaf needs an emptied leaf");
        self.pivots = old.pivots;
        self.head.len = old.head.len;
        let mut left = old.head.occupied;
        while left != 0 {
            let slot = left.trailing_zeros() as usize;
            left &= left - 1;
            // SAFETY: the occupied bit says the slot of `old` holds a value.
            let value = unsafe { old.slots[slot].assume_init_ref() }.clone();
            self.slots[slot].write(value);
            self.head.occupied |= 1 << slot;
        }
        self.head.witness.wrote();
    }

    /// Readies a spare leaf for filling: no slot in use, none holding a value. A spare's
    /// values were dropped when it was emptied, or need no dropping (and are forgotten here).
    pub(crate) fn reuse(&mut self, fresh: bool) {
        self.head.fresh = fresh;
        self.head.len = 0;
        self.head.occupied = 0;
        self.head.marks = 0;
    }

    /// Drops the values and marks every slot unused, ready to be filled again.
    pub(crate) fn empty_out(&mut self) {
        self.drop_values();
        self.head.len = 0;
    }
}

impl<T> Drop for Leaf<T> {
    fn drop(&mut self) {
        self.drop_values();
    }
}

impl<T> Branch<T> {
    /// A branch with no children yet.
    pub(crate) fn new(fresh: bool) -> Self {
        Self {
            head: Header::new(Kind::Branch, fresh),
            pivots: [u64::MAX; BRANCH_SLOTS - 1],
            gaps: [0; BRANCH_SLOTS],
            children: [None; BRANCH_SLOTS],
            count: 0,
        }
    }

    #[inline(always)]
    pub(crate) fn child(&self, slot: usize) -> NodePtr<T> {
        self.children[slot].expect("slot in use")
    }

    pub(crate) fn children(&self) -> impl Iterator<Item = NodePtr<T>> + '_ {
        self.children[..self.len()].iter().map(|child| child.expect("slot in use"))
    }

    /// The children that were fresh when they were linked here (sealing clears the marks).
    pub(crate) fn fresh_children(&self) -> impl Iterator<Item = NodePtr<T>> + '_ {
        (0..self.len()).filter(|&slot| self.is_fresh_child(slot)).map(|slot| self.child(slot))
    }

    /// Whether child `slot` is marked fresh.
    pub(crate) fn is_fresh_child(&self, slot: usize) -> bool {
        self.head.marks & (1 << slot) != 0
    }

    /// Links `child` at `slot`, noting whether it is fresh.
    fn link(&mut self, slot: usize, child: NodePtr<T>) {
        self.children[slot] = Some(child);
        let bit = 1 << slot;
        if child.is_fresh() {
            self.head.marks |= bit;
        } else {
            self.head.marks &= !bit;
        }
    }

    pub(crate) fn gaps(&self) -> &[u64; BRANCH_SLOTS] {
        &self.gaps
    }

    pub(crate) fn gap(&self, slot: usize) -> u64 {
        self.gaps[slot]
    }

    pub(crate) fn set_gap(&mut self, slot: usize, gap: u64) {
        self.gaps[slot] = gap;
        self.head.witness.wrote();
    }

    pub(crate) fn largest_gap(&self) -> u64 {
        self.gaps.iter().copied().max().unwrap_or(0)
    }

    /// The number of values in the subtree.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// Adjusts the count after a change below that added (or, negative, removed) `delta`
    /// values.
    pub(crate) fn add_count(&mut self, delta: i64) {
        self.count = self.count.checked_add_signed(delta).expect("a subtree's count stays in range");
        self.head.witness.wrote();
    }

    /// The children as items for a rebuild, with the child ranges' last indexes. Reads the
    /// child's count (a leaf's header, a branch's count field).
    pub(crate) fn child_item(&self, slot: usize, max: u64) -> Child<T> {
        let node = self.child(slot);
        // SAFETY: the children of a live branch are alive and, while the branch is borrowed
        // (it is published, or the writer's and not being changed), unchanged.
        let count = unsafe { node.count() };
        Child { last: self.last_of(slot, max), gap: self.gaps[slot], count, node }
    }

    /// Replaces the children with `items` (at most 10; the last ends at the branch's max);
    /// the count becomes the sum of theirs.
    pub(crate) fn fill(&mut self, items: &[Child<T>]) {
        debug_assert!((1..=BRANCH_SLOTS).contains(&items.len()));
        self.pivots = [u64::MAX; BRANCH_SLOTS - 1];
        self.gaps = [0; BRANCH_SLOTS];
        self.children = [None; BRANCH_SLOTS];
        self.head.marks = 0;
        self.count = 0;
        for (slot, item) in items.iter().enumerate() {
            if slot + 1 < items.len() {
                self.pivots[slot] = item.last;
            }
            self.gaps[slot] = item.gap;
            self.link(slot, item.node);
            self.count += item.count;
        }
        self.head.len = items.len() as u8;
        self.head.witness.wrote();
    }

    pub(crate) fn set_fresh(&mut self, fresh: bool) {
        self.head.fresh = fresh;
    }

    /// Makes this branch a copy of `old` (children shared, not copied).
    pub(crate) fn copy_from(&mut self, old: &Branch<T>) {
        self.pivots = old.pivots;
        self.children = old.children;
        self.gaps = old.gaps;
        self.count = old.count;
        self.head.len = old.head.len;
        // A node the writer may not change has no fresh children: the copy starts without.
        self.head.marks = 0;
        self.head.witness.wrote();
    }

    /// Points `slot` at `child` (a copy of the child it had).
    pub(crate) fn set_child(&mut self, slot: usize, child: NodePtr<T>) {
        debug_assert!(slot < self.len());
        self.link(slot, child);
        self.head.witness.wrote();
    }

    /// Forgets the children (without freeing them), ready to be filled again.
    pub(crate) fn empty_out(&mut self) {
        self.children = [None; BRANCH_SLOTS];
        self.head.marks = 0;
        self.count = 0;
        self.head.len = 0;
    }
}

/// Frees one node, not its children. A leaf's remaining values are dropped with it.
///
/// # Safety
/// No reader or other owner can reach the node any more, and it was allocated as a `Box`.
pub(crate) unsafe fn free_node<T>(node: NodePtr<T>) {
    // SAFETY: the caller hands over the only remaining reference to a boxed node.
    unsafe {
        match node.kind() {
            Kind::Leaf => drop(Box::from_raw(node.as_raw().cast::<Leaf<T>>())),
            Kind::Branch => drop(Box::from_raw(node.as_raw().cast::<Branch<T>>())),
        }
    }
}

/// Frees a spare node's memory without dropping anything in it: spares own no values (a
/// spare leaf's slots may still hold the bits of values that moved on or need no drop).
///
/// # Safety
/// The caller owns `node`, a node of `kind` allocated as a `Box`, which owns no values.
pub(crate) unsafe fn free_spare<T>(node: NodePtr<T>, kind: Kind) {
    let layout = match kind {
        Kind::Leaf => core::alloc::Layout::new::<Leaf<T>>(),
        Kind::Branch => core::alloc::Layout::new::<Branch<T>>(),
    };
    // SAFETY: allocated with this layout (as a Box or by the pool, which uses the node's own
    // layout); nothing in it needs dropping.
    unsafe { std::alloc::dealloc(node.as_raw().cast(), layout) };
}

/// Frees a node and everything below it.
///
/// # Safety
/// As for [`free_node`], for every node of the subtree.
pub(crate) unsafe fn free_subtree<T>(node: NodePtr<T>) {
    // SAFETY: the caller owns the whole subtree; children are freed before their parent.
    unsafe {
        if let NodeRef::Branch(branch) = node.get() {
            for child in branch.children() {
                free_subtree(child);
            }
        }
        free_node(node);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn nodes_fit_256_bytes_for_pointer_sized_values() {
        assert_eq!(core::mem::size_of::<Leaf<Box<u64>>>(), 256);
        assert_eq!(core::mem::size_of::<Branch<Box<u64>>>(), 248);
        assert_eq!(core::mem::offset_of!(Branch<Box<u64>>, count), 240);
    }

    #[test]
    fn leaf_slot_search_counts_pivots_below() {
        let mut leaf = Leaf::<u32>::new(false);
        leaf.fill(
            [Item { last: 9, value: Some(1) }, Item { last: 19, value: None }, Item { last: 99, value: Some(3) }]
                .into_iter(),
        );
        assert_eq!(leaf.slot_of(0), 0);
        assert_eq!(leaf.slot_of(9), 0);
        assert_eq!(leaf.slot_of(10), 1);
        assert_eq!(leaf.slot_of(20), 2);
        assert_eq!(leaf.slot_of(u64::MAX), 2);
        assert_eq!(leaf.value(1), None);
        assert_eq!(leaf.value(2), Some(&3));
        assert_eq!(leaf.largest_gap(0, 99), 10);
    }
}
