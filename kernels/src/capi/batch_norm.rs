//! Standalone inference batch-norm plans for C (in place, activation fused). A batch-norm
//! right after a convolution is better folded into its epilogue (`scale`, `shift`).

use super::buffers;
use super::{Planned, activation, create, destroy, ferrocnn_activation, ferrocnn_status, guard};
use crate::ops::{BatchNorm, BatchNorm2d};

/// A batch-norm layer planned once.
pub type ferrocnn_batch_norm = Planned<BatchNorm2d>;

/// Plans `y = activation((x - mean) / sqrt(var + eps) * gamma + beta)` per channel over
/// batch x channels x hw. Each statistic is `channels` floats. On failure `*plan` is NULL.
///
/// # Safety
/// Each non-NULL pointer points to its length of floats (one plan pointer for `plan`).
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn ferrocnn_batch_norm_create(
    batch: usize,
    channels: usize,
    hw: usize,
    gamma: *const f32,
    beta: *const f32,
    mean: *const f32,
    var: *const f32,
    eps: f32,
    activation_kind: ferrocnn_activation,
    leaky_relu_slope: f32,
    plan: *mut *mut ferrocnn_batch_norm,
) -> ferrocnn_status {
    // SAFETY: forwarded contract.
    unsafe {
        create(plan, || {
            let bn = BatchNorm {
                gamma: buffers::input("gamma", gamma, channels)?,
                beta: buffers::input("beta", beta, channels)?,
                mean: buffers::input("mean", mean, channels)?,
                var: buffers::input("var", var, channels)?,
                eps,
            };
            let act = activation("activation_kind", activation_kind, leaky_relu_slope)?;
            Planned::new(|options| BatchNorm2d::new(batch, channels, hw, &bn, act, options))
        })
    }
}

/// Normalises `data` (batch x channels x hw) in place. Allocates nothing.
///
/// # Safety
/// `plan` is NULL or a live plan; `data` is NULL or holds `len` floats, valid for the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ferrocnn_batch_norm_run(
    plan: *const ferrocnn_batch_norm,
    data: *mut f32,
    len: usize,
) -> ferrocnn_status {
    // SAFETY: forwarded contract.
    guard(|| unsafe {
        let data = buffers::output("data", data, len)?;
        buffers::plan(plan)?.run(|p| p.run(data))
    })
}

/// Frees a plan; NULL is a no-op.
///
/// # Safety
/// `plan` is NULL or a live plan, not used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ferrocnn_batch_norm_destroy(plan: *mut ferrocnn_batch_norm) {
    // SAFETY: forwarded contract.
    unsafe { destroy(plan) }
}
