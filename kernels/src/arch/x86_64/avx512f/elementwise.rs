//! Elementwise kernels for this path: the generic bodies of `ops::elementwise` in its shells.

use super::Avx512;
use crate::epilogue::Activation;
use crate::ops::elementwise::{activation_body, add_body, scale_body, softmax_body};
use crate::ops::linear::gemv_body;
use crate::ops::lrn::{LrnParams, lrn_channel};

/// # Safety
/// The CPU has AVX512F.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn activation_avx512f(act: Activation, data: &mut [f32]) {
    // SAFETY: forwarded contract.
    unsafe { activation_body::<Avx512>(act, data) }
}

/// # Safety
/// The CPU has AVX512F; `a`, `b` and `out` have equal lengths.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn add_avx512f(act: Activation, a: &[f32], b: &[f32], out: &mut [f32]) {
    // SAFETY: forwarded contract.
    unsafe { add_body::<Avx512>(act, a, b, out) }
}

/// # Safety
/// The CPU has AVX512F.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn scale_avx512f(plane: &mut [f32], scale: f32) {
    // SAFETY: forwarded contract.
    unsafe { scale_body::<Avx512>(plane, scale) }
}

/// # Safety
/// The CPU has AVX512F.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn softmax_avx512f(row: &mut [f32]) {
    // SAFETY: forwarded contract.
    unsafe { softmax_body::<Avx512>(row) }
}

/// # Safety
/// The CPU has AVX512F; `w` holds `y.len()` rows of `x.len()`; `bias` is empty or `y.len()` long.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn gemv_avx512f(w: &[f32], x: &[f32], bias: &[f32], act: Activation, y: &mut [f32]) {
    // SAFETY: forwarded contract.
    unsafe { gemv_body::<Avx512>(w, x, bias, act, y) }
}

/// # Safety
/// The CPU has AVX512F; `image` is `channels` planes of `out.len()`.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn lrn_avx512f(p: &LrnParams, image: &[f32], channels: usize, c: usize, out: &mut [f32]) {
    // SAFETY: forwarded contract.
    unsafe { lrn_channel::<Avx512>(p, image, channels, c, out) }
}
