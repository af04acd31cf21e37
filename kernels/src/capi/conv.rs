//! Convolution plans for C: every algorithm (depthwise is `groups == in_channels` with
//! `FERROCNN_ALGO_DEPTHWISE` or `AUTO`), with the fused epilogue.

use super::buffers;
use super::{Planned, activation, create, destroy, ferrocnn_activation, ferrocnn_status, guard};
use crate::{Algo, Conv2d, Conv2dDesc, Epilogue, Error, Padding2d};

pub type ferrocnn_algo = i32;
pub const FERROCNN_ALGO_AUTO: ferrocnn_algo = 0;
pub const FERROCNN_ALGO_REFERENCE: ferrocnn_algo = 1;
pub const FERROCNN_ALGO_IM2COL: ferrocnn_algo = 2;
pub const FERROCNN_ALGO_GEMM1X1: ferrocnn_algo = 3;
pub const FERROCNN_ALGO_DEPTHWISE: ferrocnn_algo = 4;
pub const FERROCNN_ALGO_WINOGRAD_F2: ferrocnn_algo = 5;
pub const FERROCNN_ALGO_WINOGRAD_F4: ferrocnn_algo = 6;
pub const FERROCNN_ALGO_WINOGRAD_F6: ferrocnn_algo = 7;
pub const FERROCNN_ALGO_TUNE: ferrocnn_algo = 8;
pub const FERROCNN_ALGO_WINOGRAD_SPLIT: ferrocnn_algo = 9;

/// A 2-D convolution over NCHW input with OIHW weights, as in PyTorch.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ferrocnn_conv2d_desc {
    pub batch: usize,
    pub in_channels: usize,
    pub in_h: usize,
    pub in_w: usize,
    pub out_channels: usize,
    pub kernel_h: usize,
    pub kernel_w: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub pad_top: usize,
    pub pad_bottom: usize,
    pub pad_left: usize,
    pub pad_right: usize,
    pub dilation_h: usize,
    pub dilation_w: usize,
    pub groups: usize,
}

/// What a conv plan does as it stores each output:
/// `activation(conv * scale[k] + shift[k] + residual)`, with the bias folded into shift.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ferrocnn_epilogue {
    /// `out_channels` floats, or NULL for 1.
    pub scale: *const f32,
    pub scale_len: usize,
    /// `out_channels` floats, or NULL for 0.
    pub shift: *const f32,
    pub shift_len: usize,
    /// Nonzero: every run adds a `residual` of the output's shape.
    pub residual: i32,
    pub activation: ferrocnn_activation,
    pub leaky_relu_slope: f32,
}

/// A convolution planned once: weights packed, algorithm chosen.
pub type ferrocnn_conv2d = Planned<Conv2d>;

fn algo(code: ferrocnn_algo) -> Result<Algo, Error> {
    usize::try_from(code).ok().and_then(|i| Algo::ALL.get(i).copied()).ok_or_else(|| {
        Error::InvalidArgument(format!("`algo` {code} is not a ferrocnn_algo (0 auto .. 9 winograd-split)"))
    })
}

fn code(algo: Algo) -> ferrocnn_algo {
    Algo::ALL.iter().position(|&a| a == algo).map_or(FERROCNN_ALGO_AUTO, |i| i as ferrocnn_algo)
}

impl From<ferrocnn_conv2d_desc> for Conv2dDesc {
    fn from(d: ferrocnn_conv2d_desc) -> Conv2dDesc {
        Conv2dDesc {
            batch: d.batch,
            in_channels: d.in_channels,
            out_channels: d.out_channels,
            in_h: d.in_h,
            in_w: d.in_w,
            kernel_h: d.kernel_h,
            kernel_w: d.kernel_w,
            stride_h: d.stride_h,
            stride_w: d.stride_w,
            padding: Padding2d { top: d.pad_top, bottom: d.pad_bottom, left: d.pad_left, right: d.pad_right },
            dilation_h: d.dilation_h,
            dilation_w: d.dilation_w,
            groups: d.groups,
        }
    }
}

/// Plans a convolution: validates `desc` against the buffers, resolves `algo` (see
/// `ferrocnn_conv2d_algo` for the one chosen), packs `weights` (OIHW) and folds `bias`
/// (`out_channels` floats or NULL) into the epilogue (NULL: none). On failure `*plan` is
/// NULL.
///
/// # Safety
/// Each non-NULL pointer points to the number of values its length says (one for `desc`,
/// `epilogue` and `plan`), valid for the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ferrocnn_conv2d_create(
    desc: *const ferrocnn_conv2d_desc,
    weights: *const f32,
    weights_len: usize,
    bias: *const f32,
    bias_len: usize,
    epilogue: *const ferrocnn_epilogue,
    algo: ferrocnn_algo,
    plan: *mut *mut ferrocnn_conv2d,
) -> ferrocnn_status {
    // SAFETY: forwarded contract.
    unsafe {
        create(plan, || {
            let desc = Conv2dDesc::from(buffers::descriptor("desc", desc)?);
            let weights = buffers::input("weights", weights, weights_len)?;
            let bias = buffers::optional("bias", bias, bias_len)?;
            let epilogue = match epilogue.is_null() {
                true => Epilogue::new(),
                false => {
                    let e = buffers::descriptor("epilogue", epilogue)?;
                    let mut out = Epilogue::new().activation(activation(
                        "epilogue.activation",
                        e.activation,
                        e.leaky_relu_slope,
                    )?);
                    if let Some(scale) = buffers::optional("epilogue.scale", e.scale, e.scale_len)? {
                        out = out.scale(scale.to_vec());
                    }
                    if let Some(shift) = buffers::optional("epilogue.shift", e.shift, e.shift_len)? {
                        out = out.shift(shift.to_vec());
                    }
                    if e.residual != 0 {
                        out = out.residual();
                    }
                    out
                }
            };
            let algo = self::algo(algo)?;
            Planned::new(|options| Conv2d::with_options(&desc, weights, bias, &epilogue, algo, options))
        })
    }
}

/// The algorithm the plan runs (`AUTO` and `TUNE` resolved).
///
/// # Safety
/// `plan` is NULL or a live plan; `algo` is NULL or points to a writable `ferrocnn_algo`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ferrocnn_conv2d_algo(
    plan: *const ferrocnn_conv2d,
    algo: *mut ferrocnn_algo,
) -> ferrocnn_status {
    // SAFETY: forwarded contract.
    guard(|| unsafe { buffers::store("algo", algo, code(buffers::plan(plan)?.plan.algo())) })
}

/// Floats of `scratch` a run needs (may be 0).
///
/// # Safety
/// `plan` is NULL or a live plan; `floats` is NULL or points to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ferrocnn_conv2d_scratch_len(
    plan: *const ferrocnn_conv2d,
    floats: *mut usize,
) -> ferrocnn_status {
    // SAFETY: forwarded contract.
    guard(|| unsafe { buffers::store("floats", floats, buffers::plan(plan)?.plan.scratch_len()) })
}

/// Floats of `output`: batch x out_channels x out_h x out_w.
///
/// # Safety
/// `plan` is NULL or a live plan; `floats` is NULL or points to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ferrocnn_conv2d_output_len(
    plan: *const ferrocnn_conv2d,
    floats: *mut usize,
) -> ferrocnn_status {
    // SAFETY: forwarded contract.
    guard(|| unsafe { buffers::store("floats", floats, buffers::plan(plan)?.plan.shape().output_len) })
}

/// output = epilogue(conv(input)), adding `residual` (the output's shape) if the epilogue
/// declared one (NULL otherwise). `scratch`: at least `ferrocnn_conv2d_scratch_len` floats.
/// Allocates nothing.
///
/// # Safety
/// `plan` is NULL or a live plan; each buffer is NULL or holds its length of floats, valid
/// for the call. Overlap of `output` or `scratch` with another buffer is refused.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn ferrocnn_conv2d_run(
    plan: *const ferrocnn_conv2d,
    input: *const f32,
    input_len: usize,
    residual: *const f32,
    residual_len: usize,
    output: *mut f32,
    output_len: usize,
    scratch: *mut f32,
    scratch_len: usize,
) -> ferrocnn_status {
    // SAFETY: forwarded contract; `written` refuses written buffers that overlap.
    guard(|| unsafe {
        let read = [("input", input, input_len), ("residual", residual, residual_len)];
        let (output, scratch) = buffers::written((output, output_len), (scratch, scratch_len), &read)?;
        let input = buffers::input("input", input, input_len)?;
        let residual = buffers::optional("residual", residual, residual_len)?;
        buffers::plan(plan)?.run(|p| p.run(input, residual, output, scratch))
    })
}

/// Frees a plan; NULL is a no-op.
///
/// # Safety
/// `plan` is NULL or a live plan, not used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ferrocnn_conv2d_destroy(plan: *mut ferrocnn_conv2d) {
    // SAFETY: forwarded contract.
    unsafe { destroy(plan) }
}
