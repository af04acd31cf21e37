//! Elementwise kernels for this path: the generic bodies of `ops::elementwise` in its shells.

use super::Portable;
use crate::epilogue::Activation;
use crate::ops::elementwise::{activation_body, add_body, scale_body, softmax_body};
use crate::ops::linear::gemv_body;
use crate::ops::lrn::{LrnParams, lrn_channel};

/// # Safety
/// None: the portable path runs everywhere.
pub(crate) unsafe fn activation_portable(act: Activation, data: &mut [f32]) {
    // SAFETY: forwarded contract.
    unsafe { activation_body::<Portable>(act, data) }
}

/// # Safety
/// None: the portable path runs everywhere; `a`, `b` and `out` have equal lengths.
pub(crate) unsafe fn add_portable(act: Activation, a: &[f32], b: &[f32], out: &mut [f32]) {
    // SAFETY: forwarded contract.
    unsafe { add_body::<Portable>(act, a, b, out) }
}

/// # Safety
/// None: the portable path runs everywhere.
pub(crate) unsafe fn scale_portable(plane: &mut [f32], scale: f32) {
    // SAFETY: forwarded contract.
    unsafe { scale_body::<Portable>(plane, scale) }
}

/// # Safety
/// None: the portable path runs everywhere.
pub(crate) unsafe fn softmax_portable(row: &mut [f32]) {
    // SAFETY: forwarded contract.
    unsafe { softmax_body::<Portable>(row) }
}

/// # Safety
/// `w` holds `y.len()` rows of `x.len()`; `bias` is empty or `y.len()` long.
pub(crate) unsafe fn gemv_portable(w: &[f32], x: &[f32], bias: &[f32], act: Activation, y: &mut [f32]) {
    // SAFETY: forwarded contract.
    unsafe { gemv_body::<Portable>(w, x, bias, act, y) }
}

/// # Safety
/// `image` is `channels` planes of `out.len()`.
pub(crate) unsafe fn lrn_portable(p: &LrnParams, image: &[f32], channels: usize, c: usize, out: &mut [f32]) {
    // SAFETY: forwarded contract.
    unsafe { lrn_channel::<Portable>(p, image, channels, c, out) }
}
