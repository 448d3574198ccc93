//! Raw host system calls and constants: page size, the Linux uapi values the libc binding
//! may not have, errno text, owned descriptors and memfds.

use std::ffi::{c_int, CString};

/// Bytes per page.
pub(super) const PAGE: usize = 4096;
/// [`PAGE`] as a `u64`, for engine addresses.
pub(super) const PAGE_U64: u64 = PAGE as u64;

// Linux x86_64 uapi values the libc binding may not have.
pub(super) const MADV_GUARD_INSTALL: c_int = 102;
pub(super) const MADV_GUARD_REMOVE: c_int = 103;
pub(super) const MREMAP_MAYMOVE: c_int = 1;
pub(super) const MREMAP_FIXED: c_int = 2;
pub(super) const MREMAP_DONTUNMAP: c_int = 4;
/// `/proc/<pid>/pagemap`: the page is a guard region (Linux 6.15).
pub(super) const PM_GUARD_REGION: u64 = 1 << 58;

/// The calling thread's errno.
pub(super) fn errno() -> c_int {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// `errno` by name when it has one.
pub(super) fn errno_name(errno: c_int) -> String {
    maple_mm::kernel::errno_name(errno).map_or_else(|| format!("E{errno}"), str::to_string)
}

/// The calling thread's errno, by name when it has one.
pub(super) fn errno_text() -> String {
    errno_name(errno())
}

/// An owned file descriptor, closed on drop.
pub(super) struct Fd(pub(super) c_int);

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: the descriptor is owned by this value and closed once.
        unsafe {
            libc::close(self.0);
        }
    }
}

/// A memfd of `bytes` bytes, and its device and inode (what `/proc/self/maps` shows).
pub(super) fn memfd(name: &str, bytes: u64) -> Result<(Fd, u64, u64), String> {
    let c_name = CString::new(format!("maple-mm-mirror-{name}").replace('\0', "?")).expect("no NUL in the name");
    // SAFETY: the name is a valid C string.
    let fd = unsafe { libc::memfd_create(c_name.as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(format!("memfd_create for {name}: {}", errno_text()));
    }
    let fd = Fd(fd);
    // A size past the largest file cannot be set; the mappings do not need it.
    let size = i64::try_from(bytes).unwrap_or(i64::MAX);
    // SAFETY: plain system call on a descriptor we own.
    if unsafe { libc::ftruncate(fd.0, size) } != 0 {
        return Err(format!("ftruncate of {name} to {bytes} bytes: {}", errno_text()));
    }
    // SAFETY: a zeroed stat is a valid buffer for fstat to fill; the descriptor is ours.
    let stat = unsafe {
        let mut stat: libc::stat = std::mem::zeroed();
        if libc::fstat(fd.0, &mut stat) != 0 {
            return Err(format!("fstat of {name}: {}", errno_text()));
        }
        stat
    };
    Ok((fd, stat.st_dev, stat.st_ino))
}

/// `/proc/self/pagemap`, opened for reading (the guard markers of host pages).
pub(super) fn open_pagemap() -> Result<Fd, String> {
    // SAFETY: the path is a valid C string.
    let pagemap = unsafe { libc::open(c"/proc/self/pagemap".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if pagemap < 0 {
        return Err(format!("opening /proc/self/pagemap: {}", errno_text()));
    }
    Ok(Fd(pagemap))
}
