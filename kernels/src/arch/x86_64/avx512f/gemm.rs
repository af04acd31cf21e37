//! GEMM microkernels and epilogue for AVX-512F.
//!
//! A tile needs at least 8 independent accumulators (two 512-bit FMA pipes on Zen 5, 4-cycle
//! latency) and must fit the 32 registers with its NV B vectors and one broadcast:
//! MR*NV + NV + 1 <= 32. (7x64 = 28 + 4 + 1 = 33 does not: LLVM spills an accumulator to
//! the stack inside the loop and the kernel runs at 40% of peak.)
//! - 8x48 (24 + 3 + 1 = 28): rows are output channels (multiples of 8), columns pixels.
//! - 6x64 (24 + 4 + 1 = 29): square-ish GEMMs; M = 1024 pads to 1026, N to a multiple of 64.
//! - 7x48 (21 + 3 + 1 = 25): the transposed use on small maps — rows are pixels (maps of
//!   7x7, 14x14, 28x28 and 56x56 are all multiples of 7), columns channels.

use super::Avx512;
use crate::gemm::microkernel::{TileKernel, tile_kernel};

pub(crate) static TILES: &[TileKernel] = &[
    tile_kernel!("avx512f_8x48", [#[target_feature(enable = "avx512f")]] Avx512, mr = 8, nv = 3, rows = [1, 2, 3, 4, 5, 6, 7, 8], narrow = [1, 2]),
    tile_kernel!("avx512f_6x64", [#[target_feature(enable = "avx512f")]] Avx512, mr = 6, nv = 4, rows = [1, 2, 3, 4, 5, 6], narrow = [1, 2, 3]),
    tile_kernel!("avx512f_7x48", [#[target_feature(enable = "avx512f")]] Avx512, mr = 7, nv = 3, rows = [1, 2, 3, 4, 5, 6, 7], narrow = [1, 2]),
];
