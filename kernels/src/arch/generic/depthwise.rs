//! Depthwise convolution for this path: the generic body of `conv::depthwise` in its shell.

use super::Portable;
use crate::conv::depthwise::{DepthwiseGeometry, depthwise_plane};

/// # Safety
/// None: the portable path runs everywhere.
pub(crate) unsafe fn depthwise_portable(
    g: &DepthwiseGeometry,
    input: &[f32],
    filter: &[f32],
    padded: &mut [f32],
    output: &mut [f32],
) {
    // SAFETY: forwarded contract.
    unsafe { depthwise_plane::<Portable>(g, input, filter, padded, output) }
}
