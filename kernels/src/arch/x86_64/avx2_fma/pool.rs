//! Pooling kernels for this path: the generic bodies of `ops::pool` in its shells.

use super::Avx2Fma;
use crate::ops::pool::{PoolGeometry, global_plane, pool_plane};
use crate::shape::PoolKind;

/// # Safety
/// The CPU has AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn pool_plane_avx2_fma(g: &PoolGeometry, input: &[f32], output: &mut [f32]) {
    // SAFETY: forwarded contract.
    unsafe { pool_plane::<Avx2Fma>(g, input, output) }
}

/// # Safety
/// The CPU has AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn global_pool_avx2_fma(kind: PoolKind, plane: &[f32]) -> f32 {
    // SAFETY: forwarded contract.
    unsafe { global_plane::<Avx2Fma>(kind, plane) }
}
