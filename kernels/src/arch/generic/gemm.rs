//! GEMM microkernels and epilogue on `wide`'s f32x8 (two SSE registers on baseline x86-64,
//! two NEON registers on aarch64). Sized for SSE2's 16 registers, each f32x8 taking two:
//! 6x8 uses 12 for accumulators, 2x16 uses 8 plus 4 for B.

use super::Portable;
use crate::gemm::epilogue::{EpilogueTile, epilogue};
use crate::gemm::microkernel::{TileKernel, tile_kernel};

pub(crate) static TILES: &[TileKernel] = &[
    tile_kernel!("portable_6x8", [] Portable, mr = 6, nv = 1, rows = [1, 2, 3, 4, 5, 6]),
    tile_kernel!("portable_2x16", [] Portable, mr = 2, nv = 2, rows = [1, 2]),
];

/// # Safety
/// `t` satisfies [`epilogue`]'s contract.
pub(crate) unsafe fn epilogue_portable(t: &EpilogueTile) {
    // SAFETY: forwarded contract; the portable path runs on every CPU.
    unsafe { epilogue::<Portable>(t) }
}

/// Independent FMAs per iteration of the peak loop (16 SSE registers, two per f32x8: 6 chains).
pub(crate) const FMA_CHAINS: usize = 6;

/// # Safety
/// None beyond the trait's: the portable path runs on every CPU.
pub(crate) unsafe fn fma_loop_portable(iters: usize) -> f32 {
    // SAFETY: the portable path runs everywhere.
    unsafe { crate::peak::fma_loop::<Portable, FMA_CHAINS>(iters) }
}
