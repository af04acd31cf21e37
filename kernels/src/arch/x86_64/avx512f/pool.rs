//! Pooling kernels for this path: the generic bodies of `ops::pool` in its shells.

use super::Avx512;
use crate::ops::pool::{PoolGeometry, global_plane, pool_plane};
use crate::shape::PoolKind;

/// # Safety
/// The CPU has AVX512F.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn pool_plane_avx512f(g: &PoolGeometry, input: &[f32], output: &mut [f32]) {
    // SAFETY: forwarded contract.
    unsafe { pool_plane::<Avx512>(g, input, output) }
}

/// # Safety
/// The CPU has AVX512F.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn global_pool_avx512f(kind: PoolKind, plane: &[f32]) -> f32 {
    // SAFETY: forwarded contract.
    unsafe { global_plane::<Avx512>(kind, plane) }
}
