//! Depthwise convolution for this path: the generic body of `conv::depthwise` in its shell.

use super::Avx512;
use crate::conv::depthwise::{DepthwiseGeometry, depthwise_plane};

/// # Safety
/// The CPU has AVX512F.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn depthwise_avx512f(
    g: &DepthwiseGeometry,
    input: &[f32],
    filter: &[f32],
    padded: &mut [f32],
    output: &mut [f32],
) {
    // SAFETY: forwarded contract.
    unsafe { depthwise_plane::<Avx512>(g, input, filter, padded, output) }
}
