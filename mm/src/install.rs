//! Installing areas as they are: the layout a program starts with, which exec and the ELF
//! loader build in Linux, taken here from a description (a real process's maps).

use std::sync::Arc;

use vma::Vma;

use crate::mm::{aligned, ensure, Areas};
use crate::{Errno, Mm};

impl Mm {
    /// Puts `vma` in the address space exactly as given: its range, flags, file, offset,
    /// anon_vma and hooks, merged with nothing and placed nowhere else. This is how an
    /// embedder or a replay sets up the areas a program starts with (its executable, the
    /// loader, the stack, special mappings such as `[vdso]`), which Linux makes at exec.
    ///
    /// EINVAL for an unaligned or empty range or one past the task size, EEXIST when it
    /// overlaps an area, ENOMEM at the map count limit; on error nothing changes. No
    /// resource limit is charged and observers hear of it as of any call.
    ///
    /// ```
    /// use mm::Mm;
    /// use vma::{VmFlags, VmOps, Vma};
    /// let mm = Mm::new();
    /// let flags = VmFlags::READ | VmFlags::EXEC | VmFlags::MAYREAD | VmFlags::MAYEXEC | VmFlags::DONTEXPAND;
    /// let vdso = Vma::new(0x7fff_f7fc_8000, 0x7fff_f7fc_a000, 0, flags).with_ops(VmOps::new().with_name("[vdso]"));
    /// mm.install(vdso).unwrap();
    /// assert!(mm.maps().ends_with(" [vdso]\n"));
    /// let overlapping = Vma::new(0x7fff_f7fc_9000, 0x7fff_f7fc_b000, 0, VmFlags::READ);
    /// assert_eq!(mm.install(overlapping).unwrap_err(), mm::Errno::EEXIST);
    /// ```
    pub fn install(&self, vma: Vma) -> Result<Arc<Vma>, Errno> {
        let (start, end) = (vma.start, vma.end);
        ensure(aligned(start) && aligned(end) && start < end && end <= self.layout.task_size, Errno::EINVAL)?;
        let _lock = self.write_lock();
        let mut txn = self.vmas.transaction();
        ensure(Areas(&txn).within(start, end).next().is_none(), Errno::EEXIST)?;
        ensure(txn.map_count() < self.limits().max_map_count, Errno::ENOMEM)?;
        let vma = Arc::new(vma);
        txn.insert(vma.clone())?;
        self.publish(txn);
        Ok(vma)
    }
}
