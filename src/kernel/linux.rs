//! The window, the system calls and the fault trampoline (Linux on x86_64).

use std::cell::UnsafeCell;
use std::ffi::{c_int, c_void, CString};
use std::mem::MaybeUninit;
use std::ptr;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};

use super::{errno_text, Capture, KernelError, Raw, PAGE};
use crate::script::{mremap_maymove, Kind, LimitError, Mods, Op, Prot, Script, MAX_WINDOW};

/// The page size as a `usize`.
const PAGE_BYTES: usize = PAGE as usize;

// Linux x86_64 uapi values, spelled out so that the runner does not depend on which of them a
// given libc binding has.
const MAP_FIXED_NOREPLACE: c_int = 0x10_0000;
const MAP_STACK: c_int = 0x2_0000;
const MREMAP_MAYMOVE: c_int = 1;
const MREMAP_FIXED: c_int = 2;
const MREMAP_DONTUNMAP: c_int = 4;
const MLOCK_ONFAULT: c_int = 1;
const MCL_CURRENT: c_int = 1;
const MCL_FUTURE: c_int = 2;
const MCL_ONFAULT: c_int = 4;
const SYS_MLOCK2: i64 = 325;
const SYS_MSEAL: i64 = 462;

// The access trampoline: one function that writes a byte and one that reads a byte, each with
// a known faulting instruction and a known resume point. The fault handler recognises the
// faulting instruction's address, sets RAX to 1 and resumes at the resume point, so the
// function returns 1 after a fault and 0 otherwise.
std::arch::global_asm!(
    ".pushsection .text.maple_mm_kernel_access,\"ax\",@progbits",
    ".p2align 4",
    ".globl maple_mm_kernel_write_byte",
    ".hidden maple_mm_kernel_write_byte",
    ".type maple_mm_kernel_write_byte,@function",
    "maple_mm_kernel_write_byte:",
    "    xor eax, eax",
    ".globl maple_mm_kernel_write_at",
    ".hidden maple_mm_kernel_write_at",
    "maple_mm_kernel_write_at:",
    "    mov byte ptr [rdi], 0",
    ".globl maple_mm_kernel_write_resume",
    ".hidden maple_mm_kernel_write_resume",
    "maple_mm_kernel_write_resume:",
    "    ret",
    ".size maple_mm_kernel_write_byte, . - maple_mm_kernel_write_byte",
    ".p2align 4",
    ".globl maple_mm_kernel_read_byte",
    ".hidden maple_mm_kernel_read_byte",
    ".type maple_mm_kernel_read_byte,@function",
    "maple_mm_kernel_read_byte:",
    "    xor eax, eax",
    ".globl maple_mm_kernel_read_at",
    ".hidden maple_mm_kernel_read_at",
    "maple_mm_kernel_read_at:",
    "    movzx ecx, byte ptr [rdi]",
    ".globl maple_mm_kernel_read_resume",
    ".hidden maple_mm_kernel_read_resume",
    "maple_mm_kernel_read_resume:",
    "    ret",
    ".size maple_mm_kernel_read_byte, . - maple_mm_kernel_read_byte",
    ".popsection",
);

extern "C" {
    /// Writes 0 to the byte at the address; returns 1 if that faulted (the handler resumed it).
    fn maple_mm_kernel_write_byte(address: *mut u8) -> u32;
    /// Reads the byte at the address; returns 1 if that faulted.
    fn maple_mm_kernel_read_byte(address: *const u8) -> u32;
}

/// The resume address for a fault at `rip`, if `rip` is one of the trampoline's accesses.
fn resume_point(rip: u64) -> Option<u64> {
    let (write_at, write_resume, read_at, read_resume): (u64, u64, u64, u64);
    // SAFETY: `lea` only computes the labels' addresses; it reads and writes no memory.
    unsafe {
        std::arch::asm!(
            "lea {0}, [rip + maple_mm_kernel_write_at]",
            "lea {1}, [rip + maple_mm_kernel_write_resume]",
            "lea {2}, [rip + maple_mm_kernel_read_at]",
            "lea {3}, [rip + maple_mm_kernel_read_resume]",
            out(reg) write_at,
            out(reg) write_resume,
            out(reg) read_at,
            out(reg) read_resume,
            options(pure, nomem, nostack, preserves_flags),
        );
    }
    match rip {
        _ if rip == write_at => Some(write_resume),
        _ if rip == read_at => Some(read_resume),
        _ => None,
    }
}

// The state below is shared between this thread and its own signal handler, never between
// threads, so it is not part of the loom-checked concurrency (the `sync` facades of `maple` and
// `vma`): loom cannot model a signal handler, and std atomics are what async-signal-safe code
// must use here.

/// The signal of the last recovered fault.
static FAULT_SIGNAL: AtomicI32 = AtomicI32::new(0);
/// The address of the last recovered fault.
static FAULT_ADDRESS: AtomicU64 = AtomicU64::new(0);

/// The SIGSEGV and SIGBUS actions that were in place before ours, for faults not ours.
struct SavedActions(UnsafeCell<[MaybeUninit<libc::sigaction>; 2]>);

// SAFETY: written only by `install_handlers` before our handler is installed and read only
// while it is installed (by the handler and by `restore_handlers`), all on one thread.
unsafe impl Sync for SavedActions {}

static SAVED: SavedActions = SavedActions(UnsafeCell::new([MaybeUninit::uninit(), MaybeUninit::uninit()]));

/// The slot of `signal` in [`SAVED`].
fn slot(signal: c_int) -> usize {
    usize::from(signal == libc::SIGBUS)
}

/// The SIGSEGV/SIGBUS handler: recovers faults of the trampoline; hands others to the action
/// that was in place before (by restoring it and returning, so the access faults again).
extern "C" fn on_fault(signal: c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
    // SAFETY: the kernel passes a valid siginfo_t and ucontext_t to an SA_SIGINFO handler; we
    // only read and write the saved registers of the interrupted context.
    unsafe {
        let context = &mut *context.cast::<libc::ucontext_t>();
        let registers = &mut context.uc_mcontext.gregs;
        let rip = registers[libc::REG_RIP as usize] as u64;
        if let Some(resume) = resume_point(rip) {
            FAULT_SIGNAL.store(signal, Ordering::Relaxed);
            FAULT_ADDRESS.store((*info).si_addr() as u64, Ordering::Relaxed);
            registers[libc::REG_RIP as usize] = resume as i64;
            registers[libc::REG_RAX as usize] = 1;
            return;
        }
    }
    // SAFETY: the saved action was initialised by `install_handlers` before this handler
    // could run; sigaction is async-signal-safe.
    unsafe {
        let saved = (*SAVED.0.get())[slot(signal)].as_ptr();
        libc::sigaction(signal, saved, ptr::null_mut());
    }
}

/// Installs [`on_fault`] for SIGSEGV and SIGBUS, saving the previous actions.
fn install_handlers() -> Result<(), KernelError> {
    for signal in [libc::SIGSEGV, libc::SIGBUS] {
        // SAFETY: a zeroed sigaction is a valid value to fill in; the pointers passed to
        // sigaction are valid for the call, and SAVED is not read before it is written here.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_fault as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO;
            libc::sigemptyset(&mut action.sa_mask);
            let saved = (*SAVED.0.get())[slot(signal)].as_mut_ptr();
            if libc::sigaction(signal, &action, saved) != 0 {
                let error = setup_error("sigaction");
                if signal == libc::SIGBUS {
                    // SIGSEGV's handler is in place: put its old action back.
                    libc::sigaction(libc::SIGSEGV, (*SAVED.0.get())[slot(libc::SIGSEGV)].as_ptr(), ptr::null_mut());
                }
                return Err(error);
            }
        }
    }
    Ok(())
}

/// Puts back the actions saved by [`install_handlers`].
fn restore_handlers() {
    for signal in [libc::SIGSEGV, libc::SIGBUS] {
        // SAFETY: install_handlers succeeded for both signals, so both slots are initialised.
        unsafe {
            let saved = (*SAVED.0.get())[slot(signal)].as_ptr();
            libc::sigaction(signal, saved, ptr::null_mut());
        }
    }
}

/// The calling thread's errno.
fn errno() -> c_int {
    // SAFETY: __errno_location returns a valid pointer to this thread's errno.
    unsafe { *libc::__errno_location() }
}

fn setup_error(what: &'static str) -> KernelError {
    KernelError::Setup { what, errno: errno_text(errno()) }
}

/// An owned file descriptor, closed on drop.
struct Fd(c_int);

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: the descriptor is owned by this value and closed once.
        unsafe {
            libc::close(self.0);
        }
    }
}

/// A memfd of the given size in pages.
fn memfd(name: &str, pages: u64) -> Result<Fd, KernelError> {
    let name = CString::new(name).expect("no NUL in the name");
    // SAFETY: the name is a valid C string.
    let fd = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(setup_error("memfd_create"));
    }
    let fd = Fd(fd);
    let bytes = pages.checked_mul(PAGE).and_then(|bytes| i64::try_from(bytes).ok());
    let bytes = bytes.ok_or(KernelError::Setup { what: "ftruncate", errno: "EFBIG".to_string() })?;
    // SAFETY: plain system call on a descriptor we own.
    if unsafe { libc::ftruncate(fd.0, bytes) } != 0 {
        return Err(setup_error("ftruncate"));
    }
    Ok(fd)
}

/// The inode of an open file.
fn inode(fd: &Fd) -> Result<u64, KernelError> {
    let mut stat = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: fstat fills the buffer when it returns 0.
    unsafe {
        if libc::fstat(fd.0, stat.as_mut_ptr()) != 0 {
            return Err(setup_error("fstat"));
        }
        Ok(stat.assume_init().st_ino)
    }
}

/// A script file: a memfd, a read-only descriptor of it, its inode.
struct File {
    id: u32,
    read_write: Fd,
    read_only: Fd,
    inode: u64,
}

impl File {
    fn new(script: &Script, id: u32) -> Result<File, KernelError> {
        let read_write = memfd(&format!("maple-mm-file-{id}"), script.file_pages(id))?;
        let path = CString::new(format!("/proc/self/fd/{}", read_write.0)).expect("no NUL in the path");
        // SAFETY: the path is a valid C string.
        let read_only = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
        if read_only < 0 {
            return Err(setup_error("open read-only"));
        }
        let inode = inode(&read_write)?;
        Ok(File { id, read_write, read_only: Fd(read_only), inode })
    }
}

/// The reserved range: the window and an inaccessible guard page at each end.
struct Reservation {
    start: usize,
    bytes: usize,
}

impl Reservation {
    /// The address of window page 0.
    fn base(&self) -> usize {
        self.start + PAGE_BYTES
    }

    /// Reserves `window + 2` pages, maps the guard memfd at both ends and unmaps the pages
    /// between them.
    fn open(window: u64, guard: &Fd) -> Result<Reservation, KernelError> {
        let too_large = || KernelError::Limit(LimitError { what: "window size", value: window, limit: MAX_WINDOW });
        let pages = window.checked_add(2).filter(|_| window <= MAX_WINDOW).ok_or_else(too_large)?;
        let bytes = pages
            .checked_mul(PAGE)
            .and_then(|bytes| usize::try_from(bytes).ok())
            .filter(|&bytes| bytes <= isize::MAX as usize)
            .ok_or_else(too_large)?;
        let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE;
        // SAFETY: a fresh mapping at an address of the kernel's choosing touches nothing.
        let start = unsafe { libc::mmap(ptr::null_mut(), bytes, libc::PROT_NONE, flags, -1, 0) };
        if start == libc::MAP_FAILED {
            return Err(setup_error("reserving the window"));
        }
        let reservation = Reservation { start: start as usize, bytes };
        for at in [reservation.start, reservation.start + bytes - PAGE_BYTES] {
            let flags = libc::MAP_SHARED | libc::MAP_FIXED;
            // SAFETY: the page lies in our own reservation.
            let got = unsafe { libc::mmap(at as *mut c_void, PAGE_BYTES, libc::PROT_NONE, flags, guard.0, 0) };
            if got == libc::MAP_FAILED {
                let error = setup_error("mapping a guard page");
                reservation.close();
                return Err(error);
            }
        }
        if window > 0 {
            // SAFETY: the window pages lie in our own reservation.
            if unsafe { libc::munmap(reservation.base() as *mut c_void, bytes - 2 * PAGE_BYTES) } != 0 {
                let error = setup_error("opening the window");
                reservation.close();
                return Err(error);
            }
        }
        Ok(reservation)
    }

    /// Unmaps the whole reserved range; page by page if sealed areas refuse the whole.
    fn close(self) {
        // SAFETY: the range is ours; nothing outside the script's window refers into it.
        unsafe {
            if libc::munmap(self.start as *mut c_void, self.bytes) != 0 {
                for page in (self.start..self.start + self.bytes).step_by(PAGE_BYTES) {
                    libc::munmap(page as *mut c_void, PAGE_BYTES);
                }
            }
        }
    }
}

/// Runs `script` in a fresh window with an smaps buffer of `capacity` bytes.
pub(super) fn perform(script: &Script, capacity: usize) -> Result<Capture, KernelError> {
    // SAFETY: sysconf has no preconditions.
    let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if page_size != PAGE as i64 {
        return Err(KernelError::Unsupported(format!("the page size is {page_size}, not {PAGE}")));
    }
    // Everything that allocates happens here, before the window opens.
    let files = script.file_ids().into_iter().map(|id| File::new(script, id)).collect::<Result<Vec<_>, _>>()?;
    let guard = memfd("maple-mm-guard", 1)?;
    let mut results = vec![Raw::NotRun; script.ops.len()];
    let mut smaps = vec![0u8; capacity];
    let smaps_path = c"/proc/self/smaps";
    install_handlers()?;

    let reservation = match Reservation::open(script.window, &guard) {
        Ok(reservation) => reservation,
        Err(error) => {
            restore_handlers();
            return Err(error);
        }
    };
    // The window is open: no allocation until it is closed.
    let base = reservation.base();
    let window = Window { base, bytes: reservation.bytes - 2 * PAGE_BYTES, files: &files };
    for (index, op) in script.ops.iter().enumerate() {
        results[index] = if script.op_leaves_window(index) { Raw::Skip } else { window.perform(op) };
    }
    let read = read_all(smaps_path, &mut smaps);
    restore_handlers();
    reservation.close();
    // The window is closed.

    let length = read.map_err(|errno| KernelError::Smaps(format!("reading failed: {}", errno_text(errno))))?;
    smaps.truncate(length);
    Ok(Capture {
        base: base as u64,
        results,
        smaps_overflow: length == capacity,
        smaps,
        inodes: files.iter().map(|file| (file.inode, file.id)).collect(),
    })
}

/// Reads the whole file at `path` into `buffer` with raw system calls; returns the length
/// read (equal to the buffer's length when it may have been cut) or an errno.
fn read_all(path: &std::ffi::CStr, buffer: &mut [u8]) -> Result<usize, c_int> {
    // SAFETY: the path is a valid C string.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(errno());
    }
    let fd = Fd(fd);
    let mut length = 0;
    while length < buffer.len() {
        let rest = &mut buffer[length..];
        // SAFETY: the pointer and length describe the unfilled rest of the buffer.
        let got = unsafe { libc::read(fd.0, rest.as_mut_ptr().cast(), rest.len()) };
        match got {
            0 => break,
            got if got > 0 => length += got as usize,
            _ if errno() == libc::EINTR => {}
            _ => return Err(errno()),
        }
    }
    Ok(length)
}

/// The open window: performs ops without allocating.
struct Window<'a> {
    base: usize,
    /// The window's length in bytes.
    bytes: usize,
    files: &'a [File],
}

impl Window<'_> {
    /// The address of window page `page`.
    fn at(&self, page: u64) -> usize {
        self.base + page as usize * PAGE_BYTES
    }

    /// `page, npages` as an address and a length in bytes.
    fn range(&self, page: u64, npages: u64) -> (*mut c_void, usize) {
        (self.at(page) as *mut c_void, npages as usize * PAGE_BYTES)
    }

    /// 0 on success, else the errno, as a result.
    fn status(result: c_int) -> Raw {
        if result == 0 {
            Raw::Ok
        } else {
            Raw::Err(errno())
        }
    }

    /// Like [`Window::status`] for a raw `syscall` return value.
    fn syscall_status(result: i64) -> Raw {
        Self::status(if result == 0 { 0 } else { -1 })
    }

    /// Performs one op that lies in the window.
    fn perform(&self, op: &Op) -> Raw {
        match *op {
            Op::Mmap { page, npages, prot, kind, mods } => self.mmap(page, npages, prot, kind, mods),
            Op::Munmap { page, npages } => {
                let (address, length) = self.range(page, npages);
                // SAFETY: the range lies in the window, which only the script uses.
                Self::status(unsafe { libc::munmap(address, length) })
            }
            Op::Mprotect { page, npages, prot } => {
                let (address, length) = self.range(page, npages);
                // SAFETY: as for munmap.
                Self::status(unsafe { libc::mprotect(address, length, prot_bits(prot)) })
            }
            Op::Madvise { page, npages, advice } => {
                let (address, length) = self.range(page, npages);
                // SAFETY: as for munmap; the refused advice numbers were ruled out before.
                Self::status(unsafe { libc::madvise(address, length, advice.number()) })
            }
            Op::Mlock { page, npages } => {
                let (address, length) = self.range(page, npages);
                // SAFETY: as for munmap.
                Self::status(unsafe { libc::mlock(address, length) })
            }
            Op::MlockOnfault { page, npages } => {
                let (address, length) = self.range(page, npages);
                // SAFETY: as for munmap.
                Self::syscall_status(unsafe { libc::syscall(SYS_MLOCK2, address, length, MLOCK_ONFAULT) })
            }
            Op::Munlock { page, npages } => {
                let (address, length) = self.range(page, npages);
                // SAFETY: as for munmap.
                Self::status(unsafe { libc::munlock(address, length) })
            }
            Op::Mseal { page, npages } => {
                let (address, length) = self.range(page, npages);
                // SAFETY: as for munmap.
                Self::syscall_status(unsafe { libc::syscall(SYS_MSEAL, address, length, 0) })
            }
            Op::Mremap { old_page, old_npages, new_npages, maymove, fixed, dontunmap } => {
                self.mremap(old_page, old_npages, new_npages, maymove, fixed, dontunmap)
            }
            Op::Touch { page, npages } => self.access(page, npages, true),
            Op::Read { page, npages } => self.access(page, npages, false),
            Op::Mlockall { current, future, onfault } => {
                let flags = [(current, MCL_CURRENT), (future, MCL_FUTURE), (onfault, MCL_ONFAULT)]
                    .into_iter()
                    .filter(|(on, _)| *on)
                    .fold(0, |flags, (_, flag)| flags | flag);
                // SAFETY: mlockall takes no pointer; it changes this child's lock bits and
                // faults pages in, nothing Rust holds references into.
                Self::status(unsafe { libc::mlockall(flags) })
            }
            // SAFETY: as for mlockall.
            Op::Munlockall => Self::status(unsafe { libc::munlockall() }),
            Op::Fork => fork(),
        }
    }

    fn mmap(&self, page: u64, npages: u64, prot: Prot, kind: Kind, mods: Mods) -> Raw {
        let (address, length) = self.range(page, npages);
        let mut flags = if mods.noreplace { MAP_FIXED_NOREPLACE } else { libc::MAP_FIXED };
        for (set, flag) in [
            (mods.noreserve, libc::MAP_NORESERVE),
            (mods.populate, libc::MAP_POPULATE),
            (mods.locked, libc::MAP_LOCKED),
            (mods.growsdown, libc::MAP_GROWSDOWN),
            (mods.stack, MAP_STACK),
        ] {
            if set {
                flags |= flag;
            }
        }
        let (fd, offset) = match kind {
            Kind::AnonPrivate => {
                flags |= libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
                (-1, 0)
            }
            Kind::AnonShared => {
                flags |= libc::MAP_SHARED | libc::MAP_ANONYMOUS;
                (-1, 0)
            }
            Kind::FilePrivate { file, pgoff } | Kind::FileShared { file, pgoff } => {
                flags |= if matches!(kind, Kind::FileShared { .. }) { libc::MAP_SHARED } else { libc::MAP_PRIVATE };
                let file = self.files.iter().find(|candidate| candidate.id == file).expect("every file was created");
                let fd = if mods.ro { &file.read_only } else { &file.read_write };
                // Script::check keeps the byte offset within 64 bits (no wrap); mmap takes it
                // unsigned, so the cast keeps every bit.
                (fd.0, pgoff.wrapping_mul(PAGE) as i64)
            }
        };
        // SAFETY: the range lies in the window, which only the script uses.
        let got = unsafe { libc::mmap(address, length, prot_bits(prot), flags, fd, offset) };
        if got == libc::MAP_FAILED {
            Raw::Err(errno())
        } else {
            Raw::OkAt(got as u64)
        }
    }

    fn mremap(
        &self,
        old_page: u64,
        old_npages: u64,
        new_npages: u64,
        maymove: bool,
        fixed: Option<u64>,
        dontunmap: bool,
    ) -> Raw {
        let (old, old_length) = self.range(old_page, old_npages);
        let new_length = new_npages as usize * PAGE_BYTES;
        let mut flags = 0;
        if mremap_maymove(maymove, fixed, dontunmap) {
            flags |= MREMAP_MAYMOVE;
        }
        if dontunmap {
            flags |= MREMAP_DONTUNMAP;
        }
        let target = match fixed {
            Some(target) => {
                flags |= MREMAP_FIXED;
                self.at(target)
            }
            None => 0,
        };
        // SAFETY: the old range and the target lie in the window, which only the script uses.
        let got = unsafe { libc::syscall(libc::SYS_mremap, old, old_length, new_length, flags, target) };
        if got == -1 {
            return Raw::Err(errno());
        }
        let got = got as usize;
        if got < self.base || got + new_length > self.base + self.bytes {
            // The kernel moved the area out of the window: take it away again so that it does
            // not stay in the process.
            // SAFETY: the kernel just created this mapping for us; nothing refers to it.
            unsafe {
                libc::munmap(got as *mut c_void, new_length);
            }
            return Raw::MovedOut(got as u64);
        }
        Raw::OkAt(got as u64)
    }

    /// Writes (`write`) or reads one byte per page from `page` on; stops at the first fault.
    fn access(&self, page: u64, npages: u64, write: bool) -> Raw {
        for index in page..page + npages {
            let address = self.at(index) as *mut u8;
            FAULT_SIGNAL.store(0, Ordering::Relaxed);
            // SAFETY: the trampoline touches exactly one byte at the address, which lies in the
            // window; a fault there is recovered by `on_fault`, installed for the whole window.
            let faulted = unsafe {
                if write {
                    maple_mm_kernel_write_byte(address)
                } else {
                    maple_mm_kernel_read_byte(address)
                }
            };
            if faulted != 0 {
                let at = FAULT_ADDRESS.load(Ordering::Relaxed);
                return if FAULT_SIGNAL.load(Ordering::Relaxed) == libc::SIGBUS {
                    Raw::Sigbus(at)
                } else {
                    Raw::Segv(at)
                };
            }
        }
        Raw::Ok
    }
}

/// The PROT_* bits of a protection.
fn prot_bits(prot: Prot) -> c_int {
    let mut bits = libc::PROT_NONE;
    for (set, bit) in [(prot.read, libc::PROT_READ), (prot.write, libc::PROT_WRITE), (prot.exec, libc::PROT_EXEC)] {
        if set {
            bits |= bit;
        }
    }
    bits
}

/// Forks; the child exits at once, the parent waits for it.
fn fork() -> Raw {
    // SAFETY: the child only calls _exit, which is async-signal-safe.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Raw::Err(errno());
    }
    if pid == 0 {
        // SAFETY: ends the child at once, without running any of the parent's cleanup.
        unsafe { libc::_exit(0) }
    }
    let mut status = 0;
    loop {
        // SAFETY: waits for our own child; status is a valid out-pointer.
        let got = unsafe { libc::waitpid(pid, &mut status, 0) };
        if got == pid || (got < 0 && errno() != libc::EINTR) {
            return Raw::Ok;
        }
    }
}

/// Runs `work` in a forked child and returns the text it produced. The child writes the text
/// to a pipe and exits at once (`_exit`, no destructors: they belong to the parent); the
/// parent reads to the end and reaps it. A child killed by a signal or exiting otherwise is
/// an error.
pub(super) fn in_child(work: impl FnOnce() -> String) -> Result<String, KernelError> {
    let mut fds = [0 as c_int; 2];
    // SAFETY: `fds` is a valid array of two ints for pipe2 to fill.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(setup_error("pipe2"));
    }
    let (reader, writer) = (Fd(fds[0]), Fd(fds[1]));
    // SAFETY: fork has no memory-safety preconditions; the child only runs `work` (this
    // process is single-threaded where the runner is used, and glibc's fork handlers keep
    // malloc usable in the child) and leaves with _exit.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(setup_error("fork"));
    }
    if pid == 0 {
        drop(reader);
        let text = work();
        let mut bytes = text.as_bytes();
        while !bytes.is_empty() {
            // SAFETY: `bytes` is a valid buffer of `bytes.len()` bytes.
            let written = unsafe { libc::write(writer.0, bytes.as_ptr().cast(), bytes.len()) };
            if written <= 0 {
                break;
            }
            bytes = &bytes[written as usize..];
        }
        // SAFETY: _exit ends the child without running the parent's destructors or atexit
        // handlers, which is what a forked child must do.
        unsafe { libc::_exit(0) }
    }
    drop(writer);
    let mut text = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        // SAFETY: `chunk` is a valid, writable buffer of its length.
        let got = unsafe { libc::read(reader.0, chunk.as_mut_ptr().cast(), chunk.len()) };
        if got > 0 {
            text.extend_from_slice(&chunk[..got as usize]);
        } else if got == 0 || errno() != libc::EINTR {
            break;
        }
    }
    let mut status = 0;
    // SAFETY: `pid` is our child; `status` is a valid int to fill.
    while unsafe { libc::waitpid(pid, &mut status, 0) } < 0 && errno() == libc::EINTR {}
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        return Err(KernelError::Child(format!("it ended with status {status:#x}")));
    }
    String::from_utf8(text).map_err(|_| KernelError::Child("its report is not UTF-8".to_string()))
}
