//! The fused epilogue, vectorised: applied to a tile of C while it is still in L1.

use crate::arch::simd::Simd;
use crate::epilogue::Activation;

/// A tile of the real output (rows are output channels, contiguous along pixels) and what to
/// do to it. Pointers are already offset to the tile's first channel and pixel.
#[derive(Clone, Copy)]
pub(crate) struct EpilogueTile {
    pub rows: usize,
    pub cols: usize,
    pub c: *mut f32,
    pub ldc: usize,
    /// Per-row scale, or null for all ones.
    pub scale: *const f32,
    /// Per-row shift, or null for all zeros.
    pub shift: *const f32,
    /// Residual with the same layout as `c`, or null.
    pub residual: *const f32,
    pub activation: Activation,
}

pub(crate) type EpilogueFn = unsafe fn(&EpilogueTile);

/// # Safety
/// `t.c` (and `t.residual` if not null) are valid for `rows` rows of `cols` floats at stride
/// `ldc`; `scale` and `shift`, when not null, for `rows` floats; `S` is available.
#[inline(always)]
pub(crate) unsafe fn epilogue<S: Simd>(t: &EpilogueTile) {
    // SAFETY: all offsets stay within the extents above.
    unsafe {
        for r in 0..t.rows {
            let scale = if t.scale.is_null() { 1.0 } else { *t.scale.add(r) };
            let shift = if t.shift.is_null() { 0.0 } else { *t.shift.add(r) };
            let (scale, shift) = (S::splat(scale), S::splat(shift));
            let row = t.c.add(r * t.ldc);
            let res = if t.residual.is_null() { core::ptr::null() } else { t.residual.add(r * t.ldc) };
            let mut p = 0;
            while p + S::LANES <= t.cols {
                let mut y = S::mul_add(S::load(row.add(p)), scale, shift);
                if !res.is_null() {
                    y = S::add(y, S::load(res.add(p)));
                }
                S::store(row.add(p), activate::<S>(y, t.activation));
                p += S::LANES;
            }
            let tail = t.cols - p;
            if tail > 0 {
                let mut y = S::mul_add(S::load_partial(row.add(p), tail), scale, shift);
                if !res.is_null() {
                    y = S::add(y, S::load_partial(res.add(p), tail));
                }
                S::store_partial(row.add(p), tail, activate::<S>(y, t.activation));
            }
            if t.activation == Activation::Sigmoid {
                // Scalar until the vectorised exp lands with the activation kernels; sigmoid
                // appears only in squeeze-and-excitation gates, which are tiny.
                for p in 0..t.cols {
                    let v = row.add(p);
                    *v = Activation::Sigmoid.apply(*v);
                }
            }
        }
    }
}

/// The activation on a vector; sigmoid is left to the scalar pass above.
///
/// # Safety
/// `S` is available.
#[inline(always)]
pub(crate) unsafe fn activate<S: Simd>(x: S::V, activation: Activation) -> S::V {
    // SAFETY: `S` is available (caller's contract).
    unsafe {
        match activation {
            Activation::Identity | Activation::Sigmoid => x,
            Activation::Relu => S::max(x, S::zero()),
            Activation::Relu6 => S::min(S::max(x, S::zero()), S::splat(6.0)),
            Activation::LeakyRelu(slope) => S::leaky(x, S::splat(slope)),
        }
    }
}
