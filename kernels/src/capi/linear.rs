//! Linear (fully connected) plans for C: GEMV at batch 1, GEMM above, bias and
//! activation fused.

use super::buffers;
use super::{Planned, activation, create, destroy, ferrocnn_activation, ferrocnn_status, guard};
use crate::ops::Linear;

/// A linear layer planned once.
pub type ferrocnn_linear = Planned<Linear>;

/// Plans `output = activation(input W^T + bias)`: `weights` is out_features x
/// in_features (PyTorch's), `bias` out_features floats or NULL. On failure `*plan` is NULL.
///
/// # Safety
/// Each non-NULL pointer points to its length of floats (one plan pointer for `plan`).
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn ferrocnn_linear_create(
    in_features: usize,
    out_features: usize,
    weights: *const f32,
    weights_len: usize,
    bias: *const f32,
    bias_len: usize,
    activation_kind: ferrocnn_activation,
    leaky_relu_slope: f32,
    plan: *mut *mut ferrocnn_linear,
) -> ferrocnn_status {
    // SAFETY: forwarded contract.
    unsafe {
        create(plan, || {
            let weights = buffers::input("weights", weights, weights_len)?;
            let bias = buffers::optional("bias", bias, bias_len)?;
            let act = activation("activation_kind", activation_kind, leaky_relu_slope)?;
            Planned::new(|options| Linear::new(in_features, out_features, weights, bias, act, options))
        })
    }
}

/// Floats of `scratch` a run of `batch` rows needs (0 at batch 1).
///
/// # Safety
/// `plan` is NULL or a live plan; `floats` is NULL or points to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ferrocnn_linear_scratch_len(
    plan: *const ferrocnn_linear,
    batch: usize,
    floats: *mut usize,
) -> ferrocnn_status {
    // SAFETY: forwarded contract.
    guard(|| unsafe { buffers::store("floats", floats, buffers::plan(plan)?.plan.scratch_len(batch)?) })
}

/// `output` (batch x out_features) from `input` (batch x in_features). Allocates nothing.
///
/// # Safety
/// `plan` is NULL or a live plan; each buffer is NULL or holds its length of floats, valid
/// for the call. Overlap of `output` or `scratch` with another buffer is refused.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn ferrocnn_linear_run(
    plan: *const ferrocnn_linear,
    batch: usize,
    input: *const f32,
    input_len: usize,
    output: *mut f32,
    output_len: usize,
    scratch: *mut f32,
    scratch_len: usize,
) -> ferrocnn_status {
    // SAFETY: forwarded contract; `written` refuses written buffers that overlap.
    guard(|| unsafe {
        let (output, scratch) =
            buffers::written((output, output_len), (scratch, scratch_len), &[("input", input, input_len)])?;
        let input = buffers::input("input", input, input_len)?;
        buffers::plan(plan)?.run(|p| p.run(batch, input, output, scratch))
    })
}

/// Frees a plan; NULL is a no-op.
///
/// # Safety
/// `plan` is NULL or a live plan, not used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ferrocnn_linear_destroy(plan: *mut ferrocnn_linear) {
    // SAFETY: forwarded contract.
    unsafe { destroy(plan) }
}
