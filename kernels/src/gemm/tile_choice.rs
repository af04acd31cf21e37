//! Choosing a microkernel family for a GEMM shape.
//!
//! Work is counted in padded tiles: an `m x n` GEMM on `MR x NR` tiles computes
//! `ceil(m/MR)*MR x ceil(n/NR)*NR` lanes whatever m and n are. The family that wastes least
//! wins; on ties, the first listed (each ISA lists its best general-purpose family first).

use super::microkernel::TileKernel;

/// Computed lanes / useful lanes for `len` on panels of `width`.
pub(crate) fn padding_cost(len: usize, width: usize) -> f64 {
    (len.div_ceil(width) * width) as f64 / len as f64
}

/// An unknown N (a plan made before its B is seen) is taken as 4096: large, and a multiple
/// of 64 like most N in practice, so 48-wide panels pay their 0.8% there. Counting it as
/// unpadded picked 8x48 over 6x64 for M = 1024 and lost 3% at N = 1024.
const TYPICAL_N: usize = 4096;

/// The family with the least padding for `m x n`.
pub(crate) fn choose_tile(tiles: &'static [TileKernel], m: usize, n: Option<usize>) -> &'static TileKernel {
    let cost = |t: &TileKernel| padding_cost(m, t.mr) * padding_cost(n.unwrap_or(TYPICAL_N), t.nr);
    let mut best = &tiles[0];
    for t in &tiles[1..] {
        if cost(t) < cost(best) - 1e-9 {
            best = t;
        }
    }
    best
}
