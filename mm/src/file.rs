//! Open files: a file object and the access mode it was opened with.

use std::sync::Arc;

use vma::File;

/// An open file description, what an `fd` passed to mmap stands for: the file (its
/// identity and size) and whether it was opened for reading and for writing.
///
/// Linux compares the `struct file` of two areas by pointer when it merges them, so the
/// [`File`] here stands for one open of a file: two opens of the same file on disk are two
/// `File` objects, and their mappings never merge (nor lend each other anon_vmas).
///
/// ```
/// use mm::OpenFile;
/// use vma::File;
/// let file = File::with_pages("data", 16);
/// let ro = OpenFile::read_only(file.clone());
/// assert!(ro.readable && !ro.writable);
/// assert!(OpenFile::read_write(file).writable);
/// ```
#[derive(Clone, Debug)]
pub struct OpenFile {
    /// The file.
    pub file: Arc<File>,
    /// Opened for reading (`FMODE_READ`).
    pub readable: bool,
    /// Opened for writing (`FMODE_WRITE`).
    pub writable: bool,
}

impl OpenFile {
    /// `file` opened `O_RDONLY`.
    ///
    /// ```
    /// assert!(!mm::OpenFile::read_only(vma::File::new("f")).writable);
    /// ```
    pub fn read_only(file: Arc<File>) -> OpenFile {
        OpenFile { file, readable: true, writable: false }
    }

    /// `file` opened `O_RDWR`.
    ///
    /// ```
    /// assert!(mm::OpenFile::read_write(vma::File::new("f")).readable);
    /// ```
    pub fn read_write(file: Arc<File>) -> OpenFile {
        OpenFile { file, readable: true, writable: true }
    }
}
