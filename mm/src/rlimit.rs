//! Resource limits at run time: `getrlimit` and `setrlimit` for the four limits an address
//! space enforces (`RLIMIT_AS`, `RLIMIT_DATA`, `RLIMIT_STACK`, `RLIMIT_MEMLOCK`).

use crate::mm::ensure;
use crate::{Errno, Limits, Mm};

/// `RLIM_INFINITY`: no limit.
///
/// ```
/// assert_eq!(mm::Limits::default().address_space, mm::RLIM_INFINITY);
/// ```
pub const RLIM_INFINITY: u64 = u64::MAX;

/// A resource whose limit an address space enforces, with its Linux x86_64 number.
///
/// ```
/// use mm::Resource;
/// assert_eq!(Resource::Stack.number(), 3);
/// assert_eq!(Resource::from_number(9), Some(Resource::AddressSpace));
/// assert_eq!(Resource::from_number(7), None); // RLIMIT_NOFILE: not an address-space limit
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Resource {
    /// `RLIMIT_AS` (9): the address space mapped in all.
    AddressSpace,
    /// `RLIMIT_DATA` (2): private writable memory that is not a stack, and the heap.
    Data,
    /// `RLIMIT_STACK` (3): how far a stack may grow.
    Stack,
    /// `RLIMIT_MEMLOCK` (8): locked memory.
    Memlock,
}

const RESOURCE_NUMBERS: [(Resource, u32); 4] =
    [(Resource::Data, 2), (Resource::Stack, 3), (Resource::Memlock, 8), (Resource::AddressSpace, 9)];

impl Resource {
    /// The resource's number (`RLIMIT_*`).
    ///
    /// ```
    /// assert_eq!(mm::Resource::Memlock.number(), 8);
    /// ```
    pub fn number(self) -> u32 {
        RESOURCE_NUMBERS.iter().find(|row| row.0 == self).expect("every resource has a number").1
    }

    /// The resource with number `number`; `None` for the limits an address space does not
    /// enforce (CPU time, open files, ...) and for numbers Linux does not know.
    ///
    /// ```
    /// assert_eq!(mm::Resource::from_number(2), Some(mm::Resource::Data));
    /// ```
    pub fn from_number(number: u32) -> Option<Resource> {
        RESOURCE_NUMBERS.iter().find(|row| row.1 == number).map(|row| row.0)
    }
}

/// A soft and a hard limit in bytes (`struct rlimit`); [`RLIM_INFINITY`] for none.
///
/// ```
/// use mm::{Rlimit, RLIM_INFINITY};
/// let stack = Rlimit { cur: 8 << 20, max: RLIM_INFINITY };
/// assert_eq!(mm::Mm::new().getrlimit(mm::Resource::Stack), stack);
/// assert_eq!(Rlimit::UNLIMITED.cur, RLIM_INFINITY);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rlimit {
    /// The soft limit (`rlim_cur`), the one the calls enforce.
    pub cur: u64,
    /// The hard limit (`rlim_max`): the ceiling for the soft limit.
    pub max: u64,
}

impl Rlimit {
    /// No limit, soft or hard.
    ///
    /// ```
    /// assert_eq!(mm::Rlimit::UNLIMITED.max, mm::RLIM_INFINITY);
    /// ```
    pub const UNLIMITED: Rlimit = Rlimit { cur: RLIM_INFINITY, max: RLIM_INFINITY };
}

impl Limits {
    /// The soft and hard limit of `resource`.
    ///
    /// ```
    /// use mm::{Limits, Resource};
    /// let limits = Limits { memlock: 4096, ..Limits::default() };
    /// assert_eq!(limits.rlimit(Resource::Memlock).cur, 4096);
    /// ```
    pub fn rlimit(&self, resource: Resource) -> Rlimit {
        let (cur, max) = match resource {
            Resource::AddressSpace => (self.address_space, self.hard.address_space),
            Resource::Data => (self.data, self.hard.data),
            Resource::Stack => (self.stack, self.hard.stack),
            Resource::Memlock => (self.memlock, self.hard.memlock),
        };
        Rlimit { cur, max }
    }

    /// Sets the soft and hard limit of `resource`, unchecked.
    fn set_rlimit(&mut self, resource: Resource, limit: Rlimit) {
        let (cur, max) = match resource {
            Resource::AddressSpace => (&mut self.address_space, &mut self.hard.address_space),
            Resource::Data => (&mut self.data, &mut self.hard.data),
            Resource::Stack => (&mut self.stack, &mut self.hard.stack),
            Resource::Memlock => (&mut self.memlock, &mut self.hard.memlock),
        };
        (*cur, *max) = (limit.cur, limit.max);
    }

    /// These limits with every hard limit at least its soft limit (what an address space
    /// is created with).
    pub(crate) fn with_hard_limits_raised(mut self) -> Limits {
        for resource in [Resource::AddressSpace, Resource::Data, Resource::Stack, Resource::Memlock] {
            let Rlimit { cur, max } = self.rlimit(resource);
            self.set_rlimit(resource, Rlimit { cur, max: max.max(cur) });
        }
        self
    }
}

impl Mm {
    /// `getrlimit(resource)`: the soft and hard limit in force.
    ///
    /// ```
    /// use mm::{Mm, Resource, RLIM_INFINITY};
    /// assert_eq!(Mm::new().getrlimit(Resource::Data).cur, RLIM_INFINITY);
    /// ```
    pub fn getrlimit(&self, resource: Resource) -> Rlimit {
        self.limits().rlimit(resource)
    }

    /// `setrlimit(resource, limit)`: new soft and hard limits, in force for every later call.
    ///
    /// As Linux's `do_prlimit`: EINVAL when the soft limit is above the hard one, EPERM when
    /// the hard limit rises without `CAP_SYS_RESOURCE` ([`Limits::sys_resource`]); either
    /// way nothing changes. Lowering a limit below what is in use now refuses only later
    /// growth, as in Linux. A new stack limit changes how far stacks grow on faults; the
    /// layout (`mmap_base`, [`Layout::for_stack_limit`](crate::Layout::for_stack_limit)) stays
    /// as the space was created, as Linux fixes it at exec.
    ///
    /// ```
    /// use mm::{Errno, Limits, Mm, Resource, Rlimit};
    /// let mm = Mm::new();
    /// mm.setrlimit(Resource::Data, Rlimit { cur: 1 << 20, max: 2 << 20 }).unwrap();
    /// assert_eq!(mm.limits().data, 1 << 20);
    /// assert_eq!(mm.setrlimit(Resource::Data, Rlimit { cur: 4 << 20, max: 2 << 20 }), Err(Errno::EINVAL));
    ///
    /// let unprivileged = Mm::with_layout(mm::Layout::default(), Limits { sys_resource: false, ..Limits::default() });
    /// let raised = Rlimit { cur: 8 << 20, max: 16 << 20 };
    /// assert_eq!(unprivileged.setrlimit(Resource::Memlock, raised), Err(Errno::EPERM));
    /// ```
    pub fn setrlimit(&self, resource: Resource, limit: Rlimit) -> Result<(), Errno> {
        ensure(limit.cur <= limit.max, Errno::EINVAL)?;
        // The calls read the limits while they hold the writer lock: each sees one value.
        let _lock = self.write_lock();
        let mut limits = self.limits.write();
        let old = limits.rlimit(resource);
        ensure(limit.max <= old.max || limits.sys_resource, Errno::EPERM)?;
        limits.set_rlimit(resource, limit);
        Ok(())
    }
}
