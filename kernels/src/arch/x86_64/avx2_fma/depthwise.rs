//! Depthwise convolution for this path: the generic body of `conv::depthwise` in its shell.

use super::Avx2Fma;
use crate::conv::depthwise::{DepthwiseGeometry, depthwise_plane};

/// # Safety
/// The CPU has AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn depthwise_avx2_fma(
    g: &DepthwiseGeometry,
    input: &[f32],
    filter: &[f32],
    padded: &mut [f32],
    output: &mut [f32],
) {
    // SAFETY: forwarded contract.
    unsafe { depthwise_plane::<Avx2Fma>(g, input, filter, padded, output) }
}
