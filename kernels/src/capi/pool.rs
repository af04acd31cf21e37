//! Max and average pooling plans for C, PyTorch's semantics (`ceil_mode`,
//! `count_include_pad`).

use super::buffers;
use super::{Planned, create, destroy, ferrocnn_status, guard};
use crate::ops::Pool2d;
use crate::{Error, Padding2d, Pool2dDesc, PoolKind};

pub type ferrocnn_pool_kind = i32;
pub const FERROCNN_POOL_MAX: ferrocnn_pool_kind = 0;
pub const FERROCNN_POOL_AVG: ferrocnn_pool_kind = 1;

/// 2-D pooling over NCHW.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ferrocnn_pool2d_desc {
    pub kind: ferrocnn_pool_kind,
    /// Nonzero: round the output size up (PyTorch's `ceil_mode`).
    pub ceil_mode: i32,
    /// Average: nonzero divides by the window clipped to the padded input (PyTorch's
    /// default), zero by the real elements in it.
    pub count_include_pad: i32,
    pub batch: usize,
    pub channels: usize,
    pub in_h: usize,
    pub in_w: usize,
    pub kernel_h: usize,
    pub kernel_w: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub pad_top: usize,
    pub pad_bottom: usize,
    pub pad_left: usize,
    pub pad_right: usize,
    /// Max pooling only; 1 for average.
    pub dilation_h: usize,
    pub dilation_w: usize,
}

/// A pooling layer planned once.
pub type ferrocnn_pool2d = Planned<Pool2d>;

impl TryFrom<ferrocnn_pool2d_desc> for Pool2dDesc {
    type Error = Error;

    fn try_from(d: ferrocnn_pool2d_desc) -> Result<Pool2dDesc, Error> {
        let kind = match d.kind {
            FERROCNN_POOL_MAX => PoolKind::Max,
            FERROCNN_POOL_AVG => PoolKind::Avg,
            other => {
                return Err(Error::InvalidArgument(format!(
                    "`desc.kind` {other} is not a ferrocnn_pool_kind (0 max, 1 avg)"
                )));
            }
        };
        Ok(Pool2dDesc {
            kind,
            batch: d.batch,
            channels: d.channels,
            in_h: d.in_h,
            in_w: d.in_w,
            kernel_h: d.kernel_h,
            kernel_w: d.kernel_w,
            stride_h: d.stride_h,
            stride_w: d.stride_w,
            padding: Padding2d { top: d.pad_top, bottom: d.pad_bottom, left: d.pad_left, right: d.pad_right },
            dilation_h: d.dilation_h,
            dilation_w: d.dilation_w,
            ceil_mode: d.ceil_mode != 0,
            count_include_pad: d.count_include_pad != 0,
        })
    }
}

/// Plans a pooling layer. On failure `*plan` is NULL.
///
/// # Safety
/// `desc` is NULL or points to a descriptor; `plan` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ferrocnn_pool2d_create(
    desc: *const ferrocnn_pool2d_desc,
    plan: *mut *mut ferrocnn_pool2d,
) -> ferrocnn_status {
    // SAFETY: forwarded contract.
    unsafe {
        create(plan, || {
            let desc = Pool2dDesc::try_from(buffers::descriptor("desc", desc)?)?;
            Planned::new(|options| Pool2d::new(&desc, options))
        })
    }
}

/// Floats of `scratch` a run needs (may be 0).
///
/// # Safety
/// `plan` is NULL or a live plan; `floats` is NULL or points to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ferrocnn_pool2d_scratch_len(
    plan: *const ferrocnn_pool2d,
    floats: *mut usize,
) -> ferrocnn_status {
    // SAFETY: forwarded contract.
    guard(|| unsafe { buffers::store("floats", floats, buffers::plan(plan)?.plan.scratch_len()) })
}

/// Floats of `output`: batch x channels x out_h x out_w.
///
/// # Safety
/// `plan` is NULL or a live plan; `floats` is NULL or points to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ferrocnn_pool2d_output_len(
    plan: *const ferrocnn_pool2d,
    floats: *mut usize,
) -> ferrocnn_status {
    // SAFETY: forwarded contract.
    guard(|| unsafe { buffers::store("floats", floats, buffers::plan(plan)?.plan.shape().output_len) })
}

/// Pools `input` into `output`. Allocates nothing.
///
/// # Safety
/// `plan` is NULL or a live plan; each buffer is NULL or holds its length of floats, valid
/// for the call. Overlap of `output` or `scratch` with another buffer is refused.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ferrocnn_pool2d_run(
    plan: *const ferrocnn_pool2d,
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
        buffers::plan(plan)?.run(|p| p.run(input, output, scratch))
    })
}

/// Frees a plan; NULL is a no-op.
///
/// # Safety
/// `plan` is NULL or a live plan, not used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ferrocnn_pool2d_destroy(plan: *mut ferrocnn_pool2d) {
    // SAFETY: forwarded contract.
    unsafe { destroy(plan) }
}
