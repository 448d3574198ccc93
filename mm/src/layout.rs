//! Where things go in an address space, and the limits it enforces.

use core::fmt;

use vma::{DEFAULT_MAX_MAP_COUNT, PAGE_SIZE};

use crate::RLIM_INFINITY;

/// The shape of an address space (x86_64 defaults with 4 KiB pages).
///
/// ```
/// let layout = mm::Layout::default();
/// assert_eq!(layout.task_size, 0x7fff_ffff_f000);
/// assert!(layout.top_down);
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// One past the highest user address.
    pub task_size: u64,
    /// Where top-down allocation starts (the highest end of an allocated area); bottom-up
    /// allocation starts at `task_size / 3` as in Linux.
    pub mmap_base: u64,
    /// The lowest address a mapping may use (`vm.mmap_min_addr`).
    pub mmap_min_addr: u64,
    /// Top-down allocation (the default), or bottom-up (legacy layout).
    pub top_down: bool,
    /// Where the heap starts (`start_brk`).
    pub brk_start: u64,
    /// The gap kept below a growsdown area (`stack_guard_gap`, 256 pages).
    pub stack_guard_gap: u64,
    /// An address in the main thread's stack (`mm->start_stack`): `/proc/PID/maps` names
    /// the area holding it `[stack]`. 0: no stack named (the default; an address space built
    /// from a real one's maps sets it).
    pub start_stack: u64,
}

/// `RLIMIT_STACK`'s default soft limit (`_STK_LIM`, 8 MiB).
pub(crate) const DEFAULT_STACK_LIMIT: u64 = 8 << 20;

/// The smallest gap Linux leaves between the top of the task and `mmap_base` (128 MiB).
const MIN_MMAP_GAP: u64 = 128 << 20;

/// The default layout is Linux's for the default stack limit (8 MiB) without address-space
/// randomisation: [`Layout::for_stack_limit`] of 8 MiB, `mmap_base` 128 MiB below the top.
impl Default for Layout {
    fn default() -> Layout {
        Layout::for_stack_limit(DEFAULT_STACK_LIMIT)
    }
}

impl Layout {
    /// The layout Linux x86_64 gives a process created (exec'd) with a stack limit
    /// (`RLIMIT_STACK`) of `stack_limit` bytes and randomisation off (`setarch -R`): the
    /// default task size and guard gap, and `mmap_base` below the room kept for the stack.
    ///
    /// The room is the stack limit plus the stack guard gap (the limit alone when the sum
    /// overflows, as for `RLIM_INFINITY`), but at least 128 MiB and at most 5/6 of the task
    /// size; `mmap_base` is the task size less the room, rounded up to a page. An unlimited
    /// stack keeps the top-down layout (Linux 6.18 x86_64 switches to bottom-up only for the
    /// legacy personality or `vm.legacy_va_layout`). As in Linux, `mmap_base` is fixed when
    /// the address space is created: a later [`Mm::setrlimit`](crate::Mm::setrlimit) of the
    /// stack changes how far stacks grow, not where mappings go.
    ///
    /// ```
    /// use mm::Layout;
    /// // 8 MiB + 1 MiB is less than 128 MiB: the minimum gap applies.
    /// assert_eq!(Layout::for_stack_limit(8 << 20).mmap_base, 0x7fff_f7ff_f000);
    /// // 128 MiB + 1 MiB of room.
    /// assert_eq!(Layout::for_stack_limit(128 << 20).mmap_base, 0x7fff_f7ef_f000);
    /// // Unlimited: 5/6 of the task size, still top-down.
    /// let unlimited = Layout::for_stack_limit(mm::RLIM_INFINITY);
    /// assert_eq!(unlimited.mmap_base, 0x1555_5555_6000);
    /// assert!(unlimited.top_down);
    /// ```
    pub fn for_stack_limit(stack_limit: u64) -> Layout {
        let task_size = (1 << 47) - PAGE_SIZE;
        let stack_guard_gap = 256 * PAGE_SIZE;
        let room = stack_limit.checked_add(stack_guard_gap).unwrap_or(stack_limit);
        let room = room.clamp(MIN_MMAP_GAP, task_size / 6 * 5);
        let mmap_base = (task_size - room).next_multiple_of(PAGE_SIZE);
        Layout {
            task_size,
            mmap_base,
            mmap_min_addr: 0x1_0000,
            top_down: true,
            brk_start: 0x5555_5600_0000,
            stack_guard_gap,
            start_stack: 0,
        }
    }

    /// The lowest address bottom-up allocation uses (`TASK_UNMAPPED_BASE`).
    ///
    /// ```
    /// let layout = mm::Layout::default();
    /// assert_eq!(layout.unmapped_base() % 4096, 0);
    /// ```
    pub fn unmapped_base(&self) -> u64 {
        (self.task_size / 3) & !(PAGE_SIZE - 1)
    }
}

/// Resource limits of an address space. The defaults are those of a root process on a
/// default Linux system: everything unlimited except the map count, the stack (8 MiB, hard
/// limit unlimited) and locked memory (8 MiB, hard limit the same), with `CAP_IPC_LOCK` and
/// `CAP_SYS_RESOURCE`.
///
/// The four resource fields are the soft limits (`rlim_cur`) that the calls enforce;
/// [`Limits::hard`] holds their hard limits. [`Mm::setrlimit`](crate::Mm::setrlimit) changes
/// both at run time, [`Mm::limits`](crate::Mm::limits) reads them back. An address space made
/// with a soft limit above its hard limit takes the hard limit up to the soft one.
///
/// The address-space, data, lock and commit limits are checked against totals summed over
/// the areas when a call needs them (O(areas)), and only when the limit is finite (or, for
/// the lock limit, without `CAP_IPC_LOCK`); the defaults cost nothing.
///
/// ```
/// let limits = mm::Limits::default();
/// assert_eq!(limits.max_map_count, 65530);
/// assert_eq!(limits.stack, 8 << 20);
/// assert_eq!(limits.hard.stack, mm::RLIM_INFINITY);
/// assert_eq!(limits.data, mm::RLIM_INFINITY);
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `vm.max_map_count`: the most VMAs the space may hold.
    pub max_map_count: usize,
    /// `RLIMIT_AS` in bytes: the most address space mapped in all.
    pub address_space: u64,
    /// `RLIMIT_DATA` in bytes: the most private writable memory that is not a stack
    /// (mappings and the heap).
    pub data: u64,
    /// `RLIMIT_STACK` in bytes: how far a growsdown area may grow.
    pub stack: u64,
    /// `RLIMIT_MEMLOCK` in bytes.
    pub memlock: u64,
    /// The hard limits (`rlim_max`) of the four resources above.
    pub hard: HardLimits,
    /// Whether the caller has `CAP_IPC_LOCK` (locks ignore `memlock`).
    pub ipc_lock: bool,
    /// Whether the caller has `CAP_SYS_RESOURCE` (may raise hard limits).
    pub sys_resource: bool,
    /// The commit limit in pages for VM_ACCOUNT charges (`None`: the heuristic overcommit
    /// mode, which refuses nothing this model can ask).
    pub commit_pages: Option<u64>,
}

/// The hard limits (`rlim_max`) of the resources in [`Limits`]: how far an unprivileged
/// caller may raise the soft ones.
///
/// ```
/// let hard = mm::HardLimits::default();
/// assert_eq!(hard.memlock, 8 << 20);
/// assert_eq!(hard.address_space, mm::RLIM_INFINITY);
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct HardLimits {
    /// `RLIMIT_AS`'s hard limit in bytes.
    pub address_space: u64,
    /// `RLIMIT_DATA`'s hard limit in bytes.
    pub data: u64,
    /// `RLIMIT_STACK`'s hard limit in bytes.
    pub stack: u64,
    /// `RLIMIT_MEMLOCK`'s hard limit in bytes.
    pub memlock: u64,
}

impl Default for HardLimits {
    fn default() -> HardLimits {
        HardLimits { address_space: RLIM_INFINITY, data: RLIM_INFINITY, stack: RLIM_INFINITY, memlock: 8 << 20 }
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_map_count: DEFAULT_MAX_MAP_COUNT,
            address_space: RLIM_INFINITY,
            data: RLIM_INFINITY,
            stack: DEFAULT_STACK_LIMIT,
            memlock: 8 << 20,
            hard: HardLimits::default(),
            ipc_lock: true,
            sys_resource: true,
            commit_pages: None,
        }
    }
}

/// Addresses and sizes in hexadecimal.
///
/// ```
/// let shown = format!("{:?}", mm::Layout::default());
/// assert!(shown.contains("task_size: 0x7ffffffff000"));
/// ```
impl fmt::Debug for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Layout")
            .field("task_size", &format_args!("{:#x}", self.task_size))
            .field("mmap_base", &format_args!("{:#x}", self.mmap_base))
            .field("mmap_min_addr", &format_args!("{:#x}", self.mmap_min_addr))
            .field("top_down", &self.top_down)
            .field("brk_start", &format_args!("{:#x}", self.brk_start))
            .field("stack_guard_gap", &format_args!("{:#x}", self.stack_guard_gap))
            .field("start_stack", &format_args!("{:#x}", self.start_stack))
            .finish()
    }
}

/// A limit in bytes as `Debug` shows it: `unlimited` for [`RLIM_INFINITY`].
struct Bytes(u64);

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            RLIM_INFINITY => f.write_str("unlimited"),
            bytes => write!(f, "{bytes}"),
        }
    }
}

/// Limits in bytes, `unlimited` for [`RLIM_INFINITY`].
///
/// ```
/// let shown = format!("{:?}", mm::Limits::default());
/// assert!(shown.contains("address_space: unlimited, data: unlimited, stack: 8388608"));
/// ```
impl fmt::Debug for Limits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Limits")
            .field("max_map_count", &self.max_map_count)
            .field("address_space", &Bytes(self.address_space))
            .field("data", &Bytes(self.data))
            .field("stack", &Bytes(self.stack))
            .field("memlock", &Bytes(self.memlock))
            .field("hard", &self.hard)
            .field("ipc_lock", &self.ipc_lock)
            .field("sys_resource", &self.sys_resource)
            .field("commit_pages", &self.commit_pages)
            .finish()
    }
}

/// Hard limits in bytes, `unlimited` for [`RLIM_INFINITY`].
///
/// ```
/// let shown = format!("{:?}", mm::HardLimits::default());
/// assert_eq!(shown, "HardLimits { address_space: unlimited, data: unlimited, stack: unlimited, memlock: 8388608 }");
/// ```
impl fmt::Debug for HardLimits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HardLimits")
            .field("address_space", &Bytes(self.address_space))
            .field("data", &Bytes(self.data))
            .field("stack", &Bytes(self.stack))
            .field("memlock", &Bytes(self.memlock))
            .finish()
    }
}
