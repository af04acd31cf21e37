//! GEMM microkernels and epilogue on `wide`'s f32x8 (two SSE registers on baseline x86-64,
//! two NEON registers on aarch64). Sized for SSE2's 16 registers, each f32x8 taking two:
//! 6x8 uses 12 for accumulators, 2x16 uses 8 plus 4 for B.

use super::Portable;
use crate::gemm::microkernel::{TileKernel, tile_kernel};

pub(crate) static TILES: &[TileKernel] = &[
    tile_kernel!("portable_6x8", [] Portable, mr = 6, nv = 1, rows = [1, 2, 3, 4, 5, 6], narrow = []),
    tile_kernel!("portable_2x16", [] Portable, mr = 2, nv = 2, rows = [1, 2], narrow = [1]),
];
