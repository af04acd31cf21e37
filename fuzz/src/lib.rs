//! What the fuzz targets share: an allocator that records the largest single request, so
//! a target can check that no input makes a reader allocate more than the input justifies.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, recording the largest allocation since the last [`reset`](Self::reset).
pub struct LargestAllocation {
    largest: AtomicUsize,
}

impl LargestAllocation {
    pub const fn new() -> Self {
        LargestAllocation { largest: AtomicUsize::new(0) }
    }

    pub fn reset(&self) {
        self.largest.store(0, Ordering::Relaxed);
    }

    /// Bytes of the largest single allocation or reallocation since `reset`.
    pub fn largest(&self) -> usize {
        self.largest.load(Ordering::Relaxed)
    }

    fn record(&self, size: usize) {
        self.largest.fetch_max(size, Ordering::Relaxed);
    }
}

impl Default for LargestAllocation {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: every call forwards to `System` with the caller's arguments unchanged; the
// counter is only a side record.
unsafe impl GlobalAlloc for LargestAllocation {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.record(layout.size());
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.record(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this `layout` (every allocation goes there).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.record(new_size);
        // SAFETY: as for `alloc` and `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}
