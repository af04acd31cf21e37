//! GEMM microkernels and epilogue for AVX-512F.
//!
//! Zen 4/5 and Intel cores retire one or two 512-bit FMAs per cycle with 4-cycle latency, so
//! a tile needs at least 8 independent accumulators; 24-28 of the 32 registers hold them and
//! the rest the B vectors and a broadcast.
//! - 8x48 (24 accumulators): rows are output channels, columns pixels.
//! - 7x64 (28 accumulators): the transposed use: rows are pixels (maps of 7x7, 14x14, 28x28
//!   and 56x56 are all multiples of 7), columns channels (multiples of 64 in ResNet and VGG).

use super::Avx512;
use crate::gemm::epilogue::{EpilogueTile, epilogue};
use crate::gemm::microkernel::{TileKernel, tile_kernels};

pub(crate) static TILES: &[TileKernel] = &[
    TileKernel {
        name: "avx512f_8x48",
        mr: 8,
        nr: 48,
        by_rows: tile_kernels!([#[target_feature(enable = "avx512f")]] Avx512, mr = 8, nv = 3, rows = [1, 2, 3, 4, 5, 6, 7, 8]),
    },
    TileKernel {
        name: "avx512f_7x64",
        mr: 7,
        nr: 64,
        by_rows: tile_kernels!([#[target_feature(enable = "avx512f")]] Avx512, mr = 7, nv = 4, rows = [1, 2, 3, 4, 5, 6, 7]),
    },
];

/// # Safety
/// The CPU has AVX-512F; `t` satisfies [`epilogue`]'s contract.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn epilogue_avx512f(t: &EpilogueTile) {
    // SAFETY: forwarded contract.
    unsafe { epilogue::<Avx512>(t) }
}
