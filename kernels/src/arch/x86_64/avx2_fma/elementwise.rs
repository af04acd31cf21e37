//! Elementwise kernels for this path: the generic bodies of `ops::elementwise` in its shells.

use super::Avx2Fma;
use crate::epilogue::Activation;
use crate::ops::elementwise::{activation_body, add_body, scale_body, softmax_body};
use crate::ops::linear::gemv_body;
use crate::ops::lrn::{LrnParams, lrn_channel};

/// # Safety
/// The CPU has AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn activation_avx2_fma(act: Activation, data: &mut [f32]) {
    // SAFETY: forwarded contract.
    unsafe { activation_body::<Avx2Fma>(act, data) }
}

/// # Safety
/// The CPU has AVX2 and FMA; `a`, `b` and `out` have equal lengths.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn add_avx2_fma(act: Activation, a: &[f32], b: &[f32], out: &mut [f32]) {
    // SAFETY: forwarded contract.
    unsafe { add_body::<Avx2Fma>(act, a, b, out) }
}

/// # Safety
/// The CPU has AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn scale_avx2_fma(plane: &mut [f32], scale: f32) {
    // SAFETY: forwarded contract.
    unsafe { scale_body::<Avx2Fma>(plane, scale) }
}

/// # Safety
/// The CPU has AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn softmax_avx2_fma(row: &mut [f32]) {
    // SAFETY: forwarded contract.
    unsafe { softmax_body::<Avx2Fma>(row) }
}

/// # Safety
/// The CPU has AVX2 and FMA; `w` holds `y.len()` rows of `x.len()`; `bias` is empty or `y.len()` long.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn gemv_avx2_fma(w: &[f32], x: &[f32], bias: &[f32], act: Activation, y: &mut [f32]) {
    // SAFETY: forwarded contract.
    unsafe { gemv_body::<Avx2Fma>(w, x, bias, act, y) }
}

/// # Safety
/// The CPU has AVX2 and FMA; `image` is `channels` planes of `out.len()`.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn lrn_avx2_fma(p: &LrnParams, image: &[f32], channels: usize, c: usize, out: &mut [f32]) {
    // SAFETY: forwarded contract.
    unsafe { lrn_channel::<Avx2Fma>(p, image, channels, c, out) }
}
