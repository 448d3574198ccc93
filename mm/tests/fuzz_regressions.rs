//! Regressions found by the `mm_calls` fuzz target (fuzz/): each test is a minimised input,
//! replayed as plain calls.

use mm::Mm;
use vma::PAGE_SIZE;

const P: u64 = PAGE_SIZE;

/// brk past the task size was taken: the heap became an area ending far above the user
/// address space. Linux's check_brk_limits asks get_unmapped_area for the new part as a
/// fixed range, which refuses it (ENOMEM), so brk returns the old break.
#[test]
fn brk_past_the_task_size_is_refused() {
    let mm = Mm::new();
    let start = mm.brk(0);
    let task_size = mm.layout().task_size;
    for asked in [0x7d40_ffff_ffff_ffff, task_size + 1, task_size + P, u64::MAX - P] {
        assert_eq!(mm.brk(asked), start, "brk({asked:#x})");
        assert_eq!(mm.snapshot().map_count(), 0);
    }
    // Up to the task size exactly is a valid fixed range (nothing is in the way).
    assert_eq!(mm.brk(task_size), task_size);
    let heap = mm.snapshot().find(start).cloned().unwrap();
    assert_eq!((heap.start, heap.end), (start, task_size));
    assert_eq!(mm.vma_tree().validate(), Ok(()));
}
