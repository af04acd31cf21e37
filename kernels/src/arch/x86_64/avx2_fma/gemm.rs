//! GEMM microkernels and epilogue for AVX2 + FMA.
//!
//! 16 ymm registers: 12 accumulators, NV for B, one broadcast.
//! - 6x16: rows channels, columns pixels (the classic Haswell shape).
//! - 4x24: fewer rows for short M and the transposed use on small maps.

use super::Avx2Fma;
use crate::gemm::microkernel::{TileKernel, tile_kernel};

pub(crate) static TILES: &[TileKernel] = &[
    tile_kernel!("avx2_fma_6x16", [#[target_feature(enable = "avx2,fma")]] Avx2Fma, mr = 6, nv = 2, rows = [1, 2, 3, 4, 5, 6], narrow = [1]),
    tile_kernel!("avx2_fma_4x24", [#[target_feature(enable = "avx2,fma")]] Avx2Fma, mr = 4, nv = 3, rows = [1, 2, 3, 4], narrow = [1, 2]),
];
