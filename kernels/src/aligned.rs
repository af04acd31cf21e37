//! 64-byte-aligned float buffers for packed weights and scratch: one cache line, one AVX-512
//! vector.

use aligned_vec::{AVec, ConstAlign};

pub(crate) const ALIGN: usize = 64;
/// Floats per alignment unit, one cache line: also the unit the GEMM prefetches in
/// (`gemm::microkernel::Prefetch`).
pub(crate) const ALIGN_FLOATS: usize = ALIGN / size_of::<f32>();

pub(crate) type AlignedVec = AVec<f32, ConstAlign<ALIGN>>;

/// A zeroed aligned buffer of `len` floats.
pub(crate) fn zeroed(len: usize) -> AlignedVec {
    let mut v = AlignedVec::with_capacity(ALIGN, len);
    v.resize(len, 0.0);
    v
}

/// Rounds a float count up to whole alignment units, so buffers carved one after another
/// from one scratch slice each start aligned.
pub(crate) const fn round_up(len: usize) -> usize {
    len.div_ceil(ALIGN_FLOATS) * ALIGN_FLOATS
}

/// The aligned part of a caller's scratch slice: skips to the first 64-byte boundary.
/// Callers size scratch with [`ALIGN_FLOATS`] of slack for this.
pub(crate) fn align_scratch(scratch: &mut [f32]) -> &mut [f32] {
    let skip = scratch.as_ptr().align_offset(ALIGN).min(scratch.len());
    &mut scratch[skip..]
}
