//! GEMM microkernels and epilogue for AVX2 + FMA.
//!
//! 16 ymm registers: 12 accumulators, NV for B, one broadcast.
//! - 6x16: rows channels, columns pixels (the classic Haswell shape).
//! - 4x24: fewer rows for short M and the transposed use on small maps.

use super::Avx2Fma;
use crate::gemm::epilogue::{EpilogueTile, epilogue};
use crate::gemm::microkernel::{TileKernel, tile_kernel};

pub(crate) static TILES: &[TileKernel] = &[
    tile_kernel!("avx2_fma_6x16", [#[target_feature(enable = "avx2,fma")]] Avx2Fma, mr = 6, nv = 2, rows = [1, 2, 3, 4, 5, 6]),
    tile_kernel!("avx2_fma_4x24", [#[target_feature(enable = "avx2,fma")]] Avx2Fma, mr = 4, nv = 3, rows = [1, 2, 3, 4]),
];

/// # Safety
/// The CPU has AVX2 and FMA; `t` satisfies [`epilogue`]'s contract.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn epilogue_avx2_fma(t: &EpilogueTile) {
    // SAFETY: forwarded contract.
    unsafe { epilogue::<Avx2Fma>(t) }
}

/// Independent FMAs per iteration of the peak loop (16 registers: 12 chains, as the GEMM tiles use).
pub(crate) const FMA_CHAINS: usize = 12;

/// # Safety
/// The CPU has AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn fma_loop_avx2_fma(iters: usize) -> f32 {
    // SAFETY: forwarded contract.
    unsafe { crate::peak::fma_loop::<Avx2Fma, FMA_CHAINS>(iters) }
}
