//! Pooling kernels for this path: the generic bodies of `ops::pool` in its shells.

use super::Portable;
use crate::ops::pool::{PoolGeometry, global_plane, pool_plane};
use crate::shape::PoolKind;

/// # Safety
/// None: the portable path runs everywhere.
pub(crate) unsafe fn pool_plane_portable(g: &PoolGeometry, input: &[f32], output: &mut [f32]) {
    // SAFETY: forwarded contract.
    unsafe { pool_plane::<Portable>(g, input, output) }
}

/// # Safety
/// None: the portable path runs everywhere.
pub(crate) unsafe fn global_pool_portable(kind: PoolKind, plane: &[f32]) -> f32 {
    // SAFETY: forwarded contract.
    unsafe { global_plane::<Portable>(kind, plane) }
}
